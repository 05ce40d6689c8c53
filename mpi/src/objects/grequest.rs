//! Generalized requests (`MPI_Grequest_start` / `MPI_Grequest_complete`): a request whose
//! operation the program runs itself, as an [`Operation`] of the request objects. The program
//! marks it complete (from any thread); a wait then calls its `query_fn` for the status and its
//! `free_fn`, a blocking wait for an incomplete one is bounded by `FMI_MPI_TIMEOUT`.

use crate::entry::{self, MpiError};
use crate::gen::abi::*;
use crate::objects::request::Operation;
use crate::objects::{status, world};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The completion flag of every live generalized request, by request handle.
static DONE: Mutex<BTreeMap<usize, Arc<AtomicBool>>> = Mutex::new(BTreeMap::new());

pub struct Grequest {
    pub query: MPI_Grequest_query_function,
    pub free: MPI_Grequest_free_function,
    pub cancel: MPI_Grequest_cancel_function,
    pub extra: usize,
    pub done: Arc<AtomicBool>,
    finished: bool,
}

impl Grequest {
    pub fn new(
        query: MPI_Grequest_query_function,
        free: MPI_Grequest_free_function,
        cancel: MPI_Grequest_cancel_function,
        extra: usize,
    ) -> Grequest {
        Grequest {
            query,
            free,
            cancel,
            extra,
            done: Arc::new(AtomicBool::new(false)),
            finished: false,
        }
    }
}

/// Records the flag of the request `h` (after it is registered).
pub fn track(h: MPI_Request, done: Arc<AtomicBool>) {
    DONE.lock().insert(h.0, done);
}

/// MPI_Grequest_complete: marks `h` complete.
pub fn complete(h: MPI_Request) -> Result<(), MpiError> {
    let done = DONE.lock().get(&h.0).cloned().ok_or_else(|| {
        MpiError::new(
            MPI_ERR_REQUEST,
            format!("{:#x} is not a live generalized request", h.0),
        )
    })?;
    done.store(true, Ordering::Release);
    Ok(())
}

/// The error of a callback's return code (None for MPI_SUCCESS).
fn callback_error(code: c_int, what: &str) -> Option<MpiError> {
    (code != MPI_SUCCESS).then(|| {
        let class = entry::class_of(code).unwrap_or(MPI_ERR_OTHER);
        MpiError::new(
            class,
            format!("the generalized request's {what} returned error code {code}"),
        )
    })
}

impl Operation for Grequest {
    fn progress(&mut self, block: bool) -> Result<Option<MPI_Status>, MpiError> {
        if self.finished {
            return Ok(Some(status::empty(MPI_ANY_SOURCE)));
        }
        if !self.done.load(Ordering::Acquire) {
            if !block {
                return Ok(None);
            }
            let deadline = Instant::now() + world::timeout()?;
            while !self.done.load(Ordering::Acquire) {
                if Instant::now() >= deadline {
                    return Err(MpiError::other(
                        "the generalized request was not completed (MPI_Grequest_complete) \
                         within FMI_MPI_TIMEOUT",
                    ));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        self.finished = true;
        let done = self.done.clone();
        DONE.lock().retain(|_, f| !Arc::ptr_eq(f, &done));
        let mut st = status::empty(MPI_ANY_SOURCE);
        // SAFETY: the program's callbacks with its own extra state, as MPI calls them.
        let q = unsafe { (self.query)(self.extra as *mut c_void, &mut st) };
        let f = unsafe { (self.free)(self.extra as *mut c_void) };
        if let Some(e) = callback_error(q, "query_fn") {
            return Err(e);
        }
        if let Some(e) = callback_error(f, "free_fn") {
            return Err(e);
        }
        Ok(Some(st))
    }

    /// Calls `cancel_fn` with whether the request is complete already.
    fn cancel(&mut self) -> Result<(), MpiError> {
        let complete = self.done.load(Ordering::Acquire) as c_int;
        // SAFETY: the program's callback with its own extra state.
        let c = unsafe { (self.cancel)(self.extra as *mut c_void, complete) };
        callback_error(c, "cancel_fn").map_or(Ok(()), Err)
    }
}
