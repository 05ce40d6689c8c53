//! C functions for point-to-point messages.

use super::handle::{self, fmi_comm};
use super::status::fmi_status;
use super::types::{datatype, fmi_datatype};
use super::{byte_len, guard, in_buf, out_buf};
use std::ffi::c_void;

/// Sends `count` elements of type `t` from `buf` to peer `dest`. Blocks until the message is
/// handed to the channel. Messages between two peers arrive in the order they were sent.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_send(
    comm: *mut fmi_comm,
    buf: *const c_void,
    count: usize,
    t: fmi_datatype,
    dest: u32,
) -> fmi_status {
    guard("fmi_send", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_send")?;
        let data = in_buf(buf, n, "buf")?;
        handle::with_comm(comm, |c| c.send(data, dest as usize))
    })
}

/// Receives one message of exactly `count` elements of type `t` from peer `src` into `buf`.
/// A message of another size fails with `FMI_ERR_SIZE_MISMATCH` (it is consumed, never truncated).
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_recv(
    comm: *mut fmi_comm,
    buf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    src: u32,
) -> fmi_status {
    guard("fmi_recv", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_recv")?;
        let out = out_buf(buf, n, "buf")?;
        handle::with_comm(comm, |c| c.recv(out, src as usize))
    })
}
