//! The blocking collectives and their large-count `_c` forms: barrier, bcast, gather(v),
//! scatter(v), allgather(v), alltoall(v,w), reduce, allreduce, reduce_scatter(_block), scan,
//! exscan, each with its MPI_IN_PLACE form, on every committed datatype and every operator.
//!
//! Each procedure resolves its handles, counts and displacements into a [`Coll`] (the
//! `describe_*` functions, shared with the non-blocking and persistent forms of `api/icoll.rs`)
//! and runs it on the core (`crate::coll`).

use crate::api::intercoll;
use crate::cabi::slice;
use crate::coll::{Coll, Input, Output, Red, Region, Who};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm;
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

/// Runs a described call on `c` to completion.
fn blocking(c: MPI_Comm, describe: impl FnOnce(&Who) -> Result<Coll, MpiError>) -> R {
    let obj = comm::get(c)?;
    let mut coll = describe(&Who::of(&obj))?;
    obj.with(|k| coll.run(k))?;
    // SAFETY: the output buffers were valid for the call, which has just ended.
    unsafe { coll.finish() }?;
    Ok(())
}

/// Runs a described call: on an intra-communicator, or on an inter-communicator with the
/// description made per remote (`remote`) or per local process (`api::intercoll`); `bufs`
/// are the buffers that may not be MPI_IN_PLACE there.
fn blocking_any(
    c: MPI_Comm,
    remote: bool,
    bufs: &[*const c_void],
    describe: impl FnOnce(&Who) -> Result<Coll, MpiError>,
) -> R {
    if !intercoll::applies(c) {
        return blocking(c, describe);
    }
    if remote {
        intercoll::per_remote(c, bufs, describe)
    } else {
        intercoll::per_local(c, bufs, describe)
    }
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

// ---- the procedures ----

pub fn barrier(c: MPI_Comm) -> R {
    blocking_any(c, true, &[], describe_barrier)
}

pub unsafe fn bcast(buf: *mut c_void, n: c_int, dt: MPI_Datatype, root: c_int, c: MPI_Comm) -> R {
    if intercoll::applies(c) {
        return intercoll::bcast_of(buf, n.into(), dt, root, c);
    }
    blocking(c, |o| describe_bcast(o, buf, n.into(), dt, root))
}

pub unsafe fn bcast_c(
    buf: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::bcast_of(buf, n, dt, root, c);
    }
    blocking(c, |o| describe_bcast(o, buf, n, dt, root))
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn gather(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::gather_of::<i32, i32>(
            sb,
            sn.into(),
            st,
            rb,
            rn.into(),
            None,
            rt,
            root,
            c,
        );
    }
    blocking(c, |o| {
        describe_gather(o, sb, sn.into(), st, rb, rn.into(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn gather_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::gather_of::<i32, i32>(sb, sn, st, rb, rn, None, rt, root, c);
    }
    blocking(c, |o| describe_gather(o, sb, sn, st, rb, rn, rt, root))
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scatter(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::scatter_of::<i32, i32>(
            sb,
            sn.into(),
            None,
            st,
            rb,
            rn.into(),
            rt,
            root,
            c,
        );
    }
    blocking(c, |o| {
        describe_scatter(o, sb, sn.into(), st, rb, rn.into(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scatter_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::scatter_of::<i32, i32>(sb, sn, None, st, rb, rn, rt, root, c);
    }
    blocking(c, |o| describe_scatter(o, sb, sn, st, rb, rn, rt, root))
}

pub unsafe fn allgather(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
) -> R {
    blocking_any(c, true, &[sb, rb.cast_const()], |o| {
        describe_allgather(o, sb, sn.into(), st, rb, rn.into(), rt)
    })
}

pub unsafe fn allgather_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    c: MPI_Comm,
) -> R {
    blocking_any(c, true, &[sb, rb.cast_const()], |o| {
        describe_allgather(o, sb, sn, st, rb, rn, rt)
    })
}

pub unsafe fn alltoall(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
) -> R {
    blocking_any(c, true, &[sb, rb.cast_const()], |o| {
        describe_alltoall(o, sb, sn.into(), st, rb, rn.into(), rt)
    })
}

pub unsafe fn alltoall_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    c: MPI_Comm,
) -> R {
    blocking_any(c, true, &[sb, rb.cast_const()], |o| {
        describe_alltoall(o, sb, sn, st, rb, rn, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn gatherv(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rcounts: *const c_int,
    displs: *const c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::gather_of(
            sb,
            sn.into(),
            st,
            rb,
            0,
            Some((rcounts, displs)),
            rt,
            root,
            c,
        );
    }
    blocking(c, |o| {
        describe_gatherv(o, sb, sn.into(), st, rb, rcounts, displs, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn gatherv_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rcounts: *const MPI_Count,
    displs: *const MPI_Aint,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::gather_of(sb, sn, st, rb, 0, Some((rcounts, displs)), rt, root, c);
    }
    blocking(c, |o| {
        describe_gatherv(o, sb, sn, st, rb, rcounts, displs, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scatterv(
    sb: *const c_void,
    scounts: *const c_int,
    displs: *const c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::scatter_of(
            sb,
            0,
            Some((scounts, displs)),
            st,
            rb,
            rn.into(),
            rt,
            root,
            c,
        );
    }
    blocking(c, |o| {
        describe_scatterv(o, sb, scounts, displs, st, rb, rn.into(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scatterv_c(
    sb: *const c_void,
    scounts: *const MPI_Count,
    displs: *const MPI_Aint,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::scatter_of(sb, 0, Some((scounts, displs)), st, rb, rn, rt, root, c);
    }
    blocking(c, |o| {
        describe_scatterv(o, sb, scounts, displs, st, rb, rn, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn allgatherv(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rcounts: *const c_int,
    displs: *const c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
) -> R {
    blocking_any(c, true, &[sb, rb.cast_const()], |o| {
        describe_allgatherv(o, sb, sn.into(), st, rb, rcounts, displs, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn allgatherv_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rcounts: *const MPI_Count,
    displs: *const MPI_Aint,
    rt: MPI_Datatype,
    c: MPI_Comm,
) -> R {
    blocking_any(c, true, &[sb, rb.cast_const()], |o| {
        describe_allgatherv(o, sb, sn, st, rb, rcounts, displs, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoallv(
    sb: *const c_void,
    scounts: *const c_int,
    sdispls: *const c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rcounts: *const c_int,
    rdispls: *const c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
) -> R {
    blocking_any(c, true, &[sb, rb.cast_const()], |o| {
        describe_alltoallv(o, sb, scounts, sdispls, st, rb, rcounts, rdispls, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoallv_c(
    sb: *const c_void,
    scounts: *const MPI_Count,
    sdispls: *const MPI_Aint,
    st: MPI_Datatype,
    rb: *mut c_void,
    rcounts: *const MPI_Count,
    rdispls: *const MPI_Aint,
    rt: MPI_Datatype,
    c: MPI_Comm,
) -> R {
    blocking_any(c, true, &[sb, rb.cast_const()], |o| {
        describe_alltoallv(o, sb, scounts, sdispls, st, rb, rcounts, rdispls, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoallw(
    sb: *const c_void,
    scounts: *const c_int,
    sdispls: *const c_int,
    sts: *const MPI_Datatype,
    rb: *mut c_void,
    rcounts: *const c_int,
    rdispls: *const c_int,
    rts: *const MPI_Datatype,
    c: MPI_Comm,
) -> R {
    blocking_any(c, true, &[sb, rb.cast_const()], |o| {
        describe_alltoallw(o, sb, scounts, sdispls, sts, rb, rcounts, rdispls, rts)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoallw_c(
    sb: *const c_void,
    scounts: *const MPI_Count,
    sdispls: *const MPI_Aint,
    sts: *const MPI_Datatype,
    rb: *mut c_void,
    rcounts: *const MPI_Count,
    rdispls: *const MPI_Aint,
    rts: *const MPI_Datatype,
    c: MPI_Comm,
) -> R {
    blocking_any(c, true, &[sb, rb.cast_const()], |o| {
        describe_alltoallw(o, sb, scounts, sdispls, sts, rb, rcounts, rdispls, rts)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn reduce(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::reduce_of(sb, rb, n.into(), dt, op, root, c);
    }
    blocking(c, |o| describe_reduce(o, sb, rb, n.into(), dt, op, root))
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn reduce_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::reduce_of(sb, rb, n, dt, op, root, c);
    }
    blocking(c, |o| describe_reduce(o, sb, rb, n, dt, op, root))
}

pub unsafe fn allreduce(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> R {
    blocking_any(c, false, &[sb, rb.cast_const()], |o| {
        describe_allreduce(o, sb, rb, n.into(), dt, op)
    })
}

pub unsafe fn allreduce_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> R {
    blocking_any(c, false, &[sb, rb.cast_const()], |o| {
        describe_allreduce(o, sb, rb, n, dt, op)
    })
}

pub unsafe fn scan(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::scan_of(c, "MPI_Scan");
    }
    blocking(c, |o| describe_scan(o, sb, rb, n.into(), dt, op))
}

pub unsafe fn scan_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::scan_of(c, "MPI_Scan_c");
    }
    blocking(c, |o| describe_scan(o, sb, rb, n, dt, op))
}

pub unsafe fn exscan(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::scan_of(c, "MPI_Exscan");
    }
    blocking(c, |o| describe_exscan(o, sb, rb, n.into(), dt, op))
}

pub unsafe fn exscan_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> R {
    if intercoll::applies(c) {
        return intercoll::scan_of(c, "MPI_Exscan_c");
    }
    blocking(c, |o| describe_exscan(o, sb, rb, n, dt, op))
}

pub unsafe fn reduce_scatter_block(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> R {
    blocking_any(c, false, &[sb, rb.cast_const()], |o| {
        describe_reduce_scatter_block(o, sb, rb, n.into(), dt, op)
    })
}

pub unsafe fn reduce_scatter_block_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> R {
    blocking_any(c, false, &[sb, rb.cast_const()], |o| {
        describe_reduce_scatter_block(o, sb, rb, n, dt, op)
    })
}

pub unsafe fn reduce_scatter(
    sb: *const c_void,
    rb: *mut c_void,
    counts: *const c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> R {
    blocking_any(c, false, &[sb, rb.cast_const()], |o| {
        describe_reduce_scatter(o, sb, rb, counts, dt, op)
    })
}

pub unsafe fn reduce_scatter_c(
    sb: *const c_void,
    rb: *mut c_void,
    counts: *const MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
) -> R {
    blocking_any(c, false, &[sb, rb.cast_const()], |o| {
        describe_reduce_scatter(o, sb, rb, counts, dt, op)
    })
}
