//! Non-blocking collectives: any collective ([`Communicator::istart`] with a [`Background`]
//! description; the shorthands [`Communicator::ibarrier`], `ibcast`, `iallreduce`, `ireduce`,
//! `iallgather`, `ialltoall`). Each returns a [`Request`] at once; the collective runs on the
//! communicator's worker thread (one per communicator, started by the first such call), or on
//! the thread that waits for it ([`Request::wait`], `wait_all`) when it has not started by then:
//! that thread runs it and the ones queued before it ([`Queue`]). Either way the calls run one
//! after another in the order they were started, which is the same on every peer, with the
//! algorithm the plan picks for the channel's family. Meanwhile the caller may run any other
//! operation: a collective nobody waits for runs on the worker.
//!
//! The channel: the pinned one, else the direct channel when it is enabled, else the first
//! enabled store. On the direct channel the collective runs over a background handle whose
//! messages are in a context of their own (see `channel::direct::background`); on a store, over
//! a connection of the worker's own (opened by its first store collective, so a collective
//! waiting in the background never holds the connection the caller's calls use), in the
//! communicator's key namespace under the call's own sequence number. They count in the channel
//! and algorithm counters when they end (the worker keeps its own, which the communicator adds).

use super::background::Background;
use super::channels::Held;
use super::Communicator;
use crate::channel::request::{Pending, RecvBuf, SendBuf};
use crate::channel::store::keys::Namespace;
use crate::channel::store::StoreTransport;
use crate::channel::{self, ChannelKind, Member, MsgStatus, P2pTransport, Transport};
use crate::collective::{p2p, run, store, Args};
use crate::config::Config;
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
use crate::model::counters::{AlgorithmCounters, ChannelCounters};
use crate::op::ReduceOp;
use crate::plan::{plan, Algorithm, Call, P2pAlgorithm, StoreAlgorithm};
use crate::request::Request;
use crate::tag::make_tag;
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

/// How long a job waits in the queue for a caller to wait for it (and run it, [`Queue::run_to`])
/// before the worker runs it. A caller that waits right after the start claims the job within a
/// few microseconds and runs it on its own thread: the two thread hand-offs the worker costs
/// (submit -> worker, worker -> the waiter's condvar) are gone. A job nobody waits for starts
/// this much later on the worker (asynchronous progress stays). Without the grace the worker,
/// woken by the submit, would take the job before the caller reaches its wait.
///
/// Measured (docs/benchmarks.md, group 4): with 50 us the worker woke twice per call (at the
/// submit and at the end of the grace), each wake taking a vCPU from a peer that spins for a
/// message, and iallreduce got slower than on the worker. With 1 ms and a submit that wakes
/// only a worker asleep without a deadline, a loop of start + wait wakes the worker about once
/// per millisecond instead.
const GRACE: Duration = Duration::from_millis(1);

/// The jobs of one communicator, shared by its worker and the threads that wait for them.
///
/// Jobs run one at a time and in submission order, which is the same on every peer (each
/// collective's messages match the peers' same collective): whoever runs a job (the worker, or
/// a thread waiting for it) holds `running` while it takes the job from the front of the queue
/// and runs it.
struct Queue {
    state: Mutex<QueueState>,
    /// Wakes the worker: a job was queued or given back, or the worker is to stop.
    wake: Condvar,
    /// Held while a job is taken and run.
    running: Mutex<()>,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Entry>,
    /// The jobs that a waiting thread will run (it runs every job before its own too): the
    /// worker leaves the front job to it.
    claims: Vec<u64>,
    stopping: bool,
    /// The worker waits without a deadline (nothing it may run is queued): a new job must wake
    /// it. Otherwise it looks at the queue again by itself when its deadline comes.
    asleep: bool,
}

struct Entry {
    id: u64,
    job: Job,
    queued: Instant,
}

impl QueueState {
    /// The job the worker may run now, or when it may (its grace ends).
    fn next_for_worker(&self, now: Instant) -> Option<std::result::Result<(), Instant>> {
        let front = self.jobs.front()?;
        if self.stopping {
            return Some(Ok(()));
        }
        if self.claims.iter().any(|&c| c >= front.id) {
            return None;
        }
        let at = front.queued + GRACE;
        Some(if now >= at { Ok(()) } else { Err(at) })
    }

    fn queued(&self, id: u64) -> bool {
        self.jobs.iter().any(|e| e.id == id)
    }
}

impl Queue {
    /// The worker's loop: runs the jobs nobody claimed, each after its grace; returns when
    /// stopped and the queue is empty (started jobs finish, claimed or not).
    fn serve(&self) {
        loop {
            {
                let mut s = self.state.lock();
                loop {
                    match s.next_for_worker(Instant::now()) {
                        Some(Ok(())) => break,
                        Some(Err(at)) => {
                            self.wake.wait_until(&mut s, at);
                        }
                        None if s.stopping && s.jobs.is_empty() => return,
                        None => {
                            s.asleep = true;
                            self.wake.wait(&mut s);
                            s.asleep = false;
                        }
                    }
                }
            }
            let run = self.running.lock();
            // A waiter may have claimed or run it meanwhile: look again.
            let job = {
                let mut s = self.state.lock();
                match s.next_for_worker(Instant::now()) {
                    Some(Ok(())) => s.jobs.pop_front(),
                    _ => None,
                }
            };
            if let Some(e) = job {
                (e.job)();
            }
            drop(run);
        }
    }

    /// Runs on the calling thread every queued job up to and including job `id` (the jobs
    /// before it first: the order is every peer's), while `until` has not passed. Returns
    /// when job `id` ended (here or elsewhere), or at `until` with it still queued (then the
    /// worker runs it, as if nobody had waited).
    fn run_to(&self, id: u64, until: Instant) {
        {
            let mut s = self.state.lock();
            if !s.queued(id) {
                return;
            }
            s.claims.push(id);
        }
        // The claim goes when this returns, even by a panic in a job: the worker then runs the
        // jobs left.
        let _claim = Claim { queue: self, id };
        loop {
            if Instant::now() >= until {
                break;
            }
            let Some(run) = self.running.try_lock_until(until) else {
                break;
            };
            let job = {
                let mut s = self.state.lock();
                match s.jobs.front() {
                    Some(e) if e.id <= id => s.jobs.pop_front(),
                    // Job `id` has been taken (by the worker before the claim, or by another
                    // waiter): its slot tells when it ends.
                    _ => None,
                }
            };
            let Some(e) = job else {
                break;
            };
            let last = e.id == id;
            (e.job)();
            drop(run);
            if last {
                break;
            }
        }
    }
}

/// A waiting thread's claim on the jobs up to `id` ([`Queue::run_to`]).
struct Claim<'q> {
    queue: &'q Queue,
    id: u64,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut s = self.queue.state.lock();
        if let Some(i) = s.claims.iter().position(|&c| c == self.id) {
            s.claims.swap_remove(i);
        }
        if s.asleep && !s.jobs.is_empty() {
            self.queue.wake.notify_one();
        }
    }
}

/// The thread that runs a communicator's non-blocking collectives nobody waits for, in order.
pub(super) struct Worker {
    queue: Arc<Queue>,
    /// The id of the last job queued.
    last: u64,
    thread: Option<JoinHandle<()>>,
    /// The channel counters of the collectives that ended.
    pub counters: Arc<Mutex<ChannelCounters>>,
    /// The algorithm counters of the collectives that ended.
    pub algorithms: Arc<Mutex<AlgorithmCounters>>,
    /// The store connection of the non-blocking collectives (used by one job at a time, on the
    /// worker or a waiting thread; opened by the first store collective).
    store: Arc<Mutex<Option<Box<dyn StoreTransport>>>>,
    /// A store collective failed: the store may hold its leftovers (finalize then cleans the
    /// whole namespace).
    store_failed: Arc<AtomicBool>,
}

impl Worker {
    fn start() -> Result<Worker> {
        let queue = Arc::new(Queue {
            state: Mutex::default(),
            wake: Condvar::new(),
            running: Mutex::new(()),
        });
        let q = queue.clone();
        let thread = std::thread::Builder::new()
            .name("fmi-collectives".into())
            .spawn(move || q.serve())
            .map_err(|e| Error::channel(format!("cannot start the collectives thread: {e}")))?;
        Ok(Worker {
            queue,
            last: 0,
            thread: Some(thread),
            counters: Arc::default(),
            algorithms: Arc::default(),
            store: Arc::default(),
            store_failed: Arc::default(),
        })
    }

    /// Queues `job`; its id (for [`Queue::run_to`]).
    fn submit(&mut self, job: Job) -> Result<u64> {
        let mut s = self.queue.state.lock();
        if s.stopping || self.thread.is_none() {
            return Err(Error::new(
                ErrorKind::Internal,
                "the collectives thread has stopped",
            ));
        }
        self.last += 1;
        let id = self.last;
        s.jobs.push_back(Entry {
            id,
            job,
            queued: Instant::now(),
        });
        // A worker that waits for an earlier job's grace, or runs one, sees this one then.
        if s.asleep {
            self.queue.wake.notify_one();
        }
        Ok(id)
    }

    /// Lets the started collectives finish (each is bounded by its timeout), then stops and
    /// closes the worker's store connection.
    pub fn stop(&mut self) {
        self.queue.state.lock().stopping = true;
        self.queue.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(mut t) = self.store.lock().take() {
            t.close();
        }
    }

    /// Whether a store collective of this worker failed.
    pub fn store_failed(&self) -> bool {
        self.store_failed.load(Ordering::Relaxed)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where a background collective leaves its result.
#[derive(Default)]
struct Slot {
    result: Mutex<Option<Result<MsgStatus>>>,
    ready: Condvar,
    /// The job has ended (its buffers are no longer used).
    ended: Mutex<bool>,
}

impl Slot {
    fn finish(&self, r: Result<MsgStatus>) {
        *self.result.lock() = Some(r);
        *self.ended.lock() = true;
        self.ready.notify_all();
    }
}

/// A background collective, as its request sees it.
struct Collective {
    slot: Arc<Slot>,
    /// Its job in the communicator's queue.
    queue: Arc<Queue>,
    id: u64,
}

impl Pending for Collective {
    fn test(&mut self) -> Option<Result<MsgStatus>> {
        self.slot.result.lock().take()
    }
    fn wait(&mut self, until: Instant) -> Option<Result<MsgStatus>> {
        let mut r = self.slot.result.lock();
        while r.is_none() {
            if self.slot.ready.wait_until(&mut r, until).timed_out() {
                break;
            }
        }
        r.take()
    }
    fn wait_running(&mut self, until: Instant) -> Option<Result<MsgStatus>> {
        // The job runs here exactly as on the worker (the same closure: its own deadline,
        // counters and `Slot::finish`), so the result is read from the slot either way.
        self.queue.run_to(self.id, until);
        self.wait(until)
    }
    fn cancel(&mut self) -> Option<Result<MsgStatus>> {
        // A collective cannot be withdrawn once peers take part; it ends by its own deadline.
        // Waiting for that keeps the promise that the buffers are not used afterwards.
        let mut r = self.slot.result.lock();
        while r.is_none() {
            self.slot.ready.wait(&mut r);
        }
        r.take()
    }
    fn detach(self: Box<Self>) {}
}

impl Communicator {
    /// The channel of non-blocking collectives: the pinned one, else the direct channel when it
    /// is enabled, else the first enabled one (a store).
    fn background_channel(&self) -> ChannelKind {
        match self.channels.pinned {
            Some(k) => k,
            None if self.channels.has(ChannelKind::Direct) => ChannelKind::Direct,
            None => self.channels.control(),
        }
    }

    /// Starts `call` in the background: `run` gets the algorithm the plan picked with its
    /// context ([`Exec`]) and runs it on the buffers it captured.
    fn start(
        &mut self,
        call: Call<'static>,
        run: impl FnOnce(&mut Exec) -> Result<()> + Send + 'static,
    ) -> Result<Request> {
        self.start_rounds(call, move |r| r.round(0, run))
    }

    /// Starts `call` in the background as one or more rounds of the algorithm the plan picked
    /// ([`Rounds`]: every peer runs the same rounds in the same order).
    pub(super) fn start_rounds(
        &mut self,
        call: Call<'static>,
        run: impl FnOnce(&mut Rounds) -> Result<()> + Send + 'static,
    ) -> Result<Request> {
        let kind = self.background_channel();
        let alg = plan(&call, kind.family(), &self.tuning())?;
        let on = match self.channels.get(kind) {
            Some(Held::P2p(t)) => On::P2p(t.background().ok_or_else(|| {
                Error::new(
                    ErrorKind::Unsupported,
                    format!("channel {} has no background handle", kind.name()),
                )
            })?),
            Some(Held::Store(s)) => On::Store(Box::new(StoreSide {
                ns: s.ns.clone(),
                config: self.config.clone(),
                job: self.name.clone(),
            })),
            None => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!("channel {} is not connected", kind.name()),
                ))
            }
        };
        if self.worker.is_none() {
            self.worker = Some(Worker::start()?);
        }
        self.seq = self.seq.wrapping_add(1);
        let (seq, tag) = (self.seq, make_tag(call.op, self.seq as u32));
        let (rank, size, bytes, timeout) = (self.rank, self.size, call.bytes, self.timeout);
        let what = format!(
            "non-blocking {} of {} bytes (call #{}) on channel {} at rank {} of {}",
            call.op.name(),
            call.bytes,
            self.seq,
            kind.name(),
            self.rank,
            self.size
        );
        let slot = Arc::new(Slot::default());
        let done = slot.clone();
        let w = self.worker.as_ref().expect("started above");
        let (counters, algorithms) = (w.counters.clone(), w.algorithms.clone());
        let (store, store_failed) = (w.store.clone(), w.store_failed.clone());
        let op = call.op.name();
        let job: Job = Box::new(move || {
            let start = Instant::now();
            let deadline = start + timeout;
            let (r, messages) = match (on, alg) {
                (On::P2p(mut bg), Algorithm::P2p(a)) => {
                    // Every round uses the call's tag: the algorithms receive from named
                    // peers, whose messages arrive in order.
                    let mut sent = 0;
                    let mut each = |_: u32, f: &mut RoundFn| {
                        let mut x = Exec::P2p(a, p2p::Ctx::new(bg.as_mut(), tag, deadline));
                        let r = f(&mut x);
                        sent += x.sent();
                        r
                    };
                    let r = run(&mut Rounds {
                        each: &mut each,
                        deadline,
                    });
                    (r, sent)
                }
                (On::Store(side), Algorithm::Store(a)) => {
                    let StoreSide { ns, config, job } = *side;
                    let mut conn = store.lock();
                    let me = Member {
                        rank,
                        size,
                        job: &job,
                        spin: config.comm.spin,
                        unexpected: config.comm.unexpected_bytes,
                    };
                    let r = open_store(&mut conn, kind, &config, me, deadline).and_then(|t| {
                        // Round r > 0 has keys of its own (operation name `op.r`).
                        let mut sent = 0;
                        let mut each = |round: u32, f: &mut RoundFn| {
                            let name = match round {
                                0 => op.to_string(),
                                r => format!("{op}.{r}"),
                            };
                            let ctx = store::Ctx::new(
                                &mut *t, &ns, seq, &name, tag, deadline, rank, size,
                            );
                            let mut x = Exec::Store(a, ctx);
                            let r = f(&mut x);
                            sent += x.sent();
                            drop(x);
                            t.call_done(&ns.call(seq, &name).prefix());
                            r
                        };
                        let r = run(&mut Rounds {
                            each: &mut each,
                            deadline,
                        });
                        r.map(|()| sent).map_err(|e| (e, sent))
                    });
                    match r {
                        Ok(sent) => (Ok(()), sent),
                        Err((e, sent)) => {
                            store_failed.store(true, Ordering::Relaxed);
                            (Err(e), sent)
                        }
                    }
                }
                (_, alg) => (
                    Err(Error::new(
                        ErrorKind::Internal,
                        format!(
                            "the plan chose {alg} of another family than channel {}",
                            kind.name()
                        ),
                    )),
                    0,
                ),
            };
            counters
                .lock()
                .record(kind, bytes, start.elapsed(), r.is_ok());
            algorithms.lock().record(alg, messages, r.is_ok());
            done.finish(
                r.map(|()| MsgStatus {
                    source: rank,
                    tag: 0,
                    bytes,
                })
                .map_err(|e| e.context(format!("after {:.3} s", start.elapsed().as_secs_f64()))),
            );
        });
        let w = self.worker.as_mut().expect("started above");
        let id = w.submit(job)?;
        let queue = w.queue.clone();
        Ok(Request::new(
            Box::new(Collective { slot, queue, id }),
            what,
            timeout,
        ))
    }

    /// Starts any collective on the communicator's worker ([`Background`]): it runs after the
    /// ones started before it (the same order on every peer), while the caller goes on. The
    /// request completes when it has ended; the buffers are the caller's until then.
    pub fn istart(&mut self, mut c: Background) -> Result<Request> {
        let call = self.prepare(&mut c)?;
        self.start(call, move |x| x.run(c.args()))
    }

    /// Starts a barrier.
    pub fn ibarrier(&mut self) -> Result<Request> {
        self.istart(Background::Barrier)
    }

    /// Starts a broadcast of `buf` from `root` (`buf` is read at the root and written elsewhere
    /// until the request completes).
    pub fn ibcast(&mut self, buf: RecvBuf, root: usize) -> Result<Request> {
        self.istart(Background::Bcast { buf, root })
    }

    /// Starts an allreduce of `send` (None: in place, `recv` holds the contribution) into
    /// `recv`.
    pub fn iallreduce(
        &mut self,
        send: Option<SendBuf>,
        recv: RecvBuf,
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<Request> {
        let op = op.clone();
        self.istart(Background::Allreduce { send, recv, t, op })
    }

    /// Starts a reduction of every rank's `send` into `recv` at `root` (`recv` only there).
    pub fn ireduce(
        &mut self,
        send: SendBuf,
        recv: Option<RecvBuf>,
        t: Datatype,
        op: &ReduceOp,
        root: usize,
    ) -> Result<Request> {
        let op = op.clone();
        self.istart(Background::Reduce {
            send,
            recv,
            t,
            op,
            root,
        })
    }

    /// Starts an allgather of every rank's `send` block into `recv` (size x block).
    pub fn iallgather(&mut self, send: SendBuf, recv: RecvBuf) -> Result<Request> {
        self.istart(Background::Allgather { send, recv })
    }

    /// Starts an all-to-all: block i of `send` goes to rank i, block j of `recv` comes from rank
    /// j.
    pub fn ialltoall(&mut self, send: SendBuf, recv: RecvBuf) -> Result<Request> {
        self.istart(Background::Alltoall { send, recv })
    }
}

/// What one round runs.
type RoundFn<'f> = dyn FnMut(&mut Exec) -> Result<()> + 'f;

/// The rounds of one background call: each runs the algorithm the plan picked, with a fresh
/// context (on a store, keys of its own).
pub(super) struct Rounds<'r> {
    each: &'r mut dyn FnMut(u32, &mut RoundFn) -> Result<()>,
    /// The call's deadline.
    pub deadline: Instant,
}

impl Rounds<'_> {
    /// Runs round number `n` (numbered from 0, the same on every peer) with `f`.
    pub fn round(&mut self, n: u32, f: impl FnOnce(&mut Exec) -> Result<()>) -> Result<()> {
        let mut f = Some(f);
        (self.each)(n, &mut |x| (f.take().expect("one call per round"))(x))
    }
}

/// Where a background collective runs.
enum On {
    /// The direct channel's background handle.
    P2p(Box<dyn P2pTransport>),
    /// A store, through the worker's own connection, in the communicator's namespace.
    Store(Box<StoreSide>),
}

/// What a background store collective needs to reach the store.
struct StoreSide {
    ns: Namespace,
    config: Config,
    job: String,
}

/// The algorithm the plan chose for a background collective, with its context.
pub(super) enum Exec<'a> {
    P2p(P2pAlgorithm, p2p::Ctx<'a>),
    Store(StoreAlgorithm, store::Ctx<'a>),
}

impl Exec<'_> {
    /// Runs the algorithm on the operation's arguments.
    pub(super) fn run(&mut self, args: Args) -> Result<()> {
        match self {
            Exec::P2p(a, ctx) => run::p2p(*a, ctx, args),
            Exec::Store(a, ctx) => run::store(*a, ctx, args),
        }
    }

    /// Messages (p2p) or objects and counter increments (store) this peer sent so far.
    fn sent(&self) -> u64 {
        match self {
            Exec::P2p(_, ctx) => ctx.sent(),
            Exec::Store(_, ctx) => ctx.sent(),
        }
    }
}

/// The worker's store connection, opened on first use.
fn open_store<'a>(
    conn: &'a mut Option<Box<dyn StoreTransport>>,
    kind: ChannelKind,
    config: &Config,
    me: Member<'_>,
    deadline: Instant,
) -> std::result::Result<&'a mut dyn StoreTransport, (Error, u64)> {
    if conn.is_none() {
        match channel::connect(kind, config, me, deadline) {
            Ok(Transport::Store(t)) => *conn = Some(t),
            Ok(Transport::P2p(_)) => {
                let e = format!("channel {} is not a store", kind.name());
                return Err((Error::new(ErrorKind::Internal, e), 0));
            }
            Err(e) => return Err((e.context("the non-blocking collectives' connection"), 0)),
        }
    }
    Ok(conn.as_deref_mut().expect("opened above"))
}
