//! The non-blocking and persistent reductions (reduce, allreduce, scan, exscan,
//! reduce_scatter_block, reduce_scatter) and their large-count `_c` forms, started as
//! `api/icoll.rs` starts every collective.

use super::colldesc::*;
use super::icoll::{nonblocking, persistent, shape, Kept};
use crate::entry::MpiError;
use crate::gen::abi::*;
use std::ffi::{c_int, c_void};

type R = Result<(), MpiError>;

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
