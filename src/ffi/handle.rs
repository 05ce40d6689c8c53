//! Communicator handles: opaque ids looked up in a registry, so that a stale or foreign pointer is
//! reported as an error and never dereferenced.

use crate::error::{Error, ErrorKind, Result};
use crate::Communicator;
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Opaque communicator handle. Created by `fmi_init`/`fmi_init_from_env`, released by `fmi_finalize`.
pub struct fmi_comm {
    _private: [u8; 0],
}

type Shared = Arc<Mutex<Communicator>>;

static REGISTRY: Lazy<Mutex<HashMap<usize, Shared>>> = Lazy::new(|| Mutex::new(HashMap::new()));
/// Handle ids are never reused, so use after finalize is always detected.
static NEXT_ID: AtomicUsize = AtomicUsize::new(0x1000);

/// Registers a communicator and returns its handle.
pub(crate) fn register(c: Communicator) -> *mut fmi_comm {
    let id = NEXT_ID.fetch_add(16, Ordering::Relaxed);
    REGISTRY.lock().insert(id, Arc::new(Mutex::new(c)));
    std::ptr::without_provenance_mut(id)
}

fn lookup(h: *const fmi_comm) -> Result<Shared> {
    if h.is_null() {
        return Err(Error::new(
            ErrorKind::NullArg,
            "communicator handle is NULL",
        ));
    }
    REGISTRY.lock().get(&(h as usize)).cloned().ok_or_else(|| {
        Error::invalid("communicator handle is not live (already finalized, or not from fmi_init)")
    })
}

/// Runs `f` on the communicator behind `h`. Concurrent use of one communicator from two threads
/// is refused rather than serialised behind a lock that could hang.
pub(crate) fn with_comm<T>(
    h: *const fmi_comm,
    f: impl FnOnce(&mut Communicator) -> Result<T>,
) -> Result<T> {
    let shared = lookup(h)?;
    let mut guard = shared
        .try_lock()
        .ok_or_else(|| Error::invalid("communicator is in use by another thread"))?;
    f(&mut guard)
}

/// Removes `h` from the registry and returns its communicator.
pub(crate) fn take(h: *mut fmi_comm) -> Result<Communicator> {
    let shared = lookup(h)?;
    // Hold the communicator's lock while unregistering, so no other thread is inside a call.
    let guard = shared
        .try_lock()
        .ok_or_else(|| Error::invalid("communicator is in use by another thread"))?;
    drop(guard);
    drop(shared);
    let shared = REGISTRY
        .lock()
        .remove(&(h as usize))
        .ok_or_else(|| Error::invalid("communicator handle is not live"))?;
    match Arc::try_unwrap(shared) {
        Ok(m) => Ok(m.into_inner()),
        Err(_) => Err(Error::new(
            ErrorKind::Internal,
            "communicator still referenced",
        )),
    }
}
