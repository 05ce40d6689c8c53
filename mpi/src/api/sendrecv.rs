//! Send-receive: `MPI_Sendrecv` and `MPI_Sendrecv_replace`, blocking and non-blocking
//! (`MPI_Isendrecv`, ...), with their `_c` large-count forms: a send and a receive started
//! together, complete when both are.

use super::p2p::{
    buffer, count_of, dest_of, irecv_req, isend_req, new_request, recv_tag, send_tag, source_of,
    status_proc_null,
};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::request::Operation;
use crate::objects::{comm, datatype, status};
use crate::p2p::{Mode, Req};
use crate::types::Type;
use std::ffi::{c_int, c_void};
use std::sync::Arc;

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
