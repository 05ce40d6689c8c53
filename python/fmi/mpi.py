"""libfmi's MPI library for mpi4py: ``libmpi_abi.so.1`` (the MPI 5.0 standard ABI), which the
wheel ships beside ``libfmi.so``.

Import this module before mpi4py's ``MPI``::

    import fmi.mpi              # loads libfmi's libmpi_abi.so.1 into the process
    from mpi4py import MPI      # mpi4py built for the standard ABI binds to it

mpi4py built with ``MPI4PY_BUILD_MPIABI=1`` needs ``libmpi_abi.so.1`` by its SONAME; once a
library of that SONAME is loaded, the dynamic loader uses it, so no ``LD_LIBRARY_PATH`` is needed.
A mpi4py that chooses its library at run time reads ``MPI4PY_LIBMPI``, set here too. Under
``fmirun`` this is not needed (fmirun sets both), but harmless: the library fmirun named through
``MPI4PY_LIBMPI`` is the one loaded.

The library loaded is, in order: ``$MPI4PY_LIBMPI`` (a path), then the wheel's copy next to
this file. :func:`library_path` tells which.
"""

import ctypes
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_loaded = None


def _choose():
    named = os.environ.get("MPI4PY_LIBMPI")
    if named:
        return named
    return os.path.join(_HERE, "libmpi_abi.so.1")


def load():
    """Load libfmi's ``libmpi_abi.so.1`` (once; globally, so that mpi4py's extension binds to
    it) and set ``MPI4PY_LIBMPI`` to it when unset. Returns the path. Raises ``OSError`` naming
    the path when it cannot be loaded."""
    global _loaded
    if _loaded is None:
        path = _choose()
        try:
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError as e:
            raise OSError(f"fmi.mpi: cannot load libmpi_abi.so.1 from {path}: {e}") from e
        os.environ.setdefault("MPI4PY_LIBMPI", path)
        _loaded = path
    return _loaded


def library_path():
    """The path of the ``libmpi_abi.so.1`` loaded by this module."""
    return load()


load()
