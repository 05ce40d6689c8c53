//! C functions that pin a communicator's channel and read what each channel carried.

use super::handle::{self, fmi_comm};
use super::status::fmi_status;
use super::{guard, write_out};
use crate::error::{Error, Result};
use std::ffi::{c_char, CStr};

unsafe fn channel_name<'a>(p: *const c_char) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(p)
        .to_str()
        .map(Some)
        .map_err(|_| Error::invalid("channel name is not valid UTF-8"))
}

/// Pins `comm` to one channel: every later operation runs on `channel` ("direct", "redis" or
/// "s3"; it must be enabled in the configuration). NULL (or "auto") returns to the choice by the
/// model under the current hint (see `fmi_set_hint`).
///
/// Collective: every peer must call it at the same point with the same channel. The peers
/// exchange their choice: an unknown or disabled channel on any peer is `FMI_ERR_INVALID_ARG`
/// there and `FMI_ERR_MISMATCH` on the others; different channels are `FMI_ERR_MISMATCH` on
/// every peer. On any error the previous setting stays, on every peer.
///
/// # Safety
/// `channel`, if not NULL, must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fmi_set_channel(
    comm: *mut fmi_comm,
    channel: *const c_char,
) -> fmi_status {
    guard("fmi_set_channel", || {
        let name = channel_name(channel)?.unwrap_or("auto");
        handle::with_comm(comm, |c| c.pin_channel(name))
    })
}

/// What one channel of a communicator carried, as read by `fmi_comm_get_counters`. Counts start
/// at `fmi_init` (or the last `fmi_comm_reset_counters`) and include operations that failed.
/// Internal exchanges (init, `fmi_set_hint`, `fmi_set_channel`, `fmi_finalize`) are not counted.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct fmi_counters {
    /// Operations run on the channel by this peer: each `fmi_send`, each `fmi_recv`, each
    /// collective call.
    pub operations: u64,
    /// Bytes of those operations as the calls describe them: the message of a send or receive,
    /// `count * datatype size` of a collective (one peer's block), the whole send buffer of
    /// `fmi_alltoall`.
    pub bytes: u64,
    /// Time this peer spent in those operations, in nanoseconds.
    pub time_ns: u64,
    /// How many of those operations returned an error.
    pub errors: u64,
}

/// Writes the counters of `channel` ("direct", "redis" or "s3") of this peer's `comm` to `*out`,
/// or the sums over every channel when `channel` is NULL. A channel that is not enabled has
/// zero counters; an unknown name is `FMI_ERR_INVALID_ARG`. Not collective.
///
/// # Safety
/// `channel`, if not NULL, must be a NUL-terminated string; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_comm_get_counters(
    comm: *const fmi_comm,
    channel: *const c_char,
    out: *mut fmi_counters,
) -> fmi_status {
    guard("fmi_comm_get_counters", || {
        let name = channel_name(channel)?;
        let k = handle::with_comm(comm, |c| c.counters(name))?;
        write_out(
            out,
            fmi_counters {
                operations: k.operations,
                bytes: k.bytes,
                time_ns: k.time_ns,
                errors: k.errors,
            },
            "out",
        )
    })
}

/// Sets every counter of every channel of this peer's `comm` to zero. Not collective.
#[no_mangle]
pub extern "C" fn fmi_comm_reset_counters(comm: *mut fmi_comm) -> fmi_status {
    guard("fmi_comm_reset_counters", || {
        handle::with_comm(comm, |c| {
            c.reset_counters();
            Ok(())
        })
    })
}
