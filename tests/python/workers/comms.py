"""Derived communicators from Python (4 peers): split against a reference, dup isolation with
the same tags, collectives on a split, groups (incl, excl, translate_ranks), create_group by
the members only, free, and bad input as exceptions."""

import numpy as np

import fmi

comm = fmi.Communicator.from_env()
R, N = comm.rank, comm.size
assert N == 4
assert comm.context_id == 0

# Split: colors 0, 1, 0, UNDEFINED with keys that reverse the order.
colors = [0, 1, 0, fmi.UNDEFINED]
sub = comm.split(colors[R], -R)
if R == 3:
    assert sub is None
else:
    members = sorted([r for r in range(N) if colors[r] == colors[R]], key=lambda r: -r)
    assert sub.size == len(members) and members[sub.rank] == R, (sub, members)
    assert sub.context_id != 0
    total = sub.allreduce(R, fmi.func(fmi.op.sum), fmi.types(fmi.datatypes.int))
    assert total == sum(members), total
    got = sub.allgather(np.array([R], dtype=np.int64))
    assert list(got) == members, got
    b = sub.bcast(np.array([R * 10], dtype=np.int32) if sub.rank == 0 else np.zeros(1, np.int32), 0)
    assert int(b[0]) == members[0] * 10
    sub.free()

# dup: the same tag on both; each message arrives on its own communicator.
d = comm.dup()
assert (d.rank, d.size) == (R, N) and d.context_id != comm.context_id
if R == 0:
    d.send(np.array([1], dtype=np.int64), 1, tag=4)
    comm.send(np.array([2], dtype=np.int64), 1, tag=4)
elif R == 1:
    out = np.empty(1, dtype=np.int64)
    comm.recv(fmi.ANY_SOURCE, out=out, tag=fmi.ANY_TAG)
    assert int(out[0]) == 2
    d.recv(0, out=out, tag=4)
    assert int(out[0]) == 1
d.free()

# Groups.
g = comm.group()
assert (g.size, g.rank) == (4, R)
odd = g.incl([3, 1])
even = g.excl([1, 3])
assert odd.size == 2 and even.size == 2
assert odd.translate_ranks([0, 1], g) == [3, 1]
assert g.translate_ranks([0, 1, 2, 3], odd) == [fmi.UNDEFINED, 1, fmi.UNDEFINED, 0]
assert odd.rank == ({3: 0, 1: 1}.get(R, fmi.UNDEFINED))
mine = odd if R % 2 == 1 else even
c = comm.create_group(mine, tag=6)
assert c.size == 2
s = c.allreduce(np.array([R], dtype=np.int64), fmi.func(fmi.op.sum))
assert int(s[0]) == (4 if R % 2 == 1 else 2), s
c.free()
other = even if R % 2 == 1 else odd
try:
    comm.create_group(other, tag=1)
    raise AssertionError("a non-member's create_group must fail")
except fmi.InvalidArgument as e:
    assert "not a member of the group" in str(e), e

# Bad input.
for bad in ([4], [0, 0]):
    try:
        g.incl(bad)
        raise AssertionError("incl(%r) must fail" % (bad,))
    except fmi.InvalidArgument:
        pass
try:
    comm.split(-5, 0)
    raise AssertionError("color -5 must fail")
except fmi.InvalidArgument as e:
    assert "color -5" in str(e), e
odd.free()
try:
    odd.size
    raise AssertionError("a freed group must fail")
except fmi.InvalidArgument:
    pass
comm.barrier()
comm.finalize()
print("comms ok")
