//! Tagged point-to-point messages on a store channel, written once over the
//! [`StoreTransport`] primitives (so Redis and S3 share it).
//!
//! Every receiver has one inbox queue per matching context
//! ([`super::keys::TaggedKeys::inbox`]) that all senders append to. Each element is an envelope:
//! source, tag, size, and either the payload itself (up to [`INLINE`] bytes) or a reference to a
//! queue of its own that holds the payload ([`super::keys::TaggedKeys::data`]: one message, one
//! writer, so the store's large-message handling applies). The sender writes the payload before
//! the envelope.
//!
//! The receiver consumes its inbox in order. A receive takes the oldest matching message:
//! first from its local list of messages it passed over (unexpected ones), then from the inbox;
//! an envelope that does not match goes to the end of that list, so nothing is lost and the
//! order of the inbox is kept. Since one sender's envelopes enter the inbox in send order,
//! messages from one sender with matching tags are received in send order (non-overtaking), and
//! a wildcard receive reads one queue however many senders there are.
//!
//! The local list holds at most `communicator.unexpected_buffer_bytes` of inline payloads (plus
//! the one message a probe or receive is looking at). Beyond that the store keeps them: the
//! payload of a passed-over message is written back to a queue of the receiver's own
//! ([`super::keys::TaggedKeys::spill`]) and only its envelope (a few dozen bytes) stays in
//! memory. Referenced payloads never count: they stay in the store until received.
//!
//! A blocking receive waits with the store's blocking pop ([`StoreTransport::pop_next`]: BLPOP
//! on Redis, polling with backoff on S3, only while the call waits). [`Inbox::take`] without
//! `wait` is the non-waiting step (look once, take a match if there is one), and
//! [`Inbox::deliver`] reads the payload of what it took: a layer of non-blocking receives can
//! build on the two.

use super::keys::Namespace;
use super::{Put, StoreTransport, Take};
use crate::channel::{MsgStatus, Source, TagSel};
use crate::error::{Error, ErrorKind, Result};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// Payloads up to this size travel inside the envelope; larger ones in a queue of their own.
pub const INLINE: usize = 64 << 10;

/// The store tag of envelopes and payloads (as the plain send/recv of the store collectives).
const STORE_TAG: u32 = 0;

const HEADER: usize = 4 + 4 + 8 + 1 + 8;
const BODY_INLINE: u8 = 0;
const BODY_DATA: u8 = 1;
const BODY_SPILL: u8 = 2;

/// Where a message's payload is.
#[derive(Debug)]
enum Body {
    Inline(Vec<u8>),
    /// In the payload queue number `seq` of its sender ([`TaggedKeys::data`]).
    Data(u64),
    /// Written back by this receiver ([`TaggedKeys::spill`]).
    Spill(u64),
}

/// One message: who sent it, its tag, size and payload.
#[derive(Debug)]
pub struct Envelope {
    pub src: usize,
    pub tag: u32,
    pub len: usize,
    body: Body,
}

impl Envelope {
    pub fn matches(&self, src: Source, tag: TagSel) -> bool {
        (src == Source::Any || src == Source::Rank(self.src)) && tag.accepts(self.tag)
    }

    fn status(&self) -> MsgStatus {
        MsgStatus {
            source: self.src,
            tag: self.tag,
            bytes: self.len,
        }
    }

    fn inline_len(&self) -> usize {
        match &self.body {
            Body::Inline(d) => d.len(),
            _ => 0,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let (kind, seq, data): (u8, u64, &[u8]) = match &self.body {
            Body::Inline(d) => (BODY_INLINE, 0, d),
            Body::Data(s) => (BODY_DATA, *s, &[]),
            Body::Spill(s) => (BODY_SPILL, *s, &[]),
        };
        let mut v = Vec::with_capacity(HEADER + data.len());
        v.extend_from_slice(&(self.src as u32).to_le_bytes());
        v.extend_from_slice(&self.tag.to_le_bytes());
        v.extend_from_slice(&(self.len as u64).to_le_bytes());
        v.push(kind);
        v.extend_from_slice(&seq.to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    pub(crate) fn decode(mut v: Vec<u8>, size: usize) -> Result<Envelope> {
        let bad = |why: &str| Error::channel(format!("damaged tagged-message envelope: {why}"));
        if v.len() < HEADER {
            return Err(bad("too short"));
        }
        let u32_at = |i: usize| u32::from_le_bytes(v[i..i + 4].try_into().unwrap());
        let u64_at = |i: usize| u64::from_le_bytes(v[i..i + 8].try_into().unwrap());
        let (src, tag, len, kind, seq) = (
            u32_at(0) as usize,
            u32_at(4),
            u64_at(8) as usize,
            v[16],
            u64_at(17),
        );
        if src >= size {
            return Err(bad(&format!("source {src} in a group of {size}")));
        }
        // As `send` writes them: up to INLINE bytes inline (sequence 0), larger ones in a
        // payload queue (nothing after the header).
        let body = match kind {
            BODY_INLINE => {
                if v.len() - HEADER != len || len > INLINE || seq != 0 {
                    return Err(bad("size does not match its data"));
                }
                v.drain(..HEADER);
                Body::Inline(v)
            }
            BODY_DATA => {
                if v.len() != HEADER || len <= INLINE {
                    return Err(bad("size does not match a payload queue"));
                }
                Body::Data(seq)
            }
            _ => return Err(bad("unknown payload kind")),
        };
        Ok(Envelope {
            src,
            tag,
            len,
            body,
        })
    }
}

/// The tagged-message state of one context.
#[derive(Default)]
struct Context {
    /// Messages taken from the inbox and not yet received, oldest first.
    unexpected: VecDeque<Envelope>,
    /// Next payload queue number per destination.
    sent: HashMap<usize, u64>,
    /// Next spill queue number.
    spills: u64,
}

/// The tagged-message state of one store channel of a communicator (every context).
pub struct Inbox {
    rank: usize,
    size: usize,
    /// Bound of the inline payload bytes held in the unexpected lists.
    bound: usize,
    /// Inline payload bytes held now (all contexts).
    held: usize,
    ctxs: HashMap<u32, Context>,
}

fn describe(src: Source, tag: TagSel) -> String {
    let s = match src {
        Source::Any => "any source".to_string(),
        Source::Rank(r) => format!("rank {r}"),
    };
    format!("{s}, {}", tag.describe())
}

impl Inbox {
    /// The inbox of `rank` of `size`, holding at most `bound` bytes of unexpected payloads.
    pub fn new(rank: usize, size: usize, bound: usize) -> Inbox {
        Inbox {
            rank,
            size,
            bound,
            held: 0,
            ctxs: HashMap::new(),
        }
    }

    /// Inline payload bytes of unexpected messages held in memory.
    /// The most bytes of unexpected payloads it holds.
    pub fn bound(&self) -> usize {
        self.bound
    }

    pub fn held(&self) -> usize {
        self.held
    }

    /// Sends `data` to `dest` with `tag` in context `ctx`.
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        &mut self,
        t: &mut dyn StoreTransport,
        ns: &Namespace,
        ctx: u32,
        data: &[u8],
        dest: usize,
        tag: u32,
        deadline: Instant,
    ) -> Result<()> {
        let keys = ns.tagged(ctx, dest);
        let inbox = keys.inbox();
        if data.len() <= INLINE {
            let env = Envelope {
                src: self.rank,
                tag,
                len: data.len(),
                body: Body::Inline(data.to_vec()),
            };
            let e = env.encode();
            let put = Put {
                key: &inbox,
                data: &e,
                readers: 1,
            };
            return t.push(STORE_TAG, &[put], deadline);
        }
        let c = self.ctxs.entry(ctx).or_default();
        let seq = c.sent.entry(dest).or_insert(0);
        let n = *seq;
        *seq += 1;
        let data_key = keys.data(self.rank, n);
        let e = Envelope {
            src: self.rank,
            tag,
            len: data.len(),
            body: Body::Data(n),
        }
        .encode();
        // The payload first, then the envelope: a failed payload write leaves no envelope that
        // would make the receiver wait for it.
        let data_put = Put {
            key: &data_key,
            data,
            readers: 1,
        };
        let env_put = Put {
            key: &inbox,
            data: &e,
            readers: 1,
        };
        let r = t
            .push(STORE_TAG, &[data_put], deadline)
            .and_then(|()| t.push(STORE_TAG, &[env_put], deadline));
        t.call_done(&data_key);
        r
    }

    /// Takes the oldest message that matches `src` and `tag` out of context `ctx`: with `wait`,
    /// waits for one until `deadline`; without, only looks at what is there (the store's
    /// requests still end by `deadline`). Its payload is read by
    /// [`Inbox::deliver`].
    #[allow(clippy::too_many_arguments)]
    pub fn take(
        &mut self,
        t: &mut dyn StoreTransport,
        ns: &Namespace,
        ctx: u32,
        src: Source,
        tag: TagSel,
        wait: bool,
        deadline: Instant,
    ) -> Result<Option<Envelope>> {
        let Some(i) = self.find(t, ns, ctx, src, tag, wait, deadline)? else {
            return Ok(None);
        };
        let c = self.ctxs.get_mut(&ctx).expect("found in this context");
        let env = c.unexpected.remove(i).expect("index from find");
        self.held -= env.inline_len();
        Ok(Some(env))
    }

    /// Describes the oldest message that matches `src` and `tag` without taking it (waiting as
    /// [`Inbox::take`]).
    #[allow(clippy::too_many_arguments)]
    pub fn probe(
        &mut self,
        t: &mut dyn StoreTransport,
        ns: &Namespace,
        ctx: u32,
        src: Source,
        tag: TagSel,
        wait: bool,
        deadline: Instant,
    ) -> Result<Option<MsgStatus>> {
        let Some(i) = self.find(t, ns, ctx, src, tag, wait, deadline)? else {
            return Ok(None);
        };
        Ok(Some(self.ctxs[&ctx].unexpected[i].status()))
    }

    /// Receives the oldest message that matches `src` and `tag` into `buf` (waiting until
    /// `deadline`): a longer message is `Truncated` (and consumed).
    #[allow(clippy::too_many_arguments)]
    pub fn recv(
        &mut self,
        t: &mut dyn StoreTransport,
        ns: &Namespace,
        ctx: u32,
        buf: &mut [u8],
        src: Source,
        tag: TagSel,
        deadline: Instant,
    ) -> Result<MsgStatus> {
        match self.take(t, ns, ctx, src, tag, true, deadline)? {
            Some(env) => self.deliver(t, ns, ctx, env, buf, deadline),
            None => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "timed out waiting for a message from {}",
                    describe(src, tag)
                ),
            )),
        }
    }

    /// Reads the payload of `env` (taken from context `ctx`) into the front of `buf`. A message
    /// longer than `buf` is read and dropped, then reported as `Truncated`.
    pub fn deliver(
        &mut self,
        t: &mut dyn StoreTransport,
        ns: &Namespace,
        ctx: u32,
        env: Envelope,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<MsgStatus> {
        let fits = env.len <= buf.len();
        let key = match env.body {
            Body::Inline(ref d) => {
                if fits {
                    buf[..d.len()].copy_from_slice(d);
                }
                None
            }
            Body::Data(n) => Some(ns.tagged(ctx, self.rank).data(env.src, n)),
            Body::Spill(n) => Some(ns.tagged(ctx, self.rank).spill(n)),
        };
        if let Some(key) = key {
            let mut scratch = if fits {
                Vec::new()
            } else {
                discard_buffer(&env, buf.len())?
            };
            let into: &mut [u8] = if fits {
                &mut buf[..env.len]
            } else {
                &mut scratch
            };
            let mut take = [Take {
                key: &key,
                from: Some(env.src),
                buf: into,
            }];
            let r = t.pop(STORE_TAG, &mut take, deadline);
            t.call_done(&key);
            r?;
        }
        if !fits {
            return Err(Error::new(
                ErrorKind::Truncated,
                format!(
                    "message from peer {} with tag {} has {} bytes, the receive buffer only {} \
                     (the message was consumed)",
                    env.src,
                    env.tag,
                    env.len,
                    buf.len()
                ),
            ));
        }
        Ok(env.status())
    }

    /// The index in context `ctx`'s unexpected list of the oldest message that matches,
    /// moving envelopes from the inbox to that list until one matches (waiting as [`Inbox::take`]).
    #[allow(clippy::too_many_arguments)]
    fn find(
        &mut self,
        t: &mut dyn StoreTransport,
        ns: &Namespace,
        ctx: u32,
        src: Source,
        tag: TagSel,
        wait: bool,
        deadline: Instant,
    ) -> Result<Option<usize>> {
        if let Some(i) = self.held_match(ctx, src, tag) {
            return Ok(Some(i));
        }
        let wanted = |e: &Envelope| e.matches(src, tag);
        loop {
            let Some(i) = self.pull(t, ns, ctx, wait, deadline, &wanted)? else {
                return Ok(None);
            };
            if self.ctxs[&ctx].unexpected[i].matches(src, tag) {
                return Ok(Some(i));
            }
        }
    }

    /// The index of the oldest message held (taken from the inbox, not received) in context
    /// `ctx` that matches `src` and `tag`.
    fn held_match(&mut self, ctx: u32, src: Source, tag: TagSel) -> Option<usize> {
        let c = self.ctxs.entry(ctx).or_default();
        c.unexpected.iter().position(|e| e.matches(src, tag))
    }

    /// Takes the oldest message held in context `ctx` that matches `src` and `tag`, without
    /// looking at the inbox. Its payload is read by [`Inbox::deliver`].
    pub fn take_held(&mut self, ctx: u32, src: Source, tag: TagSel) -> Option<Envelope> {
        let i = self.held_match(ctx, src, tag)?;
        let c = self.ctxs.get_mut(&ctx).expect("created by held_match");
        let env = c.unexpected.remove(i).expect("index from held_match");
        self.held -= env.inline_len();
        Some(env)
    }

    /// Moves the next envelope of context `ctx`'s inbox to the end of its list of held messages
    /// (waiting as [`Inbox::take`]) and returns its index there; None when the inbox is empty.
    /// Over the memory bound its payload goes back to the store unless `wanted` (a receive is
    /// about to take it).
    pub fn pull(
        &mut self,
        t: &mut dyn StoreTransport,
        ns: &Namespace,
        ctx: u32,
        wait: bool,
        deadline: Instant,
        wanted: &dyn Fn(&Envelope) -> bool,
    ) -> Result<Option<usize>> {
        let keys = ns.tagged(ctx, self.rank);
        let inbox = keys.inbox();
        let Some((store_tag, v)) = t.pop_next(&inbox, HEADER + INLINE, wait, deadline)? else {
            return Ok(None);
        };
        if store_tag != STORE_TAG {
            return Err(Error::channel(format!(
                "unexpected store tag {store_tag:#x} in the inbox {inbox}"
            )));
        }
        let mut env = Envelope::decode(v, self.size)?;
        let n = env.inline_len();
        if n > 0 && self.held + n > self.bound && !wanted(&env) {
            // Over the bound: the store keeps the payload, in a queue of our own.
            let c = self.ctxs.entry(ctx).or_default();
            let s = c.spills;
            c.spills += 1;
            let key = keys.spill(s);
            let Body::Inline(data) = &env.body else {
                unreachable!("n > 0 only for inline bodies")
            };
            let put = Put {
                key: &key,
                data,
                readers: 1,
            };
            let r = t.push(STORE_TAG, &[put], deadline);
            t.call_done(&key);
            if let Err(e) = r {
                // Keep the message in memory rather than lose it.
                tracing::warn!("keeping an unexpected message in memory: {e}");
                self.held += n;
            } else {
                env.body = Body::Spill(s);
            }
        } else {
            self.held += n;
        }
        let c = self.ctxs.entry(ctx).or_default();
        c.unexpected.push_back(env);
        Ok(Some(c.unexpected.len() - 1))
    }

    /// At the end of the run (after the closing barrier, when nobody sends any more): deletes
    /// every key of this peer's inboxes when a message was never received.
    pub fn close(
        &mut self,
        t: &mut dyn StoreTransport,
        ns: &Namespace,
        deadline: Instant,
    ) -> Result<()> {
        let mut ctxs: Vec<u32> = self.ctxs.keys().copied().collect();
        if !ctxs.contains(&0) {
            ctxs.push(0);
        }
        for ctx in ctxs {
            let keys = ns.tagged(ctx, self.rank);
            let left = self
                .ctxs
                .get(&ctx)
                .is_some_and(|c| !c.unexpected.is_empty())
                || t.pop_next(&keys.inbox(), usize::MAX, false, deadline)?
                    .is_some();
            if left {
                let n = t.delete_prefix(&keys.prefix(), deadline)?;
                tracing::debug!("finalize: deleted {n} keys of tagged messages never received");
            }
        }
        self.ctxs.clear();
        self.held = 0;
        Ok(())
    }
}

/// A buffer for reading a message that does not fit the receive buffer, only to discard it. Its
/// length comes from the store, so a length this process cannot allocate fails the receive (as
/// truncated, the message left in the store) instead of aborting the process.
fn discard_buffer(env: &Envelope, room: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(env.len).map_err(|_| {
        Error::new(
            ErrorKind::Truncated,
            format!(
                "message from peer {} with tag {} has {} bytes, the receive buffer only {}; it \
                 cannot be read to be discarded (no memory for it) and stays in the store until \
                 finalize",
                env.src, env.tag, env.len, room
            ),
        )
    })?;
    v.resize(env.len, 0);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_damage_is_an_error() {
        let e = Envelope {
            src: 3,
            tag: 77,
            len: 5,
            body: Body::Inline(b"hello".to_vec()),
        };
        let d = Envelope::decode(e.encode(), 4).unwrap();
        assert_eq!((d.src, d.tag, d.len), (3, 77, 5));
        assert!(matches!(d.body, Body::Inline(ref v) if v == b"hello"));
        let r = Envelope {
            src: 1,
            tag: 2,
            len: 1 << 20,
            body: Body::Data(9),
        };
        let d = Envelope::decode(r.encode(), 4).unwrap();
        assert!(matches!(d.body, Body::Data(9)));
        assert!(Envelope::decode(e.encode(), 3).is_err());
        assert!(Envelope::decode(vec![0; 5], 4).is_err());
        let mut short = e.encode();
        short.pop();
        assert!(Envelope::decode(short, 4).is_err());
        // Fields that `send` never writes together: a payload queue for a small message, data
        // after a payload-queue envelope, a sequence number on an inline one.
        let small = Envelope {
            src: 1,
            tag: 2,
            len: 10,
            body: Body::Data(9),
        };
        assert!(Envelope::decode(small.encode(), 4).is_err());
        let mut trailing = r.encode();
        trailing.push(0);
        assert!(Envelope::decode(trailing, 4).is_err());
        let mut numbered = e.encode();
        numbered[17] = 1;
        assert!(Envelope::decode(numbered, 4).is_err());
    }

    #[test]
    fn matching_follows_the_wildcards() {
        let e = Envelope {
            src: 2,
            tag: 5,
            len: 0,
            body: Body::Inline(Vec::new()),
        };
        assert!(e.matches(Source::Any, TagSel::Any));
        assert!(e.matches(Source::Rank(2), TagSel::Tag(5)));
        assert!(!e.matches(Source::Rank(1), TagSel::Any));
        assert!(!e.matches(Source::Any, TagSel::Tag(4)));
        assert!(e.matches(Source::Any, TagSel::Masked { value: 4, mask: !1 }));
        assert!(!e.matches(
            Source::Any,
            TagSel::Masked {
                value: 5,
                mask: !0 ^ 4
            }
        ));
    }

    #[test]
    fn a_truncated_message_too_large_to_hold_fails_instead_of_aborting() {
        let env = |len| Envelope {
            src: 1,
            tag: 7,
            len,
            body: Body::Data(0),
        };
        assert_eq!(discard_buffer(&env(5), 4).unwrap().len(), 5);
        let e = discard_buffer(&env(usize::MAX / 2), 4).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated);
        assert!(e.to_string().contains("stays in the store"), "{e}");
    }
}
