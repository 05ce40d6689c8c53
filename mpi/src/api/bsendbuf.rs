//! The attached buffer of buffered sends (`MPI_Bsend`, ...): attach, detach and flush, for the
//! process, a communicator or a session, blocking and non-blocking, with their `_c` forms.

use super::p2p::new_request;
use crate::cabi::out;
use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::request::{self, Operation};
use crate::objects::{comm, status};
use crate::p2p::bsend;
use std::ffi::{c_int, c_void};

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
