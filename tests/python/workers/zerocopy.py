"""Zero-copy check with a 64 MiB numpy array (2 peers): the binding passes the array's own
memory to libfmi (the addresses handed to the C functions are the arrays' data pointers) and
allocates nothing (tracemalloc, which tracks numpy's data allocations, sees no 64 MiB copy)."""

import tracemalloc

import numpy as np

import fmi
from fmi import _capi

comm = fmi.Communicator.from_env()
R, N = comm.rank, comm.size
MiB = 1 << 20
n = 64 * MiB // 8

# Record the buffer addresses that reach the C functions.
seen = {}


def spy(name):
    real = getattr(_capi.lib, name)

    def wrapper(*args):
        seen[name] = args
        return real(*args)

    setattr(_capi.lib, name, wrapper)


for name in ("fmi_send", "fmi_recv", "fmi_bcast", "fmi_allreduce", "fmi_reduce", "fmi_scan",
             "fmi_allgather", "fmi_alltoall", "fmi_gather", "fmi_scatter"):
    spy(name)

x = np.full(n, R + 1.0)
out = np.empty(n)
big_out = np.empty(N * n)
addr = lambda a: a.__array_interface__["data"][0]  # noqa: E731

tracemalloc.start()
# control: the measurement does see a 64 MiB numpy allocation
before = tracemalloc.get_traced_memory()[0]
tmp = np.empty(n)
assert tracemalloc.get_traced_memory()[1] - before >= 64 * MiB, "tracemalloc does not see numpy"
del tmp


def no_copy(what, fn, budget=MiB):
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    r = fn()
    extra = tracemalloc.get_traced_memory()[1] - before
    assert extra < budget, "%s allocated %d bytes (budget %d)" % (what, extra, budget)
    if R == 0:
        print("%-28s peak Python allocation %8d bytes" % (what, extra))
    return r


r = no_copy("allreduce(x, out=out)", lambda: comm.allreduce(x, fmi.func(fmi.op.sum), out=out))
assert r is out and seen["fmi_allreduce"][1] == addr(x) and seen["fmi_allreduce"][2] == addr(out)
assert out[0] == N * (N + 1) / 2 and out[-1] == out[0]

r = no_copy("allreduce in place", lambda: comm.allreduce(out, fmi.func(fmi.op.max), out=out))
assert r is out and seen["fmi_allreduce"][1] == seen["fmi_allreduce"][2] == addr(out)

r = no_copy("scan(x, out=out)", lambda: comm.scan(x, fmi.func(fmi.op.sum), out=out))
assert r is out and out[7] == (R + 1) * (R + 2) / 2

r = no_copy("reduce(x, root 0, out=out)", lambda: comm.reduce(x, 0, fmi.func(fmi.op.sum), out=out))
assert (r is out) if R == 0 else r is None

b = x.copy() if R == 0 else np.zeros(n)
r = no_copy("bcast in place", lambda: comm.bcast(b, 0))
assert r is b and seen["fmi_bcast"][1] == addr(b) and b[12345] == 1.0

if N > 1:
    if R == 0:
        no_copy("send(x)", lambda: comm.send(x, 1))
        assert seen["fmi_send"][1] == addr(x)
    elif R == 1:
        r = no_copy("recv(out=out)", lambda: comm.recv(0, out=out))
        assert r is out and seen["fmi_recv"][1] == addr(out) and out[999] == 1.0

r = no_copy("allgather(x, out=big_out)", lambda: comm.allgather(x, out=big_out))
assert r is big_out and seen["fmi_allgather"][1] == addr(x) and big_out[-1] == N

r = no_copy("gather(x, out=big_out)", lambda: comm.gather(x, 0, out=big_out if R == 0 else None))
assert seen["fmi_gather"][1] == addr(x)

send = np.arange(N * (n // N), dtype=np.float64)
recv = np.empty_like(send)
r = no_copy("alltoall(out=recv)", lambda: comm.alltoall(send, out=recv))
assert r is recv and seen["fmi_alltoall"][1] == addr(send) and seen["fmi_alltoall"][2] == addr(recv)

part = np.empty(n // N)
r = no_copy("scatter(out=part)", lambda: comm.scatter(send if R == 0 else None, 0, out=part))
assert r is part and seen["fmi_scatter"][2] == addr(part)

# Without out=, the one allocation is the 64 MiB result itself: no intermediate copy.
r = no_copy("allreduce(x) -> new array", lambda: comm.allreduce(x, fmi.func(fmi.op.sum)),
            budget=64 * MiB + MiB)
assert r.nbytes == 64 * MiB and seen["fmi_allreduce"][2] == addr(r)

tracemalloc.stop()
comm.finalize()
if R == 0:
    print("zero-copy: ok")
