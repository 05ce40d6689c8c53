"""Buffers of a call: the operands that Python values and buffer-protocol objects become
(held until the call ends), and the results made for the receive side."""

import array as _array
import ctypes as _ctypes
import sys as _sys

from . import _capi
from ._errors import _invalid
from ._types import _INFO


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


