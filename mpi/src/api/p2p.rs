//! Point-to-point: the send modes (Send, Ssend, Rsend, Bsend), Recv, Sendrecv(_replace), their
//! non-blocking and persistent forms, Probe/Iprobe, matched probes (Mprobe, Improbe, Mrecv,
//! Imrecv), the attached buffer of buffered sends, and every `_c` large-count form.
//!
//! Arguments are checked and translated here (`MPI_PROC_NULL`, `MPI_ANY_SOURCE`,
//! `MPI_ANY_TAG`, negative counts, ranks and tags); the semantics are the engine's
//! (`crate::p2p`) on the communicator's core. Requests go to `crate::objects::request`.

use crate::cabi::out;
use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::request::{self, NullOp, Operation};
use crate::objects::{comm, datatype, message, status};
use crate::p2p::{self, bsend, From, Mode, Req};
use crate::types::Type;
use std::ffi::{c_int, c_void};
use std::sync::Arc;

// ---- argument translation ----

fn count_of(n: i64) -> Result<u64, MpiError> {
    u64::try_from(n).map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("count {n} is negative")))
}

/// A send's destination: None for `MPI_PROC_NULL`.
fn dest_of(d: c_int) -> Result<Option<usize>, MpiError> {
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
fn source_of(s: c_int) -> Result<Option<From>, MpiError> {
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

fn send_tag(t: c_int) -> Result<i32, MpiError> {
    if !(0..=p2p::TAG_UB).contains(&t) {
        return Err(MpiError::new(
            MPI_ERR_TAG,
            format!("tag {t} out of range (valid: 0..={})", p2p::TAG_UB),
        ));
    }
    Ok(t)
}

/// A receive's tag: None for `MPI_ANY_TAG`.
fn recv_tag(t: c_int) -> Result<Option<i32>, MpiError> {
    if t == MPI_ANY_TAG {
        return Ok(None);
    }
    send_tag(t).map(Some)
}

/// The committed type of a buffer of `count` elements at `buf` (NULL only where no byte is
/// addressed from it).
fn buffer(buf: *const c_void, count: u64, dt: MPI_Datatype) -> Result<Arc<Type>, MpiError> {
    let t = datatype::committed(dt)?;
    if buf.is_null() && count > 0 && t.size() > 0 && t.true_lb() == 0 {
        return Err(MpiError::arg(format!(
            "buf is NULL with count {count} (a buffer of {} bytes is needed)",
            t.size().saturating_mul(count)
        )));
    }
    Ok(t)
}

fn status_proc_null() -> MPI_Status {
    status::empty(MPI_PROC_NULL)
}

unsafe fn new_request(
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

pub unsafe fn send(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    send_any(buf, count as i64, dt, dest, tag, c, Mode::Standard)
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

pub unsafe fn ssend(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    send_any(buf, count as i64, dt, dest, tag, c, Mode::Sync)
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

pub unsafe fn rsend(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    send_any(buf, count as i64, dt, dest, tag, c, Mode::Ready)
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

pub unsafe fn bsend(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
) -> Result<(), MpiError> {
    send_any(buf, count as i64, dt, dest, tag, c, Mode::Buffered)
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

pub unsafe fn recv(
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    recv_any(buf, count as i64, dt, source, tag, c, st)
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
unsafe fn isend_req(
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

unsafe fn irecv_req(
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
pub unsafe fn isend(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    isend_any(buf, count as i64, dt, dest, tag, c, r, Mode::Standard)
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
pub unsafe fn issend(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    isend_any(buf, count as i64, dt, dest, tag, c, r, Mode::Sync)
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
pub unsafe fn irsend(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    isend_any(buf, count as i64, dt, dest, tag, c, r, Mode::Ready)
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
pub unsafe fn ibsend(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    isend_any(buf, count as i64, dt, dest, tag, c, r, Mode::Buffered)
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

pub unsafe fn irecv(
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    irecv_any(buf, count as i64, dt, source, tag, c, r)
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
pub unsafe fn send_init(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    send_init_any(buf, count as i64, dt, dest, tag, c, r, Mode::Standard)
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
pub unsafe fn ssend_init(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    send_init_any(buf, count as i64, dt, dest, tag, c, r, Mode::Sync)
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
pub unsafe fn rsend_init(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    send_init_any(buf, count as i64, dt, dest, tag, c, r, Mode::Ready)
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
pub unsafe fn bsend_init(
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    send_init_any(buf, count as i64, dt, dest, tag, c, r, Mode::Buffered)
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

pub unsafe fn recv_init(
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    recv_init_any(buf, count as i64, dt, source, tag, c, r)
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

/// A send and a receive started together; complete when both are (the receive's status).
struct SendRecv {
    send: Option<Req>,
    recv: Option<Req>,
    /// The receive's status once it completed.
    got: Option<MPI_Status>,
    /// The packed copy a replacing send sends from (kept until the send completes).
    _copy: Option<Vec<u8>>,
}

impl Operation for SendRecv {
    fn progress(&mut self, block: bool) -> Result<Option<MPI_Status>, MpiError> {
        if let Some(s) = &mut self.send {
            match s.progress(block)? {
                Some(_) => self.send = None,
                None => return Ok(None),
            }
        }
        if let Some(r) = &mut self.recv {
            match r.progress(block)? {
                Some(st) => {
                    self.got = Some(status::of(&st));
                    self.recv = None;
                }
                None => return Ok(None),
            }
        }
        Ok(Some(self.got.unwrap_or_else(status_proc_null)))
    }
}

impl SendRecv {
    /// Starts both; `copy`: the send's data was packed into this vector (sent as bytes).
    #[allow(clippy::too_many_arguments)]
    unsafe fn start(
        obj: &comm::CommObj,
        sendbuf: *const c_void,
        sendcount: u64,
        st: &Arc<Type>,
        dest: c_int,
        sendtag: c_int,
        recvbuf: *mut c_void,
        recvcount: u64,
        rt: &Arc<Type>,
        source: c_int,
        recvtag: c_int,
        copy: Option<Vec<u8>>,
    ) -> Result<SendRecv, MpiError> {
        // Both are checked before either starts.
        send_tag(sendtag)?;
        dest_of(dest)?;
        recv_tag(recvtag)?;
        source_of(source)?;
        let recv = irecv_req(obj, recvbuf, recvcount, rt, source, recvtag)?;
        let send = match &copy {
            Some(v) => {
                let bytes = datatype::committed(MPI_BYTE)?;
                isend_req(
                    obj,
                    v.as_ptr().cast(),
                    v.len() as u64,
                    &bytes,
                    dest,
                    sendtag,
                    Mode::Standard,
                )?
            }
            None => isend_req(obj, sendbuf, sendcount, st, dest, sendtag, Mode::Standard)?,
        };
        Ok(SendRecv {
            send,
            recv,
            got: None,
            _copy: copy,
        })
    }
}

/// Packs `count` elements of `t` at `buf` (the data a replacing send-receive sends).
unsafe fn packed(buf: *const c_void, count: u64, t: &Type) -> Result<Vec<u8>, MpiError> {
    let n = usize::try_from(t.bytes(count)?)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, "message too large"))?;
    let mut v = vec![0u8; n];
    t.pack(buf.cast(), count, &mut v)?;
    Ok(v)
}

#[allow(clippy::too_many_arguments)]
unsafe fn sendrecv_any(
    sendbuf: *const c_void,
    sendcount: i64,
    sendtype: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    recvbuf: *mut c_void,
    recvcount: i64,
    recvtype: MPI_Datatype,
    source: c_int,
    recvtag: c_int,
    c: MPI_Comm,
    replace: bool,
) -> Result<SendRecv, MpiError> {
    let obj = comm::get(c)?;
    let sendcount = count_of(sendcount)?;
    let recvcount = count_of(recvcount)?;
    let st = buffer(sendbuf, sendcount, sendtype)?;
    let rt = buffer(recvbuf, recvcount, recvtype)?;
    let copy = if replace {
        Some(packed(sendbuf, sendcount, &st)?)
    } else {
        None
    };
    SendRecv::start(
        &obj, sendbuf, sendcount, &st, dest, sendtag, recvbuf, recvcount, &rt, source, recvtag,
        copy,
    )
}

#[allow(clippy::too_many_arguments)]
unsafe fn sendrecv_blocking(
    sendbuf: *const c_void,
    sendcount: i64,
    sendtype: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    recvbuf: *mut c_void,
    recvcount: i64,
    recvtype: MPI_Datatype,
    source: c_int,
    recvtag: c_int,
    c: MPI_Comm,
    st: *mut MPI_Status,
    replace: bool,
) -> Result<(), MpiError> {
    let mut op = sendrecv_any(
        sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag,
        c, replace,
    )?;
    let s = op
        .progress(true)?
        .ok_or_else(|| MpiError::new(MPI_ERR_INTERN, "a blocking send-receive did not complete"))?;
    status::write(st, s);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn sendrecv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    source: c_int,
    recvtag: c_int,
    c: MPI_Comm,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    sendrecv_blocking(
        sendbuf,
        sendcount as i64,
        sendtype,
        dest,
        sendtag,
        recvbuf,
        recvcount as i64,
        recvtype,
        source,
        recvtag,
        c,
        st,
        false,
    )
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn sendrecv_c(
    sendbuf: *const c_void,
    sendcount: MPI_Count,
    sendtype: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    recvbuf: *mut c_void,
    recvcount: MPI_Count,
    recvtype: MPI_Datatype,
    source: c_int,
    recvtag: c_int,
    c: MPI_Comm,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    sendrecv_blocking(
        sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag,
        c, st, false,
    )
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn sendrecv_replace(
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    source: c_int,
    recvtag: c_int,
    c: MPI_Comm,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    sendrecv_replace_c(
        buf,
        count as MPI_Count,
        dt,
        dest,
        sendtag,
        source,
        recvtag,
        c,
        st,
    )
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn sendrecv_replace_c(
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    source: c_int,
    recvtag: c_int,
    c: MPI_Comm,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    sendrecv_blocking(
        buf, count, dt, dest, sendtag, buf, count, dt, source, recvtag, c, st, true,
    )
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn isendrecv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    source: c_int,
    recvtag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    isendrecv_c(
        sendbuf,
        sendcount as MPI_Count,
        sendtype,
        dest,
        sendtag,
        recvbuf,
        recvcount as MPI_Count,
        recvtype,
        source,
        recvtag,
        c,
        r,
    )
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn isendrecv_c(
    sendbuf: *const c_void,
    sendcount: MPI_Count,
    sendtype: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    recvbuf: *mut c_void,
    recvcount: MPI_Count,
    recvtype: MPI_Datatype,
    source: c_int,
    recvtag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let op = sendrecv_any(
        sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag,
        c, false,
    )?;
    new_request(r, Box::new(op), c)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn isendrecv_replace(
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    source: c_int,
    recvtag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    isendrecv_replace_c(
        buf,
        count as MPI_Count,
        dt,
        dest,
        sendtag,
        source,
        recvtag,
        c,
        r,
    )
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn isendrecv_replace_c(
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    dest: c_int,
    sendtag: c_int,
    source: c_int,
    recvtag: c_int,
    c: MPI_Comm,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let op = sendrecv_any(
        buf, count, dt, dest, sendtag, buf, count, dt, source, recvtag, c, true,
    )?;
    new_request(r, Box::new(op), c)
}

// ---- probes ----

unsafe fn probe_any(
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    block: bool,
) -> Result<Option<MPI_Status>, MpiError> {
    let obj = comm::get(c)?;
    let tag = recv_tag(tag)?;
    let Some(src) = source_of(source)? else {
        return Ok(Some(status_proc_null()));
    };
    let (core, ep) = obj.p2p_from(src)?;
    Ok(ep.probe(core, src, tag, block)?.map(|s| status::of(&s)))
}

pub unsafe fn probe(
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let s = probe_any(source, tag, c, true)?
        .ok_or_else(|| MpiError::new(MPI_ERR_INTERN, "a blocking probe found nothing"))?;
    status::write(st, s);
    Ok(())
}

pub unsafe fn iprobe(
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    flag: *mut c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    let r = probe_any(source, tag, c, false)?;
    *flag = r.is_some() as c_int;
    if let Some(s) = r {
        status::write(st, s);
    }
    Ok(())
}

unsafe fn mprobe_any(
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    block: bool,
    m: *mut MPI_Message,
    st: *mut MPI_Status,
) -> Result<bool, MpiError> {
    let obj = comm::get(c)?;
    if m.is_null() {
        return Err(MpiError::arg("message is NULL"));
    }
    let tag = recv_tag(tag)?;
    let Some(src) = source_of(source)? else {
        *m = MPI_MESSAGE_NO_PROC;
        status::write(st, status_proc_null());
        return Ok(true);
    };
    let (core, ep) = obj.p2p_from(src)?;
    match ep.mprobe(core, src, tag, block)? {
        None => Ok(false),
        Some(msg) => {
            status::write(st, status::of(&msg.status));
            *m = message::register(msg, c);
            Ok(true)
        }
    }
}

pub unsafe fn mprobe(
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    m: *mut MPI_Message,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    mprobe_any(source, tag, c, true, m, st)?;
    Ok(())
}

pub unsafe fn improbe(
    source: c_int,
    tag: c_int,
    c: MPI_Comm,
    flag: *mut c_int,
    m: *mut MPI_Message,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    *flag = mprobe_any(source, tag, c, false, m, st)? as c_int;
    Ok(())
}

/// Receives the matched message `*m` (setting `*m` to `MPI_MESSAGE_NULL`); its status, and
/// the communicator to raise errors on.
unsafe fn mrecv_any(
    buf: *mut c_void,
    count: i64,
    dt: MPI_Datatype,
    m: *mut MPI_Message,
) -> Result<(Result<MPI_Status, MpiError>, Option<MPI_Comm>), MpiError> {
    let h = crate::cabi::read(m, "message")?;
    let count = count_of(count)?;
    let t = buffer(buf, count, dt)?;
    if h == MPI_MESSAGE_NO_PROC {
        *m = MPI_MESSAGE_NULL;
        return Ok((Ok(status_proc_null()), None));
    }
    let (msg, c) = message::take(h)?;
    *m = MPI_MESSAGE_NULL;
    let r = msg
        .receive(buf.cast(), count, &t)
        .map(|s| status::of(&s))
        .map_err(|e| MpiError::from(e).on(Raise::Comm(c)));
    Ok((r, Some(c)))
}

pub unsafe fn mrecv(
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    m: *mut MPI_Message,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    mrecv_c(buf, count as MPI_Count, dt, m, st)
}

pub unsafe fn mrecv_c(
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    m: *mut MPI_Message,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let s = mrecv_any(buf, count, dt, m)?.0?;
    status::write(st, s);
    Ok(())
}

/// An operation complete when it started (`MPI_Imrecv`: the data is already here).
struct Finished(Option<Result<MPI_Status, MpiError>>);

impl Operation for Finished {
    fn progress(&mut self, _block: bool) -> Result<Option<MPI_Status>, MpiError> {
        match self.0.take() {
            Some(r) => r.map(Some),
            None => Err(MpiError::new(MPI_ERR_REQUEST, "request already completed")),
        }
    }
    fn is_active(&self) -> bool {
        self.0.is_some()
    }
}

pub unsafe fn imrecv(
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    m: *mut MPI_Message,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    imrecv_c(buf, count as MPI_Count, dt, m, r)
}

pub unsafe fn imrecv_c(
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    m: *mut MPI_Message,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let (res, c) = mrecv_any(buf, count, dt, m)?;
    let raise = c.map_or(Raise::Default, Raise::Comm);
    *r = request::register(Box::new(Finished(Some(res))), raise);
    Ok(())
}

// ---- the attached buffer of buffered sends ----

fn attach(owner: bsend::Owner, buffer: *mut c_void, size: i64) -> Result<(), MpiError> {
    if buffer as usize == MPI_BUFFER_AUTOMATIC {
        return Ok(bsend::attach_to(owner, MPI_BUFFER_AUTOMATIC, usize::MAX)?);
    }
    let size = usize::try_from(size)
        .map_err(|_| MpiError::new(MPI_ERR_BUFFER, format!("buffer size {size} is negative")))?;
    if buffer.is_null() && size > 0 {
        return Err(MpiError::new(MPI_ERR_BUFFER, "buffer is NULL"));
    }
    Ok(bsend::attach_to(owner, buffer as usize, size)?)
}

/// Detaches: writes the buffer's address to `*(void **)addr`; its size.
unsafe fn detach(owner: bsend::Owner, addr: *mut c_void) -> Result<usize, MpiError> {
    if addr.is_null() {
        return Err(MpiError::arg("buffer_addr is NULL"));
    }
    let (a, size) = bsend::detach_from(owner)?;
    *addr.cast::<*mut c_void>() = a as *mut c_void;
    Ok(if a == MPI_BUFFER_AUTOMATIC { 0 } else { size })
}

/// A communicator's own buffer.
fn comm_owner(c: MPI_Comm) -> Result<bsend::Owner, MpiError> {
    // The endpoint learns its key here too (communicators made by any path have one).
    comm::get(c)?.ep.set_buffer_key(c.0);
    Ok(bsend::Owner::Comm(c.0))
}

pub fn buffer_attach(buffer: *mut c_void, size: c_int) -> Result<(), MpiError> {
    attach(bsend::Owner::Process, buffer, size as i64)
}

pub fn buffer_attach_c(buffer: *mut c_void, size: MPI_Count) -> Result<(), MpiError> {
    attach(bsend::Owner::Process, buffer, size)
}

pub unsafe fn buffer_detach(addr: *mut c_void, size: *mut c_int) -> Result<(), MpiError> {
    if size.is_null() {
        return Err(MpiError::arg("size is NULL"));
    }
    let n = detach(bsend::Owner::Process, addr)?;
    out(size, c_int::try_from(n).unwrap_or(c_int::MAX), "size")
}

pub unsafe fn buffer_detach_c(addr: *mut c_void, size: *mut MPI_Count) -> Result<(), MpiError> {
    if size.is_null() {
        return Err(MpiError::arg("size is NULL"));
    }
    let n = detach(bsend::Owner::Process, addr)?;
    out(size, n as MPI_Count, "size")
}

pub fn buffer_flush() -> Result<(), MpiError> {
    Ok(bsend::flush()?)
}

pub fn comm_attach_buffer(c: MPI_Comm, buffer: *mut c_void, size: c_int) -> Result<(), MpiError> {
    attach(comm_owner(c)?, buffer, size as i64)
}

pub fn comm_attach_buffer_c(
    c: MPI_Comm,
    buffer: *mut c_void,
    size: MPI_Count,
) -> Result<(), MpiError> {
    attach(comm_owner(c)?, buffer, size)
}

pub unsafe fn comm_detach_buffer(
    c: MPI_Comm,
    addr: *mut c_void,
    size: *mut c_int,
) -> Result<(), MpiError> {
    if size.is_null() {
        return Err(MpiError::arg("size is NULL"));
    }
    let n = detach(comm_owner(c)?, addr)?;
    out(size, c_int::try_from(n).unwrap_or(c_int::MAX), "size")
}

pub unsafe fn comm_detach_buffer_c(
    c: MPI_Comm,
    addr: *mut c_void,
    size: *mut MPI_Count,
) -> Result<(), MpiError> {
    if size.is_null() {
        return Err(MpiError::arg("size is NULL"));
    }
    let n = detach(comm_owner(c)?, addr)?;
    out(size, n as MPI_Count, "size")
}

/// A session's buffer (used by the communicators derived from the session).
fn session_owner(s: MPI_Session) -> Result<bsend::Owner, MpiError> {
    crate::objects::session::get(s)?;
    Ok(bsend::Owner::Session(s.0))
}

pub fn session_attach_buffer(
    s: MPI_Session,
    buffer: *mut c_void,
    size: c_int,
) -> Result<(), MpiError> {
    attach(session_owner(s)?, buffer, size as i64)
}

pub fn session_attach_buffer_c(
    s: MPI_Session,
    buffer: *mut c_void,
    size: MPI_Count,
) -> Result<(), MpiError> {
    attach(session_owner(s)?, buffer, size)
}

pub unsafe fn session_detach_buffer(
    s: MPI_Session,
    addr: *mut c_void,
    size: *mut c_int,
) -> Result<(), MpiError> {
    if size.is_null() {
        return Err(MpiError::arg("size is NULL"));
    }
    let n = detach(session_owner(s)?, addr)?;
    out(size, c_int::try_from(n).unwrap_or(c_int::MAX), "size")
}

pub unsafe fn session_detach_buffer_c(
    s: MPI_Session,
    addr: *mut c_void,
    size: *mut MPI_Count,
) -> Result<(), MpiError> {
    if size.is_null() {
        return Err(MpiError::arg("size is NULL"));
    }
    let n = detach(session_owner(s)?, addr)?;
    out(size, n as MPI_Count, "size")
}

pub fn session_flush_buffer(s: MPI_Session) -> Result<(), MpiError> {
    Ok(bsend::flush_of(session_owner(s)?)?)
}

pub unsafe fn session_iflush_buffer(s: MPI_Session, r: *mut MPI_Request) -> Result<(), MpiError> {
    let owner = session_owner(s)?;
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    *r = request::register(Box::new(Flush(owner)), Raise::Session(s));
    Ok(())
}

pub fn comm_flush_buffer(c: MPI_Comm) -> Result<(), MpiError> {
    Ok(bsend::flush_of(comm_owner(c)?)?)
}

/// `MPI_Buffer_iflush`, `MPI_Comm_iflush_buffer`: complete when the buffer's messages (those
/// buffered before and since) have been sent.
struct Flush(bsend::Owner);

impl Operation for Flush {
    fn progress(&mut self, block: bool) -> Result<Option<MPI_Status>, MpiError> {
        if block {
            bsend::flush_of(self.0)?;
        } else if !bsend::flushed(self.0) {
            return Ok(None);
        }
        Ok(Some(status::empty(MPI_ANY_SOURCE)))
    }
}

pub unsafe fn buffer_iflush(r: *mut MPI_Request) -> Result<(), MpiError> {
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    *r = request::register(Box::new(Flush(bsend::Owner::Process)), Raise::Default);
    Ok(())
}

pub unsafe fn comm_iflush_buffer(c: MPI_Comm, r: *mut MPI_Request) -> Result<(), MpiError> {
    let owner = comm_owner(c)?;
    new_request(r, Box::new(Flush(owner)), c)
}
