//! Matching of point-to-point messages: incoming envelopes against posted receives, and the
//! queue of unexpected messages (arrived before a receive asked for them) with its memory bound.
//!
//! This module moves no bytes and does not care who drives progress (the calling thread today,
//! a progress thread later): the driver reads a header, asks [`Matcher::arrive`] what to do with
//! the message, and reports the outcome ([`Matcher::buffered`], [`Matcher::parked`]).
//!
//! - **Non-overtaking**: the queue keeps arrival order, and a connection delivers one peer's
//!   messages in send order, so the oldest matching message of a peer is always taken first.
//! - **Memory bound**: an unexpected message is copied into the queue only while the queue's
//!   payloads stay within the bound. A larger one is *parked*: its header is queued (so probes
//!   and receives see it in order), its payload stays in the connection until a receive takes it
//!   straight into the user's buffer, and the connection is not read further meanwhile, so TCP
//!   flow control holds back the sender (a rendezvous whose clear-to-send is the receive).

use crate::channel::{Source, TagSel};
use std::collections::VecDeque;

/// Who sent a message, in which matching context, with which tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    pub ctx: u32,
    pub src: usize,
    pub tag: u32,
}

/// What a receive or probe accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    pub ctx: u32,
    pub src: Source,
    pub tag: TagSel,
}

impl Pattern {
    pub fn matches(&self, e: &Envelope) -> bool {
        self.ctx == e.ctx
            && match self.src {
                Source::Any => true,
                Source::Rank(r) => r == e.src,
            }
            && self.tag.accepts(e.tag)
    }
}

/// A message that arrived before its receive.
#[derive(Debug, PartialEq, Eq)]
pub struct Unexpected {
    pub env: Envelope,
    pub len: usize,
    /// The payload, or None when it is still in the connection from `env.src` (parked: the
    /// connection's next bytes are this payload).
    pub payload: Option<Vec<u8>>,
}

/// A posted receive that is waiting for its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PostId(u64);

/// The outcome of posting a receive.
#[derive(Debug, PartialEq, Eq)]
pub enum Posted {
    /// The oldest matching unexpected message (now removed from the queue).
    Found(Unexpected),
    /// Nothing matched yet: later arrivals are matched against the receive.
    Waiting(PostId),
}

/// What to do with a message whose header just arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// It belongs to this posted receive (now removed): read the payload into its buffer.
    Matched(PostId),
    /// Unexpected and within the bound (the space is reserved): read the payload, then
    /// [`Matcher::buffered`].
    Buffer,
    /// Unexpected and over the bound: leave the payload in the connection and
    /// [`Matcher::parked`].
    Park,
}

/// The matching state of one transport.
#[derive(Debug)]
pub struct Matcher {
    queue: VecDeque<Unexpected>,
    posted: VecDeque<(PostId, Pattern)>,
    /// Buffered messages that completed while a matching receive waited, for that receive.
    delivered: Vec<(PostId, Unexpected)>,
    next_id: u64,
    /// Payload bytes in the queue or reserved for payloads being read.
    used: usize,
    bound: usize,
}

impl Matcher {
    /// A matcher that buffers at most `bound` bytes of unexpected payloads.
    pub fn new(bound: usize) -> Matcher {
        Matcher {
            queue: VecDeque::new(),
            posted: VecDeque::new(),
            delivered: Vec::new(),
            next_id: 0,
            used: 0,
            bound,
        }
    }

    /// Whether no message is queued, being buffered or delivered and no receive is posted (then
    /// a plain receive may read its connection directly).
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
            && self.used == 0
            && self.delivered.is_empty()
            && self.posted.is_empty()
    }

    /// Payload bytes buffered or reserved.
    pub fn used(&self) -> usize {
        self.used
    }

    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Posts a receive: takes the oldest matching unexpected message, or waits for one.
    pub fn post(&mut self, pat: Pattern) -> Posted {
        if let Some(i) = self.queue.iter().position(|u| pat.matches(&u.env)) {
            let u = self.queue.remove(i).expect("index from position");
            if u.payload.is_some() {
                self.used -= u.len;
            }
            return Posted::Found(u);
        }
        let id = PostId(self.next_id);
        self.next_id += 1;
        self.posted.push_back((id, pat));
        Posted::Waiting(id)
    }

    /// Withdraws a receive (it failed or timed out). A message delivered to it goes back to
    /// the front of the queue (it is older than anything queued from its source).
    pub fn unpost(&mut self, id: PostId) {
        self.posted.retain(|(i, _)| *i != id);
        if let Some(i) = self.delivered.iter().position(|(d, _)| *d == id) {
            let (_, u) = self.delivered.remove(i);
            self.queue.push_front(u);
        }
    }

    /// Whether a buffered message waits for the receive it was delivered to.
    pub fn has_delivered(&self) -> bool {
        !self.delivered.is_empty()
    }

    /// The message delivered to receive `id` by [`Matcher::buffered`], if any.
    pub fn take_delivered(&mut self, id: PostId) -> Option<Unexpected> {
        let i = self.delivered.iter().position(|(d, _)| *d == id)?;
        let (_, u) = self.delivered.remove(i);
        self.used -= u.len;
        Some(u)
    }

    /// A message's header arrived: the oldest posted receive that matches takes it, else it is
    /// buffered within the bound (reserving its space), else parked.
    pub fn arrive(&mut self, env: Envelope, len: usize) -> Arrival {
        if let Some(i) = self.posted.iter().position(|(_, p)| p.matches(&env)) {
            let (id, _) = self.posted.remove(i).expect("index from position");
            return Arrival::Matched(id);
        }
        if len <= self.bound.saturating_sub(self.used) {
            self.used += len;
            Arrival::Buffer
        } else {
            Arrival::Park
        }
    }

    /// The payload of an [`Arrival::Buffer`] message was read. A receive posted meanwhile that
    /// matches it gets it ([`Matcher::take_delivered`]; returns its id), else it is queued.
    pub fn buffered(&mut self, env: Envelope, data: Vec<u8>) -> Option<PostId> {
        let u = Unexpected {
            env,
            len: data.len(),
            payload: Some(data),
        };
        if let Some(i) = self.posted.iter().position(|(_, p)| p.matches(&env)) {
            let (id, _) = self.posted.remove(i).expect("index from position");
            self.delivered.push((id, u));
            return Some(id);
        }
        self.queue.push_back(u);
        None
    }

    /// Reserves `len` bytes of the bound for a collective message read ahead of its call; false
    /// when they do not fit.
    pub fn reserve(&mut self, len: usize) -> bool {
        if len <= self.bound.saturating_sub(self.used) {
            self.used += len;
            true
        } else {
            false
        }
    }

    /// Releases a reservation of [`Matcher::reserve`] (the message was taken).
    pub fn release(&mut self, len: usize) {
        self.used -= len;
    }

    /// The payload of an [`Arrival::Buffer`] message could not be read (the connection failed):
    /// releases its reservation.
    pub fn abandon(&mut self, len: usize) {
        self.used -= len;
    }

    /// An [`Arrival::Park`] message: queued by its header, its payload still in the connection.
    pub fn parked(&mut self, env: Envelope, len: usize) {
        self.queue.push_back(Unexpected {
            env,
            len,
            payload: None,
        });
    }

    /// Whether a posted receive accepts messages from `src`.
    pub fn awaits(&self, src: usize) -> bool {
        self.posted
            .iter()
            .any(|(_, p)| p.src == Source::Any || p.src == Source::Rank(src))
    }

    /// The pattern of the posted receive `id`.
    pub fn pattern(&self, id: PostId) -> Option<Pattern> {
        self.posted
            .iter()
            .find_map(|(i, p)| (*i == id).then_some(*p))
    }

    /// The oldest matching unexpected message (envelope and size), left in the queue.
    pub fn peek(&self, pat: &Pattern) -> Option<(Envelope, usize)> {
        self.queue
            .iter()
            .find(|u| pat.matches(&u.env))
            .map(|u| (u.env, u.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(src: usize, tag: u32) -> Envelope {
        Envelope { ctx: 0, src, tag }
    }
    fn pat(src: Source, tag: TagSel) -> Pattern {
        Pattern { ctx: 0, src, tag }
    }
    fn arrive_buffered(m: &mut Matcher, e: Envelope, data: &[u8]) {
        assert_eq!(m.arrive(e, data.len()), Arrival::Buffer);
        m.buffered(e, data.to_vec());
    }
    fn found(p: Posted) -> Unexpected {
        match p {
            Posted::Found(u) => u,
            Posted::Waiting(_) => panic!("expected a queued message"),
        }
    }

    #[test]
    fn oldest_match_first_per_source_and_tag() {
        let mut m = Matcher::new(1 << 20);
        arrive_buffered(&mut m, env(1, 5), b"a");
        arrive_buffered(&mut m, env(2, 5), b"b");
        arrive_buffered(&mut m, env(1, 6), b"c");
        arrive_buffered(&mut m, env(1, 5), b"d");
        let take = |m: &mut Matcher, s, t| found(m.post(pat(s, t))).payload.unwrap();
        assert_eq!(take(&mut m, Source::Rank(1), TagSel::Tag(6)), b"c");
        assert_eq!(take(&mut m, Source::Any, TagSel::Tag(5)), b"a");
        assert_eq!(take(&mut m, Source::Rank(1), TagSel::Any), b"d");
        assert_eq!(m.peek(&pat(Source::Any, TagSel::Any)), Some((env(2, 5), 1)));
        assert_eq!(take(&mut m, Source::Any, TagSel::Any), b"b");
        assert!(m.is_idle());
        assert_eq!(m.used(), 0);
    }

    #[test]
    fn contexts_never_match_each_other() {
        let mut m = Matcher::new(100);
        let e = Envelope {
            ctx: 1,
            src: 0,
            tag: 0,
        };
        arrive_buffered(&mut m, e, b"x");
        assert!(matches!(
            m.post(pat(Source::Any, TagSel::Any)),
            Posted::Waiting(_)
        ));
        assert_eq!(m.peek(&pat(Source::Any, TagSel::Any)), None);
    }

    #[test]
    fn posted_receive_takes_the_arrival_and_can_be_withdrawn() {
        let mut m = Matcher::new(0);
        let Posted::Waiting(a) = m.post(pat(Source::Rank(3), TagSel::Tag(1))) else {
            panic!()
        };
        let Posted::Waiting(b) = m.post(pat(Source::Any, TagSel::Any)) else {
            panic!()
        };
        assert_eq!(m.arrive(env(3, 2), 4), Arrival::Matched(b));
        assert_eq!(m.arrive(env(3, 1), 4), Arrival::Matched(a));
        // Nothing posted any more, no room: parked.
        assert_eq!(m.arrive(env(3, 1), 4), Arrival::Park);
        let Posted::Waiting(c) = m.post(pat(Source::Rank(0), TagSel::Any)) else {
            panic!()
        };
        m.unpost(c);
        assert_eq!(m.arrive(env(0, 1), 0), Arrival::Buffer);
    }

    #[test]
    fn bound_buffers_then_parks_in_order() {
        let mut m = Matcher::new(10);
        arrive_buffered(&mut m, env(1, 0), &[0; 6]);
        assert_eq!(m.arrive(env(1, 1), 4), Arrival::Buffer);
        assert_eq!(m.used(), 10);
        m.buffered(env(1, 1), vec![1; 4]);
        assert_eq!(m.arrive(env(2, 0), 1), Arrival::Park);
        m.parked(env(2, 0), 1);
        // The parked header is visible in order; taking it gives no payload.
        assert_eq!(
            m.peek(&pat(Source::Rank(2), TagSel::Any)),
            Some((env(2, 0), 1))
        );
        let u = found(m.post(pat(Source::Rank(2), TagSel::Any)));
        assert_eq!((u.env, u.len, u.payload), (env(2, 0), 1, None));
        assert_eq!(m.used(), 10);
        found(m.post(pat(Source::Rank(1), TagSel::Tag(0))));
        assert_eq!(m.used(), 4);
        assert_eq!(m.arrive(env(2, 0), 6), Arrival::Buffer);
        m.abandon(6);
        assert_eq!(m.used(), 4);
    }

    #[test]
    fn a_message_buffered_while_a_receive_waits_is_delivered_to_it() {
        let mut m = Matcher::new(100);
        // Its header arrived before the receive was posted; its payload completes after.
        assert_eq!(m.arrive(env(1, 0), 3), Arrival::Buffer);
        let Posted::Waiting(id) = m.post(pat(Source::Rank(1), TagSel::Tag(0))) else {
            panic!()
        };
        assert!(!m.is_idle());
        assert_eq!(m.buffered(env(1, 0), vec![1, 2, 3]), Some(id));
        assert_eq!(
            m.take_delivered(id).unwrap().payload.unwrap(),
            vec![1, 2, 3]
        );
        assert!(m.is_idle());
        // Withdrawn after delivery: back to the front of the queue.
        assert_eq!(m.arrive(env(1, 0), 1), Arrival::Buffer);
        m.buffered(env(1, 0), vec![8]);
        assert_eq!(m.arrive(env(1, 0), 1), Arrival::Buffer);
        let Posted::Found(first) = m.post(pat(Source::Any, TagSel::Any)) else {
            panic!()
        };
        assert_eq!(first.payload.unwrap(), vec![8]);
        let Posted::Waiting(id) = m.post(pat(Source::Any, TagSel::Any)) else {
            panic!()
        };
        assert_eq!(m.buffered(env(1, 0), vec![9]), Some(id));
        assert_eq!(m.arrive(env(1, 0), 1), Arrival::Buffer);
        m.buffered(env(1, 0), vec![10]);
        m.unpost(id);
        let Posted::Found(u) = m.post(pat(Source::Any, TagSel::Any)) else {
            panic!()
        };
        assert_eq!(u.payload.unwrap(), vec![9]);
    }
}
