"""Groups of processes (``Group``), from which communicators are made."""

import ctypes as _ctypes

from . import _capi
from ._errors import _check, _invalid
from ._types import _u32


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
