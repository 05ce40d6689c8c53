//! The non-blocking (`MPI_Ibcast`, ...) and persistent (`MPI_Bcast_init`, ...) collectives
//! and their large-count `_c` forms: how they start, and the forms of barrier, bcast, gather,
//! scatter, allgather and alltoall (the vector forms are in `api/icollv.rs`, the reductions in
//! `api/icollreduce.rs`). Each describes its call as the blocking form does
//! (`api/colldesc.rs`) and hands it to the core's collectives worker: the calls of a
//! communicator run there one after another in the order they were started (the same on every
//! rank), while the program goes on; the request (`objects/coll_request.rs`) completes when the
//! call has ended and its results are in the user's buffers. A persistent request describes its
//! call again at each `MPI_Start`.

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
pub(super) fn nonblocking(
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
pub(super) struct Kept<T>(Option<Vec<T>>);

impl<T: Copy> Kept<T> {
    /// # Safety
    /// When `significant`, `p` is NULL or valid for reads of `n` elements.
    pub(super) unsafe fn new(p: *const T, n: usize, significant: bool) -> Kept<T> {
        if !significant || p.is_null() {
            return Kept(None);
        }
        Kept(Some(std::slice::from_raw_parts(p, n).to_vec()))
    }

    pub(super) fn ptr(&self) -> *const T {
        self.0.as_ref().map_or(std::ptr::null(), |v| v.as_ptr())
    }
}

/// The size of `c` and this process's rank in it (the length of a collective's arrays).
pub(super) fn shape(c: MPI_Comm) -> Result<(usize, usize), MpiError> {
    let obj = comm::get(c)?;
    Ok((obj.size, obj.rank))
}

/// Makes a persistent request of a call on `c` (inactive until `MPI_Start`).
pub(super) fn persistent(
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
