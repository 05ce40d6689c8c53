//! The non-blocking and persistent vector collectives (gatherv, scatterv, allgatherv,
//! alltoallv, alltoallw) and their large-count `_c` forms, started as `api/icoll.rs` starts
//! every collective; a persistent form keeps copies of its arrays.

use super::colldesc::*;
use super::icoll::{nonblocking, persistent, shape, Kept};
use crate::entry::MpiError;
use crate::gen::abi::*;
use std::ffi::{c_int, c_void};

type R = Result<(), MpiError>;

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
