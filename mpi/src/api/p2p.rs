//! Point-to-point sends and receives: the send modes (Send, Ssend, Rsend, Bsend) and Recv,
//! blocking, non-blocking and persistent, with every `_c` large-count form. Send-receive is in
//! `sendrecv`, probes and matched receives in `probe`, the attached buffer of buffered sends in
//! `bsendbuf`.
//!
//! Arguments are checked and translated here (`MPI_PROC_NULL`, `MPI_ANY_SOURCE`,
//! `MPI_ANY_TAG`, negative counts, ranks and tags; the helpers are shared with those files);
//! the semantics are the engine's (`crate::p2p`) on the communicator's core. Requests go to
//! `crate::objects::request`.

use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::request::{self, NullOp, Operation};
use crate::objects::{comm, datatype, status};
use crate::p2p::{self, From, Mode, Req};
use crate::types::Type;
use std::ffi::{c_int, c_void};
use std::sync::Arc;

// ---- argument translation ----

pub(super) fn count_of(n: i64) -> Result<u64, MpiError> {
    u64::try_from(n).map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("count {n} is negative")))
}

/// A send's destination: None for `MPI_PROC_NULL`.
pub(super) fn dest_of(d: c_int) -> Result<Option<usize>, MpiError> {
    match d {
        MPI_PROC_NULL => Ok(None),
        d if d >= 0 => Ok(Some(d as usize)),
        d => Err(MpiError::new(
            MPI_ERR_RANK,
            format!("destination rank {d} is invalid (a rank, or MPI_PROC_NULL)"),
        )),
    }
}

/// A receive's source: None for `MPI_PROC_NULL`.
pub(super) fn source_of(s: c_int) -> Result<Option<From>, MpiError> {
    match s {
        MPI_PROC_NULL => Ok(None),
        MPI_ANY_SOURCE => Ok(Some(From::Any)),
        s if s >= 0 => Ok(Some(From::Rank(s as usize))),
        s => Err(MpiError::new(
            MPI_ERR_RANK,
            format!("source rank {s} is invalid (a rank, MPI_ANY_SOURCE or MPI_PROC_NULL)"),
        )),
    }
}

pub(super) fn send_tag(t: c_int) -> Result<i32, MpiError> {
    if !(0..=p2p::TAG_UB).contains(&t) {
        return Err(MpiError::new(
            MPI_ERR_TAG,
            format!("tag {t} out of range (valid: 0..={})", p2p::TAG_UB),
        ));
    }
    Ok(t)
}

/// A receive's tag: None for `MPI_ANY_TAG`.
pub(super) fn recv_tag(t: c_int) -> Result<Option<i32>, MpiError> {
    if t == MPI_ANY_TAG {
        return Ok(None);
    }
    send_tag(t).map(Some)
}

/// The committed type of a buffer of `count` elements at `buf` (NULL only where no byte is
/// addressed from it).
pub(super) fn buffer(
    buf: *const c_void,
    count: u64,
    dt: MPI_Datatype,
) -> Result<Arc<Type>, MpiError> {
    let t = datatype::committed(dt)?;
    if buf.is_null() && count > 0 && t.size() > 0 && t.true_lb() == 0 {
        return Err(MpiError::arg(format!(
            "buf is NULL with count {count} (a buffer of {} bytes is needed)",
            t.size().saturating_mul(count)
        )));
    }
    Ok(t)
}

pub(super) fn status_proc_null() -> MPI_Status {
    status::empty(MPI_PROC_NULL)
}

pub(super) unsafe fn new_request(
    r: *mut MPI_Request,
    op: Box<dyn Operation>,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    *r = request::register(op, Raise::Comm(c));
    Ok(())
}

// ---- blocking sends and receives ----

unsafe fn send_any(
    buf: *const c_void,
    count: i64,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    mode: Mode,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let count = count_of(count)?;
    let t = buffer(buf, count, dt)?;
    let tag = send_tag(tag)?;
    let Some(dest) = dest_of(dest)? else {
        return Ok(());
    };
    let (core, ep, dest) = obj.p2p_to(dest)?;
    Ok(ep.send(core, buf.cast(), count, &t, dest, tag, mode)?)
}

pub unsafe fn send_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    send_any(buf, count, dt, dest, tag, c, Mode::Standard)
}

pub unsafe fn ssend_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    send_any(buf, count, dt, dest, tag, c, Mode::Sync)
}

pub unsafe fn rsend_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    send_any(buf, count, dt, dest, tag, c, Mode::Ready)
}

pub unsafe fn bsend_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    send_any(buf, count, dt, dest, tag, c, Mode::Buffered)
}

unsafe fn recv_any(
    buf: *mut c_void,
    count: i64,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let count = count_of(count)?;
    let t = buffer(buf, count, dt)?;
    let tag = recv_tag(tag)?;
    let Some(src) = source_of(source)? else {
        status::write(st, status_proc_null());
        return Ok(());
    };
    let (core, ep) = obj.p2p_from(src)?;
    let s = ep.recv(core, buf.cast(), count, &t, src, tag)?;
    status::write(st, status::of(&s));
    Ok(())
}

pub unsafe fn recv_c(
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    recv_any(buf, count, dt, source, tag, c, st)
}

// ---- non-blocking ----

/// The engine's request of a send (None: to `MPI_PROC_NULL`).
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn isend_req(
    obj: &comm::CommObj,
    buf: *const c_void,
    count: u64,
    t: &Arc<Type>,
    dest: c_int,
    tag: c_int,
    mode: Mode,
) -> Result<Option<Req>, MpiError> {
    let tag = send_tag(tag)?;
    let Some(dest) = dest_of(dest)? else {
        return Ok(None);
    };
    let (core, ep, dest) = obj.p2p_to(dest)?;
    Ok(Some(Req::isend(
        ep,
        core,
        buf.cast(),
        count,
        t,
        dest,
        tag,
        mode,
    )?))
}

pub(super) unsafe fn irecv_req(
    obj: &comm::CommObj,
    buf: *mut c_void,
    count: u64,
    t: &Arc<Type>,
    source: c_int,
    tag: c_int,
) -> Result<Option<Req>, MpiError> {
    let tag = recv_tag(tag)?;
    let Some(src) = source_of(source)? else {
        return Ok(None);
    };
    let (core, ep) = obj.p2p_from(src)?;
    Ok(Some(Req::irecv(ep, core, buf.cast(), count, t, src, tag)?))
}

#[allow(clippy::too_many_arguments)]
unsafe fn isend_any(
    buf: *const c_void,
    count: i64,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
    mode: Mode,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let count = count_of(count)?;
    let t = buffer(buf, count, dt)?;
    let op: Box<dyn Operation> = match isend_req(&obj, buf, count, &t, dest, tag, mode)? {
        Some(req) => Box::new(req),
        None => Box::new(NullOp::new(false, status_proc_null())),
    };
    new_request(r, op, c)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn isend_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    isend_any(buf, count, dt, dest, tag, c, r, Mode::Standard)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn issend_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    isend_any(buf, count, dt, dest, tag, c, r, Mode::Sync)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn irsend_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    isend_any(buf, count, dt, dest, tag, c, r, Mode::Ready)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ibsend_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    isend_any(buf, count, dt, dest, tag, c, r, Mode::Buffered)
}

#[allow(clippy::too_many_arguments)]
unsafe fn irecv_any(
    buf: *mut c_void,
    count: i64,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let count = count_of(count)?;
    let t = buffer(buf, count, dt)?;
    let op: Box<dyn Operation> = match irecv_req(&obj, buf, count, &t, source, tag)? {
        Some(req) => Box::new(req),
        None => Box::new(NullOp::new(false, status_proc_null())),
    };
    new_request(r, op, c)
}

pub unsafe fn irecv_c(
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    irecv_any(buf, count, dt, source, tag, c, r)
}

// ---- persistent ----

#[allow(clippy::too_many_arguments)]
unsafe fn send_init_any(
    buf: *const c_void,
    count: i64,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
    mode: Mode,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let count = count_of(count)?;
    let t = buffer(buf, count, dt)?;
    let tag = send_tag(tag)?;
    let op: Box<dyn Operation> = match dest_of(dest)? {
        None => Box::new(NullOp::new(true, status_proc_null())),
        Some(d) => {
            let (core, ep, d) = obj.p2p_to(d)?;
            Box::new(Req::send_init(
                ep,
                core,
                buf.cast(),
                count,
                &t,
                d,
                tag,
                mode,
            )?)
        }
    };
    new_request(r, op, c)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn send_init_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    send_init_any(buf, count, dt, dest, tag, c, r, Mode::Standard)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn ssend_init_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    send_init_any(buf, count, dt, dest, tag, c, r, Mode::Sync)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn rsend_init_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    send_init_any(buf, count, dt, dest, tag, c, r, Mode::Ready)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn bsend_init_c(
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    send_init_any(buf, count, dt, dest, tag, c, r, Mode::Buffered)
}

#[allow(clippy::too_many_arguments)]
unsafe fn recv_init_any(
    buf: *mut c_void,
    count: i64,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let count = count_of(count)?;
    let t = buffer(buf, count, dt)?;
    let tag = recv_tag(tag)?;
    let op: Box<dyn Operation> = match source_of(source)? {
        None => Box::new(NullOp::new(true, status_proc_null())),
        Some(src) => {
            let (core, ep) = obj.p2p_from(src)?;
            Box::new(Req::recv_init(ep, core, buf.cast(), count, &t, src, tag)?)
        }
    };
    new_request(r, op, c)
}

pub unsafe fn recv_init_c(
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    recv_init_any(buf, count, dt, source, tag, c, r)
}

// ---- send-receive ----

// ---- probes ----

// ---- the attached buffer of buffered sends ----
