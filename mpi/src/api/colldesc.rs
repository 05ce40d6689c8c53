//! The collectives' arguments and descriptions: the checks and translations of counts, roots,
//! buffers (`MPI_IN_PLACE`), displacements and reduction operators, and each collective call
//! described as a [`Coll`] (`describe_*`) from its C arguments. Shared by the blocking
//! (`api/coll.rs`), non-blocking and persistent (`api/icoll.rs`) and inter-communicator
//! (`api/intercoll.rs`) forms.

use crate::cabi::slice;
use crate::coll::{Coll, Input, Output, Red, Region, Who};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::{datatype as dtypes, op as ops};
use crate::reduce::Operator;
use std::ffi::{c_int, c_void};
use std::sync::Arc;

type R = Result<(), MpiError>;

/// An integer argument of any width (`int` counts, `MPI_Count`, `MPI_Aint`).
pub trait Int: Copy {
    fn wide(self) -> i64;
}
impl Int for i32 {
    fn wide(self) -> i64 {
        self.into()
    }
}
impl Int for i64 {
    fn wide(self) -> i64 {
        self
    }
}
impl Int for isize {
    fn wide(self) -> i64 {
        self as i64
    }
}

/// The array argument `p` of `n` integers, widened.
pub(crate) unsafe fn ints<T: Int>(p: *const T, n: usize, what: &str) -> Result<Vec<i64>, MpiError> {
    Ok(slice(p, n, what)?.iter().map(|v| v.wide()).collect())
}

pub(crate) fn nonneg(n: i64, what: &str) -> Result<u64, MpiError> {
    u64::try_from(n).map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("{what} = {n} is negative")))
}

pub(crate) fn in_place(p: *const c_void) -> bool {
    p as usize == MPI_IN_PLACE
}

fn not_in_place(p: *const c_void, what: &str) -> R {
    if in_place(p) {
        return Err(MpiError::new(
            MPI_ERR_BUFFER,
            format!("{what} is MPI_IN_PLACE, which this rank may not pass here"),
        ));
    }
    Ok(())
}

fn root_of(obj: &Who, root: c_int) -> Result<usize, MpiError> {
    usize::try_from(root)
        .ok()
        .filter(|&r| r < obj.size)
        .ok_or_else(|| {
            MpiError::new(
                MPI_ERR_ROOT,
                format!(
                    "root {root} out of range for a communicator of {} (valid: 0..{})",
                    obj.size, obj.size
                ),
            )
        })
}

/// `count` elements of `dt` at `p` plus `off` bytes. A NULL buffer is MPI_BOTTOM: allowed
/// when the datatype's data is at absolute addresses, an error when it would start at 0.
fn region_at(
    p: *const c_void,
    off: i64,
    count: i64,
    t: &Arc<crate::types::Type>,
    what: &str,
) -> Result<Region, MpiError> {
    let n = nonneg(count, &format!("the count of {what}"))?;
    if p.is_null() && n > 0 && t.size() > 0 && off.checked_add(t.true_lb()) == Some(0) {
        return Err(MpiError::new(MPI_ERR_BUFFER, format!("{what} is NULL")));
    }
    let at = isize::try_from(off)
        .map_err(|_| MpiError::new(MPI_ERR_ARG, format!("{what}: displacement overflows")))?;
    Ok(Region::new(
        p.cast::<u8>().wrapping_offset(at),
        n,
        t.clone(),
    ))
}

pub(crate) fn region(
    p: *const c_void,
    count: i64,
    dt: MPI_Datatype,
    what: &str,
) -> Result<Region, MpiError> {
    region_at(p, 0, count, &dtypes::committed(dt)?, what)
}

/// `k` consecutive blocks of `count` elements of `dt` at `p`: one region each.
pub(crate) fn blocks(
    p: *const c_void,
    count: i64,
    dt: MPI_Datatype,
    k: usize,
    what: &str,
) -> Result<Vec<Region>, MpiError> {
    let t = dtypes::committed(dt)?;
    let step = count
        .checked_mul(t.extent())
        .ok_or_else(|| MpiError::new(MPI_ERR_COUNT, format!("{what}: count * extent overflows")))?;
    (0..k as i64)
        .map(|i| {
            let off = i.checked_mul(step).ok_or_else(|| {
                MpiError::new(
                    MPI_ERR_COUNT,
                    format!("{what}: the buffer's span overflows"),
                )
            })?;
            region_at(p, off, count, &t, what)
        })
        .collect()
}

/// Block i: `counts[i]` elements of `dt` at `displs[i]` extents from `p` (the v-forms).
pub(crate) unsafe fn vblocks<C: Int, D: Int>(
    obj: &Who,
    p: *const c_void,
    counts: *const C,
    displs: *const D,
    dt: MPI_Datatype,
    what: &str,
) -> Result<Vec<Region>, MpiError> {
    let t = dtypes::committed(dt)?;
    let cs = ints(counts, obj.size, &format!("{what}counts"))?;
    let ds = ints(displs, obj.size, &format!("{what}displs"))?;
    (0..obj.size)
        .map(|i| {
            let off = ds[i].checked_mul(t.extent()).ok_or_else(|| {
                MpiError::new(MPI_ERR_ARG, format!("{what}displs[{i}] * extent overflows"))
            })?;
            region_at(p, off, cs[i], &t, &format!("{what}buf block {i}"))
        })
        .collect()
}

/// Block i: `counts[i]` elements of `types[i]` at `displs[i]` bytes from `p` (alltoallw).
unsafe fn wblocks<C: Int, D: Int>(
    obj: &Who,
    p: *const c_void,
    counts: *const C,
    displs: *const D,
    types: *const MPI_Datatype,
    what: &str,
) -> Result<Vec<Region>, MpiError> {
    let cs = ints(counts, obj.size, &format!("{what}counts"))?;
    let ds = ints(displs, obj.size, &format!("{what}displs"))?;
    let ts = slice(types, obj.size, &format!("{what}types"))?;
    (0..obj.size)
        .map(|i| {
            let t = dtypes::committed(ts[i])?;
            region_at(p, ds[i], cs[i], &t, &format!("{what}buf block {i}"))
        })
        .collect()
}

/// The core's element type and operator for reducing `dt` with `op`; a user function runs
/// with `dt` as the handle it receives.
pub(crate) fn reduction(dt: MPI_Datatype, op: MPI_Op) -> Result<Red, MpiError> {
    let t = dtypes::committed(dt)?;
    let o = ops::get(op)?;
    let (et, core) = o.core(&t)?;
    let core = match o {
        Operator::User { commute, .. } => {
            let inner = core;
            let f = Arc::new(
                move |acc: &mut [u8], next: &[u8], _: usize, d: fmi::Datatype| {
                    crate::api::op::with_type(dt, || inner.apply(acc, next, d))
                },
            );
            fmi::ReduceOp::user(f, commute, true)
        }
        Operator::Predefined(_) => core,
    };
    Ok(Red { t: et, op: core })
}
// ---- descriptions (shared with the non-blocking and persistent forms) ----

pub(crate) fn describe_barrier(_: &Who) -> Result<Coll, MpiError> {
    Ok(Coll::Barrier)
}

pub(crate) unsafe fn describe_bcast(
    obj: &Who,
    buf: *mut c_void,
    n: i64,
    dt: MPI_Datatype,
    root: c_int,
) -> Result<Coll, MpiError> {
    let root = root_of(obj, root)?;
    let buf = Output::new(vec![region(buf, n, dt, "buffer")?], obj.rank == root)?;
    Ok(Coll::Bcast { buf, root })
}

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn describe_gather(
    obj: &Who,
    sendbuf: *const c_void,
    sn: i64,
    st: MPI_Datatype,
    recvbuf: *mut c_void,
    rn: i64,
    rt: MPI_Datatype,
    root: c_int,
) -> Result<Coll, MpiError> {
    let root = root_of(obj, root)?;
    if obj.rank != root {
        not_in_place(sendbuf, "sendbuf")?;
        let send = Input::new(vec![region(sendbuf, sn, st, "sendbuf")?])?;
        return Ok(Coll::Gather {
            send,
            recv: None,
            root,
        });
    }
    let ip = in_place(sendbuf);
    let recv = Output::new(blocks(recvbuf, rn, rt, obj.size, "recvbuf")?, ip)?;
    let send = if ip {
        recv.block(root)
    } else {
        Input::new(vec![region(sendbuf, sn, st, "sendbuf")?])?
    };
    Ok(Coll::Gather {
        send,
        recv: Some(recv),
        root,
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn describe_scatter(
    obj: &Who,
    sendbuf: *const c_void,
    sn: i64,
    st: MPI_Datatype,
    recvbuf: *mut c_void,
    rn: i64,
    rt: MPI_Datatype,
    root: c_int,
) -> Result<Coll, MpiError> {
    let root = root_of(obj, root)?;
    if obj.rank != root {
        not_in_place(recvbuf, "recvbuf")?;
        let recv = Output::new(vec![region(recvbuf, rn, rt, "recvbuf")?], false)?;
        return Ok(Coll::Scatter {
            send: None,
            recv,
            root,
        });
    }
    let send = Input::new(blocks(sendbuf, sn, st, obj.size, "sendbuf")?)?;
    let recv = if in_place(recvbuf) {
        Output::discard(send.blocks().counts[root])
    } else {
        Output::new(vec![region(recvbuf, rn, rt, "recvbuf")?], false)?
    };
    Ok(Coll::Scatter {
        send: Some(send),
        recv,
        root,
    })
}

pub(crate) unsafe fn describe_allgather(
    obj: &Who,
    sendbuf: *const c_void,
    sn: i64,
    st: MPI_Datatype,
    recvbuf: *mut c_void,
    rn: i64,
    rt: MPI_Datatype,
) -> Result<Coll, MpiError> {
    let ip = in_place(sendbuf);
    let recv = Output::new(blocks(recvbuf, rn, rt, obj.size, "recvbuf")?, ip)?;
    let send = if ip {
        recv.block(obj.rank)
    } else {
        Input::new(vec![region(sendbuf, sn, st, "sendbuf")?])?
    };
    Ok(Coll::Allgather { send, recv })
}

pub(crate) unsafe fn describe_alltoall(
    obj: &Who,
    sendbuf: *const c_void,
    sn: i64,
    st: MPI_Datatype,
    recvbuf: *mut c_void,
    rn: i64,
    rt: MPI_Datatype,
) -> Result<Coll, MpiError> {
    let ip = in_place(sendbuf);
    let recv = Output::new(blocks(recvbuf, rn, rt, obj.size, "recvbuf")?, ip)?;
    let send = if ip {
        recv.snapshot()
    } else {
        Input::new(blocks(sendbuf, sn, st, obj.size, "sendbuf")?)?
    };
    Ok(Coll::Alltoall { send, recv })
}

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn describe_gatherv<C: Int, D: Int>(
    obj: &Who,
    sendbuf: *const c_void,
    sn: i64,
    st: MPI_Datatype,
    recvbuf: *mut c_void,
    rcounts: *const C,
    displs: *const D,
    rt: MPI_Datatype,
    root: c_int,
) -> Result<Coll, MpiError> {
    let root = root_of(obj, root)?;
    if obj.rank != root {
        not_in_place(sendbuf, "sendbuf")?;
        let send = Input::new(vec![region(sendbuf, sn, st, "sendbuf")?])?;
        return Ok(Coll::Gatherv {
            send,
            recv: None,
            root,
        });
    }
    let ip = in_place(sendbuf);
    let recv = Output::new(vblocks(obj, recvbuf, rcounts, displs, rt, "recv")?, ip)?;
    let send = if ip {
        recv.block(root)
    } else {
        Input::new(vec![region(sendbuf, sn, st, "sendbuf")?])?
    };
    Ok(Coll::Gatherv {
        send,
        recv: Some(recv),
        root,
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn describe_scatterv<C: Int, D: Int>(
    obj: &Who,
    sendbuf: *const c_void,
    scounts: *const C,
    displs: *const D,
    st: MPI_Datatype,
    recvbuf: *mut c_void,
    rn: i64,
    rt: MPI_Datatype,
    root: c_int,
) -> Result<Coll, MpiError> {
    let root = root_of(obj, root)?;
    if obj.rank != root {
        not_in_place(recvbuf, "recvbuf")?;
        let recv = Output::new(vec![region(recvbuf, rn, rt, "recvbuf")?], false)?;
        return Ok(Coll::Scatterv {
            send: None,
            recv,
            root,
        });
    }
    let send = Input::new(vblocks(obj, sendbuf, scounts, displs, st, "send")?)?;
    let recv = if in_place(recvbuf) {
        Output::discard(send.blocks().counts[root])
    } else {
        Output::new(vec![region(recvbuf, rn, rt, "recvbuf")?], false)?
    };
    Ok(Coll::Scatterv {
        send: Some(send),
        recv,
        root,
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn describe_allgatherv<C: Int, D: Int>(
    obj: &Who,
    sendbuf: *const c_void,
    sn: i64,
    st: MPI_Datatype,
    recvbuf: *mut c_void,
    rcounts: *const C,
    displs: *const D,
    rt: MPI_Datatype,
) -> Result<Coll, MpiError> {
    let ip = in_place(sendbuf);
    let recv = Output::new(vblocks(obj, recvbuf, rcounts, displs, rt, "recv")?, ip)?;
    let send = if ip {
        recv.block(obj.rank)
    } else {
        Input::new(vec![region(sendbuf, sn, st, "sendbuf")?])?
    };
    Ok(Coll::Allgatherv { send, recv })
}

/// Alltoallv and alltoallw: the regions of both sides are already resolved (`send` None: in
/// place).
unsafe fn exchange(send: Option<Vec<Region>>, recv: Vec<Region>) -> Result<Coll, MpiError> {
    let recv = Output::new(recv, send.is_none())?;
    let send = match send {
        Some(s) => Input::new(s)?,
        None => recv.snapshot(),
    };
    Ok(Coll::Alltoallv { send, recv })
}

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn describe_alltoallv<C: Int, D: Int>(
    obj: &Who,
    sendbuf: *const c_void,
    scounts: *const C,
    sdispls: *const D,
    st: MPI_Datatype,
    recvbuf: *mut c_void,
    rcounts: *const C,
    rdispls: *const D,
    rt: MPI_Datatype,
) -> Result<Coll, MpiError> {
    let recv = vblocks(obj, recvbuf, rcounts, rdispls, rt, "recv")?;
    let send = if in_place(sendbuf) {
        None
    } else {
        Some(vblocks(obj, sendbuf, scounts, sdispls, st, "send")?)
    };
    exchange(send, recv)
}

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn describe_alltoallw<C: Int, D: Int>(
    obj: &Who,
    sendbuf: *const c_void,
    scounts: *const C,
    sdispls: *const D,
    sts: *const MPI_Datatype,
    recvbuf: *mut c_void,
    rcounts: *const C,
    rdispls: *const D,
    rts: *const MPI_Datatype,
) -> Result<Coll, MpiError> {
    let recv = wblocks(obj, recvbuf, rcounts, rdispls, rts, "recv")?;
    let send = if in_place(sendbuf) {
        None
    } else {
        Some(wblocks(obj, sendbuf, scounts, sdispls, sts, "send")?)
    };
    exchange(send, recv)
}

/// A reduction's contribution and result over `n` elements of `dt` (in place: the result's
/// buffer holds the contribution).
unsafe fn reduced(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: i64,
    dt: MPI_Datatype,
) -> Result<(Input, Output), MpiError> {
    let r = region(recvbuf, n, dt, "recvbuf")?;
    if in_place(sendbuf) {
        let recv = Output::new(vec![r], true)?;
        return Ok((recv.snapshot(), recv));
    }
    let send = Input::new(vec![region(sendbuf, n, dt, "sendbuf")?])?;
    Ok((send, Output::new(vec![r], false)?))
}

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn describe_reduce(
    obj: &Who,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: i64,
    dt: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
) -> Result<Coll, MpiError> {
    let root = root_of(obj, root)?;
    let red = reduction(dt, op)?;
    if obj.rank != root {
        not_in_place(sendbuf, "sendbuf")?;
        let send = Input::new(vec![region(sendbuf, n, dt, "sendbuf")?])?;
        return Ok(Coll::Reduce {
            send,
            recv: None,
            red,
            root,
        });
    }
    let (send, recv) = reduced(sendbuf, recvbuf, n, dt)?;
    Ok(Coll::Reduce {
        send,
        recv: Some(recv),
        red,
        root,
    })
}

pub(crate) unsafe fn describe_allreduce(
    _: &Who,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: i64,
    dt: MPI_Datatype,
    op: MPI_Op,
) -> Result<Coll, MpiError> {
    let red = reduction(dt, op)?;
    let (send, recv) = reduced(sendbuf, recvbuf, n, dt)?;
    Ok(Coll::Allreduce { send, recv, red })
}

pub(crate) unsafe fn describe_scan(
    _: &Who,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: i64,
    dt: MPI_Datatype,
    op: MPI_Op,
) -> Result<Coll, MpiError> {
    let red = reduction(dt, op)?;
    let (send, recv) = reduced(sendbuf, recvbuf, n, dt)?;
    Ok(Coll::Scan { send, recv, red })
}

pub(crate) unsafe fn describe_exscan(
    obj: &Who,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: i64,
    dt: MPI_Datatype,
    op: MPI_Op,
) -> Result<Coll, MpiError> {
    let red = reduction(dt, op)?;
    let (send, mut recv) = reduced(sendbuf, recvbuf, n, dt)?;
    if obj.rank == 0 {
        // MPI leaves rank 0's result undefined; this library leaves its buffer as it was.
        recv = recv.untouched();
    }
    Ok(Coll::Exscan { send, recv, red })
}

/// Reduce_scatter(_block): `counts[i]` elements of the result to rank i.
unsafe fn scattered(
    obj: &Who,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    counts: Vec<i64>,
    dt: MPI_Datatype,
    op: MPI_Op,
    block: bool,
) -> Result<Coll, MpiError> {
    let red = reduction(dt, op)?;
    let t = dtypes::committed(dt)?;
    let mut bytes = Vec::with_capacity(counts.len());
    let mut total = 0i64;
    for (i, &c) in counts.iter().enumerate() {
        let b = t.bytes(nonneg(c, &format!("recvcounts[{i}]"))?)?;
        bytes.push(usize::try_from(b).map_err(|_| MpiError::new(MPI_ERR_COUNT, "too large"))?);
        total = total
            .checked_add(c)
            .ok_or_else(|| MpiError::new(MPI_ERR_COUNT, "the counts' sum overflows"))?;
    }
    let mine = counts[obj.rank];
    let send = if in_place(sendbuf) {
        Input::copied(vec![region(recvbuf, total, dt, "recvbuf")?])?
    } else {
        Input::new(vec![region(sendbuf, total, dt, "sendbuf")?])?
    };
    let recv = Output::new(vec![region(recvbuf, mine, dt, "recvbuf")?], false)?;
    Ok(Coll::ReduceScatter {
        send,
        recv,
        counts: bytes,
        red,
        block,
    })
}

pub(crate) unsafe fn describe_reduce_scatter_block(
    obj: &Who,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: i64,
    dt: MPI_Datatype,
    op: MPI_Op,
) -> Result<Coll, MpiError> {
    scattered(obj, sendbuf, recvbuf, vec![n; obj.size], dt, op, true)
}

pub(crate) unsafe fn describe_reduce_scatter<C: Int>(
    obj: &Who,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    counts: *const C,
    dt: MPI_Datatype,
    op: MPI_Op,
) -> Result<Coll, MpiError> {
    let counts = ints(counts, obj.size, "recvcounts")?;
    scattered(obj, sendbuf, recvbuf, counts, dt, op, false)
}
