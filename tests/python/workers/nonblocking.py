"""Non-blocking calls from Python (3 peers): isend/irecv in a ring with waitall, an iallreduce
beside them, test until done, statuses, a value received by type, bad use, ibcast, ireduce,
iallgather and ialltoall at once, and an ibarrier."""

import numpy as np

import fmi

comm = fmi.Communicator.from_env()
R, N = comm.rank, comm.size
assert N == 3
right, left = (R + 1) % N, (R - 1) % N

# A 1 MiB array around the ring while an allreduce is in flight.
big = np.arange(1 << 17, dtype=np.int64) * (R + 1)
got = np.empty_like(big)
total = comm.iallreduce(np.full(4, R + 1, dtype=np.float64), fmi.func(fmi.op.sum))
reqs = [comm.irecv(left, 4, out=got), comm.isend(big, right, tag=4)]
res = fmi.waitall(reqs)
assert res[0] is got and res[1] is None
assert np.array_equal(got, np.arange(1 << 17, dtype=np.int64) * (left + 1))
assert reqs[0].status.source == left and reqs[0].status.tag == 4
assert reqs[0].status.count_bytes == got.nbytes
assert list(total.wait()) == [6.0] * 4

# A value of a type, from any source, completed by test().
r = comm.irecv(fmi.ANY_SOURCE, 8, types=fmi.types(fmi.datatypes.int))
s = comm.isend(R * 100, right, tag=8, types=fmi.types(fmi.datatypes.int))
while not r.test():
    pass
s.wait()
assert r.result() == left * 100 and r.status.source == left, (r.result(), r.status)

# Bad use: waiting twice, a negative tag, a truncated receive.
try:
    s.wait()
    raise AssertionError("waiting twice did not raise")
except fmi.InvalidArgument:
    pass
try:
    comm.isend(np.zeros(1), right, tag=-3)
    raise AssertionError("a negative tag did not raise")
except fmi.InvalidArgument:
    pass
small = np.empty(1, dtype=np.int64)
r = comm.irecv(left, 9, out=small)
comm.isend(np.zeros(3, dtype=np.int64), right, tag=9).wait()
try:
    r.wait()
    raise AssertionError("truncation did not raise")
except fmi.FMIError as e:
    assert "bytes" in str(e), e

# The other non-blocking collectives, all in flight at once.
bc = np.arange(5, dtype=np.int32) if R == 2 else np.zeros(5, dtype=np.int32)
reqs = [
    comm.ibcast(bc, 2),
    comm.ireduce(np.array([R, 1], dtype=np.int64), 0, fmi.func(fmi.op.sum)),
    comm.iallgather(np.array([R * 10], dtype=np.int64)),
    comm.ialltoall(np.array([R * 100 + j for j in range(N)], dtype=np.int64)),
]
res = fmi.waitall(reqs)
assert list(res[0]) == [0, 1, 2, 3, 4]
assert (list(res[1]) == [0 + 1 + 2, 3]) if R == 0 else res[1] is None, res[1]
assert list(res[2]) == [0, 10, 20]
assert list(res[3]) == [j * 100 + R for j in range(N)]

comm.ibarrier().wait()
print("nonblocking ok", flush=True)
comm.finalize()
