"""Tagged point-to-point from Python (3 peers): wildcard receives sized by probe, statuses,
non-overtaking per sender and tag, iprobe, sendrecv in a ring, and truncation as an error."""

import numpy as np

import fmi
from fmi import _capi

comm = fmi.Communicator.from_env()
R, N = comm.rank, comm.size
assert N == 3

# Ranks 1 and 2 send 20 messages each to rank 0, alternating tags 7 and 9, of sizes that name
# the sender and the index; rank 0 takes them by wildcard source, sized by probe.
if R == 0:
    got = {}
    for _ in range(40):
        st = comm.probe(fmi.ANY_SOURCE, fmi.ANY_TAG)
        out = np.empty(st.count_bytes // 8, dtype=np.int64)
        status = fmi.Status()
        comm.recv(fmi.ANY_SOURCE, out=out, tag=st.tag, status=status)
        assert status.tag == st.tag and status.count_bytes == out.nbytes, (status, st)
        src, i = int(out[0]), int(out[1])
        assert status.source == src and status.tag == (7 if i % 2 == 0 else 9), (status, i)
        assert len(out) == 2 + src * 10 + i
        got.setdefault((src, status.tag), []).append(i)
    for (src, tag), seq in got.items():
        assert seq == sorted(seq) and len(seq) == 10, (src, tag, seq)  # non-overtaking
else:
    for i in range(20):
        a = np.full(2 + R * 10 + i, -1, dtype=np.int64)
        a[0], a[1] = R, i
        comm.send(a, 0, tag=7 if i % 2 == 0 else 9)
comm.barrier()

# iprobe sees nothing, then the message that is on its way.
if R == 1:
    assert comm.iprobe(2, 5) is None
comm.barrier()
if R == 2:
    comm.send(np.arange(4, dtype=np.int32), 1, tag=5)
if R == 1:
    while comm.iprobe(2, 5) is None:
        pass
    out = np.empty(4, dtype=np.int32)
    comm.recv(2, out=out, tag=5)
    assert list(out) == [0, 1, 2, 3]

# sendrecv in a ring.
status = fmi.Status()
out = np.empty(1, dtype=np.int64)
comm.sendrecv(np.array([R], dtype=np.int64), (R + 1) % N, (R - 1) % N, out=out, send_tag=3,
              recv_tag=3, status=status)
assert int(out[0]) == (R - 1) % N and status.source == (R - 1) % N and status.tag == 3

# A message longer than the buffer is a truncation error.
if R == 0:
    comm.send(np.zeros(8, dtype=np.int64), 1, tag=11)
if R == 1:
    try:
        comm.recv(0, out=np.empty(2, dtype=np.int64), tag=11)
        raise AssertionError("no truncation error")
    except fmi.FMIError as e:
        assert e.status == _capi.FMI_ERR_TRUNCATE, e
comm.barrier()
comm.finalize()
print("peer %d: tagged ok" % R)
