"""Peer 1 dies with an uncaught exception while peer 0 waits in a collective: fmirun must
exit non-zero promptly (the dying peer's exit-time close waits at most 1 s)."""
import sys
import fmi

comm = fmi.Communicator.from_env()
if comm.rank == 1:
    raise RuntimeError("peer 1 fails on purpose")
comm.barrier()
sys.exit(0)
