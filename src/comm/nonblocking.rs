//! Non-blocking collectives: [`Communicator::ibarrier`], `ibcast`, `iallreduce`, `ireduce`,
//! `iallgather`, `ialltoall`. Each returns a [`Request`] at once; the collective runs on the
//! communicator's worker thread (one per communicator, started by the first such call; the
//! calls run one after another in the order they were started, which is the same on every peer),
//! with the algorithm the plan picks, over a background handle of the direct channel whose
//! messages are in a context of their own (see `channel::direct::background`). Meanwhile the
//! caller may run any other operation.
//!
//! In this version they need the direct channel (pinned, or enabled). They count in the channel
//! counters when they end (the worker keeps its own counters, which
//! [`Communicator::counters`] adds), not in the algorithm counters.

use super::channels::Held;
use super::Communicator;
use crate::channel::request::{Pending, RecvBuf, SendBuf};
use crate::channel::{ChannelKind, Family, MsgStatus, P2pTransport};
use crate::collective::{p2p, Args};
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
use crate::model::counters::ChannelCounters;
use crate::op::ReduceOp;
use crate::plan::{plan, Algorithm, Call};
use crate::request::Request;
use crate::tag::{make_tag, OpCode};
use parking_lot::{Condvar, Mutex};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

type Job = Box<dyn FnOnce() + Send>;

/// The thread that runs a communicator's non-blocking collectives, in order.
pub(super) struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    /// The channel counters of the collectives that ended.
    pub counters: Arc<Mutex<ChannelCounters>>,
}

impl Worker {
    fn start() -> Result<Worker> {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("fmi-collectives".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .map_err(|e| Error::channel(format!("cannot start the collectives thread: {e}")))?;
        Ok(Worker {
            jobs: Some(tx),
            thread: Some(thread),
            counters: Arc::default(),
        })
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.jobs
            .as_ref()
            .and_then(|tx| tx.send(job).ok())
            .ok_or_else(|| Error::new(ErrorKind::Internal, "the collectives thread has stopped"))
    }

    /// Lets the started collectives finish (each is bounded by its timeout), then stops.
    pub fn stop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
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
    /// The channel of non-blocking collectives: the pinned one, else the direct channel.
    fn background_channel(&self) -> Result<ChannelKind> {
        let kind = self.channels.pinned.unwrap_or(ChannelKind::Direct);
        if kind.family() != Family::P2p || !self.channels.has(kind) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "non-blocking collectives need the direct channel in this version (the \
                     communicator's channel is {})",
                    kind.name()
                ),
            ));
        }
        Ok(kind)
    }

    /// Starts `call` in the background: `run` gets the algorithm the plan picked and the
    /// algorithms' context, and runs it on the buffers it captured.
    fn start(
        &mut self,
        call: Call<'static>,
        run: impl FnOnce(Algorithm, &mut p2p::Ctx) -> Result<()> + Send + 'static,
    ) -> Result<Request> {
        let kind = self.background_channel()?;
        let alg = plan(&call, kind.family(), &self.tuning())?;
        let mut bg = match self.channels.get(kind) {
            Some(Held::P2p(t)) => t.background(),
            _ => None,
        }
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                format!("channel {} has no background handle", kind.name()),
            )
        })?;
        if self.worker.is_none() {
            self.worker = Some(Worker::start()?);
        }
        self.seq = self.seq.wrapping_add(1);
        let tag = make_tag(call.op, self.seq as u32);
        let timeout = self.timeout;
        let (rank, bytes) = (self.rank, call.bytes);
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
        let counters = self
            .worker
            .as_ref()
            .expect("started above")
            .counters
            .clone();
        let job: Job = Box::new(move || {
            let start = Instant::now();
            let mut ctx = p2p::Ctx::new(bg.as_mut(), tag, start + timeout);
            let r = run(alg, &mut ctx).map(|()| MsgStatus {
                source: rank,
                tag: 0,
                bytes,
            });
            counters
                .lock()
                .record(kind, bytes, start.elapsed(), r.is_ok());
            done.finish(
                r.map_err(|e| e.context(format!("after {:.3} s", start.elapsed().as_secs_f64()))),
            );
        });
        self.worker.as_ref().expect("started above").submit(job)?;
        Ok(Request::new(Box::new(Collective { slot }), what, timeout))
    }

    /// Starts a barrier.
    pub fn ibarrier(&mut self) -> Result<Request> {
        let call = self.call(OpCode::Barrier, 0);
        self.start(call, |alg, ctx| p2p_run(alg, ctx, Args::Barrier))
    }

    /// Starts a broadcast of `buf` from `root` (`buf` is read at the root and written elsewhere
    /// until the request completes).
    pub fn ibcast(&mut self, buf: RecvBuf, root: usize) -> Result<Request> {
        self.check_peer(root, "root")?;
        let call = self.call(OpCode::Bcast, buf.len());
        self.start(call, move |alg, ctx| {
            let mut buf = buf;
            p2p_run(
                alg,
                ctx,
                Args::Bcast {
                    buf: buf.bytes_mut(),
                    root,
                },
            )
        })
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
        if let Some(s) = &send {
            Self::check_len("receive buffer", recv.len(), s.len())?;
        }
        let call = self.reduction(OpCode::Allreduce, recv.len(), t, op)?;
        let op = op.clone();
        self.start(call, move |alg, ctx| {
            let mut recv = recv;
            let args = Args::Allreduce {
                send: send.as_ref().map(SendBuf::bytes),
                buf: recv.bytes_mut(),
                t,
                op: &op,
            };
            p2p_run(alg, ctx, args)
        })
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
        self.check_peer(root, "root")?;
        let call = self.reduction(OpCode::Reduce, send.len(), t, op)?;
        let recv = if self.rank == root {
            let r =
                recv.ok_or_else(|| Error::new(ErrorKind::NullArg, "root needs a receive buffer"))?;
            Self::check_len("receive buffer", r.len(), send.len())?;
            Some(r)
        } else {
            None
        };
        let op = op.clone();
        self.start(call, move |alg, ctx| {
            let mut recv = recv;
            let args = Args::Reduce {
                send: send.bytes(),
                recv: recv.as_mut().map(RecvBuf::bytes_mut),
                t,
                op: &op,
                root,
            };
            p2p_run(alg, ctx, args)
        })
    }

    /// Starts an allgather of every rank's `send` block into `recv` (size x block).
    pub fn iallgather(&mut self, send: SendBuf, recv: RecvBuf) -> Result<Request> {
        Self::check_len("receive buffer", recv.len(), send.len() * self.size)?;
        let call = self.call(OpCode::Allgather, send.len());
        self.start(call, move |alg, ctx| {
            let mut recv = recv;
            let args = Args::Allgather {
                send: send.bytes(),
                recv: recv.bytes_mut(),
            };
            p2p_run(alg, ctx, args)
        })
    }

    /// Starts an all-to-all: block i of `send` goes to rank i, block j of `recv` comes from rank
    /// j.
    pub fn ialltoall(&mut self, send: SendBuf, recv: RecvBuf) -> Result<Request> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        if send.len() % self.size != 0 {
            return Err(Error::invalid(
                "alltoall buffer is not a whole number of blocks",
            ));
        }
        let call = self.call(OpCode::Alltoall, send.len());
        self.start(call, move |alg, ctx| {
            let mut recv = recv;
            let args = Args::Alltoall {
                send: send.bytes(),
                recv: recv.bytes_mut(),
            };
            p2p_run(alg, ctx, args)
        })
    }
}

fn p2p_run(alg: Algorithm, ctx: &mut p2p::Ctx, args: Args) -> Result<()> {
    match alg {
        Algorithm::P2p(a) => p2p::run(a, ctx, args),
        other => Err(Error::new(
            ErrorKind::Internal,
            format!("the plan chose {other} for a peer-to-peer channel"),
        )),
    }
}
