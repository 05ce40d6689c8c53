//! C functions that create, query, configure and release communicators.

use super::handle::{self, fmi_comm};
use super::status::fmi_status;
use super::types::{self, fmi_hint};
use super::{guard, write_out};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::Communicator;
use std::ffi::{c_char, CStr};
use std::path::Path;
use std::time::Duration;

unsafe fn c_str<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(p)
        .to_str()
        .map(Some)
        .map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

fn create(
    peer_id: u32,
    num_peers: u32,
    cfg: Option<&str>,
    name: &str,
    mem: u32,
    out: *mut *mut fmi_comm,
) -> Result<()> {
    crate::log::init();
    let cfg = Config::load(cfg.map(Path::new))?;
    let comm = Communicator::new(peer_id, num_peers, cfg, name, mem)?;
    let h = handle::register(comm);
    // SAFETY: `out` was checked for NULL by the caller.
    unsafe { out.write(h) };
    Ok(())
}

/// Creates a communicator: joins peer `peer_id` (0-based) of `num_peers` to the group `comm_name`.
///
/// Collective: every peer of the group must call it; it returns when all peers are connected, or
/// with `FMI_ERR_TIMEOUT` after the configured timeout (default 30 s).
/// - `config_path`: FMI JSON configuration file, or NULL for the defaults (direct channel only,
///   rendezvous server from `FMI_RENDEZVOUS=host:port` or 127.0.0.1:10000).
/// - `comm_name`: 1 to 256 printable ASCII characters, no spaces; unique per running job.
/// - `faas_memory_mib`: memory of the function in MiB, for the cost model (0 means 128).
/// - `out`: receives the handle; release it with `fmi_finalize`.
///
/// The environment variables `FMI_RENDEZVOUS` and `FMI_TIMEOUT_MS` override the configuration.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_init(
    peer_id: u32,
    num_peers: u32,
    config_path: *const c_char,
    comm_name: *const c_char,
    faas_memory_mib: u32,
    out: *mut *mut fmi_comm,
) -> fmi_status {
    guard("fmi_init", || {
        write_out(out, std::ptr::null_mut(), "out")?;
        let name = c_str(comm_name, "comm_name")?
            .ok_or_else(|| Error::new(crate::ErrorKind::NullArg, "comm_name is NULL"))?;
        let cfg = c_str(config_path, "config_path")?;
        create(peer_id, num_peers, cfg, name, faas_memory_mib, out)
    })
}

/// Like `fmi_init`, with the arguments taken from the environment (as set by `fmirun`):
/// `FMI_PEER_ID`, `FMI_NUM_PEERS`, `FMI_COMM_NAME` (required), `FMI_CONFIG` and `FMI_FAAS_MEMORY`
/// (optional), plus the overrides `FMI_RENDEZVOUS` and `FMI_TIMEOUT_MS`.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_init_from_env(out: *mut *mut fmi_comm) -> fmi_status {
    guard("fmi_init_from_env", || {
        write_out(out, std::ptr::null_mut(), "out")?;
        crate::log::init();
        let comm = Communicator::from_env()?;
        out.write(handle::register(comm));
        Ok(())
    })
}

/// Collective close: waits until every peer reached `fmi_finalize` (so no peer loses data still in
/// flight), then releases all resources and the handle, which must not be used afterwards (later
/// use returns `FMI_ERR_INVALID_ARG`). The handle is released even when the closing barrier fails.
#[no_mangle]
pub extern "C" fn fmi_finalize(comm: *mut fmi_comm) -> fmi_status {
    guard("fmi_finalize", || handle::take(comm)?.finalize())
}

/// Releases `comm` at once, without the closing barrier of `fmi_finalize`: for error paths, when
/// a peer must stop without waiting for the others. The other peers' pending and later operations
/// with this peer fail with `FMI_ERR_PEER_LOST`. The handle must not be used afterwards.
#[no_mangle]
pub extern "C" fn fmi_release(comm: *mut fmi_comm) -> fmi_status {
    guard("fmi_release", || {
        drop(handle::take(comm)?);
        Ok(())
    })
}

/// Writes this peer's id (0-based) to `*rank`.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_comm_rank(comm: *const fmi_comm, rank: *mut u32) -> fmi_status {
    guard("fmi_comm_rank", || {
        let r = handle::with_comm(comm, |c| Ok(c.rank() as u32))?;
        write_out(rank, r, "rank")
    })
}

/// Writes the number of peers to `*size`.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_comm_size(comm: *const fmi_comm, size: *mut u32) -> fmi_status {
    guard("fmi_comm_size", || {
        let s = handle::with_comm(comm, |c| Ok(c.size() as u32))?;
        write_out(size, s, "size")
    })
}

/// How a peer is reached: see `fmi_comm_peer_link`.
pub type fmi_link = u32;
/// The peer is this rank itself.
pub const FMI_LINK_SELF: fmi_link = 0;
/// A direct TCP connection (through NATs by hole punching where needed).
pub const FMI_LINK_DIRECT: fmi_link = 1;
/// Relayed through the rendezvous server, because no direct connection could be punched.
pub const FMI_LINK_RELAYED: fmi_link = 2;

/// Writes how `peer` is reached to `*link`: `FMI_LINK_SELF`, `FMI_LINK_DIRECT` or
/// `FMI_LINK_RELAYED` (every relayed pair is also logged at `FMI_LOG=info`).
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_comm_peer_link(
    comm: *const fmi_comm,
    peer: u32,
    link: *mut fmi_link,
) -> fmi_status {
    guard("fmi_comm_peer_link", || {
        let l = handle::with_comm(comm, |c| c.peer_link(peer as usize))?;
        let code = match l {
            None => FMI_LINK_SELF,
            Some(crate::channel::Link::Direct) => FMI_LINK_DIRECT,
            Some(crate::channel::Link::Relayed) => FMI_LINK_RELAYED,
        };
        write_out(link, code, "link")
    })
}

/// Sets the channel-selection hint: `FMI_HINT_CHEAP` (the default) runs each later operation on
/// the enabled channel with the lowest modelled cost, `FMI_HINT_FAST` on the one with the lowest
/// modelled latency (unless `fmi_set_channel` pinned one; with one channel enabled the hint
/// changes nothing). See docs/model.md.
///
/// Collective: every peer must call it at the same point with the same hint. The peers exchange
/// their hints; if they differ, every peer returns `FMI_ERR_MISMATCH` and keeps its previous hint.
/// An invalid `hint` is `FMI_ERR_INVALID_ARG` on the calling peer only, before any exchange.
#[no_mangle]
pub extern "C" fn fmi_set_hint(comm: *mut fmi_comm, hint: fmi_hint) -> fmi_status {
    guard("fmi_set_hint", || {
        let h = types::hint(hint)?;
        handle::with_comm(comm, |c| c.set_hint(h))
    })
}

/// Sets the bound, in milliseconds, of every later blocking call on `comm` (must be > 0).
#[no_mangle]
pub extern "C" fn fmi_set_timeout(comm: *mut fmi_comm, timeout_ms: u64) -> fmi_status {
    guard("fmi_set_timeout", || {
        handle::with_comm(comm, |c| c.set_timeout(Duration::from_millis(timeout_ms)))
    })
}

/// Writes the current timeout of `comm`, in milliseconds, to `*timeout_ms`.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_get_timeout(
    comm: *const fmi_comm,
    timeout_ms: *mut u64,
) -> fmi_status {
    guard("fmi_get_timeout", || {
        let t = handle::with_comm(comm, |c| Ok(c.timeout().as_millis() as u64))?;
        write_out(timeout_ms, t, "timeout_ms")
    })
}
