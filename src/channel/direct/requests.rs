//! The direct channel's non-blocking requests as state: sends queued per peer (each frame goes
//! whole and in order before any later message to that peer), receives posted with the caller's
//! buffer, and the results of those that completed. [`super::progress`] moves their bytes.

use super::engine::State;
use super::frame::Header;
use super::matching::{Envelope, Matcher, Pattern, PostId};
use crate::channel::request::{RecvBuf, SendBuf};
use crate::channel::MsgStatus;
use crate::error::{Error, ErrorKind, Result};
use std::collections::{HashMap, HashSet, VecDeque};

/// A request's id, unique within its transport.
pub type ReqId = u64;

/// A non-blocking send waiting in its peer's queue.
pub(super) struct QueuedSend {
    pub id: ReqId,
    pub state: State,
    pub data: SendBuf,
    pub status: MsgStatus,
}

/// A non-blocking receive and its buffer.
#[derive(Debug)]
pub struct PostedRecv {
    pub id: ReqId,
    pub buf: RecvBuf,
}

/// The non-blocking requests of one transport.
#[derive(Default)]
pub struct Requests {
    /// Per peer: sends in the order they were started; the front one may be partly written.
    sends: Vec<VecDeque<QueuedSend>>,
    /// Receives the matcher holds as posted (not matched yet), by the matcher's id.
    posted: HashMap<PostId, PostedRecv>,
    /// Results of completed requests that nobody has collected yet.
    done: HashMap<ReqId, Result<MsgStatus>>,
    /// Requests whose result nobody will collect (freed while pending).
    detached: HashSet<ReqId>,
    /// Requests started and not completed.
    open: usize,
    /// Requests completed so far (whoever waits learns of new ones by this count).
    completions: u64,
    next: ReqId,
}

/// The result of a complete receive of the message `env` of `len` bytes into a buffer of `cap`.
pub(super) fn received(env: Envelope, len: usize, cap: usize) -> Result<MsgStatus> {
    if len > cap {
        return Err(Error::new(
            ErrorKind::Truncated,
            format!(
                "message from peer {} with tag {} has {len} bytes, the receive buffer only {cap} \
                 (the message was consumed)",
                env.src, env.tag
            ),
        ));
    }
    Ok(MsgStatus {
        source: env.src,
        tag: env.tag,
        bytes: len,
    })
}

impl Requests {
    /// No request for `peers` peers yet.
    pub fn new(peers: usize) -> Requests {
        Requests {
            sends: (0..peers).map(|_| VecDeque::new()).collect(),
            ..Requests::default()
        }
    }

    /// Whether no request is in progress (then no loop needs to care about requests).
    pub fn is_idle(&self) -> bool {
        self.open == 0
    }

    /// A fresh id for a request that starts now.
    pub fn start(&mut self) -> ReqId {
        self.next += 1;
        self.open += 1;
        self.next
    }

    /// Queues the send `id` of `data` under `label` to `peer`.
    pub fn queue_send(
        &mut self,
        id: ReqId,
        peer: usize,
        label: &Header,
        data: SendBuf,
        status: MsgStatus,
    ) {
        self.sends[peer].push_back(QueuedSend {
            id,
            state: State::sending(label, data.len()),
            data,
            status,
        });
    }

    /// Whether sends to `peer` wait in its queue (a new message to it must come after them).
    pub fn sends_to(&self, peer: usize) -> bool {
        !self.sends[peer].is_empty()
    }

    /// The queue of sends to `peer`.
    pub(super) fn queue(&mut self, peer: usize) -> &mut VecDeque<QueuedSend> {
        &mut self.sends[peer]
    }

    /// The peers with queued sends.
    pub fn sending_peers(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.sends.len()).filter(|&p| !self.sends[p].is_empty())
    }

    /// Records the receive `r`, which the matcher holds as posted under `pid`.
    pub fn post(&mut self, pid: PostId, r: PostedRecv) {
        self.posted.insert(pid, r);
    }

    /// The non-blocking receive the matcher matched as `pid`, if it is one (else it is the
    /// receive of a blocking call).
    pub fn take_posted(&mut self, pid: PostId) -> Option<PostedRecv> {
        self.posted.remove(&pid)
    }

    /// The matcher id of the posted receive `id`, if it still waits for a match.
    pub fn posted_id(&self, id: ReqId) -> Option<PostId> {
        self.posted
            .iter()
            .find_map(|(pid, r)| (r.id == id).then_some(*pid))
    }

    /// Whether any receive waits for a match.
    pub fn has_posted(&self) -> bool {
        !self.posted.is_empty()
    }

    /// A buffered message that the matcher delivered to the posted receive `pid`: if that is a
    /// non-blocking receive, copies it into its buffer and completes it.
    pub fn deliver(&mut self, matcher: &mut Matcher, pid: PostId) {
        let Some(mut r) = self.posted.remove(&pid) else {
            return;
        };
        let u = matcher
            .take_delivered(pid)
            .expect("the matcher delivered to this receive");
        let data = u.payload.unwrap_or_default();
        let n = data.len().min(r.buf.len());
        r.buf.bytes_mut()[..n].copy_from_slice(&data[..n]);
        let cap = r.buf.len();
        self.complete(r.id, received(u.env, u.len, cap));
    }

    /// Requests completed so far.
    pub fn completions(&self) -> u64 {
        self.completions
    }

    /// Request `id` completed with `result`.
    pub fn complete(&mut self, id: ReqId, result: Result<MsgStatus>) {
        self.open -= 1;
        self.completions += 1;
        if !self.detached.remove(&id) {
            self.done.insert(id, result);
        }
    }

    /// Whether request `id` has completed and its result waits to be collected.
    pub fn has_result(&self, id: ReqId) -> bool {
        self.done.contains_key(&id)
    }

    /// The result of request `id` if it has completed (collected: asked once).
    pub fn result(&mut self, id: ReqId) -> Option<Result<MsgStatus>> {
        self.done.remove(&id)
    }

    /// Nobody will collect the result of `id`: dropped now if complete, else on completion.
    pub fn detach(&mut self, id: ReqId) {
        if self.done.remove(&id).is_none() {
            self.detached.insert(id);
        }
    }

    /// Fails every queued send to `peer` with `why`.
    pub fn fail_sends(&mut self, peer: usize, why: &Error) {
        let q = std::mem::take(&mut self.sends[peer]);
        for s in q {
            self.complete(s.id, Err(why.clone()));
        }
    }

    /// Fails every posted receive whose pattern `fails` selects with `why`, withdrawing it from
    /// the matcher.
    pub fn fail_posted(
        &mut self,
        matcher: &mut Matcher,
        why: &Error,
        fails: impl Fn(&Pattern) -> bool,
    ) {
        let ids: Vec<PostId> = self
            .posted
            .keys()
            .copied()
            .filter(|p| matcher.pattern(*p).is_some_and(|pat| fails(&pat)))
            .collect();
        for pid in ids {
            matcher.unpost(pid);
            let r = self.posted.remove(&pid).expect("listed above");
            self.complete(r.id, Err(why.clone()));
        }
    }

    /// Removes the queued send `id` (it is cancelled); returns its peer and whether it had
    /// started (its frame is then cut off).
    pub fn unqueue(&mut self, id: ReqId) -> Option<(usize, bool)> {
        for (p, q) in self.sends.iter_mut().enumerate() {
            if let Some(i) = q.iter().position(|s| s.id == id) {
                let s = q.remove(i).expect("index from position");
                self.open -= 1;
                return Some((p, s.state.started()));
            }
        }
        None
    }

    /// Withdraws the posted receive `pid` (cancelled).
    pub fn unpost(&mut self, matcher: &mut Matcher, pid: PostId) {
        matcher.unpost(pid);
        if self.posted.remove(&pid).is_some() {
            self.open -= 1;
        }
    }

    /// A request that was being read from a connection was dropped (cancelled): no result.
    pub fn forget(&mut self) {
        self.open -= 1;
    }
}
