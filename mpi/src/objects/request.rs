//! Request objects: every kind of MPI request (point-to-point, non-blocking and persistent
//! collectives, generalized, partitioned) is an [`Operation`] behind an `MPI_Request` handle in
//! [`REQUESTS`]; the wait/test family (`crate::api::request`) works on any of them.
//!
//! A request remembers the object whose error handler its errors go to ([`RequestObj::raise`]:
//! its communicator). `MPI_Request_get_status` and the all-or-nothing `MPI_Testall` test an
//! operation without completing the request: a result found that way is held in the object
//! until a wait or test hands it out. A request freed while active (`MPI_Request_free`) keeps
//! running: it is kept in a list of orphans, advanced at every later completion call and
//! finished at `MPI_Finalize` ([`finish_orphans`]), so its buffers are never released early.

use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::handles::Table;
use crate::objects::status;
use crate::p2p;
use parking_lot::Mutex;
use std::sync::Arc;

/// One kind of request's operation.
pub trait Operation: Send {
    /// Advances it; `block`: waits until it completes (bounded by `FMI_MPI_TIMEOUT`). Some(status)
    /// when complete (a persistent operation is then inactive). An error completes it too.
    fn progress(&mut self, block: bool) -> Result<Option<MPI_Status>, MpiError>;
    /// `MPI_Cancel`: withdraws it if it can be (its completion then reports cancelled);
    /// otherwise nothing happens and it completes as usual.
    fn cancel(&mut self) -> Result<(), MpiError> {
        Ok(())
    }
    /// `MPI_Start` of a persistent operation.
    fn start(&mut self) -> Result<(), MpiError> {
        Err(MpiError::new(
            MPI_ERR_REQUEST,
            "MPI_Start of a request that is not persistent",
        ))
    }
    fn is_persistent(&self) -> bool {
        false
    }
    /// Whether it has an operation to complete (false: a persistent one not started).
    fn is_active(&self) -> bool {
        true
    }
    /// `MPI_Pready` of these partitions (partitioned sends only).
    fn pready(&mut self, _partitions: &[usize]) -> Result<(), MpiError> {
        Err(MpiError::new(
            MPI_ERR_REQUEST,
            "not a partitioned send request (MPI_Psend_init)",
        ))
    }
    /// `MPI_Parrived` of a partition (partitioned receives only).
    fn parrived(&mut self, _partition: usize) -> Result<bool, MpiError> {
        Err(MpiError::new(
            MPI_ERR_REQUEST,
            "not a partitioned receive request (MPI_Precv_init)",
        ))
    }
}

struct State {
    op: Box<dyn Operation>,
    /// A result found by a test that did not complete the request.
    held: Option<Result<MPI_Status, MpiError>>,
}

/// A request behind a handle.
pub struct RequestObj {
    state: Mutex<State>,
    /// Whose error handler the request's errors go to.
    pub raise: Raise,
}

/// The requests by handle.
pub static REQUESTS: Table<RequestObj> = Table::new("request");

/// Requests freed while active, advanced until they complete.
static ORPHANS: Mutex<Vec<Box<dyn Operation>>> = Mutex::new(Vec::new());

/// Registers an operation; its errors go to `raise`'s handler.
pub fn register(op: Box<dyn Operation>, raise: Raise) -> MPI_Request {
    MPI_Request(REQUESTS.insert(RequestObj {
        state: Mutex::new(State { op, held: None }),
        raise,
    }))
}

/// The request behind `h` (not `MPI_REQUEST_NULL`).
pub fn get(h: MPI_Request) -> Result<Arc<RequestObj>, MpiError> {
    if h == MPI_REQUEST_NULL {
        return Err(MpiError::new(
            MPI_ERR_REQUEST,
            "the request is MPI_REQUEST_NULL",
        ));
    }
    REQUESTS.get(h.0).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_REQUEST,
            format!(
                "{:#x} is not a live request (completed, freed, or not a request)",
                h.0
            ),
        )
    })
}

fn busy() -> MpiError {
    MpiError::other(
        "the request is in use by another thread (this library provides \
         MPI_THREAD_SERIALIZED: one MPI call at a time)",
    )
}

impl RequestObj {
    fn lock(&self) -> Result<parking_lot::MutexGuard<'_, State>, MpiError> {
        self.state.try_lock().ok_or_else(busy)
    }

    /// Whether the request has something to complete.
    pub fn is_active(&self) -> Result<bool, MpiError> {
        let s = self.lock()?;
        Ok(s.held.is_some() || s.op.is_active())
    }

    pub fn is_persistent(&self) -> Result<bool, MpiError> {
        Ok(self.lock()?.op.is_persistent())
    }

    /// Tests without completing: true when a wait would return at once (the result is held).
    pub fn peek(&self) -> Result<bool, MpiError> {
        let mut s = self.lock()?;
        if s.held.is_some() {
            return Ok(true);
        }
        if !s.op.is_active() {
            return Ok(false);
        }
        match s.op.progress(false) {
            Ok(None) => Ok(false),
            Ok(Some(st)) => {
                s.held = Some(Ok(st));
                Ok(true)
            }
            Err(e) => {
                s.held = Some(Err(e));
                Ok(true)
            }
        }
    }

    /// The status a held result would give, without handing it out (`MPI_Request_get_status`).
    pub fn held_status(&self) -> Result<Option<Result<MPI_Status, MpiError>>, MpiError> {
        Ok(self.lock()?.held.clone())
    }

    /// Runs `f` on the operation (errors raised on the request's communicator).
    pub fn with_op<T>(
        &self,
        f: impl FnOnce(&mut dyn Operation) -> Result<T, MpiError>,
    ) -> Result<T, MpiError> {
        let mut s = self.lock()?;
        f(&mut *s.op).map_err(|e| e.on(self.raise))
    }

    pub fn cancel(&self) -> Result<(), MpiError> {
        let mut s = self.lock()?;
        if s.held.is_some() || !s.op.is_active() {
            return Ok(());
        }
        s.op.cancel().map_err(|e| e.on(self.raise))
    }

    pub fn start(&self) -> Result<(), MpiError> {
        let mut s = self.lock()?;
        if s.held.is_some() {
            return Err(MpiError::new(
                MPI_ERR_REQUEST,
                "MPI_Start of an active request (complete it first)",
            ));
        }
        s.op.start().map_err(|e| e.on(self.raise))
    }
}

/// Completes the request `*h` if it can (`block`: waits): Some(status) when complete; an
/// inactive or null request completes at once with the empty status. A completed request that
/// is not persistent is freed and `*h` set to `MPI_REQUEST_NULL`. An operation's error
/// completes it too and is returned (raised on the request's communicator).
pub fn complete(h: &mut MPI_Request, block: bool) -> Result<Option<MPI_Status>, MpiError> {
    reap_orphans();
    if *h == MPI_REQUEST_NULL {
        return Ok(Some(status::empty(MPI_ANY_SOURCE)));
    }
    let obj = get(*h)?;
    let mut s = obj.lock()?;
    let r = match s.held.take() {
        Some(r) => r.map(Some),
        None if !s.op.is_active() => return Ok(Some(status::empty(MPI_ANY_SOURCE))),
        None => s.op.progress(block),
    };
    if matches!(r, Ok(None)) {
        return Ok(None);
    }
    if !s.op.is_persistent() {
        drop(s);
        REQUESTS.remove(h.0);
        *h = MPI_REQUEST_NULL;
    }
    r.map_err(|e| e.on(obj.raise))
}

/// `MPI_Request_free`: the handle is gone; an active operation completes in the background.
pub fn free(h: &mut MPI_Request) -> Result<(), MpiError> {
    drop(get(*h)?.lock()?);
    let obj = REQUESTS.remove(h.0).ok_or_else(busy)?;
    *h = MPI_REQUEST_NULL;
    let Ok(obj) = Arc::try_unwrap(obj) else {
        return Err(busy());
    };
    let State { mut op, held } = obj.state.into_inner();
    if held.is_none() && op.is_active() {
        if let Ok(Some(_)) | Err(_) = op.progress(false) {
            return Ok(());
        }
        ORPHANS.lock().push(op);
    }
    Ok(())
}

/// Advances the orphans; drops those that completed.
fn reap_orphans() {
    let Some(mut o) = ORPHANS.try_lock() else {
        return;
    };
    o.retain_mut(|op| matches!(op.progress(false), Ok(None)));
}

/// At `MPI_Finalize`: waits for every orphan (each bounded by the timeout) and releases every
/// request the program left; an active one is cancelled first, and one still running after
/// that is waited for, so no buffer or communicator is released under a transfer.
pub fn finish_orphans() {
    for mut op in std::mem::take(&mut *ORPHANS.lock()) {
        let _ = op.progress(true);
    }
    for (_, obj) in REQUESTS.clear() {
        let mut s = obj.state.lock();
        if s.held.is_none() && s.op.is_active() {
            let _ = s.op.cancel();
            let _ = s.op.progress(true);
        }
    }
}

/// A request with nothing to transfer: a point-to-point operation on `MPI_PROC_NULL`
/// (complete at once; a persistent one each time it is started).
pub struct NullOp {
    pub persistent: bool,
    active: bool,
    st: MPI_Status,
}

impl NullOp {
    pub fn new(persistent: bool, st: MPI_Status) -> NullOp {
        NullOp {
            persistent,
            active: !persistent,
            st,
        }
    }
}

impl Operation for NullOp {
    fn progress(&mut self, _block: bool) -> Result<Option<MPI_Status>, MpiError> {
        self.active = false;
        Ok(Some(self.st))
    }
    fn start(&mut self) -> Result<(), MpiError> {
        if !self.persistent {
            return Err(MpiError::new(
                MPI_ERR_REQUEST,
                "MPI_Start of a request that is not persistent",
            ));
        }
        if self.active {
            return Err(MpiError::new(
                MPI_ERR_REQUEST,
                "MPI_Start of an active persistent request",
            ));
        }
        self.active = true;
        Ok(())
    }
    fn is_persistent(&self) -> bool {
        self.persistent
    }
    fn is_active(&self) -> bool {
        self.active
    }
}

/// Point-to-point requests (`crate::p2p::Req`).
impl Operation for p2p::Req {
    fn progress(&mut self, block: bool) -> Result<Option<MPI_Status>, MpiError> {
        Ok(p2p::Req::progress(self, block)?.map(|st| status::of(&st)))
    }
    fn cancel(&mut self) -> Result<(), MpiError> {
        p2p::Req::cancel(self);
        Ok(())
    }
    fn start(&mut self) -> Result<(), MpiError> {
        // SAFETY: MPI's contract for persistent requests: the buffer given at initialization
        // stays valid while the request exists.
        Ok(unsafe { p2p::Req::start(self) }?)
    }
    fn is_persistent(&self) -> bool {
        p2p::Req::is_persistent(self)
    }
    fn is_active(&self) -> bool {
        p2p::Req::is_active(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An operation that completes at its `steps`-th test (a blocking wait completes it).
    struct Countdown {
        steps: usize,
        persistent: bool,
        active: bool,
        polled: Arc<AtomicUsize>,
    }

    impl Operation for Countdown {
        fn progress(&mut self, block: bool) -> Result<Option<MPI_Status>, MpiError> {
            self.polled.fetch_add(1, Ordering::Relaxed);
            if block || self.steps <= 1 {
                self.active = false;
                let mut s = status::empty(7);
                s.MPI_TAG = 3;
                return Ok(Some(s));
            }
            self.steps -= 1;
            Ok(None)
        }
        fn start(&mut self) -> Result<(), MpiError> {
            self.active = true;
            self.steps = 2;
            Ok(())
        }
        fn is_persistent(&self) -> bool {
            self.persistent
        }
        fn is_active(&self) -> bool {
            self.active
        }
    }

    fn op(steps: usize, persistent: bool) -> (Box<dyn Operation>, Arc<AtomicUsize>) {
        let polled = Arc::new(AtomicUsize::new(0));
        let c = Countdown {
            steps,
            persistent,
            active: !persistent,
            polled: polled.clone(),
        };
        (Box::new(c), polled)
    }

    #[test]
    fn a_request_completes_once_and_its_handle_becomes_null() {
        let (o, _) = op(3, false);
        let mut h = register(o, Raise::Default);
        assert_eq!(complete(&mut h, false).unwrap(), None);
        assert_eq!(complete(&mut h, false).unwrap(), None);
        let s = complete(&mut h, false).unwrap().unwrap();
        assert_eq!((s.MPI_SOURCE, s.MPI_TAG), (7, 3));
        assert_eq!(h, MPI_REQUEST_NULL);
        // A null request completes at once with the empty status.
        let s = complete(&mut h, true).unwrap().unwrap();
        assert_eq!((s.MPI_SOURCE, s.MPI_TAG), (MPI_ANY_SOURCE, MPI_ANY_TAG));
    }

    #[test]
    fn a_peeked_result_is_held_for_the_wait() {
        let (o, polled) = op(1, false);
        let mut h = register(o, Raise::Default);
        let obj = get(h).unwrap();
        assert!(obj.peek().unwrap());
        assert!(obj.peek().unwrap());
        assert_eq!(polled.load(Ordering::Relaxed), 1);
        drop(obj);
        assert_eq!(complete(&mut h, false).unwrap().unwrap().MPI_TAG, 3);
        assert_eq!(polled.load(Ordering::Relaxed), 1);
        assert!(get(h).is_err());
    }

    #[test]
    fn a_persistent_request_stays_and_restarts() {
        let (o, _) = op(0, true);
        let mut h = register(o, Raise::Default);
        let kept = h;
        // Not started: inactive, completes at once with the empty status.
        assert_eq!(
            complete(&mut h, true).unwrap().unwrap().MPI_SOURCE,
            MPI_ANY_SOURCE
        );
        for _ in 0..2 {
            get(h).unwrap().start().unwrap();
            assert_eq!(complete(&mut h, false).unwrap(), None);
            assert_eq!(complete(&mut h, true).unwrap().unwrap().MPI_TAG, 3);
            assert_eq!(h, kept);
        }
        free(&mut h).unwrap();
        assert_eq!(h, MPI_REQUEST_NULL);
        assert!(get(kept).is_err());
    }

    #[test]
    fn a_request_freed_while_active_is_advanced_until_done() {
        let (o, polled) = op(100, false);
        let mut h = register(o, Raise::Default);
        free(&mut h).unwrap();
        assert_eq!(h, MPI_REQUEST_NULL);
        let before = polled.load(Ordering::Relaxed);
        let mut null = MPI_REQUEST_NULL;
        complete(&mut null, false).unwrap();
        assert!(polled.load(Ordering::Relaxed) > before);
    }

    #[test]
    fn a_bad_handle_is_an_invalid_request() {
        let mut h = MPI_Request(0x7777_0000);
        assert_eq!(complete(&mut h, true).unwrap_err().class, MPI_ERR_REQUEST);
    }
}
