//! Progress of the direct channel's non-blocking requests: one step over all of them
//! ([`requests`]), what to wait for in poll(2) ([`pollfds`]), the transport's progress thread
//! (started with the first request; it sleeps while none is pending), and a request as its caller
//! sees it ([`DirectPending`]).
//!
//! Every loop of the channel (collectives, blocking receives, waits, the thread) takes a step of
//! the requests, so they advance whoever holds the transport's lock, and without any call when
//! nobody does.

use super::conn::{Conn, Core, Into, Stash};
use super::engine::{self, progress_send_any, Next, Spin};
use super::frame::Header;
use super::matching::{Matcher, Pattern, Posted};
use super::requests::{received, PostedRecv, ReqId, Requests};
use super::tagged::{self, Step};
use crate::channel::request::{Pending, RecvBuf, SendBuf};
use crate::channel::{MsgStatus, Source, TagSel};
use crate::error::{Error, ErrorKind, Result};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// An eventfd: a counter that makes poll(2) return when written.
struct EventFd(OwnedFd);

impl EventFd {
    fn new() -> Result<EventFd> {
        // SAFETY: eventfd with valid flags; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(Error::channel(format!(
                "eventfd failed: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }
    fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our eventfd. A full counter (EAGAIN) still
        // wakes the reader, so the result needs no check.
        unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }
    fn drain(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from our non-blocking eventfd.
        unsafe { libc::read(self.0.as_raw_fd(), (&mut v as *mut u64).cast(), 8) };
    }
    fn pollfd(&self) -> libc::pollfd {
        libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }
    }
}

/// What the transport, its request handles and its progress thread share.
///
/// One thread at a time waits in poll(2) for the requests' sockets (the *driver*, marked in
/// [`Core::driving`], with the lock released); other waiters sleep on a condition variable. Who
/// completes requests wakes them ([`CoreGuard`]), and kicks a driver out of its poll, since the
/// bytes it waits for may have been read by someone else.
pub(super) struct Shared {
    core: Mutex<Core>,
    /// Held by a blocking call for its whole duration (it releases `core` while it waits in
    /// poll(2)): blocking calls on the transport run one at a time, as before they waited with
    /// the lock held; the collectives worker's requests progress meanwhile.
    calls: Mutex<()>,
    completed: Condvar,
    /// The busy-poll window of waits (`communicator.spin_us`).
    pub spin: Duration,
    /// Wakes the progress thread from its idle sleep (a new request, or stop).
    wake: EventFd,
    /// Wakes the driver from its poll (something completed, or a new request to watch).
    kick: EventFd,
    stop: AtomicBool,
}

/// Longest sleep of the progress thread in one poll while requests are pending (it also wakes on
/// socket readiness and on new requests).
const TICK: Duration = Duration::from_millis(100);

/// The transport's state, locked; on release, wakes whoever waits if a request completed
/// meanwhile.
pub(super) struct CoreGuard<'a> {
    shared: &'a Shared,
    guard: MutexGuard<'a, Core>,
    before: u64,
}

impl std::ops::Deref for CoreGuard<'_> {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.guard
    }
}

impl std::ops::DerefMut for CoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Core {
        &mut self.guard
    }
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        if self.guard.reqs.completions() != self.before {
            self.shared.completed.notify_all();
            if self.guard.driving {
                self.shared.kick.signal();
            }
        }
    }
}

impl CoreGuard<'_> {
    /// Runs `f` with the lock released (a blocking call waiting in poll(2), its connections
    /// claimed in [`Conn::call_reads`] / [`Conn::call_writes`]), after waking whoever waits
    /// for requests this holder completed meanwhile.
    pub fn unlocked<T>(&mut self, f: impl FnOnce() -> T) -> T {
        self.report();
        let r = MutexGuard::unlocked(&mut self.guard, f);
        self.before = self.guard.reqs.completions();
        r
    }

    /// Wakes the waiters if requests completed since the lock was taken (or last reported).
    fn report(&mut self) {
        let now = self.guard.reqs.completions();
        if now != self.before {
            self.shared.completed.notify_all();
            self.kick_driver();
            self.before = now;
        }
    }

    /// Makes the driver, if any, look again at what to wait for (a connection was released).
    pub fn kick_driver(&self) {
        if self.guard.driving {
            self.shared.kick.signal();
        }
    }
}

impl Shared {
    pub fn new(core: Core, spin: Duration) -> Result<Shared> {
        Ok(Shared {
            core: Mutex::new(core),
            calls: Mutex::new(()),
            completed: Condvar::new(),
            spin,
            wake: EventFd::new()?,
            kick: EventFd::new()?,
            stop: AtomicBool::new(false),
        })
    }

    /// The right to run a blocking call (held until the guard drops), waited for until
    /// `deadline`.
    pub fn call(&self, deadline: Instant) -> Result<MutexGuard<'_, ()>> {
        self.calls.try_lock_until(deadline).ok_or_else(|| {
            Error::new(
                ErrorKind::Timeout,
                "another thread's blocking call on the same connections did not end before the \
                 deadline",
            )
        })
    }

    /// The right to run a call that does not wait (another thread's blocking call ends by its
    /// own deadline).
    pub fn call_unbounded(&self) -> MutexGuard<'_, ()> {
        self.calls.lock()
    }

    /// Locks the transport's state.
    pub fn lock(&self) -> CoreGuard<'_> {
        let guard = self.core.lock();
        let before = guard.reqs.completions();
        CoreGuard {
            shared: self,
            guard,
            before,
        }
    }

    /// A new request was started: the progress thread takes it up, and a driver watches its
    /// socket too.
    pub fn started(&self, driving: bool) {
        self.wake.signal();
        if driving {
            self.kick.signal();
        }
    }

    /// Advances the requests until `done` says so (checked under the lock after every step) or
    /// `until`: as the driver while nobody else is, else asleep until the driver reports.
    /// Returns `done`'s last answer.
    fn drive<T>(&self, until: Instant, mut done: impl FnMut(&mut Core) -> Option<T>) -> Option<T> {
        let mut g = self.lock();
        let mut spin = Spin::new(self.spin);
        let mut pfds = Vec::new();
        loop {
            if let Some(t) = done(&mut g) {
                return Some(t);
            }
            if g.driving {
                if self.completed.wait_until(&mut g.guard, until).timed_out() {
                    return done(&mut g);
                }
                continue;
            }
            let moved = {
                let Core {
                    conns,
                    matcher,
                    reqs,
                    ..
                } = &mut *g;
                requests(conns, matcher, reqs, &|_| false)
            };
            if let Some(t) = done(&mut g) {
                return Some(t);
            }
            match spin.next(moved, until) {
                Next::Again => {
                    MutexGuard::bump(&mut g.guard);
                    continue;
                }
                Next::TimedOut => return None,
                Next::Poll => {}
            }
            pfds.clear();
            pfds.push(self.kick.pollfd());
            pfds.push(self.wake.pollfd());
            pollfds(&g.conns, &g.matcher, &g.reqs, &|_| false, &mut pfds);
            pfds[1].events = 0; // watched only by the progress thread's idle sleep
            g.driving = true;
            MutexGuard::unlocked(&mut g.guard, || {
                let _ = engine::poll_until(&mut pfds, until);
            });
            g.driving = false;
            if pfds[0].revents != 0 {
                self.kick.drain();
            }
            // Another waiter may drive now (or find its result).
            self.completed.notify_all();
        }
    }
}

/// Starts the progress thread of `shared`.
pub(super) fn spawn(shared: Arc<Shared>) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("fmi-progress".into())
        .spawn(move || thread_main(&shared))
        .map_err(|e| Error::channel(format!("cannot start the progress thread: {e}")))
}

/// Stops the progress thread `h` of `shared` and waits for it.
pub(super) fn stop(shared: &Shared, h: JoinHandle<()>) {
    shared.stop.store(true, Ordering::SeqCst);
    shared.wake.signal();
    shared.kick.signal();
    shared.completed.notify_all();
    let _ = h.join();
}

/// The progress thread: while requests are pending, drives them in slices of [`TICK`]; else
/// sleeps until a new request or stop.
fn thread_main(shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        let idle = shared.lock().reqs.is_idle();
        if idle {
            let mut pfd = [shared.wake.pollfd()];
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(pfd.as_mut_ptr(), 1, -1) };
            shared.wake.drain();
            continue;
        }
        shared.wake.drain();
        shared.drive(Instant::now() + TICK, |core| {
            (core.reqs.is_idle() || shared.stop.load(Ordering::SeqCst)).then_some(())
        });
    }
}

/// One step of every pending request that no loop of the caller serves (`busy(peer)`: the caller
/// reads that peer's connection itself): writes queued sends, reads the messages of posted
/// receives, and fails the requests of broken connections. Returns whether any byte moved.
pub(super) fn requests(
    conns: &mut [Option<Conn>],
    matcher: &mut Matcher,
    reqs: &mut Requests,
    busy: &dyn Fn(usize) -> bool,
) -> bool {
    let mut moved = false;
    let peers: Vec<usize> = reqs.sending_peers().collect();
    for p in peers {
        let Some(conn) = conns[p].as_mut() else {
            continue;
        };
        if conn.broken.is_some() || conn.call_writes {
            continue;
        }
        let q = reqs.queue(p);
        let mut finished = Vec::new();
        let mut failed = None;
        while let Some(front) = q.front_mut() {
            match progress_send_any(&mut conn.stream, &mut front.state, front.data.bytes()) {
                Ok(m) => moved |= m,
                Err(e) => {
                    failed = Some(e.context(format!("peer {p}")));
                    break;
                }
            }
            if !front.state.done() {
                break;
            }
            let s = q.pop_front().expect("front exists");
            finished.push((s.id, s.status));
        }
        for (id, st) in finished {
            reqs.complete(id, Ok(st));
        }
        if let Some(e) = failed {
            conn.broken = Some(e.message().to_string());
        }
    }
    for (p, conn) in conns.iter_mut().enumerate() {
        let Some(conn) = conn.as_mut() else {
            continue;
        };
        if conn.broken.is_some()
            || busy(p)
            || conn.call_reads
            || conn.head.is_some()
            || conn.stash.is_none() && !matcher.awaits(p)
        {
            continue;
        }
        match tagged::step(conn, p, matcher, reqs) {
            Ok((Step::Open | Step::Blocked, m)) => moved |= m,
            Ok((Step::Matched(_) | Step::Delivered, _)) => {
                // Only a blocking receive gets these, and it reads its sources itself.
                conn.broken = Some(
                    "internal error: a blocking receive's message was read by the \
                                    progress of non-blocking requests"
                        .into(),
                );
            }
            Err(e) => conn.broken = Some(e.message().to_string()),
        }
    }
    fail_broken(conns, matcher, reqs);
    moved
}

/// Fails the requests that depend on a broken connection: its queued sends, the receive being
/// read from it, and the receives posted for that peer alone.
fn fail_broken(conns: &mut [Option<Conn>], matcher: &mut Matcher, reqs: &mut Requests) {
    for (p, conn) in conns.iter_mut().enumerate() {
        let Some(conn) = conn.as_mut() else {
            continue;
        };
        let Some(why) = conn.broken.clone() else {
            continue;
        };
        let err = Error::new(
            ErrorKind::PeerLost,
            format!("connection to peer {p} is unusable: {why}"),
        );
        if reqs.sends_to(p) {
            reqs.fail_sends(p, &err);
        }
        if let Some(st) = conn.stash.take() {
            match st.into {
                Into::Queue(_) | Into::Collective(..) => matcher.abandon(st.len),
                Into::Request(r) => reqs.complete(r.id, Err(err.clone())),
            }
        }
        if reqs.has_posted() {
            reqs.fail_posted(matcher, &err, |pat| pat.src == Source::Rank(p));
        }
    }
}

/// Adds to `pfds` the connections that pending requests wait on (writable for queued sends,
/// readable for posted receives), except those `busy` says the caller watches.
pub(super) fn pollfds(
    conns: &[Option<Conn>],
    matcher: &Matcher,
    reqs: &Requests,
    busy: &dyn Fn(usize) -> bool,
    pfds: &mut Vec<libc::pollfd>,
) {
    for (p, c) in conns.iter().enumerate() {
        let Some(c) = c else { continue };
        if c.broken.is_some() {
            continue;
        }
        let mut events = 0;
        if reqs.sends_to(p) && !c.call_writes {
            events |= libc::POLLOUT;
        }
        if !busy(p) && !c.call_reads && c.head.is_none() && (c.stash.is_some() || matcher.awaits(p))
        {
            events |= libc::POLLIN;
        }
        if events != 0 {
            pfds.push(libc::pollfd {
                fd: c.stream.tcp().as_raw_fd(),
                events,
                revents: 0,
            });
        }
    }
}

/// Fails every pending request: the transport is closing. Their buffers are not touched again.
pub(super) fn fail_all(core: &mut Core) {
    let err = Error::new(
        ErrorKind::PeerLost,
        "the communicator was closed while this request was pending",
    );
    let Core {
        conns,
        matcher,
        reqs,
        ..
    } = core;
    for (p, conn) in conns.iter_mut().enumerate() {
        if reqs.sends_to(p) {
            reqs.fail_sends(p, &err);
        }
        if let Some(c) = conn.as_mut() {
            if let Some(st) = c.stash.take() {
                match st.into {
                    Into::Queue(_) | Into::Collective(..) => matcher.abandon(st.len),
                    Into::Request(r) => reqs.complete(r.id, Err(err.clone())),
                }
            }
        }
    }
    reqs.fail_posted(matcher, &err, |_| true);
}

/// A non-blocking send or receive of the direct channel, as its caller holds it.
pub(super) struct DirectPending {
    pub shared: Arc<Shared>,
    pub id: ReqId,
}

impl Pending for DirectPending {
    fn test(&mut self) -> Option<Result<MsgStatus>> {
        let mut g = self.shared.lock();
        if let Some(r) = g.reqs.result(self.id) {
            return Some(r);
        }
        let Core {
            conns,
            matcher,
            reqs,
            ..
        } = &mut *g;
        requests(conns, matcher, reqs, &|_| false);
        reqs.result(self.id)
    }

    fn wait(&mut self, until: Instant) -> Option<Result<MsgStatus>> {
        let id = self.id;
        self.shared.drive(until, |core| core.reqs.result(id))
    }

    fn withdraw(&mut self) -> bool {
        let mut guard = self.shared.lock();
        let core = &mut *guard;
        match core.reqs.posted_id(self.id) {
            Some(pid) => {
                core.reqs.unpost(&mut core.matcher, pid);
                true
            }
            None => false,
        }
    }

    fn cancel(&mut self) -> Option<Result<MsgStatus>> {
        let mut guard = self.shared.lock();
        let core = &mut *guard;
        if let Some(r) = core.reqs.result(self.id) {
            return Some(r);
        }
        if let Some((peer, started)) = core.reqs.unqueue(self.id) {
            if started {
                if let Some(c) = core.conns[peer].as_mut() {
                    c.broken = Some("a message was cut off: its send was cancelled".into());
                }
            }
            return None;
        }
        if let Some(pid) = core.reqs.posted_id(self.id) {
            core.reqs.unpost(&mut core.matcher, pid);
            return None;
        }
        for c in core.conns.iter_mut().flatten() {
            if matches!(&c.stash, Some(st) if matches!(&st.into, Into::Request(r) if r.id == self.id))
            {
                c.stash = None;
                c.broken = Some("a message was cut off: its receive was cancelled".into());
                core.reqs.forget();
                return None;
            }
        }
        None
    }

    fn detach(self: Box<Self>) {
        self.shared.lock().reqs.detach(self.id);
    }
}

/// Starts the non-blocking send of `data` to `dest` with `tag` in context `ctx` (by rank `me`):
/// queued behind the earlier sends to `dest`. Returns its id.
pub(super) fn post_send(
    core: &mut Core,
    me: usize,
    ctx: u32,
    data: SendBuf,
    dest: usize,
    tag: u32,
) -> Result<ReqId> {
    usable(&core.conns, dest, me, "destination")?;
    let id = core.reqs.start();
    let status = MsgStatus {
        source: dest,
        tag,
        bytes: data.len(),
    };
    core.reqs
        .queue_send(id, dest, &Header::p2p(ctx, tag, 0), data, status);
    Ok(id)
}

/// Posts the non-blocking receive into `buf` of the oldest message from `src` with `tag` in
/// context `ctx` (by rank `me`): a message already buffered completes it at once, a parked one
/// is read next from its connection, else it waits in the matcher. Returns its id.
pub(super) fn post_recv(
    core: &mut Core,
    me: usize,
    ctx: u32,
    mut buf: RecvBuf,
    src: Source,
    tag: TagSel,
) -> Result<ReqId> {
    if let Source::Rank(r) = src {
        usable(&core.conns, r, me, "source")?;
    }
    let id = core.reqs.start();
    match core.matcher.post(Pattern { ctx, src, tag }) {
        Posted::Found(u) => match u.payload {
            Some(d) => {
                let n = d.len().min(buf.len());
                buf.bytes_mut()[..n].copy_from_slice(&d[..n]);
                let cap = buf.len();
                core.reqs.complete(id, received(u.env, u.len, cap));
            }
            None => {
                // Parked: its payload is next in the connection.
                let c = core.conns[u.env.src]
                    .as_mut()
                    .expect("a parked message has a connection");
                c.head = None;
                c.stash = Some(Stash::request(u.env, u.len, PostedRecv { id, buf }));
            }
        },
        Posted::Waiting(pid) => core.reqs.post(pid, PostedRecv { id, buf }),
    }
    Ok(id)
}

/// Checks that `peer` is another rank with a usable connection.
pub(super) fn usable(conns: &[Option<Conn>], peer: usize, me: usize, what: &str) -> Result<()> {
    if peer == me {
        return Err(Error::invalid(format!(
            "{what} {peer} is this rank (messages to self are not supported)"
        )));
    }
    match conns.get(peer) {
        Some(Some(c)) => match &c.broken {
            Some(why) => Err(Error::new(
                ErrorKind::PeerLost,
                format!("connection to peer {peer} is unusable: {why}"),
            )),
            None => Ok(()),
        },
        _ => Err(Error::invalid(format!("no connection to peer {peer}"))),
    }
}
