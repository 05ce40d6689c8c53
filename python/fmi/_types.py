"""The values calls take: wildcards and limits, datatypes (``types``), reduction operators
(``func``, user ops), hints, link kinds, and the checks of integer arguments."""

import ctypes as _ctypes
import enum as _enum

from . import _capi
from ._errors import _check, _invalid

ANY_SOURCE = _capi.FMI_ANY_SOURCE
"""``recv``/``probe`` source that matches a message from any peer."""
ANY_TAG = _capi.FMI_ANY_TAG
"""``recv``/``probe`` tag that matches any tag."""
TAG_UB = _capi.FMI_TAG_UB
"""The largest tag (tags run from 0 to TAG_UB)."""
UNDEFINED = _capi.FMI_UNDEFINED
"""``split`` color of a peer that joins no new communicator; the rank ``Group.rank`` and
``Group.translate_ranks`` give for a process that is not a member."""


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

