//! C functions for non-blocking collectives: the blocking collectives' arguments plus a request
//! handle (completed with `fmi_wait` and the other request calls).

use super::handle::{self, fmi_comm};
use super::ops::{self, fmi_op};
use super::request::{fmi_request, register};
use super::status::fmi_status;
use super::types::{datatype, fmi_datatype};
use super::{byte_len, guard, null, overlaps, write_out};
use crate::channel::request::{RecvBuf, SendBuf};
use crate::error::{Error, Result};
use crate::request::Request;
use std::ffi::c_void;

/// A send buffer for a request: the caller's memory, or a copy the request keeps when it
/// overlaps the receive buffer (which the collective writes meanwhile).
unsafe fn send_part(
    sendbuf: *const c_void,
    n: usize,
    recvbuf: *const c_void,
    rlen: usize,
) -> Result<(SendBuf, Option<Vec<u8>>)> {
    if n > 0 && sendbuf.is_null() {
        return Err(null("sendbuf"));
    }
    if overlaps(sendbuf, n, recvbuf, rlen) {
        let copy = std::slice::from_raw_parts(sendbuf.cast::<u8>(), n).to_vec();
        return Ok((SendBuf::new(copy.as_ptr(), n), Some(copy)));
    }
    Ok((SendBuf::new(sendbuf.cast(), n), None))
}

unsafe fn recv_part(recvbuf: *mut c_void, n: usize) -> Result<RecvBuf> {
    if n > 0 && recvbuf.is_null() {
        return Err(null("recvbuf"));
    }
    Ok(RecvBuf::new(recvbuf.cast(), n))
}

/// The buffers of an allgather or all-to-all of blocks of `n` bytes: a receive buffer of one
/// block per peer, and a send buffer of one block, or (`all`) one per peer.
unsafe fn block_parts(
    c: &crate::Communicator,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    n: usize,
    all: bool,
    what: &str,
) -> Result<(SendBuf, Option<Vec<u8>>, RecvBuf)> {
    let total = n
        .checked_mul(c.size())
        .ok_or_else(|| Error::invalid(format!("{what}: count is too large")))?;
    let recv = recv_part(recvbuf, total)?;
    let (send, copy) = send_part(sendbuf, if all { total } else { n }, recvbuf, total)?;
    Ok((send, copy, recv))
}

/// Registers `r` (keeping `copy` alive with it) and writes its handle.
unsafe fn hand_out(req: *mut *mut fmi_request, r: Request, copy: Option<Vec<u8>>) -> Result<()> {
    let r = match copy {
        Some(c) => r.owning(c),
        None => r,
    };
    write_out(req, register(r), "req")
}

fn check_req(req: *mut *mut fmi_request) -> Result<()> {
    if req.is_null() {
        return Err(null("req"));
    }
    Ok(())
}

fn root(r: u32) -> Result<usize> {
    usize::try_from(r).map_err(|_| Error::invalid(format!("root {r} out of range")))
}

/// Starts a barrier: the request completes once every peer has started it.
///
/// # Safety
/// `req` must be writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_ibarrier(
    comm: *mut fmi_comm,
    req: *mut *mut fmi_request,
) -> fmi_status {
    guard("fmi_ibarrier", || {
        check_req(req)?;
        let r = handle::with_comm(comm, |c| c.ibarrier())?;
        hand_out(req, r, None)
    })
}

/// Starts a broadcast of `count` elements of `buf` from `root`, as `fmi_bcast`. `buf` stays in
/// use until the request completes.
///
/// # Safety
/// `buf` must be valid for `count` elements of `t` until the request completes; `req` writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_ibcast(
    comm: *mut fmi_comm,
    buf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    root: u32,
    req: *mut *mut fmi_request,
) -> fmi_status {
    guard("fmi_ibcast", || {
        check_req(req)?;
        let n = byte_len(count, datatype(t)?.size(), "fmi_ibcast")?;
        let b = recv_part(buf, n).map_err(|_| null("buf"))?;
        let root = self::root(root)?;
        let r = handle::with_comm(comm, |c| c.ibcast(b, root))?;
        hand_out(req, r, None)
    })
}

/// Starts an allreduce, as `fmi_allreduce` (`sendbuf == recvbuf`: in place). The buffers stay in
/// use until the request completes.
///
/// # Safety
/// The buffers must be valid for `count` elements of `t` until the request completes; `req`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_iallreduce(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    op: fmi_op,
    req: *mut *mut fmi_request,
) -> fmi_status {
    guard("fmi_iallreduce", || {
        check_req(req)?;
        let dt = datatype(t)?;
        let n = byte_len(count, dt.size(), "fmi_iallreduce")?;
        let op = ops::lookup(op)?;
        let recv = recv_part(recvbuf, n)?;
        let (send, copy) = if n > 0 && std::ptr::eq(sendbuf, recvbuf) {
            (None, None)
        } else {
            let (s, c) = send_part(sendbuf, n, recvbuf, n)?;
            (Some(s), c)
        };
        let r = handle::with_comm(comm, |c| c.iallreduce(send, recv, dt, &op))?;
        hand_out(req, r, copy)
    })
}

/// Starts a reduction into `recvbuf` at `root` (ignored, may be NULL, elsewhere), as
/// `fmi_reduce`. The buffers stay in use until the request completes.
///
/// # Safety
/// The buffers must be valid for `count` elements of `t` until the request completes; `req`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_ireduce(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    op: fmi_op,
    root: u32,
    req: *mut *mut fmi_request,
) -> fmi_status {
    guard("fmi_ireduce", || {
        check_req(req)?;
        let dt = datatype(t)?;
        let n = byte_len(count, dt.size(), "fmi_ireduce")?;
        let op = ops::lookup(op)?;
        let root = self::root(root)?;
        let r = handle::with_comm(comm, |c| {
            let (recv, rlen) = if c.rank() == root {
                (Some(recv_part(recvbuf, n)?), n)
            } else {
                (None, 0)
            };
            let (send, copy) = send_part(sendbuf, n, recvbuf, rlen)?;
            c.ireduce(send, recv, dt, &op, root).map(|r| (r, copy))
        })?;
        hand_out(req, r.0, r.1)
    })
}

/// Starts an allgather, as `fmi_allgather`. The buffers stay in use until the request completes.
///
/// # Safety
/// `sendbuf` must be valid for `count` elements and `recvbuf` for peers*count elements of `t`
/// until the request completes; `req` writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_iallgather(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    req: *mut *mut fmi_request,
) -> fmi_status {
    guard("fmi_iallgather", || {
        check_req(req)?;
        let n = byte_len(count, datatype(t)?.size(), "fmi_iallgather")?;
        let r = handle::with_comm(comm, |c| {
            let (send, copy, recv) = block_parts(c, sendbuf, recvbuf, n, false, "fmi_iallgather")?;
            c.iallgather(send, recv).map(|r| (r, copy))
        })?;
        hand_out(req, r.0, r.1)
    })
}

/// Starts an all-to-all, as `fmi_alltoall`. The buffers stay in use until the request completes.
///
/// # Safety
/// Both buffers must be valid for peers*count elements of `t` until the request completes;
/// `req` writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_ialltoall(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    req: *mut *mut fmi_request,
) -> fmi_status {
    guard("fmi_ialltoall", || {
        check_req(req)?;
        let n = byte_len(count, datatype(t)?.size(), "fmi_ialltoall")?;
        let r = handle::with_comm(comm, |c| {
            let (send, copy, recv) = block_parts(c, sendbuf, recvbuf, n, true, "fmi_ialltoall")?;
            c.ialltoall(send, recv).map(|r| (r, copy))
        })?;
        hand_out(req, r.0, r.1)
    })
}
