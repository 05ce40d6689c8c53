"""ctypes declarations of libfmi's C ABI (include/fmi.h) and the loader of libfmi.so.

The library is looked up, in order, at ``$FMI_LIBRARY`` (a path), next to this file (the copy that
the wheel and the Lambda layer ship), and by its SONAME ``libfmi.so.0`` through the dynamic
loader's search path (``LD_LIBRARY_PATH``, ``/opt/lib`` in AWS Lambda, the system directories).

Functions are loaded with :class:`ctypes.CDLL`, which releases the GIL for the duration of every
call, so other Python threads run while a peer is blocked in a collective.
"""

import ctypes
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    c_char_p,
    c_int,
    c_int32,
    c_size_t,
    c_ssize_t,
    c_uint32,
    c_uint64,
    c_void_p,
)

# --- constants, mirrored from include/fmi.h (tests/python/test_api.py checks them against it) ---

FMI_SUCCESS = 0
FMI_ERR_NULL_ARG = 1
FMI_ERR_INVALID_ARG = 2
FMI_ERR_CONFIG = 3
FMI_ERR_TIMEOUT = 4
FMI_ERR_SIZE_MISMATCH = 5
FMI_ERR_CHANNEL = 6
FMI_ERR_PEER_LOST = 7
FMI_ERR_AUTH = 8
FMI_ERR_UNSUPPORTED = 9
FMI_ERR_INTERNAL = 10
FMI_ERR_MISMATCH = 11
FMI_ERR_TRUNCATE = 12
FMI_ERR_LIMIT = 13
FMI_ERR_RANK_TAKEN = 14

# Point-to-point with tags: wildcards and the largest tag.
FMI_ANY_SOURCE = -1
FMI_ANY_TAG = -2
FMI_TAG_UB = 2**31 - 1
FMI_UNDEFINED = -1
# MPI_IN_PLACE's counterpart: the address 1 (fmi.h: #define FMI_IN_PLACE (void*)1)
FMI_IN_PLACE = 1

FMI_INT8 = 0
FMI_UINT8 = 1
FMI_INT16 = 2
FMI_UINT16 = 3
FMI_INT32 = 4
FMI_UINT32 = 5
FMI_INT64 = 6
FMI_UINT64 = 7
FMI_FLOAT = 8
FMI_DOUBLE = 9
FMI_BYTE = 10

FMI_HINT_FAST = 0
FMI_HINT_CHEAP = 1

FMI_OP_SUM = 1
FMI_OP_PROD = 2
FMI_OP_MIN = 3
FMI_OP_MAX = 4
FMI_OP_BAND = 5
FMI_OP_BOR = 6
FMI_OP_BXOR = 7
FMI_OP_LAND = 8
FMI_OP_LOR = 9

FMI_LINK_SELF = 0
FMI_LINK_DIRECT = 1
FMI_LINK_RELAYED = 2

STATUS_NAMES = {
    FMI_SUCCESS: "FMI_SUCCESS",
    FMI_ERR_NULL_ARG: "FMI_ERR_NULL_ARG",
    FMI_ERR_INVALID_ARG: "FMI_ERR_INVALID_ARG",
    FMI_ERR_CONFIG: "FMI_ERR_CONFIG",
    FMI_ERR_TIMEOUT: "FMI_ERR_TIMEOUT",
    FMI_ERR_SIZE_MISMATCH: "FMI_ERR_SIZE_MISMATCH",
    FMI_ERR_CHANNEL: "FMI_ERR_CHANNEL",
    FMI_ERR_PEER_LOST: "FMI_ERR_PEER_LOST",
    FMI_ERR_AUTH: "FMI_ERR_AUTH",
    FMI_ERR_UNSUPPORTED: "FMI_ERR_UNSUPPORTED",
    FMI_ERR_INTERNAL: "FMI_ERR_INTERNAL",
    FMI_ERR_MISMATCH: "FMI_ERR_MISMATCH",
    FMI_ERR_TRUNCATE: "FMI_ERR_TRUNCATE",
    FMI_ERR_LIMIT: "FMI_ERR_LIMIT",
    FMI_ERR_RANK_TAKEN: "FMI_ERR_RANK_TAKEN",
}

# fmi_user_fn: void (*)(void *accum, const void *next, size_t count, fmi_datatype, void *user_data)
USER_FN = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t, c_uint32, c_void_p)

_PROTOTYPES = {
    # name: (restype, argtypes)
    "fmi_strerror": (c_char_p, [c_int]),
    "fmi_last_error_message": (c_char_p, []),
    "fmi_version": (c_char_p, []),
    "fmi_datatype_size": (c_size_t, [c_uint32]),
    "fmi_op_create": (c_int, [USER_FN, c_void_p, c_int, c_int, POINTER(c_uint32)]),
    "fmi_op_free": (c_int, [c_uint32]),
    "fmi_init": (c_int, [c_uint32, c_uint32, c_char_p, c_char_p, c_uint32, POINTER(c_void_p)]),
    "fmi_init_from_env": (c_int, [POINTER(c_void_p)]),
    "fmi_finalize": (c_int, [c_void_p]),
    "fmi_release": (c_int, [c_void_p]),
    "fmi_comm_rank": (c_int, [c_void_p, POINTER(c_uint32)]),
    "fmi_comm_size": (c_int, [c_void_p, POINTER(c_uint32)]),
    "fmi_comm_peer_link": (c_int, [c_void_p, c_uint32, POINTER(c_uint32)]),
    "fmi_set_hint": (c_int, [c_void_p, c_uint32]),
    "fmi_set_channel": (c_int, [c_void_p, c_char_p]),
    "fmi_comm_get_counters": (c_int, [c_void_p, c_char_p, c_void_p]),
    "fmi_comm_reset_counters": (c_int, [c_void_p]),
    "fmi_set_timeout": (c_int, [c_void_p, c_uint64]),
    "fmi_get_timeout": (c_int, [c_void_p, POINTER(c_uint64)]),
    "fmi_comm_dup": (c_int, [c_void_p, POINTER(c_void_p)]),
    "fmi_comm_split": (c_int, [c_void_p, c_int32, c_int32, POINTER(c_void_p)]),
    "fmi_comm_create_group": (c_int, [c_void_p, c_void_p, c_uint32, POINTER(c_void_p)]),
    "fmi_comm_free": (c_int, [POINTER(c_void_p)]),
    "fmi_comm_context_id": (c_int, [c_void_p, POINTER(c_uint32)]),
    "fmi_comm_group": (c_int, [c_void_p, POINTER(c_void_p)]),
    "fmi_group_size": (c_int, [c_void_p, POINTER(c_uint32)]),
    "fmi_group_rank": (c_int, [c_void_p, POINTER(c_int32)]),
    "fmi_group_incl": (c_int, [c_void_p, c_uint32, POINTER(c_uint32), POINTER(c_void_p)]),
    "fmi_group_excl": (c_int, [c_void_p, c_uint32, POINTER(c_uint32), POINTER(c_void_p)]),
    "fmi_group_translate_ranks": (c_int, [c_void_p, c_uint32, POINTER(c_uint32), c_void_p,
                                          POINTER(c_int32)]),
    "fmi_group_free": (c_int, [POINTER(c_void_p)]),
    "fmi_send": (c_int, [c_void_p, c_void_p, c_size_t, c_uint32, c_uint32]),
    "fmi_recv": (c_int, [c_void_p, c_void_p, c_size_t, c_uint32, c_uint32]),
    "fmi_send_tag": (c_int, [c_void_p, c_void_p, c_size_t, c_uint32, c_int32, c_int32]),
    "fmi_recv_tag": (c_int, [c_void_p, c_void_p, c_size_t, c_uint32, c_int32, c_int32, c_void_p]),
    "fmi_probe": (c_int, [c_void_p, c_int32, c_int32, c_void_p]),
    "fmi_iprobe": (c_int, [c_void_p, c_int32, c_int32, POINTER(c_int), c_void_p]),
    "fmi_sendrecv": (c_int, [c_void_p, c_void_p, c_size_t, c_uint32, c_int32, c_int32,
                             c_void_p, c_size_t, c_uint32, c_int32, c_int32, c_void_p]),
    "fmi_bcast": (c_int, [c_void_p, c_void_p, c_size_t, c_uint32, c_uint32]),
    "fmi_barrier": (c_int, [c_void_p]),
    "fmi_gather": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, c_uint32]),
    "fmi_scatter": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, c_uint32]),
    "fmi_reduce": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, c_uint32, c_uint32]),
    "fmi_allreduce": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, c_uint32]),
    "fmi_scan": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, c_uint32]),
    "fmi_allgather": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32]),
    "fmi_alltoall": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32]),
    "fmi_gatherv": (c_int, [c_void_p, c_void_p, c_size_t, c_void_p, c_void_p, c_void_p, c_uint32,
                            c_uint32]),
    "fmi_scatterv": (c_int, [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_size_t, c_uint32,
                             c_uint32]),
    "fmi_allgatherv": (c_int, [c_void_p, c_void_p, c_size_t, c_void_p, c_void_p, c_void_p, c_uint32]),
    "fmi_alltoallv": (c_int, [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p,
                              c_uint32]),
    "fmi_reduce_scatter_block": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, c_uint32]),
    "fmi_reduce_scatter": (c_int, [c_void_p, c_void_p, c_void_p, c_void_p, c_uint32, c_uint32]),
    "fmi_exscan": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, c_uint32]),
    # the large-count forms (int64_t counts, ptrdiff_t displacements); the package uses the int ones
    "fmi_gatherv_c": (c_int, [c_void_p, c_void_p, c_size_t, c_void_p, c_void_p, c_void_p, c_uint32,
                              c_uint32]),
    "fmi_scatterv_c": (c_int, [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_size_t, c_uint32,
                               c_uint32]),
    "fmi_allgatherv_c": (c_int, [c_void_p, c_void_p, c_size_t, c_void_p, c_void_p, c_void_p, c_uint32]),
    "fmi_alltoallv_c": (c_int, [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p,
                                c_uint32]),
    "fmi_reduce_scatter_c": (c_int, [c_void_p, c_void_p, c_void_p, c_void_p, c_uint32, c_uint32]),
    "fmi_isend": (c_int, [c_void_p, c_void_p, c_size_t, c_uint32, c_int32, c_int32, POINTER(c_void_p)]),
    "fmi_irecv": (c_int, [c_void_p, c_void_p, c_size_t, c_uint32, c_int32, c_int32, POINTER(c_void_p)]),
    "fmi_wait": (c_int, [POINTER(c_void_p), c_void_p]),
    "fmi_test": (c_int, [POINTER(c_void_p), POINTER(c_int), c_void_p]),
    "fmi_waitall": (c_int, [c_size_t, POINTER(c_void_p), c_void_p]),
    "fmi_request_free": (c_int, [POINTER(c_void_p)]),
    "fmi_ibarrier": (c_int, [c_void_p, POINTER(c_void_p)]),
    "fmi_iallreduce": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, c_uint32, POINTER(c_void_p)]),
    "fmi_waitany": (c_int, [c_size_t, POINTER(c_void_p), POINTER(c_size_t), c_void_p]),
    "fmi_testall": (c_int, [c_size_t, POINTER(c_void_p), POINTER(c_int), c_void_p]),
    "fmi_ibcast": (c_int, [c_void_p, c_void_p, c_size_t, c_uint32, c_uint32, POINTER(c_void_p)]),
    "fmi_ireduce": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, c_uint32, c_uint32,
                            POINTER(c_void_p)]),
    "fmi_iallgather": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, POINTER(c_void_p)]),
    "fmi_ialltoall": (c_int, [c_void_p, c_void_p, c_void_p, c_size_t, c_uint32, POINTER(c_void_p)]),
}


def _candidates():
    env = os.environ.get("FMI_LIBRARY")
    if env:
        yield env
    yield os.path.join(os.path.dirname(os.path.abspath(__file__)), "libfmi.so")
    yield "libfmi.so.0"


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: not found" % path)
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
            continue
        for name, (restype, argtypes) in _PROTOTYPES.items():
            f = getattr(lib, name)
            f.restype = restype
            f.argtypes = argtypes
        return lib, path
    raise ImportError(
        "fmi: cannot load libfmi (tried: %s). Install the fmi wheel, put libfmi.so.0 on "
        "LD_LIBRARY_PATH, or set FMI_LIBRARY to its path." % "; ".join(errors)
    )


lib, library_path = _load()


def last_error_message():
    m = lib.fmi_last_error_message()
    return m.decode("utf-8", "replace") if m else ""


def strerror(status):
    return lib.fmi_strerror(int(status)).decode("utf-8", "replace")


# --- the buffer protocol, through the running interpreter's C API -------------------------------
# PyObject_GetBuffer gives the address of any buffer exporter (numpy arrays, bytes, bytearray,
# memoryview, array.array, mmap, ...), read-only or not, without copying, and keeps the exporter
# from resizing or freeing its memory until PyBuffer_Release.


class fmi_counters(ctypes.Structure):
    """struct fmi_counters of fmi.h."""
    _fields_ = [
        ("operations", c_uint64),
        ("bytes", c_uint64),
        ("time_ns", c_uint64),
        ("errors", c_uint64),
    ]


class fmi_msg_status(ctypes.Structure):
    """fmi_msg_status of fmi.h: what a tagged receive or probe found."""
    _fields_ = [
        ("source", c_int32),
        ("tag", c_int32),
        ("count_bytes", c_size_t),
    ]


class Py_buffer(ctypes.Structure):
    _fields_ = [
        ("buf", c_void_p),
        ("obj", c_void_p),
        ("len", c_ssize_t),
        ("itemsize", c_ssize_t),
        ("readonly", c_int),
        ("ndim", c_int),
        ("format", c_char_p),
        ("shape", POINTER(c_ssize_t)),
        ("strides", POINTER(c_ssize_t)),
        ("suboffsets", POINTER(c_ssize_t)),
        ("internal", c_void_p),
    ]


PyBUF_WRITABLE = 0x0001
PyBUF_FORMAT = 0x0004
PyBUF_ND = 0x0008
PyBUF_STRIDES = 0x0010 | PyBUF_ND
PyBUF_C_CONTIGUOUS = 0x0020 | PyBUF_STRIDES

PyObject_GetBuffer = ctypes.pythonapi.PyObject_GetBuffer
PyObject_GetBuffer.argtypes = [ctypes.py_object, POINTER(Py_buffer), c_int]
PyObject_GetBuffer.restype = c_int
PyBuffer_Release = ctypes.pythonapi.PyBuffer_Release
PyBuffer_Release.argtypes = [POINTER(Py_buffer)]
PyBuffer_Release.restype = None
