"""The collective matrix from Python, run by every peer under fmirun; each result is compared
with a sequential reference computed locally (every peer can generate every peer's data).

    fmirun -n N python3 matrix.py SECTION...

Sections:
  types     every datatype x every built-in op defined for it, sizes 0, 1 and 7 (odd), with
            allreduce, scan and reduce (the root rotates over all peers), numpy buffers
  colls     every collective (bcast, gather, scatter, reduce, allgather, alltoall, barrier,
            send/recv) at every root, sizes 0, 1, 7 and 1000, the datatype rotating over all 11
  custom    non-commutative user ops (element-wise and whole-block) with every flag
            combination, checked against the strict left-to-right fold, every root
  original  the original FMI interface: int, double, int_list, double_list values with
            send/recv, bcast, gather, scatter, reduce, allreduce, scan, every root
  buffers   bytes, bytearray, memoryview, array.array and out= (in place) variants
  large     one large size per collective: 262147 doubles (2 MiB, above the ring threshold)
            for bcast/reduce/allreduce/scan, 65537-element blocks for the block collectives
"""

import array
import os
import sys

import numpy as np

import fmi

comm = fmi.Communicator.from_env()
R = comm.rank
N = comm.size
checks = 0

DTYPES = {
    "int8": (fmi.datatypes.int8_list, np.int8),
    "uint8": (fmi.datatypes.uint8_list, np.uint8),
    "int16": (fmi.datatypes.int16_list, np.int16),
    "uint16": (fmi.datatypes.uint16_list, np.uint16),
    "int32": (fmi.datatypes.int32_list, np.int32),
    "uint32": (fmi.datatypes.uint32_list, np.uint32),
    "int64": (fmi.datatypes.int64_list, np.int64),
    "uint64": (fmi.datatypes.uint64_list, np.uint64),
    "float": (fmi.datatypes.float_list, np.float32),
    "double": (fmi.datatypes.double_list, np.float64),
    "byte": (fmi.datatypes.byte_list, np.uint8),
}
INTS = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]
FLOATS = ["float", "double"]
OPS_FOR = {}
for d in INTS:
    OPS_FOR[d] = ["sum", "prod", "min", "max", "band", "bor", "bxor", "land", "lor"]
for d in FLOATS:
    OPS_FOR[d] = ["sum", "prod", "min", "max"]
OPS_FOR["byte"] = ["band", "bor", "bxor"]

HALVES = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])


def gen(dname, rank, count, salt=0):
    """Peer ``rank``'s data: small values (exact float sums, power-of-two float products)."""
    npdt = DTYPES[dname][1]
    i = np.arange(count, dtype=np.int64)
    k = i * 7 + rank * 13 + salt * 5 + 3
    if dname in FLOATS:
        return HALVES[k % len(HALVES)].astype(npdt)
    if dname in ("uint8", "uint16", "uint32", "uint64", "byte"):
        return (k % 251).astype(npdt) if dname != "byte" else (k * 37 % 256).astype(npdt)
    return (k % 11 - 5).astype(npdt)


def combine(opname, a, b):
    if opname == "sum":
        return a + b
    if opname == "prod":
        return a * b
    if opname == "min":
        return np.minimum(a, b)
    if opname == "max":
        return np.maximum(a, b)
    if opname == "band":
        return a & b
    if opname == "bor":
        return a | b
    if opname == "bxor":
        return a ^ b
    if opname == "land":
        return ((a != 0) & (b != 0)).astype(a.dtype)
    if opname == "lor":
        return ((a != 0) | (b != 0)).astype(a.dtype)
    raise ValueError(opname)


def fold(opname, parts):
    acc = parts[0].copy()
    with np.errstate(over="ignore"):
        for p in parts[1:]:
            acc = combine(opname, acc, p)
    return acc


def check(got, want, what):
    global checks
    checks += 1
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype or not np.array_equal(got, want):
        raise AssertionError("peer %d of %d: %s: got %r (%s), want %r (%s)"
                             % (R, N, what, got[:20], got.dtype, want[:20], want.dtype))


def section_types():
    idx = 0
    for dname, ops in OPS_FOR.items():
        t, npdt = DTYPES[dname]
        for opname in ops:
            f = fmi.func(getattr(fmi.op, opname))
            for count in (0, 1, 7):
                idx += 1
                root = idx % N
                parts = [gen(dname, r, count, idx) for r in range(N)]
                mine = parts[R]
                types = fmi.types(t, count) if dname == "byte" else None
                what = "%s %s count=%d" % (dname, opname, count)
                check(comm.allreduce(mine, f, types), fold(opname, parts), "allreduce " + what)
                check(comm.scan(mine, f, types), fold(opname, parts[: R + 1]), "scan " + what)
                got = comm.reduce(mine, root, f, types)
                if R == root:
                    check(got, fold(opname, parts), "reduce root=%d %s" % (root, what))
                elif got is not None:
                    raise AssertionError("reduce on non-root returned %r" % (got,))
                # the caller's send buffer is never modified
                check(mine, gen(dname, R, count, idx), "send buffer untouched " + what)


def section_colls(sizes=(0, 1, 7, 1000)):
    names = list(DTYPES)
    idx = 0
    for root in range(N):
        for count in sizes:
            idx += 1
            dname = names[idx % len(names)]
            t, npdt = DTYPES[dname]
            what = "%s count=%d root=%d" % (dname, count, root)
            # bcast, in place on non-roots
            buf = gen(dname, root, count, idx) if R == root else np.zeros(count, npdt)
            got = comm.bcast(buf, root)
            check(got, gen(dname, root, count, idx), "bcast " + what)
            # gather
            got = comm.gather(gen(dname, R, count, idx), root)
            if R == root:
                check(got, np.concatenate([gen(dname, r, count, idx) for r in range(N)]), "gather " + what)
            elif got is not None:
                raise AssertionError("gather on non-root returned %r" % (got,))
            # scatter: non-roots say what they receive with out=
            full = np.concatenate([gen(dname, r, count, idx + 1) for r in range(N)])
            if R == root:
                got = comm.scatter(full, root)
            else:
                got = comm.scatter(None, root, out=np.zeros(count, npdt))
            check(got, full[R * count:(R + 1) * count], "scatter " + what)
            # reduce (sum, or bxor for byte)
            opname = "bxor" if dname == "byte" else "sum"
            parts = [gen(dname, r, count, idx + 2) for r in range(N)]
            got = comm.reduce(parts[R], root, fmi.func(getattr(fmi.op, opname)))
            if R == root:
                check(got, fold(opname, parts), "reduce " + what)
            # allgather (root only varies the data)
            got = comm.allgather(gen(dname, R, count, idx + 3))
            check(got, np.concatenate([gen(dname, r, count, idx + 3) for r in range(N)]), "allgather " + what)
            # alltoall: block j of peer r is gen(r, salt=j)
            send = np.concatenate([gen(dname, R, count, 100 * j + idx) for j in range(N)])
            got = comm.alltoall(send)
            check(got, np.concatenate([gen(dname, r, count, 100 * R + idx) for r in range(N)]), "alltoall " + what)
            comm.barrier()
            # send/recv: a ring shifted by root, received into out=
            if N > 1:
                dst = (R + root + 1) % N
                src = (R - root - 1) % N
                if dst != R:
                    msg = gen(dname, R, count, idx + 4)
                    # the smallest rank of each cycle of R -> R+shift sends first, the others
                    # receive first: deadlock-free even when sends block
                    cyc, c = [R], dst
                    while c != R:
                        cyc.append(c)
                        c = (c + root + 1) % N
                    if R == min(cyc):
                        comm.send(msg, dst)
                        got = comm.recv(src, out=np.empty(count, npdt))
                    else:
                        got = comm.recv(src, out=np.empty(count, npdt))
                        comm.send(msg, dst)
                    check(got, gen(dname, src, count, idx + 4), "send/recv " + what)


def strict_fold(fn, parts):
    acc = list(parts[0])
    for p in parts[1:]:
        acc = [fn(a, b) for a, b in zip(acc, p)]
    return acc


def section_custom():
    # a (+) b = 3a + b: neither commutative nor associative, so only the strict left-to-right
    # fold in rank order gives the reference result
    def f(a, b):
        return 3 * a + b

    def fv(a, b):  # whole-block form, updates a in place
        a *= 3
        a += b
        return a

    count = 5
    parts = [[(r * 7 + i) % 5 + 1 for i in range(count)] for r in range(N)]
    mine = np.array(parts[R], dtype=np.int64)
    for comm_flag, assoc_flag in ((False, False), (False, True), (True, False)):
        for elementwise in (True, False):
            fn = fmi.func(fmi.op.custom, f if elementwise else fv, comm_flag, assoc_flag,
                          elementwise=elementwise)
            what = "user op 3a+b commutative=%s associative=%s elementwise=%s" % (
                comm_flag, assoc_flag, elementwise)
            want = np.array(strict_fold(f, parts), dtype=np.int64)
            check(comm.allreduce(mine, fn), want, "allreduce " + what)
            check(comm.scan(mine, fn), np.array(strict_fold(f, parts[: R + 1]), dtype=np.int64), "scan " + what)
            for root in range(N):
                got = comm.reduce(mine, root, fn)
                if R == root:
                    check(got, want, "reduce root=%d %s" % (root, what))
            check(mine, np.array(parts[R], dtype=np.int64), "send buffer untouched " + what)
    # a commutative and associative user op may use the fast algorithms: same result for a sum
    s = fmi.func(fmi.op.custom, lambda a, b: a + b, True, True)
    check(comm.allreduce(mine, s), np.array([sum(p[i] for p in parts) for i in range(count)]), "user sum")
    # matrices: 2x2 products, associative but not commutative, whole blocks (elementwise=False)
    mats = [np.array([[1, r + 1], [r % 3, 1]], dtype=np.float64).ravel() for r in range(N)]

    def matmul(a, b):
        return (a.reshape(-1, 2, 2) @ b.reshape(-1, 2, 2)).ravel()

    fm = fmi.func(fmi.op.custom, matmul, False, True, elementwise=False)
    want = mats[0].reshape(2, 2)
    for m in mats[1:]:
        want = want @ m.reshape(2, 2)
    check(comm.allreduce(mats[R], fm), want.ravel(), "allreduce 2x2 matrix product")


def section_original():
    T = fmi.types
    D = fmi.datatypes
    for root in range(N):
        # bcast of the four original types
        v = comm.bcast(42 + root if R == root else None, root, T(D.int))
        assert v == 42 + root and isinstance(v, int), v
        v = comm.bcast(14.25 if R == root else None, root, T(D.double))
        assert v == 14.25 and isinstance(v, float), v
        v = comm.bcast([1, 2, root] if R == root else None, root, T(D.int_list, 3))
        assert v == [1, 2, root], v
        v = comm.bcast([1.5, -2.25] if R == root else None, root, T(D.double_list, 2))
        assert v == [1.5, -2.25], v
        # gather: scalars become 1-element blocks; non-roots get []
        v = comm.gather(R * 10, root, T(D.int))
        assert v == ([r * 10 for r in range(N)] if R == root else []), v
        v = comm.gather([R + 0.5, -R], root, T(D.double_list, 2))
        assert v == ([x for r in range(N) for x in (r + 0.5, -float(r))] if R == root else []), v
        # scatter: num_objects is the total length
        total = [r * 100 + root for r in range(2 * N)]
        v = comm.scatter(total if R == root else None, root, T(D.int_list, 2 * N))
        assert v == total[2 * R: 2 * R + 2], v
        v = comm.scatter([float(x) for x in total] if R == root else None, root, T(D.double_list, 2 * N))
        assert v == [float(x) for x in total[2 * R: 2 * R + 2]], v
        # reduce with every original op, scalars and lists
        for name, pyf in (("sum", sum), ("prod", None), ("max", max), ("min", min)):
            f = fmi.func(getattr(fmi.op, name))
            vals = [r % 3 + 1 for r in range(N)]
            want = pyf(vals) if pyf else _prod(vals)
            v = comm.reduce(vals[R], root, f, T(D.int))
            assert v == (want if R == root else None), (name, v)
            v = comm.reduce(float(vals[R]), root, f, T(D.double))
            assert v == (float(want) if R == root else None), (name, v)
            v = comm.reduce([vals[R], 2 * vals[R]], root, f, T(D.int_list, 2))
            want2 = pyf([2 * x for x in vals]) if pyf else _prod([2 * x for x in vals])
            assert v == ([want, want2] if R == root else None), (name, v)
        # custom: element-wise on lists, as in the original; non-commutative in rank order
        f = fmi.func(fmi.op.custom, lambda a, b: 2 * a + b, False, False)
        vals = [r % 4 for r in range(N)]
        want = vals[0]
        for x in vals[1:]:
            want = 2 * want + x
        v = comm.reduce(vals[R], root, f, T(D.int))
        assert v == (want if R == root else None), v
        v = comm.reduce([vals[R], vals[R]], root, f, T(D.int_list, 2))
        assert v == ([want, want] if R == root else None), v
    # allreduce and scan
    f = fmi.func(fmi.op.custom, lambda a, b: 2 * a + b, False, False)
    vals = [r % 4 for r in range(N)]
    pref = []
    acc = None
    for x in vals:
        acc = x if acc is None else 2 * acc + x
        pref.append(acc)
    assert comm.allreduce(vals[R], f, T(D.int)) == pref[-1]
    assert comm.scan(vals[R], f, T(D.int)) == pref[R]
    assert comm.scan(float(vals[R]), f, T(D.double)) == float(pref[R])
    assert comm.allreduce([vals[R]] * 3, f, T(D.int_list, 3)) == [pref[-1]] * 3
    assert comm.allreduce(1.5, fmi.func(fmi.op.sum), T(D.double)) == 1.5 * N
    assert comm.scan([1, R], fmi.func(fmi.op.sum), T(D.int_list, 2)) == [R + 1, R * (R + 1) // 2]
    assert comm.allgather(R, T(D.int)) == list(range(N))
    assert comm.alltoall([R * N + j for j in range(N)], T(D.int_list, N)) == [r * N + R for r in range(N)]
    # send/recv in a ring
    if N > 1:
        nxt, prv = (R + 1) % N, (R - 1) % N
        for value, t in ((42, T(D.int)), (14.2, T(D.double)), ([1, 2], T(D.int_list, 2)),
                         ([1.32, 2.34], T(D.double_list, 2))):
            if R % 2 == 0:
                comm.send(value, nxt, t)
                got = comm.recv(prv, t)
            else:
                got = comm.recv(prv, t)
                comm.send(value, nxt, t)
            assert got == value, (got, value)
    # every datatype of the C API as Python scalars and lists
    for dname in DTYPES:
        scalar = getattr(fmi.datatypes, dname)
        lst = getattr(fmi.datatypes, dname + "_list")
        x = 3 if dname != "byte" else 0x5A
        want = x * N if dname != "byte" else (x if N % 2 else 0)
        opf = fmi.func(fmi.op.bxor if dname == "byte" else fmi.op.sum)
        got = comm.allreduce(x, opf, T(scalar))
        assert got == want, (dname, got, want)
        got = comm.allreduce([x, x], opf, T(lst, 2))
        assert got == ([want, want] if dname != "byte" else bytes([want, want])), (dname, got)
    comm.hint(fmi.hints.fast)
    comm.hint(fmi.hints.cheap)
    comm.barrier()


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def section_buffers():
    # bytes, bytearray, memoryview, array.array: zero-copy in, results of the same kind
    root = N - 1
    data = bytes(range(R, R + 11))
    got = comm.allgather(data)
    assert isinstance(got, bytearray) and got == b"".join(bytes(range(r, r + 11)) for r in range(N)), got
    got = comm.bcast(b"hello fmi" if R == root else b"\0" * 9, root)
    assert got == b"hello fmi", got
    ba = bytearray(b"\0" * 9) if R != root else bytearray(b"in place!")
    got = comm.bcast(ba, root)
    assert got is ba and ba == b"in place!", ba
    a = array.array("d", [R, 2.0 * R])
    got = comm.allreduce(a, fmi.func(fmi.op.sum))
    assert isinstance(got, array.array) and list(got) == [N * (N - 1) / 2, N * (N - 1.0)], got
    mv = memoryview(array.array("i", [R + 1] * 3))
    got = comm.allreduce(mv, fmi.func(fmi.op.max))
    assert isinstance(got, memoryview) and got.format == "i" and got.tolist() == [N] * 3, got
    # raw bytes reinterpreted by fmi.types, and FMI_BYTE bitwise ops
    raw = np.array([R + 1, 1], dtype=np.int32).tobytes()
    got = comm.allreduce(raw, fmi.func(fmi.op.sum), fmi.types(fmi.datatypes.int32_list))
    assert np.frombuffer(bytes(got), dtype=np.int32).tolist() == [N * (N + 1) // 2, N], got
    got = comm.allreduce(bytes([1 << (R % 8)]), fmi.func(fmi.op.bor), fmi.types(fmi.datatypes.byte_list))
    want = 0
    for r in range(N):
        want |= 1 << (r % 8)
    assert got == bytes([want]), got
    # in place (out is the send buffer) and out= everywhere
    x = np.full(5, R + 1, dtype=np.int64)
    got = comm.allreduce(x, fmi.func(fmi.op.sum), out=x)
    assert got is x and (x == N * (N + 1) // 2).all(), x
    x = np.full(3, R + 1.0)
    got = comm.scan(x, fmi.func(fmi.op.prod), out=x)
    assert got is x and (x == float(_prod(range(1, R + 2)))).all(), x
    out = np.empty((N, 2), dtype=np.float32)  # any shape with the right number of elements
    got = comm.allgather(np.array([R, -R], dtype=np.float32), out=out)
    assert got is out and (out[:, 0] == np.arange(N)).all() and (out[:, 1] == -np.arange(N)).all(), out
    out = np.empty(N, dtype=np.int16) if R == root else None
    got = comm.gather(np.array([R], dtype=np.int16), root, out=out)
    assert (got is out and (out == np.arange(N)).all()) if R == root else got is None, got
    # 2-D and non-contiguous send arrays (the latter are copied to a contiguous one)
    m = np.arange(4 * N, dtype=np.float64).reshape(N, 4)
    got = comm.scatter(m if R == root else None, root, out=np.empty(4))
    assert (got == m[R]).all(), got
    nc = np.arange(20, dtype=np.int32)[::2]
    got = comm.allreduce(nc, fmi.func(fmi.op.sum))
    assert (got == nc * N).all(), got
    # numpy arrays with a list type of another dtype are converted (a copy)
    got = comm.allreduce(np.array([1, 2]), fmi.func(fmi.op.sum), fmi.types(fmi.datatypes.int_list, 2))
    assert got.dtype == np.int32 and got.tolist() == [N, 2 * N], got


def section_large():
    big = 262147  # 2 MiB of doubles: allreduce uses the ring algorithm from 256 KiB
    blk = 65537
    root = N - 1
    x = (np.arange(big, dtype=np.float64) % 13) * (R + 1)
    want = (np.arange(big, dtype=np.float64) % 13) * (N * (N + 1) // 2)
    check(comm.allreduce(x, fmi.func(fmi.op.sum)), want, "large allreduce")
    got = comm.reduce(x, root, fmi.func(fmi.op.sum))
    if R == root:
        check(got, want, "large reduce")
    got = comm.scan(x, fmi.func(fmi.op.max))
    check(got, (np.arange(big, dtype=np.float64) % 13) * (R + 1), "large scan max")
    b = x if R == root else np.empty(big)
    check(comm.bcast(b, root), (np.arange(big, dtype=np.float64) % 13) * N, "large bcast")
    # non-commutative user op on a large block (whole-block callable)
    ai = np.full(big, R + 1, dtype=np.int64)
    f = fmi.func(fmi.op.custom, lambda a, b: a * 3 + b, False, False, elementwise=False)
    w = np.full(big, 1, dtype=np.int64)
    for r in range(1, N):
        w = w * 3 + (r + 1)
    check(comm.allreduce(ai, f), w, "large non-commutative allreduce")
    blocks = [np.arange(blk, dtype=np.int32) + r for r in range(N)]
    got = comm.gather(blocks[R], 0)
    if R == 0:
        check(got, np.concatenate(blocks), "large gather")
    full = np.concatenate(blocks) if R == root else None
    check(comm.scatter(full, root, out=np.empty(blk, np.int32)), blocks[R], "large scatter")
    check(comm.allgather(blocks[R]), np.concatenate(blocks), "large allgather")
    send = np.concatenate([blocks[j] * (R + 1) for j in range(N)])
    check(comm.alltoall(send), np.concatenate([blocks[R] * (r + 1) for r in range(N)]), "large alltoall")
    if N > 1:
        dst, src = (R + 1) % N, (R - 1) % N
        if R % 2 == 0:
            comm.send(x, dst)
            got = comm.recv(src, out=np.empty(big))
        else:
            got = comm.recv(src, out=np.empty(big))
            comm.send(x, dst)
        check(got, (np.arange(big, dtype=np.float64) % 13) * (src + 1), "large send/recv")


SECTIONS = {
    "types": section_types,
    "colls": section_colls,
    "custom": section_custom,
    "original": section_original,
    "buffers": section_buffers,
    "large": section_large,
}

for name in sys.argv[1:]:
    SECTIONS[name]()
    comm.barrier()
if R == 0:
    print("matrix %s: %d peers, %d array checks, ok" % (" ".join(sys.argv[1:]), N, checks))
comm.finalize()
