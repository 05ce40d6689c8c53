//! The blocking collectives and their large-count `_c` forms: barrier, bcast, gather(v),
//! scatter(v), allgather(v), alltoall(v,w), reduce, allreduce, reduce_scatter(_block), scan,
//! exscan, each with its MPI_IN_PLACE form, on every committed datatype and every operator.
//!
//! Each procedure resolves its handles, counts and displacements into a [`Coll`] (the
//! `describe_*` functions of `api/colldesc.rs`, shared with the non-blocking and persistent
//! forms of `api/icoll.rs`) and runs it on the core (`crate::coll`).

use super::colldesc::*;
use crate::api::intercoll;
use crate::coll::{Coll, Who};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm;
use std::ffi::{c_int, c_void};

type R = Result<(), MpiError>;

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

// ---- the procedures ----

pub fn barrier(c: MPI_Comm) -> R {
    blocking_any(c, true, &[], describe_barrier)
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
