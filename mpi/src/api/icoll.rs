//! The non-blocking (`MPI_Ibcast`, ...) and persistent (`MPI_Bcast_init`, ...) collectives
//! and their large-count `_c` forms. Each describes its call as the blocking form does
//! (`api/colldesc.rs`) and hands it to the core's collectives worker: the calls of a communicator
//! run there one after another in the order they were started (the same on every rank), while
//! the program goes on; the request (`objects/coll_request.rs`) completes when the call has
//! ended and its results are in the user's buffers. A persistent request describes its call
//! again at each `MPI_Start`.

use super::colldesc::*;
use crate::cabi;
use crate::coll::{Coll, Who};
use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::coll_request::CollOp;
use crate::objects::{comm, info, request};
use std::ffi::{c_int, c_void};

type R = Result<(), MpiError>;

/// Starts a described call on `c` and returns its request in `request`.
fn nonblocking(
    c: MPI_Comm,
    request: *mut MPI_Request,
    describe: impl FnOnce(&Who) -> Result<Coll, MpiError>,
) -> R {
    if request.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let obj = comm::get(c)?;
    let op = CollOp::once(&obj, describe(&Who::of(&obj))?)?;
    let h = request::register(Box::new(op), Raise::Comm(c));
    // SAFETY: checked not NULL above; the caller's out-parameter.
    unsafe { cabi::out(request, h, "request") }
}

/// A persistent collective's array argument (counts, displacements, types), copied at init:
/// the call is described again at each `MPI_Start`, and programs release their arrays once the
/// init returned (mpi4py's `Allgatherv_init` does; MPICH copies them as well). NULL, or an
/// array that is not significant on this rank, stays NULL (it is not read).
struct Kept<T>(Option<Vec<T>>);

impl<T: Copy> Kept<T> {
    /// # Safety
    /// When `significant`, `p` is NULL or valid for reads of `n` elements.
    unsafe fn new(p: *const T, n: usize, significant: bool) -> Kept<T> {
        if !significant || p.is_null() {
            return Kept(None);
        }
        Kept(Some(std::slice::from_raw_parts(p, n).to_vec()))
    }

    fn ptr(&self) -> *const T {
        self.0.as_ref().map_or(std::ptr::null(), |v| v.as_ptr())
    }
}

/// The size of `c` and this process's rank in it (the length of a collective's arrays).
fn shape(c: MPI_Comm) -> Result<(usize, usize), MpiError> {
    let obj = comm::get(c)?;
    Ok((obj.size, obj.rank))
}

/// Makes a persistent request of a call on `c` (inactive until `MPI_Start`).
fn persistent(
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
    describe: impl FnMut(&Who) -> Result<Coll, MpiError> + 'static,
) -> R {
    if request.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    info::entries_or_null(i)?;
    let obj = comm::get(c)?;
    let op = CollOp::persistent(&obj, Box::new(describe))?;
    let h = request::register(Box::new(op), Raise::Comm(c));
    // SAFETY: checked not NULL above; the caller's out-parameter.
    unsafe { cabi::out(request, h, "request") }
}

#[allow(clippy::too_many_arguments)]
pub fn ibarrier(c: MPI_Comm, request: *mut MPI_Request) -> R {
    nonblocking(c, request, describe_barrier)
}

#[allow(clippy::too_many_arguments)]
pub fn barrier_init(c: MPI_Comm, i: MPI_Info, request: *mut MPI_Request) -> R {
    persistent(c, i, request, describe_barrier)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ibcast(
    buf: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_bcast(o, buf, n.into(), dt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn bcast_init(
    buf: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_bcast(o, buf, n.into(), dt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ibcast_c(
    buf: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_bcast(o, buf, n, dt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn bcast_init_c(
    buf: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_bcast(o, buf, n, dt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn igather(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_gather(o, sb, sn.into(), st, rb, rn.into(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn gather_init(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_gather(o, sb, sn.into(), st, rb, rn.into(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn igather_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_gather(o, sb, sn, st, rb, rn, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn gather_init_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_gather(o, sb, sn, st, rb, rn, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iscatter(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_scatter(o, sb, sn.into(), st, rb, rn.into(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scatter_init(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_scatter(o, sb, sn.into(), st, rb, rn.into(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iscatter_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_scatter(o, sb, sn, st, rb, rn, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scatter_init_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_scatter(o, sb, sn, st, rb, rn, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iallgather(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_allgather(o, sb, sn.into(), st, rb, rn.into(), rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn allgather_init(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_allgather(o, sb, sn.into(), st, rb, rn.into(), rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iallgather_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_allgather(o, sb, sn, st, rb, rn, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn allgather_init_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_allgather(o, sb, sn, st, rb, rn, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ialltoall(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_alltoall(o, sb, sn.into(), st, rb, rn.into(), rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoall_init(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_alltoall(o, sb, sn.into(), st, rb, rn.into(), rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ialltoall_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_alltoall(o, sb, sn, st, rb, rn, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoall_init_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_alltoall(o, sb, sn, st, rb, rn, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn igatherv(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const c_int,
    rd: *const c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_gatherv(o, sb, sn.into(), st, rb, rc, rd, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn gatherv_init(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const c_int,
    rd: *const c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, me) = shape(c)?;
    let at_root = c_int::try_from(me).ok() == Some(root);
    let (rc, rd) = (Kept::new(rc, n, at_root), Kept::new(rd, n, at_root));
    persistent(c, i, request, move |o| unsafe {
        describe_gatherv(o, sb, sn.into(), st, rb, rc.ptr(), rd.ptr(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn igatherv_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const MPI_Count,
    rd: *const MPI_Aint,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_gatherv(o, sb, sn, st, rb, rc, rd, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn gatherv_init_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const MPI_Count,
    rd: *const MPI_Aint,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, me) = shape(c)?;
    let at_root = c_int::try_from(me).ok() == Some(root);
    let (rc, rd) = (Kept::new(rc, n, at_root), Kept::new(rd, n, at_root));
    persistent(c, i, request, move |o| unsafe {
        describe_gatherv(o, sb, sn, st, rb, rc.ptr(), rd.ptr(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iscatterv(
    sb: *const c_void,
    sc: *const c_int,
    sd: *const c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_scatterv(o, sb, sc, sd, st, rb, rn.into(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scatterv_init(
    sb: *const c_void,
    sc: *const c_int,
    sd: *const c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: c_int,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, me) = shape(c)?;
    let at_root = c_int::try_from(me).ok() == Some(root);
    let (sc, sd) = (Kept::new(sc, n, at_root), Kept::new(sd, n, at_root));
    persistent(c, i, request, move |o| unsafe {
        describe_scatterv(o, sb, sc.ptr(), sd.ptr(), st, rb, rn.into(), rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iscatterv_c(
    sb: *const c_void,
    sc: *const MPI_Count,
    sd: *const MPI_Aint,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_scatterv(o, sb, sc, sd, st, rb, rn, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scatterv_init_c(
    sb: *const c_void,
    sc: *const MPI_Count,
    sd: *const MPI_Aint,
    st: MPI_Datatype,
    rb: *mut c_void,
    rn: MPI_Count,
    rt: MPI_Datatype,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, me) = shape(c)?;
    let at_root = c_int::try_from(me).ok() == Some(root);
    let (sc, sd) = (Kept::new(sc, n, at_root), Kept::new(sd, n, at_root));
    persistent(c, i, request, move |o| unsafe {
        describe_scatterv(o, sb, sc.ptr(), sd.ptr(), st, rb, rn, rt, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iallgatherv(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const c_int,
    rd: *const c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_allgatherv(o, sb, sn.into(), st, rb, rc, rd, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn allgatherv_init(
    sb: *const c_void,
    sn: c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const c_int,
    rd: *const c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, _) = shape(c)?;
    let (rc, rd) = (Kept::new(rc, n, true), Kept::new(rd, n, true));
    persistent(c, i, request, move |o| unsafe {
        describe_allgatherv(o, sb, sn.into(), st, rb, rc.ptr(), rd.ptr(), rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iallgatherv_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const MPI_Count,
    rd: *const MPI_Aint,
    rt: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_allgatherv(o, sb, sn, st, rb, rc, rd, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn allgatherv_init_c(
    sb: *const c_void,
    sn: MPI_Count,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const MPI_Count,
    rd: *const MPI_Aint,
    rt: MPI_Datatype,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, _) = shape(c)?;
    let (rc, rd) = (Kept::new(rc, n, true), Kept::new(rd, n, true));
    persistent(c, i, request, move |o| unsafe {
        describe_allgatherv(o, sb, sn, st, rb, rc.ptr(), rd.ptr(), rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ialltoallv(
    sb: *const c_void,
    sc: *const c_int,
    sd: *const c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const c_int,
    rd: *const c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_alltoallv(o, sb, sc, sd, st, rb, rc, rd, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoallv_init(
    sb: *const c_void,
    sc: *const c_int,
    sd: *const c_int,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const c_int,
    rd: *const c_int,
    rt: MPI_Datatype,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, _) = shape(c)?;
    let sends = !in_place(sb);
    let (sc, sd) = (Kept::new(sc, n, sends), Kept::new(sd, n, sends));
    let (rc, rd) = (Kept::new(rc, n, true), Kept::new(rd, n, true));
    persistent(c, i, request, move |o| unsafe {
        describe_alltoallv(o, sb, sc.ptr(), sd.ptr(), st, rb, rc.ptr(), rd.ptr(), rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ialltoallv_c(
    sb: *const c_void,
    sc: *const MPI_Count,
    sd: *const MPI_Aint,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const MPI_Count,
    rd: *const MPI_Aint,
    rt: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_alltoallv(o, sb, sc, sd, st, rb, rc, rd, rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoallv_init_c(
    sb: *const c_void,
    sc: *const MPI_Count,
    sd: *const MPI_Aint,
    st: MPI_Datatype,
    rb: *mut c_void,
    rc: *const MPI_Count,
    rd: *const MPI_Aint,
    rt: MPI_Datatype,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, _) = shape(c)?;
    let sends = !in_place(sb);
    let (sc, sd) = (Kept::new(sc, n, sends), Kept::new(sd, n, sends));
    let (rc, rd) = (Kept::new(rc, n, true), Kept::new(rd, n, true));
    persistent(c, i, request, move |o| unsafe {
        describe_alltoallv(o, sb, sc.ptr(), sd.ptr(), st, rb, rc.ptr(), rd.ptr(), rt)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ialltoallw(
    sb: *const c_void,
    sc: *const c_int,
    sd: *const c_int,
    sts: *const MPI_Datatype,
    rb: *mut c_void,
    rc: *const c_int,
    rd: *const c_int,
    rts: *const MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_alltoallw(o, sb, sc, sd, sts, rb, rc, rd, rts)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoallw_init(
    sb: *const c_void,
    sc: *const c_int,
    sd: *const c_int,
    sts: *const MPI_Datatype,
    rb: *mut c_void,
    rc: *const c_int,
    rd: *const c_int,
    rts: *const MPI_Datatype,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, _) = shape(c)?;
    let sends = !in_place(sb);
    let (sc, sd, sts) = (
        Kept::new(sc, n, sends),
        Kept::new(sd, n, sends),
        Kept::new(sts, n, sends),
    );
    let (rc, rd, rts) = (
        Kept::new(rc, n, true),
        Kept::new(rd, n, true),
        Kept::new(rts, n, true),
    );
    persistent(c, i, request, move |o| unsafe {
        describe_alltoallw(
            o,
            sb,
            sc.ptr(),
            sd.ptr(),
            sts.ptr(),
            rb,
            rc.ptr(),
            rd.ptr(),
            rts.ptr(),
        )
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ialltoallw_c(
    sb: *const c_void,
    sc: *const MPI_Count,
    sd: *const MPI_Aint,
    sts: *const MPI_Datatype,
    rb: *mut c_void,
    rc: *const MPI_Count,
    rd: *const MPI_Aint,
    rts: *const MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_alltoallw(o, sb, sc, sd, sts, rb, rc, rd, rts)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn alltoallw_init_c(
    sb: *const c_void,
    sc: *const MPI_Count,
    sd: *const MPI_Aint,
    sts: *const MPI_Datatype,
    rb: *mut c_void,
    rc: *const MPI_Count,
    rd: *const MPI_Aint,
    rts: *const MPI_Datatype,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, _) = shape(c)?;
    let sends = !in_place(sb);
    let (sc, sd, sts) = (
        Kept::new(sc, n, sends),
        Kept::new(sd, n, sends),
        Kept::new(sts, n, sends),
    );
    let (rc, rd, rts) = (
        Kept::new(rc, n, true),
        Kept::new(rd, n, true),
        Kept::new(rts, n, true),
    );
    persistent(c, i, request, move |o| unsafe {
        describe_alltoallw(
            o,
            sb,
            sc.ptr(),
            sd.ptr(),
            sts.ptr(),
            rb,
            rc.ptr(),
            rd.ptr(),
            rts.ptr(),
        )
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ireduce(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_reduce(o, sb, rb, n.into(), dt, op, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn reduce_init(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_reduce(o, sb, rb, n.into(), dt, op, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ireduce_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_reduce(o, sb, rb, n, dt, op, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn reduce_init_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_reduce(o, sb, rb, n, dt, op, root)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iallreduce(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_allreduce(o, sb, rb, n.into(), dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn allreduce_init(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_allreduce(o, sb, rb, n.into(), dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iallreduce_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_allreduce(o, sb, rb, n, dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn allreduce_init_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_allreduce(o, sb, rb, n, dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iscan(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_scan(o, sb, rb, n.into(), dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scan_init(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_scan(o, sb, rb, n.into(), dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iscan_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_scan(o, sb, rb, n, dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn scan_init_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_scan(o, sb, rb, n, dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iexscan(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_exscan(o, sb, rb, n.into(), dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn exscan_init(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_exscan(o, sb, rb, n.into(), dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn iexscan_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_exscan(o, sb, rb, n, dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn exscan_init_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_exscan(o, sb, rb, n, dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ireduce_scatter_block(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_reduce_scatter_block(o, sb, rb, n.into(), dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn reduce_scatter_block_init(
    sb: *const c_void,
    rb: *mut c_void,
    n: c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_reduce_scatter_block(o, sb, rb, n.into(), dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ireduce_scatter_block_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_reduce_scatter_block(o, sb, rb, n, dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn reduce_scatter_block_init_c(
    sb: *const c_void,
    rb: *mut c_void,
    n: MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    persistent(c, i, request, move |o| unsafe {
        describe_reduce_scatter_block(o, sb, rb, n, dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ireduce_scatter(
    sb: *const c_void,
    rb: *mut c_void,
    rc: *const c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_reduce_scatter(o, sb, rb, rc, dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn reduce_scatter_init(
    sb: *const c_void,
    rb: *mut c_void,
    rc: *const c_int,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, _) = shape(c)?;
    let rc = Kept::new(rc, n, true);
    persistent(c, i, request, move |o| unsafe {
        describe_reduce_scatter(o, sb, rb, rc.ptr(), dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ireduce_scatter_c(
    sb: *const c_void,
    rb: *mut c_void,
    rc: *const MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> R {
    nonblocking(c, request, |o| unsafe {
        describe_reduce_scatter(o, sb, rb, rc, dt, op)
    })
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn reduce_scatter_init_c(
    sb: *const c_void,
    rb: *mut c_void,
    rc: *const MPI_Count,
    dt: MPI_Datatype,
    op: MPI_Op,
    c: MPI_Comm,
    i: MPI_Info,
    request: *mut MPI_Request,
) -> R {
    let (n, _) = shape(c)?;
    let rc = Kept::new(rc, n, true);
    persistent(c, i, request, move |o| unsafe {
        describe_reduce_scatter(o, sb, rb, rc.ptr(), dt, op)
    })
}
