//! C functions for collective operations. Every peer must call them in the same order with
//! matching `count`, `t`, `op` and `root`. `FMI_IN_PLACE` follows MPI's rules.

use super::handle::{self, fmi_comm};
use super::ops::{self, fmi_op};
use super::status::fmi_status;
use super::types::{datatype, fmi_datatype};
use super::{byte_len, guard, in_buf, out_buf, overlaps};
use crate::error::{Error, Result};
use std::ffi::c_void;

/// Passed as a buffer of a collective, "in place" (MPI's `MPI_IN_PLACE`): the data is taken from,
/// and the result left in, the other buffer. Where it is accepted: `sendbuf` of fmi_reduce (at
/// the root), fmi_allreduce, fmi_scan, fmi_exscan, fmi_gather and fmi_gatherv (at the root),
/// fmi_allgather, fmi_allgatherv, fmi_alltoall, fmi_alltoallv, fmi_reduce_scatter_block and
/// fmi_reduce_scatter; `recvbuf` of fmi_scatter and fmi_scatterv (at the root). Anywhere else it
/// is `FMI_ERR_INVALID_ARG`.
// The address 1, as MPICH's MPI_IN_PLACE is -1: no buffer starts there. Written as a cast so that
// cbindgen emits it as such.
#[allow(clippy::manual_dangling_ptr)]
pub const FMI_IN_PLACE: *mut c_void = 1 as *mut c_void;

/// Whether `p` is [`FMI_IN_PLACE`].
pub(crate) fn is_in_place(p: *const c_void) -> bool {
    std::ptr::eq(p, FMI_IN_PLACE)
}

/// The send data as a slice; copied into `keep` first when it overlaps the receive buffer, so
/// that the Rust side never sees aliasing slices.
///
/// # Safety
/// As for [`in_buf`]: `sendbuf` must be valid for `len` bytes.
pub(super) unsafe fn send_view(
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

pub(super) fn check_root(c: &crate::Communicator, root: u32) -> Result<bool> {
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
/// on other peers). `sendbuf == recvbuf` is allowed. At the root, `sendbuf` may be
/// `FMI_IN_PLACE`: its block already is in `recvbuf`.
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
            if is_in_place(sendbuf) {
                let recv = out_buf(recvbuf, total, "recvbuf")?;
                return c.gather_in_place(recv, root as usize);
            }
            let mut keep = Vec::new();
            let send = send_view(sendbuf, n, recvbuf, total, &mut keep)?;
            let recv = out_buf(recvbuf, total, "recvbuf")?;
            c.gather(send, Some(recv), root as usize)
        })
    })
}

/// Scatters `root`'s `sendbuf` (num_peers*count elements; ignored, may be NULL, on other peers):
/// block i (elements i*count ..) goes to peer i's `recvbuf` (count elements). At the root,
/// `recvbuf` may be `FMI_IN_PLACE`: its block stays in `sendbuf`.
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
            if is_root && is_in_place(recvbuf) {
                let total = byte_len(n, c.size(), "fmi_scatter")?;
                return c.scatter_in_place(in_buf(sendbuf, total, "sendbuf")?, root as usize);
            }
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
/// (ignored, may be NULL, on other peers). `sendbuf == recvbuf` is allowed, and so is
/// `sendbuf == FMI_IN_PLACE` at the root (its contribution is in `recvbuf`).
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
            if is_in_place(sendbuf) || (n > 0 && std::ptr::eq(sendbuf, recvbuf)) {
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

/// The reductions of a whole buffer at every peer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Whole {
    Allreduce,
    Scan,
    Exscan,
}

/// Shared body of allreduce, scan and exscan: in place when `sendbuf` is `FMI_IN_PLACE` or the
/// buffers are the same, copying the send data first when they overlap otherwise.
pub(super) unsafe fn reduce_all(
    comm: *mut fmi_comm,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    op: fmi_op,
    kind: Whole,
) -> Result<()> {
    let dt = datatype(t)?;
    let func = match kind {
        Whole::Allreduce => "fmi_allreduce",
        Whole::Scan => "fmi_scan",
        Whole::Exscan => "fmi_exscan",
    };
    let n = byte_len(count, dt.size(), func)?;
    let op = ops::lookup(op)?;
    handle::with_comm(comm, |c| {
        if is_in_place(sendbuf) || (n > 0 && std::ptr::eq(sendbuf, recvbuf)) {
            let buf = out_buf(recvbuf, n, "recvbuf")?;
            return match kind {
                Whole::Allreduce => c.allreduce_in_place(buf, dt, &op),
                Whole::Scan => c.scan_in_place(buf, dt, &op),
                Whole::Exscan => c.exscan_in_place(buf, dt, &op),
            };
        }
        let mut keep = Vec::new();
        let send = send_view(sendbuf, n, recvbuf, n, &mut keep)?;
        let recv = out_buf(recvbuf, n, "recvbuf")?;
        match kind {
            Whole::Allreduce => c.allreduce(send, recv, dt, &op),
            Whole::Scan => c.scan(send, recv, dt, &op),
            Whole::Exscan => c.exscan(send, recv, dt, &op),
        }
    })
}

/// Reduces `count` elements of every peer's `sendbuf` with `op` into every peer's `recvbuf`;
/// all peers get identical results. `sendbuf == recvbuf` and `sendbuf == FMI_IN_PLACE` (the
/// contribution is in `recvbuf`) are allowed.
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
        reduce_all(comm, sendbuf, recvbuf, count, t, op, Whole::Allreduce)
    })
}

/// Inclusive prefix reduction: peer k's `recvbuf` gets v0 (+) v1 (+) ... (+) vk, folded left to
/// right. `sendbuf == recvbuf` and `sendbuf == FMI_IN_PLACE` are allowed.
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
        reduce_all(comm, sendbuf, recvbuf, count, t, op, Whole::Scan)
    })
}

/// Gathers `count` elements from every peer into every peer's `recvbuf` (num_peers*count
/// elements, peer i's block at element offset i*count). `sendbuf` may be `FMI_IN_PLACE`: this
/// peer's block already is in `recvbuf`.
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
            if is_in_place(sendbuf) {
                return c.allgather_in_place(out_buf(recvbuf, total, "recvbuf")?);
            }
            let mut keep = Vec::new();
            let send = send_view(sendbuf, n, recvbuf, total, &mut keep)?;
            let recv = out_buf(recvbuf, total, "recvbuf")?;
            c.allgather(send, recv)
        })
    })
}

/// Personalised exchange: block j of `sendbuf` (elements j*count ..) goes to peer j, and block i
/// of `recvbuf` comes from peer i. Both hold num_peers*count elements. `sendbuf` may be
/// `FMI_IN_PLACE`: `recvbuf` holds the blocks to send and receives the blocks.
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
            if is_in_place(sendbuf) {
                return c.alltoall_in_place(out_buf(recvbuf, total, "recvbuf")?);
            }
            let mut keep = Vec::new();
            let send = send_view(sendbuf, total, recvbuf, total, &mut keep)?;
            let recv = out_buf(recvbuf, total, "recvbuf")?;
            c.alltoall(send, recv)
        })
    })
}
