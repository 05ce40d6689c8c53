//! Requests: non-blocking operations that a communicator started, completed by [`Request::wait`]
//! or [`Request::test`] (and [`wait_all`], [`wait_any`], [`test_all`] over several).
//!
//! A request progresses without its caller: its transport advances it in the background and in
//! every call on the same channel. Every wait is bounded by the communicator's timeout; a
//! request that times out is cancelled (a transfer cut off midway leaves its connection unusable)
//! and its buffer is never touched afterwards.

use crate::channel::request::Pending;
use crate::channel::MsgStatus;
use crate::error::{Error, ErrorKind, Result};
use std::time::{Duration, Instant};

/// How long [`wait_any`] waits on one request before it looks at the others again.
const SLICE: Duration = Duration::from_millis(1);

/// Whether a wait may run a non-blocking collective that has not started on its own thread
/// ([`Pending::wait_running`]): only a wait that returns when this very request completes. A
/// wait on several requests that returns at the first (`wait_any`) would be held up by the
/// whole collective, and a bounded slice (`wait_for`) would overrun its bound.
#[derive(Clone, Copy)]
enum Run {
    Here,
    Elsewhere,
}

enum State {
    /// In progress.
    Active(Box<dyn Pending>),
    /// Complete; the result has not been handed out yet.
    Ready(Result<MsgStatus>),
    /// Completed and reported, cancelled or freed.
    Inactive,
}

/// What a request is, for errors: its text, or a function that makes it (a point-to-point
/// request's text is formatted only when needed: most requests never fail).
enum What {
    Text(String),
    Later(Box<dyn Fn() -> String + Send>, std::sync::OnceLock<String>),
}

/// A started non-blocking operation.
pub struct Request {
    state: State,
    /// What it is, for errors: "isend of 8 bytes to peer 1, tag 3 on channel direct".
    what: What,
    timeout: Duration,
    /// The buffer of a request that owns it ([`crate::Communicator::isend`],
    /// [`crate::Communicator::irecv`]).
    owned: Option<Vec<u8>>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Active(_) => "active",
            State::Ready(_) => "complete",
            State::Inactive => "inactive",
        };
        write!(f, "Request({}, {state})", self.describe())
    }
}

fn inactive(what: &str) -> Error {
    Error::invalid(format!(
        "request ({what}) is not active: it completed and was already waited for or tested, or it \
         was freed or cancelled"
    ))
}

impl Request {
    /// A request for `op`, described by `what`, whose waits end after `timeout`.
    pub(crate) fn new(op: Box<dyn Pending>, what: String, timeout: Duration) -> Request {
        Request {
            state: State::Active(op),
            what: What::Text(what),
            timeout,
            owned: None,
        }
    }

    /// The same, with the description made by `what` when first needed.
    pub(crate) fn described_later(
        op: Box<dyn Pending>,
        what: impl Fn() -> String + Send + 'static,
        timeout: Duration,
    ) -> Request {
        Request {
            state: State::Active(op),
            what: What::Later(Box::new(what), std::sync::OnceLock::new()),
            timeout,
            owned: None,
        }
    }

    /// The same, keeping `buf` (which `op` uses) alive until the request is dropped.
    pub(crate) fn owning(mut self, buf: Vec<u8>) -> Request {
        self.owned = Some(buf);
        self
    }

    /// What the request is.
    pub fn describe(&self) -> &str {
        match &self.what {
            What::Text(s) => s,
            What::Later(f, text) => text.get_or_init(f),
        }
    }

    /// Whether the request still has a result to give (active, or complete and not yet
    /// reported).
    pub fn is_active(&self) -> bool {
        !matches!(self.state, State::Inactive)
    }

    /// Moves a completed operation's result into the request, without blocking.
    fn poll(&mut self) {
        if let State::Active(op) = &mut self.state {
            if let Some(r) = op.test() {
                self.state = State::Ready(r);
            }
        }
    }

    fn report(&mut self, r: Result<MsgStatus>) -> Result<MsgStatus> {
        self.state = State::Inactive;
        r.map_err(|e| e.context(self.describe().to_string()))
    }

    /// The result if the operation has completed (the request is then inactive), else None.
    /// Testing an inactive request is an error.
    pub fn test(&mut self) -> Result<Option<MsgStatus>> {
        self.poll();
        match std::mem::replace(&mut self.state, State::Inactive) {
            State::Ready(r) => self.report(r).map(Some),
            State::Active(op) => {
                self.state = State::Active(op);
                Ok(None)
            }
            State::Inactive => Err(inactive(self.describe())),
        }
    }

    /// Waits for the operation to complete, at most the communicator's timeout; then the request
    /// is inactive. A timeout cancels the operation. A non-blocking collective that has not
    /// started yet runs on the calling thread (with those started before it on the same
    /// communicator, in order) instead of waiting for the communicator's worker.
    pub fn wait(&mut self) -> Result<MsgStatus> {
        let deadline = Instant::now() + self.timeout;
        self.wait_until(deadline, Run::Here)
    }

    /// The same as [`Request::wait`], except that a non-blocking collective is left to the
    /// communicator's worker: for a caller that must do other work while it waits (the MPI
    /// layer, whose waits finish the program's posted receives meanwhile) or whose thread must
    /// not run a collective.
    pub fn wait_on_worker(&mut self) -> Result<MsgStatus> {
        let deadline = Instant::now() + self.timeout;
        self.wait_until(deadline, Run::Elsewhere)
    }

    /// Waits at most `dur` for the operation: its result when it completed (the request is then
    /// inactive), else None and the request stays active (unlike `wait`, nothing is cancelled).
    /// For callers that wait on several things in turn under a deadline of their own.
    pub fn wait_for(&mut self, dur: Duration) -> Result<Option<MsgStatus>> {
        match std::mem::replace(&mut self.state, State::Inactive) {
            State::Ready(r) => self.report(r).map(Some),
            State::Inactive => Err(inactive(self.describe())),
            State::Active(mut op) => match op.wait(Instant::now() + dur) {
                Some(r) => self.report(r).map(Some),
                None => {
                    self.state = State::Active(op);
                    Ok(None)
                }
            },
        }
    }

    fn wait_until(&mut self, deadline: Instant, run: Run) -> Result<MsgStatus> {
        match std::mem::replace(&mut self.state, State::Inactive) {
            State::Ready(r) => self.report(r),
            State::Inactive => Err(inactive(self.describe())),
            State::Active(mut op) => match match run {
                Run::Here => op.wait_running(deadline),
                Run::Elsewhere => op.wait(deadline),
            } {
                Some(r) => self.report(r),
                None => match op.cancel() {
                    Some(r) => self.report(r),
                    None => {
                        let e = Error::new(
                            ErrorKind::Timeout,
                            format!(
                                "timed out after {:.3} s; the operation was cancelled",
                                self.timeout.as_secs_f64()
                            ),
                        );
                        self.report(Err(e))
                    }
                },
            },
        }
    }

    /// Cancels the operation: a receive that has not matched is withdrawn; a transfer that has
    /// started is cut off and leaves its connection unusable. The request becomes inactive.
    /// Returns the result instead if it had completed.
    pub fn cancel(&mut self) -> Option<Result<MsgStatus>> {
        match std::mem::replace(&mut self.state, State::Inactive) {
            State::Active(mut op) => op.cancel().map(|r| self.report(r)),
            State::Ready(r) => Some(self.report(r)),
            State::Inactive => None,
        }
    }

    /// Withdraws a receive that no message has matched yet (MPI's cancel of a receive): true
    /// when it was withdrawn (the request is then inactive and its buffer never touched). A
    /// receive that has matched, and any other operation, is left to complete as usual (false).
    pub fn withdraw(&mut self) -> bool {
        self.poll();
        let State::Active(op) = &mut self.state else {
            return false;
        };
        if op.withdraw() {
            self.state = State::Inactive;
            true
        } else {
            false
        }
    }

    /// Frees the request: an active operation still completes in the background (its buffer is
    /// used until then) and nobody learns its result. A request that owns its buffer is
    /// cancelled instead, since the buffer goes with it.
    pub fn free(mut self) {
        self.release();
    }

    fn release(&mut self) {
        if let State::Active(op) = std::mem::replace(&mut self.state, State::Inactive) {
            if self.owned.is_some() {
                let mut op = op;
                op.cancel();
            } else {
                op.detach();
            }
        }
    }

    /// The buffer of a request that owns it, once it is inactive (a received message is at its
    /// front).
    pub fn take_buffer(&mut self) -> Option<Vec<u8>> {
        match self.state {
            State::Inactive => self.owned.take(),
            _ => None,
        }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        self.release();
    }
}

/// Waits for every request (each at most its communicator's timeout, counted from this call)
/// and returns each one's result, in order. Inactive requests give an error in their place.
pub fn wait_all(reqs: &mut [Request]) -> Vec<Result<MsgStatus>> {
    let start = Instant::now();
    reqs.iter_mut()
        .map(|r| {
            let deadline = start + r.timeout;
            // Every request must complete before this returns: running a collective here
            // delays none of the others (they progress in the background meanwhile).
            r.wait_until(deadline, Run::Here)
        })
        .collect()
}

/// Waits until one of the active requests completes and returns its index and result (it is then
/// inactive); None when no request is active. Bounded by the longest timeout of the requests: at
/// the end, the first active one is waited for (and cancelled) as [`Request::wait`] does.
pub fn wait_any(reqs: &mut [Request]) -> Option<(usize, Result<MsgStatus>)> {
    let start = Instant::now();
    let deadline = start + reqs.iter().map(|r| r.timeout).max()?;
    loop {
        let mut first = None;
        for (i, r) in reqs.iter_mut().enumerate() {
            r.poll();
            match r.state {
                State::Ready(_) => return Some((i, r.wait_until(deadline, Run::Elsewhere))),
                State::Active(_) if first.is_none() => first = Some(i),
                _ => {}
            }
        }
        let i = first?;
        let now = Instant::now();
        if now >= deadline {
            return Some((i, reqs[i].wait_until(deadline, Run::Elsewhere)));
        }
        if let State::Active(op) = &mut reqs[i].state {
            if let Some(r) = op.wait((now + SLICE).min(deadline)) {
                reqs[i].state = State::Ready(r);
            }
        }
    }
}

/// If every active request has completed: their results in order (all are then inactive;
/// inactive requests give an error in their place). Otherwise None, and no request changes
/// state as far as the caller can see (completed ones keep their result for later).
pub fn test_all(reqs: &mut [Request]) -> Option<Vec<Result<MsgStatus>>> {
    for r in reqs.iter_mut() {
        r.poll();
    }
    if reqs.iter().any(|r| matches!(r.state, State::Active(_))) {
        return None;
    }
    Some(
        reqs.iter_mut()
            .map(|r| {
                r.test()
                    .and_then(|s| s.ok_or_else(|| inactive(r.describe())))
            })
            .collect(),
    )
}
