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

import array as _array
import atexit as _atexit
import ctypes as _ctypes
import enum as _enum
import sys as _sys
import weakref as _weakref
from contextlib import ExitStack as _ExitStack

from . import _capi
from ._capi import library_path  # noqa: F401  (public: where libfmi was loaded from)

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

ANY_SOURCE = _capi.FMI_ANY_SOURCE
"""``recv``/``probe`` source that matches a message from any peer."""
ANY_TAG = _capi.FMI_ANY_TAG
"""``recv``/``probe`` tag that matches any tag."""
TAG_UB = _capi.FMI_TAG_UB
"""The largest tag (tags run from 0 to TAG_UB)."""
UNDEFINED = _capi.FMI_UNDEFINED
"""``split`` color of a peer that joins no new communicator; the rank ``Group.rank`` and
``Group.translate_ranks`` give for a process that is not a member."""


class Status:
    """What a tagged receive or a probe found: ``source``, ``tag`` and ``count_bytes`` (the
    message's size). Pass one as ``status=`` to ``recv``/``sendrecv`` to have it filled in."""

    __slots__ = ("source", "tag", "count_bytes")

    def __init__(self, source=None, tag=None, count_bytes=None):
        self.source, self.tag, self.count_bytes = source, tag, count_bytes

    def _set(self, s):
        self.source, self.tag, self.count_bytes = s.source, s.tag, s.count_bytes
        return self

    def __repr__(self):
        return "Status(source=%r, tag=%r, count_bytes=%r)" % (self.source, self.tag,
                                                              self.count_bytes)


def version():
    """Version of the loaded libfmi, "MAJOR.MINOR.PATCH"."""
    return _capi.lib.fmi_version().decode()


# --- errors -------------------------------------------------------------------------------------


class FMIError(RuntimeError):
    """A failed libfmi call: ``status`` (int), ``status_name`` ("FMI_ERR_..."), ``message``."""

    def __init__(self, status, message=""):
        self.status = int(status)
        self.status_name = _capi.STATUS_NAMES.get(self.status, "FMI_STATUS_%d" % self.status)
        self.message = message or _capi.strerror(self.status)
        super().__init__("%s: %s" % (self.status_name, self.message))

    def __reduce__(self):
        return (self.__class__, (self.status, self.message))


class Timeout(FMIError, TimeoutError):
    """FMI_ERR_TIMEOUT: the call did not complete within the communicator's timeout."""


class InvalidArgument(FMIError, ValueError):
    """FMI_ERR_INVALID_ARG (also raised for arguments that the binding itself rejects)."""


class SizeMismatch(FMIError, ValueError):
    """FMI_ERR_SIZE_MISMATCH: a message's size differs from the receive buffer."""


class PeerLost(FMIError, ConnectionError):
    """FMI_ERR_PEER_LOST: a peer closed its connection or died."""


_ERROR_CLASSES = {
    _capi.FMI_ERR_TIMEOUT: Timeout,
    _capi.FMI_ERR_INVALID_ARG: InvalidArgument,
    _capi.FMI_ERR_SIZE_MISMATCH: SizeMismatch,
    _capi.FMI_ERR_PEER_LOST: PeerLost,
}


def _error(status, message=None):
    if message is None:
        message = _capi.last_error_message()
    return _ERROR_CLASSES.get(status, FMIError)(status, message)


def _check(status):
    if status != _capi.FMI_SUCCESS:
        raise _error(status)


def _invalid(message):
    return InvalidArgument(_capi.FMI_ERR_INVALID_ARG, message)


# --- datatypes ----------------------------------------------------------------------------------


class datatypes(_enum.Enum):
    """Element types. ``int`` is C int (32 bit) and ``double`` C double, as in the original FMI;
    ``float`` is C float (32 bit, alias ``float32``). ``X_list`` is a list of X."""

    # the original FMI's four
    int = "int"
    double = "double"
    int_list = "int_list"
    double_list = "double_list"
    # every datatype of the C API
    int8 = "int8"
    uint8 = "uint8"
    int16 = "int16"
    uint16 = "uint16"
    int32 = "int"
    uint32 = "uint32"
    int64 = "int64"
    uint64 = "uint64"
    float = "float"
    float32 = "float"
    float64 = "double"
    byte = "byte"
    int8_list = "int8_list"
    uint8_list = "uint8_list"
    int16_list = "int16_list"
    uint16_list = "uint16_list"
    int32_list = "int_list"
    uint32_list = "uint32_list"
    int64_list = "int64_list"
    uint64_list = "uint64_list"
    float_list = "float_list"
    float32_list = "float_list"
    float64_list = "double_list"
    byte_list = "byte_list"


# fmi datatype code -> (array/struct format, size, numpy dtype)
_INFO = {
    _capi.FMI_INT8: ("b", 1, "i1"),
    _capi.FMI_UINT8: ("B", 1, "u1"),
    _capi.FMI_INT16: ("h", 2, "i2"),
    _capi.FMI_UINT16: ("H", 2, "u2"),
    _capi.FMI_INT32: ("i", 4, "i4"),
    _capi.FMI_UINT32: ("I", 4, "u4"),
    _capi.FMI_INT64: ("q", 8, "i8"),
    _capi.FMI_UINT64: ("Q", 8, "u8"),
    _capi.FMI_FLOAT: ("f", 4, "f4"),
    _capi.FMI_DOUBLE: ("d", 8, "f8"),
    _capi.FMI_BYTE: ("B", 1, "u1"),
}

_CODE_OF_NAME = {
    "int": _capi.FMI_INT32,
    "double": _capi.FMI_DOUBLE,
    "int8": _capi.FMI_INT8,
    "uint8": _capi.FMI_UINT8,
    "int16": _capi.FMI_INT16,
    "uint16": _capi.FMI_UINT16,
    "uint32": _capi.FMI_UINT32,
    "int64": _capi.FMI_INT64,
    "uint64": _capi.FMI_UINT64,
    "float": _capi.FMI_FLOAT,
    "byte": _capi.FMI_BYTE,
}


def datatype_size(code):
    """Size in bytes of one element of a C datatype code (``fmi_datatype_size``)."""
    return _capi.lib.fmi_datatype_size(int(code))


class types:
    """``fmi.types(datatype[, num_objects])``: the type of a value, as in the original FMI.

    ``num_objects`` is the element count of list types; it is needed wherever a list is
    received without a buffer to receive into (``recv``, ``bcast`` on non-roots, ``scatter``,
    where it is the *total* length over all peers, as in the original).
    """

    def __init__(self, datatype, num_objects=None):
        if not isinstance(datatype, datatypes):
            raise TypeError("fmi.types: expected an fmi.datatypes member, got %r" % (datatype,))
        if num_objects is not None:
            num_objects = _index(num_objects, "num_objects")
        name = datatype.value
        self.datatype = datatype
        self.num_objects = num_objects
        self.is_list = name.endswith("_list")
        self.code = _CODE_OF_NAME[name[: -len("_list")] if self.is_list else name]

    def __repr__(self):
        if self.num_objects is None:
            return "fmi.types(fmi.datatypes.%s)" % self.datatype.name
        return "fmi.types(fmi.datatypes.%s, %d)" % (self.datatype.name, self.num_objects)


def _index(x, what):
    try:
        v = x.__index__()
    except AttributeError:
        raise TypeError("%s must be an integer, got %r" % (what, x)) from None
    if v < 0:
        raise _invalid("%s must not be negative, got %d" % (what, v))
    return v


def _i32(x, what, wildcard=None):
    """A peer or tag for the tagged calls: 0..2**31-1, or the ``wildcard`` constant."""
    if wildcard is not None and x == wildcard:
        return wildcard
    v = _index(x, what)
    if v >= 1 << 31:
        raise _invalid("%s %d is out of range" % (what, v))
    return v


def _int32(x, what):
    try:
        v = x.__index__()
    except AttributeError:
        raise TypeError("%s must be an integer, got %r" % (what, x)) from None
    if not -(1 << 31) <= v < (1 << 31):
        raise _invalid("%s %d is out of range" % (what, v))
    return v


def _u32(x, what):
    v = _index(x, what)
    if v >= 1 << 32:
        raise _invalid("%s %d is out of range" % (what, v))
    return v


# --- operators and hints --------------------------------------------------------------------------


class op(_enum.Enum):
    """Reduction operators: the original's sum, prod, max, min and custom, plus the C API's
    bitwise (band, bor, bxor: integers and byte) and logical (land, lor: integers) ops."""

    custom = 0
    sum = _capi.FMI_OP_SUM
    prod = _capi.FMI_OP_PROD
    min = _capi.FMI_OP_MIN
    max = _capi.FMI_OP_MAX
    band = _capi.FMI_OP_BAND
    bor = _capi.FMI_OP_BOR
    bxor = _capi.FMI_OP_BXOR
    land = _capi.FMI_OP_LAND
    lor = _capi.FMI_OP_LOR


class hints(_enum.Enum):
    """Channel-selection hints (no effect while the direct channel is the only one)."""

    fast = _capi.FMI_HINT_FAST
    cheap = _capi.FMI_HINT_CHEAP


class links(_enum.Enum):
    """How a peer is reached (``Communicator.peer_link``)."""

    self = _capi.FMI_LINK_SELF
    direct = _capi.FMI_LINK_DIRECT
    relayed = _capi.FMI_LINK_RELAYED


class func:
    """``fmi.func(op)`` or ``fmi.func(fmi.op.custom, f, commutative, associative)``.

    ``f(a, b)`` combines the accumulated left operand ``a`` with the next operand ``b`` and
    returns the result. By default it is applied element by element to Python scalars (as in the
    original FMI); with ``elementwise=False`` it gets two 1-D numpy arrays (a block of elements,
    ``a`` writable) and returns the combined array (or updates ``a`` and returns it or None).
    Unless ``commutative`` and ``associative`` are both true, the reduction is the strict
    left-to-right fold v0 (+) v1 (+) ... in rank order. An exception raised by ``f`` is re-raised
    by the reduction call once it has returned (the C library never sees it); the peers' results
    of that call are then undefined.
    """

    def __init__(self, operator, function=None, commutative=False, associative=False,
                 elementwise=True):
        if not isinstance(operator, op):
            raise TypeError("fmi.func: expected an fmi.op member, got %r" % (operator,))
        if operator is op.custom:
            if not callable(function):
                raise TypeError("fmi.func(fmi.op.custom, f, ...): f must be callable")
            if not elementwise:
                import numpy  # noqa: F401  (elementwise=False hands numpy arrays to f)
        elif function is not None:
            raise TypeError("fmi.func: a function is only taken with fmi.op.custom")
        self.op = operator
        self.function = function
        self.commutative = bool(commutative)
        self.associative = bool(associative)
        self.elementwise = bool(elementwise)

    def __repr__(self):
        if self.op is op.custom:
            return "fmi.func(fmi.op.custom, %r, %s, %s%s)" % (
                self.function, self.commutative, self.associative,
                "" if self.elementwise else ", elementwise=False")
        return "fmi.func(fmi.op.%s)" % self.op.name


def _make_callback(f, errors):
    fn = f.function
    elementwise = f.elementwise

    def callback(accum, nxt, count, dtype, _user_data):
        if errors:  # a previous combine of this call failed: leave the rest alone
            return
        try:
            fmt, size, npdt = _INFO[dtype]
            nbytes = count * size
            if nbytes == 0:
                return
            a = (_ctypes.c_char * nbytes).from_address(accum)
            b = (_ctypes.c_char * nbytes).from_address(nxt)
            if elementwise:
                ma = memoryview(a).cast("B").cast(fmt)
                mb = memoryview(b).cast("B").cast(fmt)
                for i in range(count):
                    ma[i] = fn(ma[i], mb[i])
            else:
                import numpy as np

                av = np.frombuffer(a, dtype=npdt)
                bv = np.frombuffer(b, dtype=npdt)
                bv.flags.writeable = False
                r = fn(av, bv)
                if r is not None and r is not av:
                    av[...] = r
        except BaseException as e:  # never unwind into C: keep it for the caller
            errors.append(e)

    return _capi.USER_FN(callback)


class _UserOp:
    """A user op registered with fmi_op_create for the duration of one call."""

    def __init__(self, f):
        self.errors = []
        self.cfunc = _make_callback(f, self.errors)
        out = _ctypes.c_uint32()
        _check(_capi.lib.fmi_op_create(self.cfunc, None, int(f.commutative),
                                       int(f.associative), _ctypes.byref(out)))
        self.id = out.value

    def close(self):
        _capi.lib.fmi_op_free(self.id)


# --- buffers ------------------------------------------------------------------------------------


def _is_buffer(x):
    if isinstance(x, (bytes, bytearray, memoryview, _array.array)):
        return True
    if x is None or isinstance(x, (int, float, list, tuple, str)):
        return False
    try:
        memoryview(x)
    except TypeError:
        return False
    return True


def _code_of_format(fmt, itemsize):
    """fmi datatype code of a buffer format (struct syntax), or None."""
    f = fmt
    if f[:1] in ("@", "="):
        f = f[1:]
    elif f[:1] == "<":
        if _sys.byteorder != "little":
            return None
        f = f[1:]
    elif f[:1] in (">", "!"):
        if _sys.byteorder != "big":
            return None
        f = f[1:]
    if f == "c":
        return _capi.FMI_BYTE
    if f == "b":
        return _capi.FMI_INT8
    if f == "B":
        return _capi.FMI_UINT8
    if f == "f" and itemsize == 4:
        return _capi.FMI_FLOAT
    if f == "d" and itemsize == 8:
        return _capi.FMI_DOUBLE
    ints = {1: (_capi.FMI_INT8, _capi.FMI_UINT8), 2: (_capi.FMI_INT16, _capi.FMI_UINT16),
            4: (_capi.FMI_INT32, _capi.FMI_UINT32), 8: (_capi.FMI_INT64, _capi.FMI_UINT64)}
    if f in ("h", "i", "l", "q", "n") and itemsize in ints:
        return ints[itemsize][0]
    if f in ("H", "I", "L", "Q", "N") and itemsize in ints:
        return ints[itemsize][1]
    return None


_RAW_BYTE_FORMATS = ("B", "b", "c", "@B", "@b", "@c", "=B", "=b", "=c", "<B", "<b", "<c")
_BYTEISH = {_capi.FMI_UINT8, _capi.FMI_INT8, _capi.FMI_BYTE}
_EMPTY = (_ctypes.c_char * 16)()
_EMPTY_ADDR = _ctypes.addressof(_EMPTY)


class _Held:
    """One buffer export (PyObject_GetBuffer) held until the call's ExitStack closes."""

    def __init__(self, obj, writable, stack, what):
        pb = _capi.Py_buffer()
        flags = _capi.PyBUF_C_CONTIGUOUS | _capi.PyBUF_FORMAT
        if writable:
            flags |= _capi.PyBUF_WRITABLE
        try:
            _capi.PyObject_GetBuffer(obj, _ctypes.byref(pb), flags)
        except BufferError as e:
            if writable and "writable" in str(e).lower():
                raise TypeError("%s must be a writable buffer (got %s)" % (what, type(obj).__name__)) from None
            raise ValueError("%s must be a C-contiguous buffer: %s" % (what, e)) from None
        stack.callback(_capi.PyBuffer_Release, _ctypes.byref(pb))  # byref keeps pb alive
        self.pb = pb
        # libfmi takes NULL only where a buffer is ignored: give empty buffers a real address
        self.addr = pb.buf or _EMPTY_ADDR
        self.nbytes = pb.len
        self.format = (pb.format or b"B").decode()
        self.itemsize = pb.itemsize


class _Operand:
    """Address, element count and datatype of one side of a call, and how to return it."""

    __slots__ = ("addr", "count", "code", "kind", "obj", "result_obj")

    def __init__(self, addr, count, code, kind, obj=None, result_obj=None):
        self.addr = addr          # int, 0 = NULL
        self.count = count        # elements
        self.code = code          # fmi datatype
        self.kind = kind          # "scalar", "list", "buffer"
        self.obj = obj            # the source object (send side) or template
        self.result_obj = result_obj

    def result(self):
        r = self.result_obj
        if self.kind == "scalar":
            return r[0]
        if self.kind == "list":
            if self.code == _capi.FMI_BYTE:
                return bytes(r)
            return r.tolist()
        return r


def _new_array(code, count):
    fmt, size, _ = _INFO[code]
    return _array.array(fmt, bytes(count * size))


def _compatible(h, code):
    """Whether held buffer ``h`` can be read or written as elements of datatype ``code``: the
    same type, 1-byte types for each other, or raw bytes (format B, b or c) reinterpreted."""
    size = _INFO[code][1]
    fcode = _code_of_format(h.format, h.itemsize)
    if fcode == code or (fcode in _BYTEISH and code in _BYTEISH):
        return True
    return h.format in _RAW_BYTE_FORMATS and h.nbytes % size == 0


def _held_code(h, types_, what):
    """The datatype of a held buffer: from ``types`` if given (and compatible), else from the
    buffer's format."""
    if types_ is None:
        fcode = _code_of_format(h.format, h.itemsize)
        if fcode is None:
            raise TypeError("%s: unsupported buffer format %r (pass fmi.types to reinterpret raw bytes)"
                            % (what, h.format))
        return fcode
    if _compatible(h, types_.code):
        return types_.code
    raise TypeError("%s: buffer format %r does not hold %s elements" % (what, h.format, types_.datatype.name))


def _send_operand(value, types_, stack, what="value"):
    if types_ is not None and not types_.is_list:
        arr = _new_array(types_.code, 1)
        if types_.code == _capi.FMI_BYTE and isinstance(value, (bytes, bytearray)) and len(value) == 1:
            value = value[0]
        try:
            arr[0] = value
        except (TypeError, OverflowError, ValueError) as e:
            raise TypeError("%s: cannot convert %r to %s: %s" % (what, value, types_.datatype.name, e)) from None
        h = _Held(arr, False, stack, what)
        return _Operand(h.addr, 1, types_.code, "scalar", arr, arr)
    if _is_buffer(value):
        np = _sys.modules.get("numpy")
        if np is not None and isinstance(value, np.ndarray):
            want = np.dtype(_INFO[types_.code][2]) if types_ is not None else None
            if want is not None and value.dtype != want and not (
                    value.dtype.itemsize == 1 and want.itemsize == 1):
                value = np.ascontiguousarray(value, dtype=want)  # a converted copy
            elif not value.flags.c_contiguous:
                value = np.ascontiguousarray(value)  # a contiguous copy
        h = _Held(value, False, stack, what)
        code = _held_code(h, types_, what)
        return _Operand(h.addr, h.nbytes // _INFO[code][1], code, "buffer", value)
    if types_ is None:
        raise TypeError("%s: %r is not a buffer; pass fmi.types(...) to send Python values"
                        % (what, type(value).__name__))
    # a list type given a Python iterable
    try:
        if types_.code == _capi.FMI_BYTE and isinstance(value, str):
            raise TypeError("str is not bytes")
        arr = _array.array(_INFO[types_.code][0], value)
    except (TypeError, OverflowError, ValueError) as e:
        raise TypeError("%s: cannot convert to a list of %s: %s" % (what, types_.datatype.name, e)) from None
    h = _Held(arr, False, stack, what)
    return _Operand(h.addr, len(arr), types_.code, "list", arr, arr)


def _alloc_like(template, code, count):
    fmt, size, npdt = _INFO[code]
    np = _sys.modules.get("numpy")
    if np is not None and isinstance(template, np.ndarray):
        return np.empty(count, dtype=npdt)
    if isinstance(template, (bytes, bytearray)) and size == 1:
        return bytearray(count)
    if isinstance(template, _array.array):
        return _new_array(code, count)
    return memoryview(bytearray(count * size)).cast(fmt)


def _recv_operand(count, code, kind, template, out, types_, stack, what):
    """The receive side of a call: ``out`` if given (checked), else a new object."""
    if out is not None:
        h = _Held(out, True, stack, "out")
        if code is None:
            code = _held_code(h, types_, "out")
        elif not _compatible(h, code):
            raise TypeError("out: buffer format %r cannot hold the %s's elements (datatype code %d)"
                            % (h.format, what, code))
        size = _INFO[code][1]
        if count is None:
            if h.nbytes % size:
                raise _invalid("out: %d bytes is not a whole number of elements" % h.nbytes)
            count = h.nbytes // size
        elif h.nbytes != count * size:
            raise _invalid("out has %d bytes, the %s needs %d (%d elements of %d bytes)"
                           % (h.nbytes, what, count * size, count, size))
        return _Operand(h.addr, count, code, "buffer", result_obj=out)
    if kind in ("scalar", "list"):
        arr = _new_array(code, count)
        h = _Held(arr, True, stack, what)
        return _Operand(h.addr, count, code, kind, result_obj=arr)
    obj = _alloc_like(template, code, count)
    h = _Held(obj, True, stack, what)
    return _Operand(h.addr, count, code, "buffer", result_obj=obj)


# --- the communicator ---------------------------------------------------------------------------

_live = _weakref.WeakSet()


def _ranks_array(ranks, what):
    vals = [_u32(r, what) for r in ranks]
    return len(vals), (_ctypes.c_uint32 * max(len(vals), 1))(*vals)


class Group:
    """An ordered set of processes, made by ``Communicator.group()`` and narrowed by ``incl``
    and ``excl``; its members call ``Communicator.create_group(group, tag)``. Group operations
    are local. Released by ``free()`` or when garbage-collected."""

    def __init__(self):
        raise TypeError("fmi.Group: use Communicator.group(), Group.incl or Group.excl")

    @classmethod
    def _adopt(cls, h):
        self = cls.__new__(cls)
        self._h = h
        return self

    def _handle(self):
        if self._h is None:
            raise _invalid("the group was freed")
        return self._h

    def free(self):
        """Releases the group (communicators made from it are not affected)."""
        h, self._h = getattr(self, "_h", None), None
        if h is not None:
            _check(_capi.lib.fmi_group_free(_ctypes.byref(h)))

    def __del__(self):
        try:
            self.free()
        except Exception:
            pass

    @property
    def size(self):
        """Number of members."""
        n = _ctypes.c_uint32()
        _check(_capi.lib.fmi_group_size(self._handle(), _ctypes.byref(n)))
        return n.value

    @property
    def rank(self):
        """This process's rank in the group, or ``fmi.UNDEFINED`` when it is not a member."""
        r = _ctypes.c_int32()
        _check(_capi.lib.fmi_group_rank(self._handle(), _ctypes.byref(r)))
        return r.value

    def _narrow(self, fn, ranks):
        n, arr = _ranks_array(ranks, "rank")
        h = _ctypes.c_void_p()
        _check(fn(self._handle(), n, arr, _ctypes.byref(h)))
        return Group._adopt(h)

    def incl(self, ranks):
        """The group of members ``ranks`` (distinct ranks of this group), in that order."""
        return self._narrow(_capi.lib.fmi_group_incl, ranks)

    def excl(self, ranks):
        """This group without the members ``ranks``, in the same order."""
        return self._narrow(_capi.lib.fmi_group_excl, ranks)

    def translate_ranks(self, ranks, other):
        """For each of ``ranks`` (ranks of this group), its rank in ``other``, or
        ``fmi.UNDEFINED`` when it is not a member of ``other``."""
        if not isinstance(other, Group):
            raise TypeError("translate_ranks: other must be an fmi.Group")
        n, arr = _ranks_array(ranks, "rank")
        out = (_ctypes.c_int32 * max(n, 1))()
        _check(_capi.lib.fmi_group_translate_ranks(self._handle(), n, arr, other._handle(), out))
        return list(out[:n])

    def __repr__(self):
        if self._h is None:
            return "<fmi.Group freed>"
        return "<fmi.Group of %d, rank %d>" % (self.size, self.rank)


class Request:
    """A started non-blocking operation (``isend``, ``irecv``, ``ibarrier``, ``iallreduce``).

    ``wait()`` blocks until it completes (at most the communicator's timeout) and returns its
    result (the received value or buffer; None for sends and barriers); ``test()`` answers at
    once. ``status`` (an ``fmi.Status``) describes a completed receive. The buffers stay held
    until completion; a request dropped while active is freed: the operation still completes in
    the background, and its buffers stay held by libfmi's side until the process ends.
    """

    __slots__ = ("_h", "_stack", "_result", "status", "_done", "__weakref__")

    def __init__(self, handle, stack, result=None):
        self._h = handle
        self._stack = stack
        self._result = result
        self.status = Status()
        self._done = False

    @property
    def active(self):
        """Whether it has not completed through ``wait`` or ``test`` yet."""
        return not self._done

    def _finish(self, s):
        self._done = True
        self.status._set(s)
        stack, self._stack = self._stack, None
        stack.close()
        return self._result() if self._result is not None else None

    def wait(self):
        """Waits for completion and returns the result; raises on failure or if already done."""
        if self._done:
            raise _invalid("request is not active: it already completed")
        s = _capi.fmi_msg_status()
        status = _capi.lib.fmi_wait(_ctypes.byref(self._h), _ctypes.byref(s))
        if status != _capi.FMI_SUCCESS:
            err = _error(status)
            self._done = True
            self._stack.close()
            raise err
        return self._finish(s)

    def test(self):
        """True (and the request complete: ``wait`` is no longer needed) or False at once."""
        if self._done:
            raise _invalid("request is not active: it already completed")
        s = _capi.fmi_msg_status()
        flag = _ctypes.c_int(0)
        status = _capi.lib.fmi_test(_ctypes.byref(self._h), _ctypes.byref(flag), _ctypes.byref(s))
        if status != _capi.FMI_SUCCESS:
            self._done = True
            self._stack.close()
            _check(status)
        if not flag.value:
            return False
        self._finish(s)
        return True

    def result(self):
        """The result of a completed request (as ``wait`` returned it)."""
        if not self._done:
            raise _invalid("request has not completed")
        return self._result() if self._result is not None else None

    def __del__(self):
        try:
            if not self._done and self._h:
                # The operation goes on in the background; keep its buffers alive for it.
                _capi.lib.fmi_request_free(_ctypes.byref(self._h))
                _leaked.append(self._stack)
        except Exception:
            pass


# Buffers of freed requests that may still be in use by libfmi.
_leaked = []


def waitall(requests):
    """Waits for every request of ``requests`` and returns their results in order; raises the
    first failure once all have completed."""
    reqs = [r for r in requests if r.active]
    arr = (_ctypes.c_void_p * len(reqs))(*[r._h.value for r in reqs])
    sts = (_capi.fmi_msg_status * len(reqs))()
    status = _capi.lib.fmi_waitall(len(reqs), arr, sts)
    for i, r in enumerate(reqs):
        if not arr[i]:  # completed (a rejected array is left as it was)
            r._h = _ctypes.c_void_p(None)
            r._finish(sts[i])
    _check(status)
    return [r.result() for r in requests]


class Communicator:
    """``fmi.Communicator(peer_id, num_peers, config_path, comm_name, faas_memory=128)``.

    Joins peer ``peer_id`` of ``num_peers`` to the group ``comm_name`` (collective: returns once
    all peers are connected). ``config_path`` is an FMI JSON configuration file, or None for the
    defaults (direct channel, rendezvous server at ``$FMI_RENDEZVOUS`` or 127.0.0.1:10000).
    ``Communicator.from_env()`` takes everything from the environment that ``fmirun`` sets.

    The communicator is closed (collectively, like the original's destructor) by ``finalize()``,
    by leaving a ``with`` block (after an exception there, waiting at most 1 s for the other
    peers), when it is garbage-collected, or at a normal interpreter exit. After an uncaught
    exception it is not closed: the process ends and the other peers get FMI_ERR_PEER_LOST.
    """

    def __init__(self, peer_id, num_peers, config_path=None, comm_name=None, faas_memory=128):
        self._h = None
        if comm_name is None:
            raise TypeError("Communicator: comm_name is required")
        h = _ctypes.c_void_p()
        cfg = None if config_path is None else _fspath_bytes(config_path)
        name = comm_name.encode() if isinstance(comm_name, str) else bytes(comm_name)
        _check(_capi.lib.fmi_init(_u32(peer_id, "peer_id"), _u32(num_peers, "num_peers"), cfg, name,
                                  _u32(faas_memory, "faas_memory"), _ctypes.byref(h)))
        self._adopt(h)

    @classmethod
    def from_env(cls):
        """A communicator from FMI_PEER_ID, FMI_NUM_PEERS, FMI_COMM_NAME (set by fmirun), and
        the optional FMI_CONFIG, FMI_FAAS_MEMORY, FMI_RENDEZVOUS, FMI_TIMEOUT_MS."""
        self = cls.__new__(cls)
        self._h = None
        h = _ctypes.c_void_p()
        _check(_capi.lib.fmi_init_from_env(_ctypes.byref(h)))
        self._adopt(h)
        return self

    def _adopt(self, h):
        self._h = h
        r = _ctypes.c_uint32()
        n = _ctypes.c_uint32()
        _check(_capi.lib.fmi_comm_rank(h, _ctypes.byref(r)))
        _check(_capi.lib.fmi_comm_size(h, _ctypes.byref(n)))
        self._rank = r.value
        self._size = n.value
        _live.add(self)

    # -- lifecycle --

    def _handle(self):
        if self._h is None:
            raise _invalid("the communicator was finalized")
        return self._h

    def finalize(self):
        """Collective close: waits for every peer to reach finalize, then frees the handle."""
        h, self._h = self._h, None
        if h is not None:
            _live.discard(self)
            _check(_capi.lib.fmi_finalize(h))

    def release(self):
        """Non-collective close for error paths: frees the handle at once, without waiting for the
        other peers (their operations with this peer then fail with FMI_ERR_PEER_LOST)."""
        h, self._h = self._h, None
        if h is not None:
            _live.discard(self)
            _check(_capi.lib.fmi_release(h))

    def _close_quietly(self, timeout_ms=None):
        h, self._h = getattr(self, "_h", None), None
        if h is not None:
            _live.discard(self)
            _capi.lib.fmi_release(h)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.finalize()
        else:
            self._close_quietly(1000)
        return False

    def __del__(self):
        try:
            self._close_quietly()
        except Exception:
            pass

    def __repr__(self):
        state = "finalized" if self._h is None else "peer %d of %d" % (self._rank, self._size)
        return "<fmi.Communicator %s>" % state

    # -- properties --

    @property
    def rank(self):
        """This peer's id (0-based)."""
        return self._rank

    peer_id = rank

    @property
    def size(self):
        """Number of peers."""
        return self._size

    num_peers = size

    @property
    def timeout(self):
        """Bound of every blocking call, in milliseconds."""
        t = _ctypes.c_uint64()
        _check(_capi.lib.fmi_get_timeout(self._handle(), _ctypes.byref(t)))
        return t.value

    def set_timeout(self, timeout_ms):
        """Sets the bound of every later blocking call, in milliseconds (> 0)."""
        _check(_capi.lib.fmi_set_timeout(self._handle(), _index(timeout_ms, "timeout_ms")))

    def peer_link(self, peer):
        """How ``peer`` is reached: ``fmi.links.self``, ``.direct`` or ``.relayed`` (through the
        rendezvous server, when no direct connection could be punched)."""
        link = _ctypes.c_uint32()
        _check(_capi.lib.fmi_comm_peer_link(self._handle(), _u32(peer, "peer"), _ctypes.byref(link)))
        return links(link.value)

    def hint(self, hint):
        """``comm.hint(fmi.hints.fast | fmi.hints.cheap)``: channel-selection goal. Collective:
        every peer calls it with the same hint (else every peer gets FMI_ERR_MISMATCH)."""
        code = hint.value if isinstance(hint, hints) else _u32(hint, "hint")
        _check(_capi.lib.fmi_set_hint(self._handle(), code))

    def set_channel(self, channel=None):
        """Pins every later operation to ``channel`` ("direct", "redis", "s3"), or returns to
        the model's choice (None). Collective, like ``hint``."""
        name = None if channel is None else str(channel).encode()
        _check(_capi.lib.fmi_set_channel(self._handle(), name))

    def counters(self, channel=None):
        """What ``channel`` ("direct", "redis", "s3"; None: all channels) carried on this peer:
        a dict with ``operations``, ``bytes``, ``time_ns`` and ``errors``."""
        k = _capi.fmi_counters()
        name = None if channel is None else str(channel).encode()
        _check(_capi.lib.fmi_comm_get_counters(self._handle(), name, _ctypes.byref(k)))
        return {f: getattr(k, f) for f, _ in _capi.fmi_counters._fields_}

    def reset_counters(self):
        """Sets this peer's counters of every channel to zero."""
        _check(_capi.lib.fmi_comm_reset_counters(self._handle()))

    # -- derived communicators --

    @classmethod
    def _of_handle(cls, h):
        self = cls.__new__(cls)
        self._h = None
        self._adopt(h)
        return self

    @property
    def context_id(self):
        """The context id of this communicator's messages (0 for the one made by init)."""
        v = _ctypes.c_uint32()
        _check(_capi.lib.fmi_comm_context_id(self._handle(), _ctypes.byref(v)))
        return v.value

    def dup(self):
        """A new communicator of the same peers with its own context; it shares this one's
        connections. Collective."""
        h = _ctypes.c_void_p()
        _check(_capi.lib.fmi_comm_dup(self._handle(), _ctypes.byref(h)))
        return Communicator._of_handle(h)

    def split(self, color, key=0):
        """Splits this communicator: peers with the same ``color`` (>= 0) form a new one, ranked
        by ``key`` then by rank here; ``color=fmi.UNDEFINED`` gives None. Collective: when any
        peer passes another negative color, every peer raises ``fmi.InvalidArgument``."""
        # A bad color goes to the library, which reports it on every peer (not only here).
        c, k = _int32(color, "color"), _int32(key, "key")
        h = _ctypes.c_void_p()
        _check(_capi.lib.fmi_comm_split(self._handle(), c, k, _ctypes.byref(h)))
        return None if not h.value else Communicator._of_handle(h)

    def group(self):
        """The group of this communicator's peers, in rank order."""
        h = _ctypes.c_void_p()
        _check(_capi.lib.fmi_comm_group(self._handle(), _ctypes.byref(h)))
        return Group._adopt(h)

    def create_group(self, group, tag=0):
        """A communicator of the members of ``group``: called by exactly its members, with the
        same group and ``tag`` (0..TAG_UB)."""
        if not isinstance(group, Group):
            raise TypeError("create_group: group must be an fmi.Group")
        h = _ctypes.c_void_p()
        _check(_capi.lib.fmi_comm_create_group(self._handle(), group._handle(),
                                               _i32(tag, "tag"), _ctypes.byref(h)))
        return Communicator._of_handle(h)

    def free(self):
        """Collective close of a derived communicator (as ``finalize``): its connections stay
        open while another communicator of the same init uses them."""
        h, self._h = self._h, None
        if h is not None:
            _live.discard(self)
            _check(_capi.lib.fmi_comm_free(_ctypes.byref(h)))

    # -- point to point --

    def send(self, value, dst, types=None, tag=None):
        """Sends ``value`` (a Python value of ``types``, or any buffer) to peer ``dst``, with
        ``tag`` (0..TAG_UB; None: the plain send, tag 0)."""
        h = self._handle()
        with _ExitStack() as st:
            s = _send_operand(value, types, st, "send value")
            if tag is None:
                _check(_capi.lib.fmi_send(h, s.addr, s.count, s.code, _u32(dst, "dst")))
            else:
                _check(_capi.lib.fmi_send_tag(h, s.addr, s.count, s.code, _i32(dst, "dst"),
                                              _i32(tag, "tag")))

    def recv(self, src, types=None, out=None, tag=None, status=None):
        """Receives one message from peer ``src`` (or ``fmi.ANY_SOURCE``): into ``out`` (a
        writable buffer, returned), or as a new value of ``types``. Without ``tag`` and
        ``status`` and from a named peer, the message's size must equal the buffer's (the plain
        receive); otherwise the message matching ``tag`` (or ``fmi.ANY_TAG``; None: 0) is taken,
        its size at most the buffer's, and ``status`` (an ``fmi.Status``) says what came."""
        h = self._handle()
        with _ExitStack() as st:
            count, code, kind = self._recv_shape(types, out, "recv")
            r = _recv_operand(count, code, kind, None, out, types, st, "recv")
            if tag is None and status is None and src != ANY_SOURCE:
                _check(_capi.lib.fmi_recv(h, r.addr, r.count, r.code, _u32(src, "src")))
            else:
                s = _capi.fmi_msg_status()
                _check(_capi.lib.fmi_recv_tag(h, r.addr, r.count, r.code,
                                              _i32(src, "src", ANY_SOURCE),
                                              _i32(0 if tag is None else tag, "tag", ANY_TAG),
                                              _ctypes.byref(s)))
                if status is not None:
                    status._set(s)
            return r.result()

    def probe(self, src=ANY_SOURCE, tag=ANY_TAG):
        """Waits for a message from ``src`` with ``tag`` (wildcards allowed) without receiving
        it; returns its ``fmi.Status`` (size a buffer with ``count_bytes``)."""
        s = _capi.fmi_msg_status()
        _check(_capi.lib.fmi_probe(self._handle(), _i32(src, "src", ANY_SOURCE),
                                   _i32(tag, "tag", ANY_TAG), _ctypes.byref(s)))
        return Status()._set(s)

    def iprobe(self, src=ANY_SOURCE, tag=ANY_TAG):
        """Like ``probe`` but answers at once: the ``fmi.Status`` of a waiting message, or None."""
        s = _capi.fmi_msg_status()
        flag = _ctypes.c_int(0)
        _check(_capi.lib.fmi_iprobe(self._handle(), _i32(src, "src", ANY_SOURCE),
                                    _i32(tag, "tag", ANY_TAG), _ctypes.byref(flag),
                                    _ctypes.byref(s)))
        return Status()._set(s) if flag.value else None

    def sendrecv(self, value, dst, src, types=None, recv_types=None, out=None, send_tag=0,
                 recv_tag=ANY_TAG, status=None):
        """Sends ``value`` to ``dst`` and receives one message from ``src`` at the same time
        (as ``send`` and ``recv`` with tags; ``recv_types`` defaults to ``types``)."""
        h = self._handle()
        rtypes = recv_types if recv_types is not None else types
        with _ExitStack() as st:
            s = _send_operand(value, types, st, "sendrecv value")
            count, code, kind = self._recv_shape(rtypes, out, "sendrecv")
            r = _recv_operand(count, code, kind, None, out, rtypes, st, "sendrecv")
            m = _capi.fmi_msg_status()
            _check(_capi.lib.fmi_sendrecv(h, s.addr, s.count, s.code, _i32(dst, "dst"),
                                          _i32(send_tag, "send_tag"), r.addr, r.count, r.code,
                                          _i32(src, "src", ANY_SOURCE),
                                          _i32(recv_tag, "recv_tag", ANY_TAG), _ctypes.byref(m)))
            if status is not None:
                status._set(m)
            return r.result()

    def isend(self, value, dst, tag=0, types=None):
        """Starts sending ``value`` (as ``send``) to ``dst`` with ``tag``; returns a ``Request``.
        A buffer must not change until the request completed."""
        h = self._handle()
        st = _ExitStack()
        with st:
            s = _send_operand(value, types, st, "isend value")
            req = _ctypes.c_void_p()
            _check(_capi.lib.fmi_isend(h, s.addr, s.count, s.code, _i32(dst, "dst"),
                                       _i32(tag, "tag"), _ctypes.byref(req)))
            return Request(req, st.pop_all())

    def irecv(self, src=ANY_SOURCE, tag=ANY_TAG, types=None, out=None):
        """Starts receiving one message from ``src`` with ``tag`` (wildcards allowed) into
        ``out`` (a writable buffer, at least the message's size) or as a new value of ``types``;
        returns a ``Request`` whose ``wait()`` gives the buffer or value and whose ``status``
        says what came."""
        h = self._handle()
        st = _ExitStack()
        with st:
            count, code, kind = self._recv_shape(types, out, "irecv")
            r = _recv_operand(count, code, kind, None, out, types, st, "irecv")
            req = _ctypes.c_void_p()
            _check(_capi.lib.fmi_irecv(h, r.addr, r.count, r.code, _i32(src, "src", ANY_SOURCE),
                                       _i32(tag, "tag", ANY_TAG), _ctypes.byref(req)))
            return Request(req, st.pop_all(), r.result)

    @staticmethod
    def _recv_shape(types_, out, what, total_divisor=None):
        if out is not None:
            return None, (types_.code if types_ is not None else None), "buffer"
        if types_ is None:
            raise TypeError("%s: pass fmi.types(...) or out= to say what to receive" % what)
        if not types_.is_list:
            return 1, types_.code, "scalar"
        if types_.num_objects is None:
            raise TypeError("%s: fmi.types(fmi.datatypes.%s, num_objects) needs num_objects here"
                            % (what, types_.datatype.name))
        return types_.num_objects, types_.code, "list"

    # -- collectives --

    def barrier(self):
        """Returns once every peer has called barrier."""
        _check(_capi.lib.fmi_barrier(self._handle()))

    def ibarrier(self):
        """Starts a barrier; the ``Request`` completes once every peer started it."""
        req = _ctypes.c_void_p()
        _check(_capi.lib.fmi_ibarrier(self._handle(), _ctypes.byref(req)))
        return Request(req, _ExitStack())

    def iallreduce(self, value, f, types=None, out=None):
        """Starts an allreduce of ``value`` with a built-in ``fmi.func`` (user functions: use
        ``allreduce``); ``wait()`` returns the result (``out`` if given)."""
        if not isinstance(f, func) or f.op is op.custom:
            raise TypeError("iallreduce: expected an fmi.func with a built-in op, got %r" % (f,))
        h = self._handle()
        st = _ExitStack()
        with st:
            s = _send_operand(value, types, st, "iallreduce value")
            r = _recv_operand(s.count, s.code, s.kind, s.obj, out, None, st, "iallreduce")
            req = _ctypes.c_void_p()
            _check(_capi.lib.fmi_iallreduce(h, s.addr, r.addr, s.count, s.code, f.op.value,
                                            _ctypes.byref(req)))
            return Request(req, st.pop_all(), r.result)

    def ibcast(self, buf, root):
        """Starts a broadcast of root's ``buf`` (a writable buffer of the same size on every
        peer, received in place); ``wait()`` returns ``buf``."""
        h = self._handle()
        st = _ExitStack()
        with st:
            r = _recv_operand(None, None, "buffer", None, buf, None, st, "ibcast")
            req = _ctypes.c_void_p()
            _check(_capi.lib.fmi_ibcast(h, r.addr, r.count, r.code, _u32(root, "root"),
                                        _ctypes.byref(req)))
            return Request(req, st.pop_all(), r.result)

    def ireduce(self, value, root, f, types=None, out=None):
        """Starts a reduction of ``value`` with a built-in ``fmi.func`` at ``root``; ``wait()``
        returns the result at the root and None elsewhere."""
        if not isinstance(f, func) or f.op is op.custom:
            raise TypeError("ireduce: expected an fmi.func with a built-in op, got %r" % (f,))
        h = self._handle()
        root = _u32(root, "root")
        st = _ExitStack()
        with st:
            s = _send_operand(value, types, st, "ireduce value")
            r = None
            if self._rank == root:
                r = _recv_operand(s.count, s.code, s.kind, s.obj, out, None, st, "ireduce")
            req = _ctypes.c_void_p()
            _check(_capi.lib.fmi_ireduce(h, s.addr, r.addr if r else None, s.count, s.code,
                                         f.op.value, root, _ctypes.byref(req)))
            return Request(req, st.pop_all(), r.result if r else None)

    def iallgather(self, value, types=None, out=None):
        """Starts an allgather (as ``allgather``); ``wait()`` returns the result."""
        h = self._handle()
        st = _ExitStack()
        with st:
            s = _send_operand(value, types, st, "iallgather value")
            kind = "list" if s.kind == "scalar" else s.kind
            r = _recv_operand(s.count * self._size, s.code, kind, s.obj, out, None, st,
                              "iallgather")
            req = _ctypes.c_void_p()
            _check(_capi.lib.fmi_iallgather(h, s.addr, r.addr, s.count, s.code,
                                            _ctypes.byref(req)))
            return Request(req, st.pop_all(), r.result)

    def ialltoall(self, value, types=None, out=None):
        """Starts an all-to-all (as ``alltoall``); ``wait()`` returns the result."""
        h = self._handle()
        st = _ExitStack()
        with st:
            if types is not None and not types.is_list:
                raise TypeError("ialltoall needs a list type or a buffer")
            s = _send_operand(value, types, st, "ialltoall value")
            if s.count % self._size:
                raise _invalid("ialltoall: %d elements is not a multiple of %d peers"
                               % (s.count, self._size))
            r = _recv_operand(s.count, s.code, s.kind, s.obj, out, None, st, "ialltoall")
            req = _ctypes.c_void_p()
            _check(_capi.lib.fmi_ialltoall(h, s.addr, r.addr, s.count // self._size, s.code,
                                           _ctypes.byref(req)))
            return Request(req, st.pop_all(), r.result)

    def bcast(self, value, root, types=None):
        """Broadcasts root's ``value`` to every peer and returns it. A writable buffer is
        received in place on non-roots; otherwise non-roots pass None and ``types``."""
        h = self._handle()
        root = _u32(root, "root")
        with _ExitStack() as st:
            if self._rank == root:
                s = _send_operand(value, types, st, "bcast value")
                _check(_capi.lib.fmi_bcast(h, s.addr, s.count, s.code, root))
                return value if s.kind == "buffer" else s.result()
            if value is not None and _is_buffer(value) and (types is None or types.is_list):
                with memoryview(value) as mv:
                    readonly = mv.readonly
                if readonly:  # bytes, ...: a new buffer of the same size and kind
                    s = _send_operand(value, types, st, "bcast value")
                    r = _recv_operand(s.count, s.code, "buffer", s.obj, None, None, st, "bcast")
                else:  # in place
                    r = _recv_operand(None, types.code if types is not None else None, "buffer",
                                      None, value, types, st, "bcast")
            else:
                count, code, kind = self._recv_shape(types, None, "bcast")
                r = _recv_operand(count, code, kind, None, None, types, st, "bcast")
            _check(_capi.lib.fmi_bcast(h, r.addr, r.count, r.code, root))
            return r.result()

    def gather(self, value, root, types=None, out=None):
        """Gathers every peer's ``value`` at ``root``: a flat list / buffer of num_peers blocks
        (peer i's at block i). Non-roots get ``[]`` (Python values) or None (buffers)."""
        h = self._handle()
        root = _u32(root, "root")
        with _ExitStack() as st:
            s = _send_operand(value, types, st, "gather value")
            r = None
            if self._rank == root:
                kind = "list" if s.kind == "scalar" else s.kind
                r = _recv_operand(s.count * self._size, s.code, kind, s.obj, out, None, st, "gather")
            _check(_capi.lib.fmi_gather(h, s.addr, r.addr if r else 0, s.count, s.code, root))
            if r is not None:
                return r.result()
            return [] if s.kind != "buffer" else None

    def scatter(self, value, root, types=None, out=None):
        """Root's ``value`` (num_peers blocks) is split; peer i gets block i. With ``types``,
        ``num_objects`` is the total length (as in the original); non-roots pass None and
        ``types`` or ``out``."""
        h = self._handle()
        root = _u32(root, "root")
        n = self._size
        if types is not None and not types.is_list:
            raise TypeError("Cannot scatter atomic types")
        if types is not None and types.num_objects is not None and types.num_objects % n:
            raise _invalid("List length not divisible by number of peers")
        with _ExitStack() as st:
            if self._rank == root:
                s = _send_operand(value, types, st, "scatter value")
                if s.count % n:
                    raise _invalid("List length not divisible by number of peers")
                if types is not None and types.num_objects is not None and types.num_objects != s.count:
                    raise _invalid("scatter value has %d elements but fmi.types says %d"
                                   % (s.count, types.num_objects))
                count, code, kind, template, addr = s.count // n, s.code, s.kind, s.obj, s.addr
            else:
                addr, template = 0, None
                if out is not None:
                    count, code, kind = None, (types.code if types is not None else None), "buffer"
                else:
                    total, code, kind = self._recv_shape(types, None, "scatter")
                    count = total // n
            r = _recv_operand(count, code, kind, template, out, types, st, "scatter")
            _check(_capi.lib.fmi_scatter(h, addr, r.addr, r.count, r.code, root))
            return r.result()

    def _reduction(self, which, value, f, types_, out, root=None, counts=None):
        if not isinstance(f, func):
            raise TypeError("%s: expected an fmi.func, got %r" % (which, f))
        h = self._handle()
        with _ExitStack() as st:
            s = _send_operand(value, types_, st, "%s value" % which)
            r = None
            count = s.count
            if counts is not None:  # reduce_scatter: this peer's block of the result
                if sum(counts[1]) != s.count:
                    raise _invalid("reduce_scatter: value has %d elements, the counts add up to %d"
                                   % (s.count, sum(counts[1])))
                count = counts[1][self._rank]
            if root is None or self._rank == root:
                r = _recv_operand(count, s.code, s.kind, s.obj, out, None, st, which)
            user = None
            if f.op is op.custom:
                user = _UserOp(f)
                st.callback(user.close)
                opid = user.id
            else:
                opid = f.op.value
            raddr = r.addr if r else 0
            if which == "reduce":
                status = _capi.lib.fmi_reduce(h, s.addr, raddr, s.count, s.code, opid, root)
            elif which == "allreduce":
                status = _capi.lib.fmi_allreduce(h, s.addr, raddr, s.count, s.code, opid)
            elif which == "scan":
                status = _capi.lib.fmi_scan(h, s.addr, raddr, s.count, s.code, opid)
            elif which == "exscan":
                status = _capi.lib.fmi_exscan(h, s.addr, raddr, s.count, s.code, opid)
            else:
                status = _capi.lib.fmi_reduce_scatter(h, s.addr, raddr, counts[0], s.code, opid)
            err = _error(status) if status != _capi.FMI_SUCCESS else None
            if user is not None and user.errors:
                raise user.errors[0]
            if err is not None:
                raise err
            if which == "exscan" and self._rank == 0 and out is None:
                return None  # MPI leaves peer 0's result undefined: nothing is written
            return r.result() if r is not None else None

    def reduce(self, value, root, f, types=None, out=None):
        """Reduces every peer's ``value`` with ``f`` (an fmi.func) at ``root``; None elsewhere."""
        return self._reduction("reduce", value, f, types, out, _u32(root, "root"))

    def allreduce(self, value, f, types=None, out=None):
        """Reduces every peer's ``value`` with ``f``; every peer gets the result."""
        return self._reduction("allreduce", value, f, types, out)

    def scan(self, value, f, types=None, out=None):
        """Inclusive prefix reduction: peer k gets v0 (+) ... (+) vk, folded left to right."""
        return self._reduction("scan", value, f, types, out)

    def exscan(self, value, f, types=None, out=None):
        """Exclusive prefix reduction: peer k > 0 gets v0 (+) ... (+) v(k-1), folded left to
        right. Peer 0's result is undefined in MPI: it gets None, or ``out`` untouched."""
        return self._reduction("exscan", value, f, types, out)

    def reduce_scatter(self, value, counts, f, types=None, out=None, in_place=False):
        """Reduces every peer's ``value`` (``sum(counts)`` elements) with ``f`` and returns block
        ``rank`` of the result: ``counts[rank]`` elements, the blocks one after the other.
        ``counts`` (one element count per peer) is the same on every peer. ``in_place=True``:
        ``out`` holds the whole contribution (``value`` is ignored) and gets the result in its
        first ``counts[rank]`` elements; ``out`` is returned."""
        carr, c = self._ints(counts, "counts")
        if not in_place:
            return self._reduction("reduce_scatter", value, f, types, out, counts=(carr, c))
        if not isinstance(f, func):
            raise TypeError("reduce_scatter: expected an fmi.func, got %r" % (f,))
        if out is None:
            raise TypeError("reduce_scatter: in_place needs out (holding the contribution)")
        h = self._handle()
        with _ExitStack() as st:
            r = _recv_operand(None, types.code if types is not None else None, "buffer", None, out,
                              types, st, "reduce_scatter")
            if r.count != sum(c):
                raise _invalid("reduce_scatter: out has %d elements, the counts add up to %d"
                               % (r.count, sum(c)))
            user = None
            if f.op is op.custom:
                user = _UserOp(f)
                st.callback(user.close)
                opid = user.id
            else:
                opid = f.op.value
            status = _capi.lib.fmi_reduce_scatter(h, _capi.FMI_IN_PLACE, r.addr, carr, r.code, opid)
            if user is not None and user.errors:
                raise user.errors[0]
            _check(status)
            return out

    # -- v-collectives: blocks of any size (element counts and displacements per peer) --

    def _ints(self, values, what):
        """(ctypes int array, list) of one non-negative int per peer."""
        n = self._size
        try:
            seq = list(values)
        except TypeError:
            raise TypeError("%s must be a sequence of %d integers" % (what, n)) from None
        if len(seq) != n:
            raise _invalid("%s has %d entries, expected one per peer (%d)" % (what, len(seq), n))
        vals = [_i32(v, "%s[%d]" % (what, i)) for i, v in enumerate(seq)]
        return (_ctypes.c_int * n)(*vals), vals

    def _layout(self, counts, displs, what):
        """(counts array, displs array, extent in elements) of a v-collective's buffer; the
        displacements default to the blocks packed in rank order."""
        carr, c = self._ints(counts, what)
        if displs is None:
            d, at = [], 0
            for k in c:
                d.append(at)
                at += k
            darr = (_ctypes.c_int * self._size)(*d)
        else:
            darr, d = self._ints(displs, what.replace("counts", "displs"))
        extent = max([a + b for a, b in zip(c, d)] + [0])
        return carr, darr, extent

    @staticmethod
    def _fits(r, extent, what):
        if r.count < extent:
            raise _invalid("%s: out holds %d elements, the blocks need %d" % (what, r.count, extent))

    def gatherv(self, value, root, counts=None, displs=None, out=None, in_place=False):
        """Gathers every peer's ``value`` (a buffer, e.g. a numpy array) at ``root``: peer i's
        block is ``counts[i]`` elements at element offset ``displs[i]`` (default: packed in rank
        order) of the result. ``counts`` and ``displs`` are needed at the root only; other peers
        get None. ``in_place=True`` at the root: ``out`` already holds the root's block (its
        ``value`` is ignored, as with MPI_IN_PLACE)."""
        h = self._handle()
        root = _u32(root, "root")
        with _ExitStack() as st:
            if self._rank != root:
                if in_place:
                    raise _invalid("gatherv: in_place is the root's form")
                s = _send_operand(value, None, st, "gatherv value")
                _check(_capi.lib.fmi_gatherv(h, s.addr, s.count, None, None, None, s.code, root))
                return None
            if counts is None:
                raise TypeError("gatherv: the root needs counts")
            carr, darr, extent = self._layout(counts, displs, "counts")
            if in_place:
                if out is None:
                    raise TypeError("gatherv: in_place needs out (holding the root's block)")
                r = _recv_operand(None, None, "buffer", None, out, None, st, "gatherv")
                self._fits(r, extent, "gatherv")
                _check(_capi.lib.fmi_gatherv(h, _capi.FMI_IN_PLACE, 0, r.addr, carr, darr, r.code, root))
                return out
            s = _send_operand(value, None, st, "gatherv value")
            r = _recv_operand(extent if out is None else None, s.code, "buffer", s.obj, out, None, st,
                              "gatherv")
            self._fits(r, extent, "gatherv")
            _check(_capi.lib.fmi_gatherv(h, s.addr, s.count, r.addr, carr, darr, s.code, root))
            return r.result()

    def scatterv(self, value, counts, root, displs=None, types=None, out=None):
        """Block i of root's ``value`` (``counts[i]`` elements at element offset ``displs[i]``,
        default packed) goes to peer i, which returns it. ``counts`` is given on every peer (each
        receives ``counts[rank]`` elements); non-roots pass None as ``value`` and say the
        datatype with ``types`` (fmi.types) or ``out``."""
        h = self._handle()
        root = _u32(root, "root")
        with _ExitStack() as st:
            carr, darr, extent = self._layout(counts, displs, "counts")
            mine = carr[self._rank]
            if self._rank == root:
                s = _send_operand(value, None, st, "scatterv value")
                if s.count < extent:
                    raise _invalid("scatterv: value holds %d elements, the blocks need %d" % (s.count, extent))
                r = _recv_operand(mine, s.code, "buffer", s.obj, out, None, st, "scatterv")
                _check(_capi.lib.fmi_scatterv(h, s.addr, carr, darr, r.addr, r.count, s.code, root))
                return r.result()
            if out is None and types is None:
                raise TypeError("scatterv: non-roots pass types= or out= to say what they receive")
            code = types.code if types is not None else None
            np = _sys.modules.get("numpy")
            template = np.empty(0, dtype=_INFO[code][2]) if (np is not None and code is not None) else None
            r = _recv_operand(mine, code, "buffer", template, out, types, st, "scatterv")
            _check(_capi.lib.fmi_scatterv(h, None, None, None, r.addr, r.count, r.code, root))
            return r.result()

    def allgatherv(self, value, counts, displs=None, out=None, in_place=False):
        """Every peer gets every peer's ``value``: peer i's block is ``counts[i]`` elements at
        element offset ``displs[i]`` (default: packed in rank order), the same on every peer.
        ``in_place=True``: ``out`` already holds this peer's block (``value`` is ignored)."""
        h = self._handle()
        with _ExitStack() as st:
            carr, darr, extent = self._layout(counts, displs, "counts")
            if in_place:
                if out is None:
                    raise TypeError("allgatherv: in_place needs out (holding this peer's block)")
                r = _recv_operand(None, None, "buffer", None, out, None, st, "allgatherv")
                self._fits(r, extent, "allgatherv")
                _check(_capi.lib.fmi_allgatherv(h, _capi.FMI_IN_PLACE, 0, r.addr, carr, darr, r.code))
                return out
            s = _send_operand(value, None, st, "allgatherv value")
            r = _recv_operand(extent if out is None else None, s.code, "buffer", s.obj, out, None, st,
                              "allgatherv")
            self._fits(r, extent, "allgatherv")
            _check(_capi.lib.fmi_allgatherv(h, s.addr, s.count, r.addr, carr, darr, s.code))
            return r.result()

    def alltoallv(self, value, sendcounts, recvcounts, sdispls=None, rdispls=None, out=None,
                  in_place=False):
        """Block j of ``value`` (``sendcounts[j]`` elements at ``sdispls[j]``) goes to peer j;
        block i of the result (``recvcounts[i]`` elements at ``rdispls[i]``) comes from peer i.
        Displacements default to the blocks packed in rank order. ``in_place=True``: ``out``,
        laid out by ``recvcounts``/``rdispls``, holds the blocks to send and receives the blocks
        (``value``, ``sendcounts`` and ``sdispls`` are ignored)."""
        h = self._handle()
        with _ExitStack() as st:
            rc, rd, rext = self._layout(recvcounts, rdispls, "recvcounts")
            if in_place:
                if out is None:
                    raise TypeError("alltoallv: in_place needs out (holding the blocks to send)")
                r = _recv_operand(None, None, "buffer", None, out, None, st, "alltoallv")
                self._fits(r, rext, "alltoallv")
                _check(_capi.lib.fmi_alltoallv(h, _capi.FMI_IN_PLACE, None, None, r.addr, rc, rd, r.code))
                return out
            sc, sd, sext = self._layout(sendcounts, sdispls, "sendcounts")
            s = _send_operand(value, None, st, "alltoallv value")
            if s.count < sext:
                raise _invalid("alltoallv: value holds %d elements, the blocks need %d" % (s.count, sext))
            r = _recv_operand(rext if out is None else None, s.code, "buffer", s.obj, out, None, st,
                              "alltoallv")
            self._fits(r, rext, "alltoallv")
            _check(_capi.lib.fmi_alltoallv(h, s.addr, sc, sd, r.addr, rc, rd, s.code))
            return r.result()

    def allgather(self, value, types=None, out=None):
        """Every peer gets every peer's ``value``, peer i's at block i (a flat list/buffer)."""
        h = self._handle()
        with _ExitStack() as st:
            s = _send_operand(value, types, st, "allgather value")
            kind = "list" if s.kind == "scalar" else s.kind
            r = _recv_operand(s.count * self._size, s.code, kind, s.obj, out, None, st, "allgather")
            _check(_capi.lib.fmi_allgather(h, s.addr, r.addr, s.count, s.code))
            return r.result()

    def alltoall(self, value, types=None, out=None):
        """Block j of ``value`` (num_peers blocks) goes to peer j; block i of the result comes
        from peer i."""
        h = self._handle()
        with _ExitStack() as st:
            if types is not None and not types.is_list:
                raise TypeError("alltoall needs a list type or a buffer")
            s = _send_operand(value, types, st, "alltoall value")
            if s.count % self._size:
                raise _invalid("alltoall: %d elements is not a multiple of %d peers" % (s.count, self._size))
            r = _recv_operand(s.count, s.code, s.kind, s.obj, out, None, st, "alltoall")
            _check(_capi.lib.fmi_alltoall(h, s.addr, r.addr, s.count // self._size, s.code))
            return r.result()


def _fspath_bytes(p):
    import os

    p = os.fspath(p)
    return p.encode() if isinstance(p, str) else p


@_atexit.register
def _finalize_at_exit():
    # A normal exit closes the communicators that are still open (collectively, like the
    # original's destructor). After an uncaught exception (sys.last_value is set) they are left
    # alone: the process is ending, its connections close, and the other peers get
    # FMI_ERR_PEER_LOST instead of waiting for a finalize that would not match their calls.
    if getattr(_sys, "last_value", None) is not None:
        for c in list(_live):
            c._h = None
        return
    for c in list(_live):
        try:
            c._close_quietly()
        except Exception:
            pass
