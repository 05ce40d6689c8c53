//! Non-blocking tagged receives on a store channel: the [`Inbox`] of a communicator's store
//! channel behind a lock, with receives posted in order and taken from the inbox by a progress
//! thread that runs only while one is pending (on S3 every look is a billed request). A send
//! needs no such help: a store accepts it at once, so a non-blocking send completes when the
//! store has it.
//!
//! Order: posted receives are served oldest first, and a blocking receive made while some are
//! pending is posted behind them, so messages match receives in the order the receives were made.

use super::inbox::{Envelope, Inbox};
use super::keys::Namespace;
use super::StoreTransport;
use crate::channel::request::{Pending, RecvBuf};
use crate::channel::{MsgStatus, Source, TagSel};
use crate::error::{Error, ErrorKind, Result};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The first and the longest pause of the progress thread between two looks at the inbox with
/// nothing found (doubling in between; a new receive or a waiter starts again at the first).
const FIRST_PAUSE: Duration = Duration::from_millis(1);
const LONGEST_PAUSE: Duration = Duration::from_millis(50);

struct Posted {
    id: u64,
    ctx: u32,
    src: Source,
    tag: TagSel,
    buf: RecvBuf,
    /// Bound of each store request made for it.
    timeout: Duration,
}

struct State {
    inbox: Inbox,
    ns: Namespace,
    /// The progress thread's handle on the store.
    bg: Box<dyn StoreTransport>,
    posted: VecDeque<Posted>,
    done: HashMap<u64, Result<MsgStatus>>,
    detached: HashSet<u64>,
    next: u64,
    /// Someone waits for a result: look again soon.
    hurry: bool,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    /// A result arrived.
    done: Condvar,
    /// A receive was posted, someone waits, or stop.
    work: Condvar,
}

/// The tagged-message state of one store channel of a communicator.
pub struct Mailbox {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Mailbox {
    /// The mailbox of `inbox` in namespace `ns`; `bg` is a handle on the same store for the
    /// progress thread.
    pub fn new(inbox: Inbox, ns: Namespace, bg: Box<dyn StoreTransport>) -> Mailbox {
        Mailbox {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    inbox,
                    ns,
                    bg,
                    posted: VecDeque::new(),
                    done: HashMap::new(),
                    detached: HashSet::new(),
                    next: 0,
                    hurry: false,
                    stop: false,
                }),
                done: Condvar::new(),
                work: Condvar::new(),
            }),
            thread: None,
        }
    }

    /// Runs `f` on the inbox (for a blocking call), unless receives are posted (then None: the
    /// caller posts its receive behind them, see [`Mailbox::irecv`]).
    pub fn with_inbox<T>(
        &self,
        receiving: bool,
        f: impl FnOnce(&mut Inbox, &Namespace) -> T,
    ) -> Option<T> {
        let mut st = self.shared.state.lock();
        if receiving && !st.posted.is_empty() {
            return None;
        }
        let State { inbox, ns, .. } = &mut *st;
        Some(f(inbox, ns))
    }

    /// The bound of unexpected payload bytes of the inbox.
    pub fn bound(&self) -> usize {
        self.shared.state.lock().inbox.bound()
    }

    /// Posts a receive into `buf` of the oldest message from `src` with `tag` in context `ctx`;
    /// each store request made for it ends within `timeout`.
    pub fn irecv(
        &mut self,
        ctx: u32,
        buf: RecvBuf,
        src: Source,
        tag: TagSel,
        timeout: Duration,
    ) -> Result<Box<dyn Pending>> {
        if self.thread.is_none() {
            let shared = self.shared.clone();
            let h = std::thread::Builder::new()
                .name("fmi-store-progress".into())
                .spawn(move || progress(&shared))
                .map_err(|e| Error::channel(format!("cannot start the progress thread: {e}")))?;
            self.thread = Some(h);
        }
        let mut st = self.shared.state.lock();
        st.next += 1;
        let id = st.next;
        st.posted.push_back(Posted {
            id,
            ctx,
            src,
            tag,
            buf,
            timeout,
        });
        st.hurry = true;
        self.shared.work.notify_all();
        Ok(Box::new(StoreRecv {
            shared: self.shared.clone(),
            id,
        }))
    }

    /// Stops the progress thread; receives still posted fail.
    pub fn stop(&mut self) {
        if let Some(h) = self.thread.take() {
            self.shared.state.lock().stop = true;
            self.shared.work.notify_all();
            let _ = h.join();
        }
        let mut st = self.shared.state.lock();
        let left: Vec<Posted> = st.posted.drain(..).collect();
        for p in left {
            let e = Error::new(
                ErrorKind::PeerLost,
                "the communicator was closed while this receive was pending",
            );
            complete(&mut st, p.id, Err(e));
        }
        self.shared.done.notify_all();
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        self.stop();
    }
}

fn complete(st: &mut State, id: u64, r: Result<MsgStatus>) {
    if !st.detached.remove(&id) {
        st.done.insert(id, r);
    }
}

/// Serves the posted receives, oldest first, from the messages held, then from the inbox one
/// envelope at a time (each goes to the oldest posted receive it matches: MPI's order), until
/// the inbox has nothing more. Returns whether any receive completed.
fn round(st: &mut State) -> bool {
    let mut any = false;
    loop {
        any |= serve_held(st);
        if st.posted.is_empty() {
            return any;
        }
        let mut ctxs: Vec<u32> = st.posted.iter().map(|p| p.ctx).collect();
        ctxs.sort_unstable();
        ctxs.dedup();
        let mut pulled = false;
        for ctx in ctxs {
            let timeout = st
                .posted
                .iter()
                .filter(|p| p.ctx == ctx)
                .map(|p| p.timeout)
                .max()
                .unwrap_or_default();
            let deadline = Instant::now() + timeout;
            let State {
                inbox,
                ns,
                bg,
                posted,
                ..
            } = &mut *st;
            let wanted = |e: &Envelope| {
                posted
                    .iter()
                    .any(|p| p.ctx == ctx && e.matches(p.src, p.tag))
            };
            match inbox.pull(bg.as_mut(), ns, ctx, false, deadline, &wanted) {
                Ok(Some(_)) => pulled = true,
                Ok(None) => {}
                Err(e) => {
                    // The store failed: the receives of this context fail with it.
                    let (failed, kept): (Vec<Posted>, Vec<Posted>) =
                        st.posted.drain(..).partition(|p| p.ctx == ctx);
                    st.posted = kept.into();
                    for p in failed {
                        complete(st, p.id, Err(e.clone()));
                    }
                    any = true;
                }
            }
        }
        if !pulled {
            return any;
        }
    }
}

/// Gives each posted receive, oldest first, the oldest held message it matches.
fn serve_held(st: &mut State) -> bool {
    let mut any = false;
    let mut i = 0;
    while i < st.posted.len() {
        let (ctx, src, tag) = (st.posted[i].ctx, st.posted[i].src, st.posted[i].tag);
        let Some(env) = st.inbox.take_held(ctx, src, tag) else {
            i += 1;
            continue;
        };
        let mut p = st.posted.remove(i).expect("index in range");
        let deadline = Instant::now() + p.timeout;
        let State { inbox, ns, bg, .. } = &mut *st;
        let r = inbox.deliver(bg.as_mut(), ns, ctx, env, p.buf.bytes_mut(), deadline);
        complete(st, p.id, r);
        any = true;
    }
    any
}

fn progress(shared: &Shared) {
    let mut st = shared.state.lock();
    let mut pause = FIRST_PAUSE;
    loop {
        while st.posted.is_empty() && !st.stop {
            shared.work.wait(&mut st);
        }
        if st.stop {
            return;
        }
        if round(&mut st) {
            shared.done.notify_all();
            pause = FIRST_PAUSE;
            MutexGuard::bump(&mut st);
            continue;
        }
        if std::mem::take(&mut st.hurry) {
            pause = FIRST_PAUSE;
        }
        // Others use the inbox while this thread pauses.
        let _ = shared.work.wait_for(&mut st, pause);
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// A posted receive, as its caller holds it.
struct StoreRecv {
    shared: Arc<Shared>,
    id: u64,
}

impl Pending for StoreRecv {
    fn test(&mut self) -> Option<Result<MsgStatus>> {
        self.shared.state.lock().done.remove(&self.id)
    }
    fn wait(&mut self, until: Instant) -> Option<Result<MsgStatus>> {
        let mut st = self.shared.state.lock();
        st.hurry = true;
        self.shared.work.notify_all();
        loop {
            if let Some(r) = st.done.remove(&self.id) {
                return Some(r);
            }
            if self.shared.done.wait_until(&mut st, until).timed_out() {
                return st.done.remove(&self.id);
            }
        }
    }
    fn cancel(&mut self) -> Option<Result<MsgStatus>> {
        let mut st = self.shared.state.lock();
        if let Some(r) = st.done.remove(&self.id) {
            return Some(r);
        }
        st.posted.retain(|p| p.id != self.id);
        None
    }
    fn withdraw(&mut self) -> bool {
        let mut st = self.shared.state.lock();
        let before = st.posted.len();
        st.posted.retain(|p| p.id != self.id);
        st.posted.len() != before
    }
    fn detach(self: Box<Self>) {
        let mut st = self.shared.state.lock();
        if st.done.remove(&self.id).is_none() {
            st.detached.insert(self.id);
        }
    }
}

/// A non-blocking operation that completed when it started (a store send).
pub struct Completed(pub Option<Result<MsgStatus>>);

impl Pending for Completed {
    fn test(&mut self) -> Option<Result<MsgStatus>> {
        self.0.take()
    }
    fn wait(&mut self, _until: Instant) -> Option<Result<MsgStatus>> {
        self.0.take()
    }
    fn cancel(&mut self) -> Option<Result<MsgStatus>> {
        self.0.take()
    }
    fn detach(self: Box<Self>) {}
}
