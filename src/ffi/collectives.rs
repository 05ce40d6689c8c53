//! C functions for collective operations. Every peer must call them in the same order with
//! matching `count`, `t`, `op` and `root`.

use super::handle::{self, fmi_comm};
use super::ops::{self, fmi_op};
use super::status::fmi_status;
use super::types::{datatype, fmi_datatype};
use super::{byte_len, guard, in_buf, out_buf, overlaps};
use crate::error::{Error, Result};
use std::ffi::c_void;

/// The send data as a slice; copied into `keep` first when it overlaps the receive buffer, so
/// that the Rust side never sees aliasing slices.
///
/// # Safety
/// As for [`in_buf`]: `sendbuf` must be valid for `len` bytes.
unsafe fn send_view(
    sendbuf: *const c_void,
    len: usize,
    recvbuf: *const c_void,
    recv_len: usize,
    keep: &mut Vec<u8>,
) -> Result<&[u8]> {
    let send = in_buf(sendbuf, len, "sendbuf")?;
    if overlaps(sendbuf, len, recvbuf, recv_len) {
        *keep = send.to_vec();
        return Ok(&keep[..]);
    }
    Ok(send)
}

fn check_root(c: &crate::Communicator, root: u32) -> Result<bool> {
    if root as usize >= c.size() {
        return Err(Error::invalid(format!(
            "root {root} out of range for {} peers",
            c.size()
        )));
    }
    Ok(c.rank() == root as usize)
}

/// Broadcasts `count` elements of `buf` from peer `root` to `buf` on every peer.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_bcast(
    comm: *mut fmi_comm,
    buf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    root: u32,
) -> fmi_status {
    guard("fmi_bcast", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_bcast")?;
        let b = out_buf(buf, n, "buf")?;
        handle::with_comm(comm, |c| c.bcast(b, root as usize))
    })
}

/// Returns once every peer has called `fmi_barrier`.
#[no_mangle]
pub extern "C" fn fmi_barrier(comm: *mut fmi_comm) -> fmi_status {
    guard("fmi_barrier", || handle::with_comm(comm, |c| c.barrier()))
}

/// Gathers `count` elements from every peer's `sendbuf` into `recvbuf` at `root`, peer i's block
/// at element offset i*count (`recvbuf` holds num_peers*count elements; ignored, may be NULL,
/// on other peers). `sendbuf == recvbuf` is allowed.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_gather(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    root: u32,
) -> fmi_status {
    guard("fmi_gather", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_gather")?;
        handle::with_comm(comm, |c| {
            let is_root = check_root(c, root)?;
            if !is_root {
                return c.gather(in_buf(sendbuf, n, "sendbuf")?, None, root as usize);
            }
            let total = byte_len(n, c.size(), "fmi_gather")?;
            let mut keep = Vec::new();
            let send = send_view(sendbuf, n, recvbuf, total, &mut keep)?;
            let recv = out_buf(recvbuf, total, "recvbuf")?;
            c.gather(send, Some(recv), root as usize)
        })
    })
}

/// Scatters `root`'s `sendbuf` (num_peers*count elements; ignored, may be NULL, on other peers):
/// block i (elements i*count ..) goes to peer i's `recvbuf` (count elements).
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_scatter(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    root: u32,
) -> fmi_status {
    guard("fmi_scatter", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_scatter")?;
        handle::with_comm(comm, |c| {
            let is_root = check_root(c, root)?;
            let recv = out_buf(recvbuf, n, "recvbuf")?;
            if !is_root {
                return c.scatter(None, recv, root as usize);
            }
            let total = byte_len(n, c.size(), "fmi_scatter")?;
            let mut keep = Vec::new();
            let send = send_view(sendbuf, total, recvbuf, n, &mut keep)?;
            c.scatter(Some(send), recv, root as usize)
        })
    })
}

/// Reduces `count` elements of every peer's `sendbuf` with `op` into `recvbuf` at `root`
/// (ignored, may be NULL, on other peers). `sendbuf == recvbuf` is allowed.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_reduce(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    op: fmi_op,
    root: u32,
) -> fmi_status {
    guard("fmi_reduce", || {
        let dt = datatype(t)?;
        let n = byte_len(count, dt.size(), "fmi_reduce")?;
        let op = ops::lookup(op)?;
        handle::with_comm(comm, |c| {
            let is_root = check_root(c, root)?;
            if !is_root {
                let send = in_buf(sendbuf, n, "sendbuf")?;
                return c.reduce(send, None, dt, &op, root as usize);
            }
            if n > 0 && std::ptr::eq(sendbuf, recvbuf) {
                let buf = out_buf(recvbuf, n, "recvbuf")?;
                return c.reduce_in_place(buf, dt, &op, root as usize);
            }
            let mut keep = Vec::new();
            let send = send_view(sendbuf, n, recvbuf, n, &mut keep)?;
            let recv = out_buf(recvbuf, n, "recvbuf")?;
            c.reduce(send, Some(recv), dt, &op, root as usize)
        })
    })
}

/// Shared body of allreduce and scan: in place when the buffers are the same, copying the send
/// data first when they overlap otherwise.
unsafe fn reduce_all(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    op: fmi_op,
    scan: bool,
) -> Result<()> {
    let dt = datatype(t)?;
    let n = byte_len(
        count,
        dt.size(),
        if scan { "fmi_scan" } else { "fmi_allreduce" },
    )?;
    let op = ops::lookup(op)?;
    handle::with_comm(comm, |c| {
        if n > 0 && std::ptr::eq(sendbuf, recvbuf) {
            let buf = out_buf(recvbuf, n, "recvbuf")?;
            return if scan {
                c.scan_in_place(buf, dt, &op)
            } else {
                c.allreduce_in_place(buf, dt, &op)
            };
        }
        let mut keep = Vec::new();
        let send = send_view(sendbuf, n, recvbuf, n, &mut keep)?;
        let recv = out_buf(recvbuf, n, "recvbuf")?;
        if scan {
            c.scan(send, recv, dt, &op)
        } else {
            c.allreduce(send, recv, dt, &op)
        }
    })
}

/// Reduces `count` elements of every peer's `sendbuf` with `op` into every peer's `recvbuf`;
/// all peers get identical results. `sendbuf == recvbuf` is allowed.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_allreduce(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    op: fmi_op,
) -> fmi_status {
    guard("fmi_allreduce", || {
        reduce_all(comm, sendbuf, recvbuf, count, t, op, false)
    })
}

/// Inclusive prefix reduction: peer k's `recvbuf` gets v0 (+) v1 (+) ... (+) vk, folded left to
/// right. `sendbuf == recvbuf` is allowed.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_scan(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    op: fmi_op,
) -> fmi_status {
    guard("fmi_scan", || {
        reduce_all(comm, sendbuf, recvbuf, count, t, op, true)
    })
}

/// Gathers `count` elements from every peer into every peer's `recvbuf` (num_peers*count
/// elements, peer i's block at element offset i*count).
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_allgather(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
) -> fmi_status {
    guard("fmi_allgather", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_allgather")?;
        handle::with_comm(comm, |c| {
            let total = byte_len(n, c.size(), "fmi_allgather")?;
            let mut keep = Vec::new();
            let send = send_view(sendbuf, n, recvbuf, total, &mut keep)?;
            let recv = out_buf(recvbuf, total, "recvbuf")?;
            c.allgather(send, recv)
        })
    })
}

/// Personalised exchange: block j of `sendbuf` (elements j*count ..) goes to peer j, and block i
/// of `recvbuf` comes from peer i. Both hold num_peers*count elements.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_alltoall(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
) -> fmi_status {
    guard("fmi_alltoall", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_alltoall")?;
        handle::with_comm(comm, |c| {
            let total = byte_len(n, c.size(), "fmi_alltoall")?;
            let mut keep = Vec::new();
            let send = send_view(sendbuf, total, recvbuf, total, &mut keep)?;
            let recv = out_buf(recvbuf, total, "recvbuf")?;
            c.alltoall(send, recv)
        })
    })
}
