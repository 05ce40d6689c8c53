//! MPI point-to-point requests: non-blocking sends in every mode, receives (from peers, from
//! oneself, from any source), their completion (unpacking non-contiguous data, acknowledging
//! synchronous messages), cancellation of receives, and persistent requests.

use super::{
    acknowledge, bsend, check_rank, check_tag, core_err, selector, status_of, CommRef, Endpoint,
    From, Mode, Outgoing, SelfMsg, Status, Target, ACK, SYNC,
};
use crate::engine::{Class, Error, Result};
use crate::types::Type;
use fmi::channel::request::{RecvBuf, SendBuf};
use fmi::{MsgStatus, Source, TagSel};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// The receives posted on the core, of every communicator, for `wait_progressing`.
static POSTED: Mutex<Vec<Weak<RecvSlot>>> = Mutex::new(Vec::new());

/// Finishes every posted receive whose message has arrived (see `RecvSlot::advance`).
fn advance_posted() {
    let slots: Vec<Arc<RecvSlot>> = {
        let mut posted = POSTED.lock();
        posted.retain(|w| w.strong_count() > 0);
        posted.iter().filter_map(Weak::upgrade).collect()
    };
    for s in slots {
        s.advance();
    }
}

/// Waits for the core request `req`, at most `limit`, while finishing the program's posted
/// receives whose messages have arrived. A synchronous sender waits for the acknowledgment
/// that the receive matched, and MPI says a posted receive matches without the program's Wait:
/// two processes that each post a receive and then send synchronously to each other must both
/// complete. A timeout cancels `req`; `what` names the wait in the error.
pub(crate) fn wait_progressing(
    req: &mut fmi::Request,
    limit: Duration,
    what: impl FnOnce() -> String,
) -> Result<MsgStatus> {
    let deadline = Instant::now() + limit;
    let mut step = Duration::from_micros(50);
    loop {
        advance_posted();
        let left = deadline.saturating_duration_since(Instant::now());
        if let Some(st) = req.wait_for(step.min(left)).map_err(core_err)? {
            return Ok(st);
        }
        if Instant::now() >= deadline {
            if let Some(r) = req.cancel() {
                return r.map_err(core_err);
            }
            return Err(Error::new(
                Class::Other,
                format!(
                    "{} timed out after {:.3} s (FMI_MPI_TIMEOUT seconds bound every blocking MPI \
                     call)",
                    what(),
                    limit.as_secs_f64()
                ),
            ));
        }
        step = (step * 2).min(Duration::from_millis(5));
    }
}

/// A receive that a message to oneself may still take.
pub struct RecvSlot {
    comm: CommRef,
    target: Target,
    src: From,
    sel: TagSel,
    phase: Mutex<Phase>,
}

enum Phase {
    /// Posted on the core; `scratch` receives a non-contiguous message before it is unpacked.
    Core {
        req: fmi::Request,
        scratch: Option<Vec<u8>>,
    },
    /// A receive from oneself waiting for a message to oneself.
    SelfOnly,
    Done(Result<Status>),
    Reported,
}

/// What a posted receive did with a message to oneself.
pub(crate) enum Offer {
    Taken,
    NoMatch,
    /// Completed otherwise (or matched a peer's message): drop it from the posted list.
    Gone,
}

impl RecvSlot {
    pub(crate) fn offer(&self, me: usize, ctag: u32, data: &[u8]) -> Offer {
        if !(self.src == From::Any || self.src == From::Rank(me)) || !self.sel.accepts(ctag) {
            return Offer::NoMatch;
        }
        let mut ph = self.phase.lock();
        match &mut *ph {
            Phase::Core { req, .. } => {
                if !req.withdraw() {
                    return Offer::Gone;
                }
            }
            Phase::SelfOnly => {}
            Phase::Done(_) | Phase::Reported => return Offer::Gone,
        }
        let st = status_of(MsgStatus {
            source: me,
            tag: ctag,
            bytes: data.len(),
        });
        *ph = Phase::Done(self.target.fill(data).map(|()| st));
        Offer::Taken
    }

    /// Finishes the receive if its message has arrived (unpacks it and acknowledges a
    /// synchronous one) without blocking; the result waits for the program's Wait or Test. The
    /// caller holds no communicator's lock (acknowledging takes the slot's).
    fn advance(&self) {
        let Some(mut ph) = self.phase.try_lock() else {
            return; // someone is completing it right now
        };
        let Phase::Core { req, .. } = &mut *ph else {
            return;
        };
        let r = match req.test() {
            Ok(None) => return,
            Ok(Some(st)) => Ok(st),
            Err(e) => Err(e),
        };
        let Phase::Core { scratch, .. } = std::mem::replace(&mut *ph, Phase::Reported) else {
            unreachable!()
        };
        *ph = Phase::Done(self.finish(r, scratch));
    }

    /// Processes a finished core receive: unpack, acknowledge.
    fn finish(&self, r: fmi::Result<MsgStatus>, scratch: Option<Vec<u8>>) -> Result<Status> {
        let st = r.map_err(core_err)?;
        if let Some(s) = scratch {
            self.target.fill(&s[..st.bytes])?;
        }
        if st.tag & SYNC != 0 {
            acknowledge(&mut self.comm.lock(), st)?;
        }
        Ok(status_of(st))
    }

    fn poll(&self, block: bool) -> Result<Option<Status>> {
        let mut ph = self.phase.lock();
        let done = match &mut *ph {
            Phase::Core { req, .. } => {
                let r = if block {
                    Some(req.wait())
                } else {
                    req.test().transpose()
                };
                match r {
                    None => return Ok(None),
                    Some(r) => {
                        let Phase::Core { scratch, .. } =
                            std::mem::replace(&mut *ph, Phase::Reported)
                        else {
                            unreachable!()
                        };
                        self.finish(r, scratch)
                    }
                }
            }
            Phase::SelfOnly if block => Err(Error::new(
                Class::Other,
                "receive from oneself with no message sent to oneself: it could never complete (deadlock)",
            )),
            Phase::SelfOnly => return Ok(None),
            Phase::Done(_) => {
                let Phase::Done(r) = std::mem::replace(&mut *ph, Phase::Reported) else {
                    unreachable!()
                };
                r
            }
            Phase::Reported => {
                return Err(Error::new(Class::Request, "request already completed"))
            }
        };
        *ph = Phase::Reported;
        done.map(Some)
    }

    /// `MPI_Cancel`: true when the receive was withdrawn before any message matched it.
    fn cancel(&self) -> bool {
        let mut ph = self.phase.lock();
        let withdrawn = match &mut *ph {
            Phase::Core { req, .. } => req.withdraw(),
            Phase::SelfOnly => true,
            _ => false,
        };
        if withdrawn {
            *ph = Phase::Done(Ok(Status {
                source: 0,
                tag: 0,
                bytes: 0,
                cancelled: true,
            }));
        }
        withdrawn
    }
}

enum Inner {
    /// Completed when it started.
    Done(Result<Status>),
    Send {
        core: Option<fmi::Request>,
        ack: Option<fmi::Request>,
        /// The bound of a blocking wait for the acknowledgment (the communicator's timeout).
        limit: Duration,
        /// The packed copy the core sends from, kept until the send completes.
        _data: Option<Vec<u8>>,
    },
    /// A synchronous send to oneself: complete when a receive takes the message.
    SelfSync(Arc<AtomicBool>),
    Recv(Arc<RecvSlot>),
    /// Completed and reported (or a persistent request not started).
    Idle,
}

/// What a persistent request starts each time.
#[derive(Clone)]
enum Plan {
    Send {
        buf: *const u8,
        count: u64,
        t: Arc<Type>,
        dest: usize,
        tag: i32,
        mode: Mode,
    },
    Recv {
        buf: *mut u8,
        count: u64,
        t: Arc<Type>,
        src: From,
        tag: Option<i32>,
    },
}

/// An MPI point-to-point request.
pub struct Req {
    inner: Inner,
    plan: Option<(Plan, CommRef, Arc<Endpoint>)>,
}

// SAFETY: the raw pointers are the user's buffers, which MPI hands to the library for the
// request's lifetime; the request is used by one thread at a time (the API's handle table).
unsafe impl Send for Req {}
unsafe impl Sync for Req {}

fn done(st: Status) -> Req {
    Req {
        inner: Inner::Done(Ok(st)),
        plan: None,
    }
}

impl Req {
    /// A request complete at once with `st` (`MPI_PROC_NULL`).
    pub fn completed(st: Status) -> Req {
        done(st)
    }

    /// `MPI_Isend` and its modes.
    ///
    /// # Safety
    /// `buf` holds `count` elements of `t` and stays valid and unchanged until completion.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn isend(
        ep: &Endpoint,
        comm: &CommRef,
        buf: *const u8,
        count: u64,
        t: &Type,
        dest: usize,
        tag: i32,
        mode: Mode,
    ) -> Result<Req> {
        let ctag = check_tag(tag)? << 2;
        // SAFETY: the caller's guarantee.
        let out = unsafe { Outgoing::new(buf, count, t)? };
        let mut c = comm.lock();
        check_rank(&c, dest, "destination")?;
        let me = c.rank();
        if dest == me {
            drop(c);
            let data = out.into_vec();
            if mode == Mode::Buffered {
                bsend::release(bsend::reserve(ep.buffer_keys(), data.len())?);
            }
            if ep.deliver_posted(me, ctag, &data)? {
                return Ok(done(Status::default_send()));
            }
            let matched = Arc::new(AtomicBool::new(false));
            ep.selfbox.lock().queue.push_back(SelfMsg {
                tag: ctag,
                data,
                matched: matched.clone(),
            });
            return Ok(match mode {
                Mode::Sync => Req {
                    inner: Inner::SelfSync(matched),
                    plan: None,
                },
                _ => done(Status::default_send()),
            });
        }
        let flag = if mode == Mode::Sync { SYNC } else { 0 };
        if mode == Mode::Buffered {
            drop(c);
            let lease = bsend::reserve(ep.buffer_keys(), out.bytes().len())?;
            let r = comm
                .lock()
                .isend(out.into_vec(), dest, ctag)
                .map_err(core_err)?;
            bsend::hand_over(lease, r);
            return Ok(done(Status::default_send()));
        }
        let (core, data) = match out {
            Outgoing::Borrowed(p, n) => {
                // SAFETY: the caller keeps the buffer valid and unchanged until completion.
                let b = unsafe { SendBuf::new(p, n) };
                (c.isend_buf(b, dest, ctag | flag).map_err(core_err)?, None)
            }
            Outgoing::Packed(v) => {
                // SAFETY: the vector is kept in the request until the send completes.
                let b = unsafe { SendBuf::new(v.as_ptr(), v.len()) };
                (
                    c.isend_buf(b, dest, ctag | flag).map_err(core_err)?,
                    Some(v),
                )
            }
        };
        let ack = if mode == Mode::Sync {
            Some(
                c.irecv(0, Source::Rank(dest), TagSel::Tag(ctag | ACK))
                    .map_err(core_err)?,
            )
        } else {
            None
        };
        Ok(Req {
            inner: Inner::Send {
                core: Some(core),
                ack,
                limit: c.timeout(),
                _data: data,
            },
            plan: None,
        })
    }

    /// `MPI_Irecv`.
    ///
    /// # Safety
    /// `buf` has room for `count` elements of `t` and is left alone until completion.
    pub unsafe fn irecv(
        ep: &Endpoint,
        comm: &CommRef,
        buf: *mut u8,
        count: u64,
        t: &Arc<Type>,
        src: From,
        tag: Option<i32>,
    ) -> Result<Req> {
        let sel = selector(tag)?;
        let target = Target {
            buf,
            count,
            t: t.clone(),
        };
        let room = target.room()?;
        let mut c = comm.lock();
        let me = c.rank();
        if let From::Rank(r) = src {
            check_rank(&c, r, "source")?;
        }
        let selfish = src == From::Any || src == From::Rank(me);
        if selfish {
            if let Some((ctag, data)) = ep.take_self(sel) {
                let st = status_of(MsgStatus {
                    source: me,
                    tag: ctag,
                    bytes: data.len(),
                });
                return Ok(Req {
                    inner: Inner::Done(target.fill(&data).map(|()| st)),
                    plan: None,
                });
            }
        }
        let phase = if src == From::Rank(me) {
            Phase::SelfOnly
        } else {
            let source = match src {
                From::Any => Source::Any,
                From::Rank(r) => Source::Rank(r),
            };
            let (rb, scratch) = match target.direct() {
                // SAFETY: a dense type's data is `room` bytes from `p`, left alone until
                // completion (the caller's guarantee).
                Some(p) => (unsafe { RecvBuf::new(p, room) }, None),
                None => {
                    let mut v = vec![0u8; room];
                    // SAFETY: the vector moves into the slot with the request; its heap
                    // block does not move.
                    (unsafe { RecvBuf::new(v.as_mut_ptr(), room) }, Some(v))
                }
            };
            Phase::Core {
                req: c.irecv_buf(rb, source, sel).map_err(core_err)?,
                scratch,
            }
        };
        drop(c);
        let slot = Arc::new(RecvSlot {
            comm: comm.clone(),
            target,
            src,
            sel,
            phase: Mutex::new(phase),
        });
        if selfish {
            ep.selfbox.lock().posted.push_back(Arc::downgrade(&slot));
        }
        if matches!(*slot.phase.lock(), Phase::Core { .. }) {
            let mut posted = POSTED.lock();
            posted.retain(|w| w.strong_count() > 0);
            posted.push(Arc::downgrade(&slot));
        }
        Ok(Req {
            inner: Inner::Recv(slot),
            plan: None,
        })
    }

    /// `MPI_Send_init` and its modes: a persistent send, inactive until `start`.
    #[allow(clippy::too_many_arguments)]
    pub fn send_init(
        ep: &Arc<Endpoint>,
        comm: &CommRef,
        buf: *const u8,
        count: u64,
        t: &Arc<Type>,
        dest: usize,
        tag: i32,
        mode: Mode,
    ) -> Result<Req> {
        check_tag(tag)?;
        check_rank(&comm.lock(), dest, "destination")?;
        t.check_committed()?;
        let plan = Plan::Send {
            buf,
            count,
            t: t.clone(),
            dest,
            tag,
            mode,
        };
        Ok(Req {
            inner: Inner::Idle,
            plan: Some((plan, comm.clone(), ep.clone())),
        })
    }

    /// `MPI_Recv_init`: a persistent receive, inactive until `start`.
    pub fn recv_init(
        ep: &Arc<Endpoint>,
        comm: &CommRef,
        buf: *mut u8,
        count: u64,
        t: &Arc<Type>,
        src: From,
        tag: Option<i32>,
    ) -> Result<Req> {
        selector(tag)?;
        if let From::Rank(r) = src {
            check_rank(&comm.lock(), r, "source")?;
        }
        t.check_committed()?;
        let plan = Plan::Recv {
            buf,
            count,
            t: t.clone(),
            src,
            tag,
        };
        Ok(Req {
            inner: Inner::Idle,
            plan: Some((plan, comm.clone(), ep.clone())),
        })
    }

    pub fn is_persistent(&self) -> bool {
        self.plan.is_some()
    }

    /// Whether the request has an operation to complete (a persistent one between `start` and
    /// its completion).
    pub fn is_active(&self) -> bool {
        !matches!(self.inner, Inner::Idle)
    }

    /// `MPI_Start`.
    ///
    /// # Safety
    /// The buffer given at initialization is valid for the operation until it completes.
    pub unsafe fn start(&mut self) -> Result<()> {
        let Some((plan, comm, ep)) = &self.plan else {
            return Err(Error::new(
                Class::Request,
                "MPI_Start of a request that is not persistent",
            ));
        };
        if self.is_active() {
            return Err(Error::new(
                Class::Request,
                "MPI_Start of an active persistent request",
            ));
        }
        // SAFETY: the caller's guarantee.
        let r = unsafe {
            match plan.clone() {
                Plan::Send {
                    buf,
                    count,
                    t,
                    dest,
                    tag,
                    mode,
                } => Req::isend(ep, comm, buf, count, &t, dest, tag, mode)?,
                Plan::Recv {
                    buf,
                    count,
                    t,
                    src,
                    tag,
                } => Req::irecv(ep, comm, buf, count, &t, src, tag)?,
            }
        };
        self.inner = r.inner;
        Ok(())
    }

    /// Completion: `block` waits (bounded by the communicator's timeout), otherwise tests.
    /// Some(status) when complete (the request is then inactive: a persistent one can be
    /// started again); an inactive request completes at once with an empty status.
    pub fn progress(&mut self, block: bool) -> Result<Option<Status>> {
        let r = match &mut self.inner {
            Inner::Idle => return Ok(Some(Status::empty())),
            Inner::Done(_) => match std::mem::replace(&mut self.inner, Inner::Idle) {
                Inner::Done(r) => r.map(Some),
                _ => unreachable!(),
            },
            Inner::SelfSync(m) => {
                if m.load(Ordering::Acquire) {
                    Ok(Some(Status::default_send()))
                } else if block {
                    Err(Error::new(
                        Class::Other,
                        "synchronous send to oneself that no receive takes: it could never complete (deadlock)",
                    ))
                } else {
                    return Ok(None);
                }
            }
            Inner::Send {
                core, ack, limit, ..
            } => {
                let mut failed = None;
                for (i, slot) in [core, ack].into_iter().enumerate() {
                    let Some(r) = slot else { continue };
                    let got = match (block, i) {
                        // The acknowledgment: posted receives progress meanwhile.
                        (true, 1) => Some(wait_progressing(r, *limit, || {
                            "waiting for the receiver to match a synchronous send".to_string()
                        })),
                        (true, _) => Some(r.wait().map_err(core_err)),
                        (false, _) => r.test().map_err(core_err).transpose(),
                    };
                    match got {
                        None => return Ok(None),
                        Some(Err(e)) => {
                            failed = Some(e);
                            break;
                        }
                        Some(Ok(_)) => *slot = None,
                    }
                }
                match failed {
                    Some(e) => Err(e),
                    None => Ok(Some(Status::default_send())),
                }
            }
            Inner::Recv(slot) => match slot.poll(block) {
                Ok(None) => return Ok(None),
                other => other,
            },
        };
        self.inner = Inner::Idle;
        r
    }

    /// Whether the operation has completed, without completing it (`MPI_Request_get_status`).
    pub fn peek(&mut self) -> Result<Option<Status>> {
        let r = self.progress(false)?;
        if let Some(st) = r {
            self.inner = Inner::Done(Ok(st));
        }
        Ok(r)
    }

    /// `MPI_Cancel`: a receive no message has matched is withdrawn (its completion then
    /// reports `cancelled`); anything else completes as usual.
    pub fn cancel(&mut self) {
        if let Inner::Recv(slot) = &self.inner {
            slot.cancel();
        }
    }
}

impl Status {
    /// The status of a completed send.
    fn default_send() -> Status {
        Status {
            source: 0,
            tag: 0,
            bytes: 0,
            cancelled: false,
        }
    }

    /// The empty status of an inactive request (`MPI_ANY_SOURCE`, `MPI_ANY_TAG`, count 0 are
    /// filled in by the API).
    fn empty() -> Status {
        Status::default_send()
    }
}
