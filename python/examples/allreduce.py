"""Run as N local peers: fmirun -n 4 python3 python/examples/allreduce.py

Each peer contributes its rank; the original FMI interface (Python values + fmi.types) and the
numpy interface (zero-copy buffers) compute the same sums."""

import fmi

comm = fmi.Communicator.from_env()  # or fmi.Communicator(peer_id, num_peers, config, name)
rank, size = comm.rank, comm.size

total = comm.allreduce(rank, fmi.func(fmi.op.sum), fmi.types(fmi.datatypes.int))
print("rank %d of %d: sum of ranks = %d" % (rank, size, total))
assert total == size * (size - 1) // 2

try:
    import numpy as np
except ImportError:
    np = None
if np is not None:
    x = np.full(1000, float(rank))
    s = comm.allreduce(x, fmi.func(fmi.op.sum))  # no copy of x; s is a new array
    assert (s == total).all()
    comm.allreduce(x, fmi.func(fmi.op.max), out=x)  # in place
    assert (x == size - 1).all()
comm.finalize()
