#!/usr/bin/env python3
"""Driver: invokes N copies of an FMI Lambda function at once, one payload per peer.

    # on AWS (needs boto3 and credentials; the N invocations run concurrently, so the account's
    # concurrency limit must allow N; an fmi-rendezvous server must be reachable by the functions)
    python3 lambda/invoke.py -n 8 --function fmi-example-python --rendezvous 203.0.113.7:10000

    # the same payloads as N local processes under fmirun (no AWS involved)
    python3 lambda/invoke.py -n 8 --local python
    python3 lambda/invoke.py -n 8 --local cpp --binary build/lambda/.../bootstrap
    python3 lambda/invoke.py -n 8 --local cpp-runtime --binary .../bootstrap

    python3 lambda/invoke.py -n 4 --rendezvous HOST:PORT --print-payloads

Payload of peer i: {"peer_id": i, "num_peers": N, "comm_name": NAME, "rendezvous": HOST:PORT,
"timeout_ms": MS, "length": L}. Exit status 0 when every peer reported all_ok.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))


def make_payloads(n, comm_name, rendezvous, timeout_ms, length):
    return [{"peer_id": i, "num_peers": n, "comm_name": comm_name, "rendezvous": rendezvous,
             "timeout_ms": timeout_ms, "length": length} for i in range(n)]


def report(results):
    """results: list of (peer, error or None, dict or None). Prints them; True when all ok."""
    ok = True
    for peer, err, res in sorted(results, key=lambda r: r[0]):
        good = err is None and isinstance(res, dict) and res.get("all_ok") is True
        ok = ok and good
        print("peer %d: %s %s" % (peer, "ok" if good else "FAILED", json.dumps(res) if err is None else err))
    print("%d/%d peers ok" % (sum(1 for _, e, r in results if e is None and r and r.get("all_ok")), len(results)))
    return ok


def invoke_aws(args, payloads):
    import boto3
    from botocore.config import Config

    cfg = Config(read_timeout=args.read_timeout, connect_timeout=10, retries={"total_max_attempts": 1},
                 max_pool_connections=max(10, len(payloads)))
    client = boto3.client("lambda", region_name=args.region, endpoint_url=args.endpoint_url, config=cfg)

    def one(p):
        try:
            r = client.invoke(FunctionName=args.function, InvocationType="RequestResponse",
                              Payload=json.dumps(p).encode())
            body = r["Payload"].read()
            res = json.loads(body) if body else None
            if r.get("FunctionError"):
                return p["peer_id"], "%s: %s" % (r["FunctionError"], body.decode("utf-8", "replace")), res
            return p["peer_id"], None, res
        except Exception as e:  # report every peer, not just the first failure
            return p["peer_id"], "%s: %s" % (type(e).__name__, e), None

    # all N at once: the peers wait for each other inside fmi_init
    with ThreadPoolExecutor(max_workers=len(payloads)) as ex:
        results = list(ex.map(one, payloads))
    return report(results)


def find_fmirun(explicit):
    for c in (explicit, os.environ.get("FMI_FMIRUN"), shutil.which("fmirun"),
              os.path.join(HERE, "..", "target", "release", "fmirun")):
        if c and os.access(c, os.X_OK):
            return c
    sys.exit("invoke: fmirun not found (--fmirun, $FMI_FMIRUN or PATH)")


def run_local(args, payloads):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "payloads.json")
        with open(path, "w") as f:
            json.dump(payloads, f)
        cmd = [find_fmirun(args.fmirun), "-n", str(len(payloads)), "--timeout", str(args.read_timeout),
               sys.executable, os.path.join(HERE, "local_peer.py"), "--payloads", path, "--kind", args.local,
               "--handler-dir", args.handler_dir]
        if args.binary:
            cmd += ["--binary", os.path.abspath(args.binary)]
        print("+ " + " ".join(cmd), flush=True)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode("utf-8", "replace")
    results = {}
    for line in out.splitlines():
        # fmirun prefixes each line with "[rank] "
        if line.startswith("[") and "] RESULT " in line:
            rank = int(line[1:line.index("]")])
            try:
                results[rank] = (rank, None, json.loads(line.split("] RESULT ", 1)[1]))
            except ValueError as e:
                results[rank] = (rank, "bad result line: %s" % e, None)
        else:
            print(line)
    for i in range(len(payloads)):
        results.setdefault(i, (i, "no result (fmirun exit %d)" % p.returncode, None))
    ok = report(list(results.values()))
    return ok and p.returncode == 0


def main():
    ap = argparse.ArgumentParser(description="Invoke N FMI Lambda functions at once (or run them locally).")
    ap.add_argument("-n", "--peers", type=int, required=True)
    ap.add_argument("--comm-name", default=None, help="default: fmi-job-<random>")
    ap.add_argument("--rendezvous", default="", help="HOST:PORT of fmi-rendezvous (AWS mode)")
    ap.add_argument("--timeout-ms", type=int, default=30000, help="communicator timeout in the functions")
    ap.add_argument("--length", type=int, default=1000, help="allreduce length in the examples")
    ap.add_argument("--function", help="Lambda function name or ARN (AWS mode)")
    ap.add_argument("--region", default=None)
    ap.add_argument("--endpoint-url", default=None, help="Lambda API endpoint (default: AWS)")
    ap.add_argument("--read-timeout", type=int, default=300, help="seconds to wait for the functions")
    ap.add_argument("--local", choices=["python", "cpp", "cpp-runtime"], help="run under fmirun instead")
    ap.add_argument("--binary", help="the C++ example's bootstrap (local cpp modes)")
    ap.add_argument("--handler-dir", default=os.path.join(HERE, "python"), help="where handler.py is (local python)")
    ap.add_argument("--fmirun", default=None)
    ap.add_argument("--print-payloads", action="store_true")
    args = ap.parse_args()
    if args.peers < 1:
        ap.error("-n must be at least 1")
    name = args.comm_name or "fmi-job-" + uuid.uuid4().hex[:12]
    payloads = make_payloads(args.peers, name, args.rendezvous, args.timeout_ms, args.length)
    if args.print_payloads:
        print(json.dumps(payloads, indent=1))
        return 0
    if args.local:
        return 0 if run_local(args, payloads) else 1
    if not args.function or not args.rendezvous:
        ap.error("AWS mode needs --function and --rendezvous (or use --local)")
    return 0 if invoke_aws(args, payloads) else 1


if __name__ == "__main__":
    sys.exit(main())
