"""The communicator: creation and close, properties, derived communicators, point-to-point
(blocking and non-blocking). Its collectives are in ``_collectives``."""

import atexit as _atexit
import ctypes as _ctypes
import sys as _sys
import weakref as _weakref
from contextlib import ExitStack as _ExitStack

from . import _capi
from ._buffers import _recv_operand, _send_operand
from ._collectives import _Collectives
from ._errors import _check, _invalid
from ._group import Group
from ._request import Request, Status
from ._types import ANY_SOURCE, ANY_TAG, _i32, _index, _int32, _u32, hints, links

_live = _weakref.WeakSet()


class Communicator(_Collectives):
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
