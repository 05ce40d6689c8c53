"""fmi: Python binding of libfmi, MPI-style message passing for serverless functions.

It offers the interface of the original FMI Python module (Copik et al., ICS 2023), so existing
code runs unchanged::

    import fmi
    comm = fmi.Communicator(peer_id, num_peers, "fmi.json", "job-42", 512)
    comm.hint(fmi.hints.fast)
    total = comm.allreduce(3.5, fmi.func(fmi.op.sum), fmi.types(fmi.datatypes.double))
    parts = comm.scatter([1, 2, 3, 4] if peer_id == 0 else None, 0,
                         fmi.types(fmi.datatypes.int_list, 4))

and goes beyond it:

- Every operation takes any C-contiguous buffer-protocol object (numpy arrays, bytes,
  bytearray, memoryview, array.array, ...) without copying it; ``types`` is then optional (the
  element type comes from the buffer's format) and ``out=`` receives into an existing buffer
  without copying. ``bcast`` on a writable buffer works in place.
- Every datatype of the C API (``fmi.datatypes.int8`` ... ``uint64``, ``float``, ``double``,
  ``byte`` and their ``_list`` forms), every built-in op (``band``, ``bor``, ``bxor``, ``land``,
  ``lor`` as well), ``allgather`` and ``alltoall``.
- ``fmi.func(fmi.op.custom, f, commutative, associative)`` honours the flags: unless both are
  true the reduction is the strict left-to-right fold v0 (+) v1 (+) ... in rank order. ``f`` is
  applied element-wise (as in the original); ``elementwise=False`` passes whole numpy blocks.
- Errors raise :class:`FMIError` (``.status``, ``.status_name``, ``.message``); timeouts raise
  :class:`Timeout`. Both derive from ``RuntimeError`` like the original's errors.
- The GIL is released while a call blocks, so other Python threads keep running.

Results: with ``fmi.types`` scalar/list types and Python values, results are Python scalars and
lists as in the original (``gather`` returns a flat list at the root and ``[]`` elsewhere). With
buffers, results are new buffers like the input (numpy array -> 1-D numpy array, bytes or
bytearray -> bytearray, other -> typed memoryview), or ``out`` when given; ``reduce`` and
``gather`` return ``None`` on non-root peers.
"""

from . import _capi
from ._capi import library_path  # noqa: F401  (public: where libfmi was loaded from)
from ._comm import Communicator
from ._errors import FMIError, InvalidArgument, PeerLost, SizeMismatch, Timeout
from ._group import Group
from ._request import Request, Status, waitall
from ._types import (ANY_SOURCE, ANY_TAG, TAG_UB, UNDEFINED, _INFO, datatype_size, datatypes,
                     func, hints, links, op, types)

__version__ = "0.1.0"

__all__ = [
    "Communicator",
    "types",
    "datatypes",
    "func",
    "op",
    "hints",
    "links",
    "FMIError",
    "Timeout",
    "InvalidArgument",
    "SizeMismatch",
    "PeerLost",
    "version",
    "library_path",
    "datatype_size",
    "Status",
    "Request",
    "waitall",
    "ANY_SOURCE",
    "ANY_TAG",
    "TAG_UB",
    "UNDEFINED",
    "Group",
]

# The public classes keep the module name ``fmi`` (reprs, tracebacks and pickles as before the
# package was split into modules).
for _c in (Communicator, FMIError, InvalidArgument, PeerLost, SizeMismatch, Timeout, Group,
           Request, Status, datatypes, func, hints, links, op, types):
    _c.__module__ = __name__
del _c


def version():
    """Version of the loaded libfmi, "MAJOR.MINOR.PATCH"."""
    return _capi.lib.fmi_version().decode()
