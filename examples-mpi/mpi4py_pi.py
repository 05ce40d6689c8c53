"""mpi4py on libfmi: pi by the midpoint rule, each process summing every size-th interval.

    fmirun -n 4 python examples-mpi/mpi4py_pi.py                  # direct TCP between processes
    fmirun --config redis.json -n 4 python examples-mpi/mpi4py_pi.py   # the same over Redis
    fmirun --config s3.json -n 4 python examples-mpi/mpi4py_pi.py      # ... or over S3

The program is plain mpi4py (built for the MPI standard ABI): which channel carries the
messages is configuration only (docs/mpi4py.md). Rank 0 prints one line:
    pi 3.14159265... error 1.2e-13 on 4 processes, ranks [0, 1, 2, 3], check OK
"""

import array
import math
import sys

from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()

# The number of intervals: rank 0 decides, everyone gets it (MPI_Bcast of a buffer).
n = array.array("q", [int(sys.argv[1]) if len(sys.argv) > 1 else 200_000])
comm.Bcast([n, MPI.INT64_T], root=0)
h = 1.0 / n[0]
part = array.array("d", [h * sum(4.0 / (1.0 + ((i + 0.5) * h) ** 2) for i in range(rank, n[0], size))])

# The sum of the parts on every process (MPI_Allreduce of doubles).
pi = array.array("d", [0.0])
comm.Allreduce([part, MPI.DOUBLE], [pi, MPI.DOUBLE], op=MPI.SUM)

# Python objects (pickled): every rank's number, gathered everywhere.
ranks = comm.allgather(rank)
ok = ranks == list(range(size)) and abs(pi[0] - math.pi) < 1e-8

# Every process agrees (MPI_Allreduce with MPI_LAND of the local verdicts).
ok = comm.allreduce(ok, op=MPI.LAND)
if rank == 0:
    print(
        f"pi {pi[0]:.12f} error {abs(pi[0] - math.pi):.1e} on {size} processes, "
        f"ranks {ranks}, check {'OK' if ok else 'FAILED'}"
    )
sys.exit(0 if ok else 1)
