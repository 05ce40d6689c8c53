"""The collective operations of ``Communicator`` (blocking and non-blocking), a base class of it."""

import ctypes as _ctypes
import sys as _sys
from contextlib import ExitStack as _ExitStack

from . import _capi
from ._buffers import _is_buffer, _recv_operand, _send_operand
from ._errors import _check, _error, _invalid
from ._request import Request
from ._types import _INFO, _i32, _u32, _UserOp, func, op


class _Collectives:
    """Collectives of a communicator: ``barrier``, ``bcast``, ``gather``, ``scatter``, the
    reductions, the v-variants, ``allgather``, ``alltoall`` and their non-blocking forms."""

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
