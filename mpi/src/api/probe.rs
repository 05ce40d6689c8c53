//! Probes and matched receives: `MPI_Probe`, `MPI_Iprobe`, `MPI_Mprobe`, `MPI_Improbe`,
//! `MPI_Mrecv` and `MPI_Imrecv` (with their `_c` large-count forms).

use super::p2p::{buffer, count_of, recv_tag, source_of, status_proc_null};
use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::request::{self, Operation};
use crate::objects::{comm, message, status};
use std::ffi::{c_int, c_void};

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
