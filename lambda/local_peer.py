#!/usr/bin/env python3
"""One peer of a local run of the example Lambda functions, started by lambda/invoke.py --local
as ``fmirun -n N python3 lambda/local_peer.py --payloads FILE --kind KIND [...]``.

It takes payload number $FMI_PEER_ID from FILE (the payloads the driver would send to AWS),
points its "rendezvous" at fmirun's embedded server ($FMI_RENDEZVOUS, standing in for the
deployment's fmi-rendezvous), removes FMI_PEER_ID/FMI_NUM_PEERS/FMI_COMM_NAME from the
environment (the functions must form the communicator from the payload alone; MPI4PY_LIBMPI
too, which fmirun sets: they must find libfmi's MPI library in their layer), and runs:

  --kind python        handler.handler(payload, context) from --handler-dir (lambda/python)
  --kind cpp           the C++ example once: BINARY '<payload json>'
  --kind cpp-runtime   the C++ example as a Lambda custom runtime: BINARY with
                       AWS_LAMBDA_RUNTIME_API pointing at a local stand-in of the Runtime API
                       that serves this payload as the one invocation and collects the response

It prints ``RESULT <json>`` and exits 0 when the function reported all_ok.
"""

import argparse
import http.server
import json
import os
import subprocess
import sys
import threading
import time


class LocalContext:
    """The attributes of a Lambda context object that the example uses (and a few more)."""

    def __init__(self, name, memory_mb, request_id, timeout_s=60):
        self.function_name = name
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = request_id
        self.invoked_function_arn = "arn:aws:lambda:local:000000000000:function:" + name
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class RuntimeAPI(http.server.ThreadingHTTPServer):
    """A local stand-in of the Lambda Runtime API (2018-06-01) serving one invocation."""

    daemon_threads = True

    def __init__(self, payload, request_id):
        self.payload = json.dumps(payload).encode()
        self.request_id = request_id
        self.served = False
        self.done = threading.Event()
        self.result = None  # ("response" | "error", body)
        super().__init__(("127.0.0.1", 0), RuntimeHandler)


class RuntimeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    base = "/2018-06-01/runtime/invocation/"

    def log_message(self, *args):
        pass

    def _reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        srv = self.server
        if self.path != self.base + "next":
            return self._reply(404)
        if srv.served:  # like Lambda between invocations: nothing more for this instance
            srv.done.wait()
            time.sleep(3600)
        srv.served = True
        deadline = str(int(time.time() * 1000) + 60000)
        self._reply(200, srv.payload, [
            ("Lambda-Runtime-Aws-Request-Id", srv.request_id),
            ("Lambda-Runtime-Deadline-Ms", deadline),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:local:000000000000:function:fmi-example-cpp"),
            ("Content-Type", "application/json"),
        ])

    def do_POST(self):
        srv = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        for kind in ("response", "error"):
            if self.path == self.base + srv.request_id + "/" + kind:
                srv.result = (kind, body.decode("utf-8", "replace"))
                self._reply(202, b'{"status":"OK"}')
                srv.done.set()
                return
        self._reply(404)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--payloads", required=True)
    ap.add_argument("--kind", choices=["python", "cpp", "cpp-runtime"], required=True)
    ap.add_argument("--handler-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
    ap.add_argument("--binary")
    ap.add_argument("--memory", type=int, default=1024)
    args = ap.parse_args()

    rank = int(os.environ["FMI_PEER_ID"])
    with open(args.payloads) as f:
        payloads = json.load(f)
    if len(payloads) != int(os.environ["FMI_NUM_PEERS"]):
        sys.exit("local_peer: %d payloads for %s peers" % (len(payloads), os.environ["FMI_NUM_PEERS"]))
    payload = dict(payloads[rank])
    payload["rendezvous"] = os.environ["FMI_RENDEZVOUS"]
    # fmirun's MPI library choice too: a function finds libfmi's MPI library in its layer
    for k in ("FMI_PEER_ID", "FMI_NUM_PEERS", "FMI_COMM_NAME", "MPI4PY_LIBMPI"):
        os.environ.pop(k, None)
    os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(args.memory)
    request_id = "local-%s-%d" % (payload["comm_name"], rank)

    if args.kind == "python":
        sys.path.insert(0, args.handler_dir)
        import handler

        result = handler.handler(payload, LocalContext("fmi-example-python", args.memory, request_id))
        print("RESULT " + json.dumps(result), flush=True)
        sys.exit(0 if result.get("all_ok") else 1)

    if not args.binary:
        sys.exit("local_peer: --binary is required for --kind " + args.kind)
    if args.kind == "cpp":
        p = subprocess.run([args.binary, json.dumps(payload)], stdout=subprocess.PIPE)
        out = p.stdout.decode().strip()
        print("RESULT " + out, flush=True)
        sys.exit(p.returncode)

    # cpp-runtime: the binary is the custom runtime's bootstrap
    api = RuntimeAPI(payload, request_id)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % api.server_address[1],
               _HANDLER="bootstrap", LAMBDA_TASK_ROOT=os.path.dirname(os.path.abspath(args.binary)))
    proc = subprocess.Popen([args.binary], env=env)
    while not api.done.wait(0.1):
        if proc.poll() is not None:
            sys.exit("local_peer: bootstrap exited with %d before answering" % proc.returncode)
    proc.terminate()  # Lambda would freeze it while waiting for the next invocation
    proc.wait(10)
    kind, body = api.result
    print("RESULT " + body, flush=True)
    if kind != "response":
        sys.exit("local_peer: the invocation failed: " + body)
    sys.exit(0 if json.loads(body).get("all_ok") else 1)


if __name__ == "__main__":
    main()
