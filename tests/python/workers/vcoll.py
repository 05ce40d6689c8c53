"""The v-collectives from Python (any peer count) on numpy arrays, against references computed
here: gatherv, scatterv, allgatherv (also in place), alltoallv, reduce_scatter and exscan, with
uneven and zero counts, displacements out of rank order, and a non-commutative user op."""

import numpy as np

import fmi

comm = fmi.Communicator.from_env()
R, N = comm.rank, comm.size


def cnt(a, b):
    return (a * 7 + b * 3) % 4  # 0..3 elements, some empty


def block(p, q, k):
    return np.arange(k, dtype=np.int64) + 1000 * p + 10 * q


# Receive blocks in reverse rank order with one spare element between them.
counts = [cnt(p, 1) for p in range(N)]
displs, at = [0] * N, 0
for p in reversed(range(N)):
    displs[p] = at
    at += counts[p] + 1

# gatherv to every root, packed and with displacements
for root in range(N):
    got = comm.gatherv(block(R, 0, counts[R]), root, counts=counts if R == root else None)
    if R == root:
        assert np.array_equal(got, np.concatenate([block(p, 0, counts[p]) for p in range(N)])), got
    else:
        assert got is None
    out = np.full(at, -1, dtype=np.int64)
    got = comm.gatherv(block(R, 0, counts[R]), root, counts=counts, displs=displs,
                       out=out if R == root else None)
    if R == root:
        assert got is out
        for p in range(N):
            assert np.array_equal(out[displs[p]:displs[p] + counts[p]], block(p, 0, counts[p]))
        assert (out[[displs[p] + counts[p] for p in range(N)]] == -1).all()  # gaps untouched

# scatterv from the last peer; non-roots give the datatype with types=
root = N - 1
src = np.concatenate([block(p, 5, counts[p]) for p in range(N)]) if R == root else None
mine = comm.scatterv(src, counts, root, types=fmi.types(fmi.datatypes.int64_list))
assert np.array_equal(mine, block(R, 5, counts[R])), mine

# allgatherv, then in place (this peer's block already in out)
every = comm.allgatherv(block(R, 2, counts[R]), counts, displs=displs)
for p in range(N):
    assert np.array_equal(every[displs[p]:displs[p] + counts[p]], block(p, 2, counts[p]))
out = np.zeros(at, dtype=np.int64)
out[displs[R]:displs[R] + counts[R]] = block(R, 3, counts[R])
assert comm.allgatherv(None, counts, displs=displs, out=out, in_place=True) is out
for p in range(N):
    assert np.array_equal(out[displs[p]:displs[p] + counts[p]], block(p, 3, counts[p]))

# alltoallv: peer i sends cnt(i, j) elements to peer j
sc = [cnt(R, j) for j in range(N)]
rc = [cnt(i, R) for i in range(N)]
sendbuf = np.concatenate([block(R, j, sc[j]) for j in range(N)])
got = comm.alltoallv(sendbuf, sc, rc)
assert np.array_equal(got, np.concatenate([block(i, R, rc[i]) for i in range(N)])), got

# reduce_scatter: a sum, and a non-commutative op (append a digit) folded in rank order
rs = [p % 3 for p in range(N)]
total = sum(rs)
part = comm.reduce_scatter(np.full(total, R + 1, dtype=np.float64), rs, fmi.func(fmi.op.sum))
assert np.array_equal(part, np.full(rs[R], N * (N + 1) / 2)), part
digits = sum((p % 9 + 1) * 10 ** (N - 1 - p) for p in range(N))
append = fmi.func(fmi.op.custom, lambda a, b: a * 10 + b, False, False)
part = comm.reduce_scatter(np.full(total, R % 9 + 1, dtype=np.int64), rs, append)
assert (part == digits).all() and len(part) == rs[R], part

# exscan: peer 0 gets None (or out untouched)
pre = comm.exscan(np.array([R % 9 + 1], dtype=np.int64), append)
if R == 0:
    assert pre is None
else:
    assert int(pre[0]) == sum((p % 9 + 1) * 10 ** (R - 1 - p) for p in range(R)), pre
out = np.array([-5], dtype=np.int64)
comm.exscan(np.array([R + 1], dtype=np.int64), fmi.func(fmi.op.sum), out=out)
assert int(out[0]) == (-5 if R == 0 else R * (R + 1) // 2), out

# bad input: a negative count is refused before any message
try:
    comm.allgatherv(block(R, 0, 1), [1] * (N - 1) + [-1])
    raise AssertionError("a negative count was accepted")
except fmi.InvalidArgument as e:
    assert "negative" in str(e), e

comm.barrier()
print("vcoll ok on peer %d of %d" % (R, N))
comm.finalize()
