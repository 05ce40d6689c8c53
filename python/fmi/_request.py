"""What a receive found (``Status``) and started non-blocking operations (``Request``,
``waitall``)."""

import ctypes as _ctypes

from . import _capi
from ._errors import _check, _error, _invalid


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
