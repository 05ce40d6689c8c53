//! C functions for non-blocking point-to-point messages: `fmi_isend`, `fmi_irecv` and the
//! completion calls on their request handles (wait, test, waitall, waitany, testall, free).
//!
//! A request handle is an opaque id looked up in a registry (never dereferenced), so a stale,
//! freed or foreign handle is an error, not a crash. A call that completes a request removes it
//! and sets the caller's handle to NULL; NULL handles in arrays are skipped, as MPI skips
//! `MPI_REQUEST_NULL`.

use super::handle::{self, fmi_comm};
use super::status::fmi_status;
use super::tagged::{fmi_msg_status, parse_send_tag, parse_source, put_status, rank, tag_sel};
use super::types::{datatype, fmi_datatype};
use super::{byte_len, guard, null, write_out};
use crate::channel::request::{RecvBuf, SendBuf};
use crate::error::{Error, ErrorKind, Result};
use crate::request::{self, Request};
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Opaque handle of a non-blocking operation, from `fmi_isend` / `fmi_irecv`.
pub struct fmi_request {
    _private: [u8; 0],
}

/// `fmi_waitany`'s index when no request was active (`SIZE_MAX`; in the header through
/// cbindgen.toml's `after_includes`, as cbindgen cannot spell `usize::MAX`).
/// cbindgen:ignore
pub const FMI_UNDEFINED_INDEX: usize = usize::MAX;

static REQUESTS: Lazy<Mutex<HashMap<usize, Request>>> = Lazy::new(|| Mutex::new(HashMap::new()));
/// Handle ids are never reused, so a handle used after its completion is always detected.
static NEXT_ID: AtomicUsize = AtomicUsize::new(0x10_0000);

/// Registers a started request and returns its handle.
pub(super) fn register(r: Request) -> *mut fmi_request {
    let id = NEXT_ID.fetch_add(16, Ordering::Relaxed);
    REQUESTS.lock().insert(id, r);
    std::ptr::without_provenance_mut(id)
}

/// Takes the request behind `*h` out of the registry (the caller puts it back or drops it).
unsafe fn take(h: *mut *mut fmi_request) -> Result<Request> {
    if h.is_null() {
        return Err(null("request pointer"));
    }
    let id = *h as usize;
    if id == 0 {
        return Err(Error::new(ErrorKind::NullArg, "request handle is NULL"));
    }
    REQUESTS.lock().remove(&id).ok_or_else(not_live)
}

fn not_live() -> Error {
    Error::invalid(
        "request handle is not live (already completed by a wait or test, freed, in use by another \
         thread, or not from fmi_isend/fmi_irecv)",
    )
}

/// Puts a request that is still active back under its handle.
fn put_back(h: *mut fmi_request, r: Request) {
    REQUESTS.lock().insert(h as usize, r);
}

/// Starts sending `count` elements of `t` from `buf` to `dest` with `tag` and returns at once
/// with `*req`. The message is as `fmi_send_tag`'s, in order with the other sends to `dest`.
/// `buf` must stay valid and unchanged until the request completes (`fmi_wait`, `fmi_test`, ...).
///
/// # Safety
/// `buf` must be valid for `count` elements of `t` until the request completes; `req` writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_isend(
    comm: *mut fmi_comm,
    buf: *const c_void,
    count: usize,
    t: fmi_datatype,
    dest: i32,
    tag: i32,
    req: *mut *mut fmi_request,
) -> fmi_status {
    guard("fmi_isend", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_isend")?;
        let (dest, tag) = (rank(dest, "dest")?, parse_send_tag(tag)?);
        if req.is_null() {
            return Err(null("req"));
        }
        if n > 0 && buf.is_null() {
            return Err(null("buf"));
        }
        let data = SendBuf::new(buf.cast(), n);
        let r = handle::with_comm(comm, |c| c.isend_buf(data, dest, tag))?;
        write_out(req, register(r), "req")
    })
}

/// Posts a receive of the oldest message from `source` (or `FMI_ANY_SOURCE`) with `tag` (or
/// `FMI_ANY_TAG`) into `buf` (up to `count` elements of `t`) and returns at once with `*req`.
/// Receives match in the order they were posted; completion is as `fmi_recv_tag`'s. `buf` must
/// stay valid and untouched until the request completes.
///
/// # Safety
/// `buf` must be valid for `count` elements of `t` until the request completes; `req` writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_irecv(
    comm: *mut fmi_comm,
    buf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    source: i32,
    tag: i32,
    req: *mut *mut fmi_request,
) -> fmi_status {
    guard("fmi_irecv", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_irecv")?;
        let (src, tag) = (parse_source(source)?, tag_sel(tag)?);
        if req.is_null() {
            return Err(null("req"));
        }
        if n > 0 && buf.is_null() {
            return Err(null("buf"));
        }
        let b = RecvBuf::new(buf.cast(), n);
        let r = handle::with_comm(comm, |c| c.irecv_buf(b, src, tag))?;
        write_out(req, register(r), "req")
    })
}

/// Waits until the request `*req` completes (at most its communicator's timeout: then it is
/// cancelled and the result is `FMI_ERR_TIMEOUT`), writes its status to `*status` (may be NULL;
/// for a send: destination, tag, size) and sets `*req` to NULL, also when it failed.
///
/// # Safety
/// `req` must be a valid pointer to a handle; `status` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_wait(
    req: *mut *mut fmi_request,
    status: *mut fmi_msg_status,
) -> fmi_status {
    guard("fmi_wait", || {
        let mut r = take(req)?;
        *req = std::ptr::null_mut();
        let s = r.wait()?;
        put_status(status, s);
        Ok(())
    })
}

/// Sets `*flag` to 1 if the request `*req` has completed (then `*status`, may be NULL, is written
/// and `*req` set to NULL), else to 0 (the request stays active).
///
/// # Safety
/// `req` must be a valid pointer to a handle; `flag` writable; `status` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_test(
    req: *mut *mut fmi_request,
    flag: *mut c_int,
    status: *mut fmi_msg_status,
) -> fmi_status {
    guard("fmi_test", || {
        if flag.is_null() {
            return Err(null("flag"));
        }
        let h = if req.is_null() {
            return Err(null("request pointer"));
        } else {
            *req
        };
        let mut r = take(req)?;
        match r.test() {
            Ok(None) => {
                put_back(h, r);
                write_out(flag, 0, "flag")
            }
            done => {
                *req = std::ptr::null_mut();
                write_out(flag, 1, "flag")?;
                put_status(status, done?.expect("matched above"));
                Ok(())
            }
        }
    })
}

/// The active requests of an array, taken out of the registry, with their positions (NULL handles
/// skipped). A stale or repeated handle is an error and changes nothing.
unsafe fn take_active(
    count: usize,
    reqs: *mut *mut fmi_request,
) -> Result<(Vec<usize>, Vec<Request>)> {
    Ok(take_all(count, reqs)?
        .into_iter()
        .enumerate()
        .filter_map(|(i, r)| r.map(|r| (i, r)))
        .unzip())
}

/// Sets every handle of `reqs` to NULL and writes each result's status into `statuses` (may be
/// NULL; a zeroed status where there is no result). Returns the first failure.
unsafe fn finish_all(
    count: usize,
    reqs: *mut *mut fmi_request,
    statuses: *mut fmi_msg_status,
    results: impl IntoIterator<Item = (usize, Result<crate::channel::MsgStatus>)>,
) -> Result<()> {
    for i in 0..count {
        *reqs.add(i) = std::ptr::null_mut();
        if !statuses.is_null() {
            statuses.add(i).write(zero_status());
        }
    }
    let mut first = None;
    for (i, r) in results {
        match r {
            Ok(s) if !statuses.is_null() => put_status(statuses.add(i), s),
            Ok(_) => {}
            Err(e) => {
                first.get_or_insert(e.context(format!("reqs[{i}]")));
            }
        }
    }
    first.map_or(Ok(()), Err)
}

/// The requests of an array, taken out of the registry (NULL handles: None).
unsafe fn take_all(count: usize, reqs: *mut *mut fmi_request) -> Result<Vec<Option<Request>>> {
    if count > 0 && reqs.is_null() {
        return Err(null("reqs"));
    }
    if count > isize::MAX as usize / std::mem::size_of::<*mut fmi_request>() {
        return Err(Error::invalid(format!("count {count} is too large")));
    }
    let mut out = Vec::with_capacity(count);
    let mut map = REQUESTS.lock();
    for i in 0..count {
        let id = *reqs.add(i) as usize;
        if id == 0 {
            out.push(None);
            continue;
        }
        if !map.contains_key(&id) || (0..i).any(|j| *reqs.add(j) as usize == id) {
            // Put back what was taken: a bad array changes nothing.
            for (j, r) in out.into_iter().enumerate() {
                if let Some(r) = r {
                    map.insert(*reqs.add(j) as usize, r);
                }
            }
            return Err(not_live().context(format!("reqs[{i}]")));
        }
        out.push(map.remove(&id));
    }
    Ok(out)
}

/// Waits for every request of `reqs` (NULL entries are skipped) and sets each handle to NULL.
/// `statuses` (may be NULL) gets one status per entry (zeroed for NULL entries and failures).
/// Returns the first failure's status code (its message names the request); the others still
/// complete.
///
/// # Safety
/// `reqs` must hold `count` handles; `statuses` NULL or writable for `count` entries.
#[no_mangle]
pub unsafe extern "C" fn fmi_waitall(
    count: usize,
    reqs: *mut *mut fmi_request,
    statuses: *mut fmi_msg_status,
) -> fmi_status {
    guard("fmi_waitall", || {
        let (idx, mut active) = take_active(count, reqs)?;
        let results = request::wait_all(&mut active);
        finish_all(count, reqs, statuses, idx.into_iter().zip(results))
    })
}

/// Waits until one active request of `reqs` completes: `*index` gets its position (its handle is
/// set to NULL) and `*status` (may be NULL) its status. With no active request (all NULL),
/// `*index` is `FMI_UNDEFINED_INDEX` at once.
///
/// # Safety
/// `reqs` must hold `count` handles; `index` writable; `status` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_waitany(
    count: usize,
    reqs: *mut *mut fmi_request,
    index: *mut usize,
    status: *mut fmi_msg_status,
) -> fmi_status {
    guard("fmi_waitany", || {
        if index.is_null() {
            return Err(null("index"));
        }
        let (idx, mut active) = take_active(count, reqs)?;
        let got = request::wait_any(&mut active);
        // The others stay active under their handles.
        let mut done_at = None;
        if let Some((k, _)) = &got {
            done_at = Some(idx[*k]);
        }
        for (k, r) in active.into_iter().enumerate() {
            if Some(idx[k]) != done_at {
                put_back(*reqs.add(idx[k]), r);
            }
        }
        match got {
            None => write_out(index, FMI_UNDEFINED_INDEX, "index"),
            Some((k, r)) => {
                let i = idx[k];
                *reqs.add(i) = std::ptr::null_mut();
                write_out(index, i, "index")?;
                put_status(status, r.map_err(|e| e.context(format!("reqs[{i}]")))?);
                Ok(())
            }
        }
    })
}

/// Sets `*flag` to 1 when every request of `reqs` has completed (then all handles are set to NULL
/// and `statuses`, may be NULL, written as by `fmi_waitall`), else to 0 and nothing changes.
///
/// # Safety
/// `reqs` must hold `count` handles; `flag` writable; `statuses` NULL or writable for `count`.
#[no_mangle]
pub unsafe extern "C" fn fmi_testall(
    count: usize,
    reqs: *mut *mut fmi_request,
    flag: *mut c_int,
    statuses: *mut fmi_msg_status,
) -> fmi_status {
    guard("fmi_testall", || {
        if flag.is_null() {
            return Err(null("flag"));
        }
        let (idx, mut active) = take_active(count, reqs)?;
        let Some(results) = request::test_all(&mut active) else {
            for (k, r) in active.into_iter().enumerate() {
                put_back(*reqs.add(idx[k]), r);
            }
            return write_out(flag, 0, "flag");
        };
        write_out(flag, 1, "flag")?;
        finish_all(count, reqs, statuses, idx.into_iter().zip(results))
    })
}

/// Frees the request `*req` and sets it to NULL. An active send or receive still completes in the
/// background (its buffer stays in use until then); nobody learns its result.
///
/// # Safety
/// `req` must be a valid pointer to a handle.
#[no_mangle]
pub unsafe extern "C" fn fmi_request_free(req: *mut *mut fmi_request) -> fmi_status {
    guard("fmi_request_free", || {
        let r = take(req)?;
        *req = std::ptr::null_mut();
        r.free();
        Ok(())
    })
}

fn zero_status() -> fmi_msg_status {
    fmi_msg_status {
        source: -1,
        tag: -1,
        count_bytes: 0,
    }
}
