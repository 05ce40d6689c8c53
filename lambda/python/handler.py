"""Example AWS Lambda function (runtime python3.12/3.13 with the fmi Python layer).

The invocation payload says which peer this invocation is:

    {"peer_id": 0, "num_peers": 4, "comm_name": "job-42",
     "rendezvous": "203.0.113.7:10000",      # fmi-rendezvous server reachable by all functions
     "timeout_ms": 30000, "length": 1000}    # optional

The function joins the communicator, runs an allreduce (original FMI interface), a
non-commutative reduction in rank order and a broadcast, checks the results, and returns a
summary. lambda/invoke.py invokes N of them at once (or runs them locally under fmirun).
"""

import os
import time

import fmi


def handler(event, context):
    t0 = time.monotonic()
    peer_id = int(event["peer_id"])
    num_peers = int(event["num_peers"])
    comm_name = str(event["comm_name"])
    length = int(event.get("length", 1000))
    if event.get("rendezvous"):
        # The environment override of the rendezvous address (read by fmi_init).
        os.environ["FMI_RENDEZVOUS"] = str(event["rendezvous"])
    if event.get("timeout_ms"):
        os.environ["FMI_TIMEOUT_MS"] = str(int(event["timeout_ms"]))
    memory = int(getattr(context, "memory_limit_in_mb", 0) or 128)

    comm = fmi.Communicator(peer_id, num_peers, event.get("config"), comm_name, memory)
    try:
        T, D = fmi.types, fmi.datatypes
        # 1. element-wise sum of x_r[i] = r * length + i: closed form len*n(n-1)/2 + n*i
        x = [peer_id * length + i for i in range(length)]
        s = comm.allreduce(x, fmi.func(fmi.op.sum), T(D.int_list, length))
        base = length * num_peers * (num_peers - 1) // 2
        sum_ok = s == [base + num_peers * i for i in range(length)]
        # 2. "append a digit" modulo a prime, (a*10 + b) % P, is neither commutative nor
        #    associative: only the strict fold in rank order gives this number
        P = 1000000007
        digits = comm.allreduce(peer_id % 9 + 1,
                                fmi.func(fmi.op.custom, lambda a, b: (a * 10 + b) % P, False, False),
                                T(D.int64))
        want = 0
        for r in range(num_peers):
            want = want * 10 + (r % 9 + 1) if r else r % 9 + 1
            want %= P
        order_ok = digits == want
        # 3. broadcast of bytes from the last peer (a buffer: no conversion)
        msg = comm.bcast(comm_name.encode() if peer_id == num_peers - 1 else bytes(len(comm_name.encode())),
                         num_peers - 1)
        bcast_ok = bytes(msg) == comm_name.encode()
        ok = sum_ok and order_ok and bcast_ok
        all_ok = comm.allreduce(int(ok), fmi.func(fmi.op.min), T(D.int)) == 1
    finally:
        comm.finalize()
    return {
        "peer_id": peer_id,
        "num_peers": num_peers,
        "comm_name": comm_name,
        "sum_first": s[0] if length else None,
        "ordered_fold": digits,
        "ok": bool(ok),
        "all_ok": bool(all_ok),
        "elapsed_ms": round((time.monotonic() - t0) * 1000, 1),
        "fmi_version": fmi.version(),
    }
