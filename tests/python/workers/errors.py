"""Error paths (2 peers): libfmi failures become fmi.FMIError subclasses carrying the status
and message, the communicator stays usable afterwards, and a user op's exception is re-raised
by the call that ran it."""

import time

import numpy as np

import fmi

comm = fmi.Communicator.from_env()
R, N = comm.rank, comm.size
assert N == 2
assert comm.peer_link(R) is fmi.links.self and comm.peer_link(1 - R) is fmi.links.direct


def expect(exc_type, fn, status=None, words=()):
    try:
        fn()
    except exc_type as e:
        if status is not None:
            assert isinstance(e, fmi.FMIError) and e.status == status, (e, status)
            assert e.status_name.startswith("FMI_ERR_") and isinstance(e, RuntimeError)
            for w in words:
                assert w in e.message, (w, e.message)
        print("peer %d: %s: %s" % (R, type(e).__name__, e))
        return e
    raise AssertionError("expected %s" % exc_type.__name__)


# 1. size mismatch: the message is consumed and the connection stays usable
if R == 0:
    comm.send(np.arange(3, dtype=np.int32), 1)
    comm.send(np.arange(3, dtype=np.int32), 1)
else:
    expect(fmi.SizeMismatch, lambda: comm.recv(0, out=np.empty(4, np.int32)), 5, ("fmi_recv",))
    got = comm.recv(0, out=np.empty(3, np.int32))
    assert got.tolist() == [0, 1, 2], got

# 2. an op that is not defined for the datatype, a root out of range (checked locally)
expect(fmi.InvalidArgument, lambda: comm.allreduce(np.ones(3, np.float32), fmi.func(fmi.op.band)),
       2, ("band",))
expect(fmi.InvalidArgument, lambda: comm.bcast(np.ones(3), 5), 2)

# 3. a timeout names the peer it waited for; afterwards the communicator still works
comm.set_timeout(300)
if R == 0:
    e = expect(fmi.Timeout, lambda: comm.recv(1, fmi.types(fmi.datatypes.int)), 4, ("peer 1",))
    assert isinstance(e, TimeoutError)
else:
    time.sleep(0.6)
comm.set_timeout(30000)
assert comm.timeout == 30000
comm.barrier()

# 4. a user op that raises: the exception comes out of the call, the C library never sees it
def bad(a, b):
    raise ZeroDivisionError("boom from the user op")


raised = 0
try:
    comm.allreduce(np.ones(4), fmi.func(fmi.op.custom, bad, False, False))
except ZeroDivisionError as e:
    assert e.args == ("boom from the user op",)
    raised = 1
# with the strict fold only some peers combine; at least one must have seen it
assert comm.allreduce(raised, fmi.func(fmi.op.sum), fmi.types(fmi.datatypes.int)) >= 1
# and the next reduction with a good op works
assert comm.allreduce(R, fmi.func(fmi.op.custom, lambda a, b: a - b, False, False),
                      fmi.types(fmi.datatypes.int)) == -1

# 5. argument errors found by the binding itself
expect(TypeError, lambda: comm.scatter([1, 2], 0, fmi.types(fmi.datatypes.int)))  # "Cannot scatter atomic types"
expect(fmi.InvalidArgument, lambda: comm.scatter([1, 2, 3], 0, fmi.types(fmi.datatypes.int_list, 3)), 2)
expect(TypeError, lambda: comm.recv(0, fmi.types(fmi.datatypes.int_list)))
expect(TypeError, lambda: comm.send([1, 2], 0))  # a list needs fmi.types
expect(TypeError, lambda: comm.allreduce(np.ones(2), fmi.op.sum))  # an op, not an fmi.func
expect(TypeError, lambda: comm.allreduce(np.ones(2), fmi.func(fmi.op.sum), out=b"\0" * 16))  # read-only out
expect(ValueError, lambda: comm.allreduce(np.ones(4), fmi.func(fmi.op.sum), out=np.empty(8)[::2]))
expect(fmi.InvalidArgument, lambda: comm.allreduce(np.ones(4), fmi.func(fmi.op.sum), out=np.empty(5)), 2)
expect(TypeError, lambda: comm.allreduce(np.ones(4), fmi.func(fmi.op.sum), out=np.empty(4, np.int64)))
expect(TypeError, lambda: comm.allreduce(np.ones(2, dtype=np.complex128), fmi.func(fmi.op.sum)))

# 6. a finalized communicator refuses further use
comm.finalize()
expect(fmi.InvalidArgument, lambda: comm.barrier(), 2, ("finalized",))
print("peer %d: errors ok" % R)
