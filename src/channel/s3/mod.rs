//! The S3 channel: a [`StoreTransport`] over S3 objects, through the official AWS SDK.
//!
//! Each queue `key` is a numbered series of objects `{key_prefix}{key}#{i}` (ten digits); each
//! object is one message ([`object`]: head with tag and reader count, then the data). Writers
//! and readers count per queue, so a reader knows the exact key of its next message and polls
//! for it with bounded exponential backoff (1 ms doubling up to `backends.S3.timeout`, never past
//! the operation's deadline). Writes are conditional (If-None-Match: *), so queues with several
//! writers (the joins at init) stay correct: a writer that loses a slot takes the next free one.
//!
//! Counters ([`StoreTransport::incr`]) are chains of conditional writes `{key}#c{i}` holding the
//! running sum: whoever creates slot `i` owns the `i+1`-th increment.
//!
//! Deletion: a message for one reader is deleted by its reader right after the read (in the
//! background); a message for several readers (bcast, allgather, ...) is deleted by its writer at
//! [`StoreTransport::close`], which runs after the closing barrier of `fmi_finalize`, when every
//! peer has read everything. Counters are deleted by the peer that completes them. So a finished
//! run leaves no object; for crashed runs, see the lifecycle rule in docs/s3.md.

pub mod admin;
mod claim;
pub mod client;
mod names;
pub mod object;
pub mod runtime;

use super::store::join::random_id;
use super::store::{self, Put, StoreTransport, Take};
use crate::config::S3Config;
use crate::error::{Error, ErrorKind, Result};
use crate::tag::describe_tag;
use bytes::Bytes;
use client::{Fail, S3};
use names::{common_prefix, index_of, msg_key, parse_slot, slot_body, slot_key, slot_of};
use object::{Head, Message, PART};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::{JoinHandle, JoinSet};

/// Read messages are deleted in batches of this many (one DeleteObjects request)...
const DELETE_BATCH: usize = 64;
/// ...unless one is at least this large: then at once, to free the server's space.
const DELETE_NOW: usize = 1 << 20;
/// How long [`StoreTransport::close`] waits for the last deletions.
const CLOSE_WAIT: Duration = Duration::from_secs(10);
/// Extra time the runtime gets past a deadline to report which messages are missing.
const GRACE: Duration = Duration::from_millis(500);

/// The S3 transport of one communicator.
pub struct S3Transport {
    s3: Arc<S3>,
    /// Next index to write, per queue.
    written: HashMap<String, u64>,
    /// Next index to read, per queue.
    read: HashMap<String, u64>,
    /// Highest counter slot this peer created or saw, per counter key.
    counters: HashMap<String, u64>,
    /// Objects written for several readers: deleted at close.
    shared: Vec<String>,
    /// Objects taken by `pop_any` (queues with several writers): deleting them at once could
    /// free a slot that a slow writer then fills behind the reader, so they go at the next
    /// `delete`/`delete_prefix`/`close`.
    deferred: Vec<String>,
    /// Objects taken by `pop_next` (queues with several writers that stay in use, such as the
    /// inboxes of tagged messages): a writer whose count of the queue is behind would refill a
    /// deleted slot behind the reader, so they stay until `close` (or `delete_prefix`).
    kept: Vec<String>,
    /// Small messages read and not yet deleted: deleted in batches of [`DELETE_BATCH`] (one
    /// request), at the latest by the next `delete`/`delete_prefix`/`close`.
    consumed: Vec<String>,
    /// Background deletions in flight.
    cleanup: Vec<JoinHandle<()>>,
    closed: bool,
    /// Rank claims held (object key, owner, when claimed, when to renew next): renewed by
    /// `push` and `pop` in the background, deleted at close.
    claims: Vec<(String, u64, u64, Instant)>,
}

/// Writes message `body` (whose head carries `nonce`) to queue `key` at index `idx`, or at the
/// next free index when another writer took it. Returns the index used.
async fn claim_and_put(
    s3: &Arc<S3>,
    key: &str,
    mut idx: u64,
    body: Bytes,
    nonce: u32,
) -> Result<u64> {
    let only_new = body.len() <= PART;
    loop {
        let object_key = msg_key(s3, key, idx);
        match object::put(s3, object_key.clone(), body.clone(), only_new).await {
            Ok(()) => return Ok(idx),
            Err(f @ (Fail::Exists | Fail::NotFound)) => {
                // A retried request whose first attempt landed finds its own message there
                // (a conditional write: 412; a multipart completion: NoSuchUpload).
                let there = object::head_of(s3, &object_key)
                    .await
                    .map_err(|f| s3.final_error(f, &format!("reading {object_key}")))?;
                if there.is_some_and(|h| h.nonce == nonce) {
                    return Ok(idx);
                }
                if let Fail::NotFound = f {
                    return Err(s3.final_error(f, &format!("writing to {key}")));
                }
                // Only the slots after this one (names sort by index).
                let taken = object::list_after(s3, &format!("{}{key}#", s3.prefix), &object_key)
                    .await
                    .map_err(|f| s3.final_error(f, &format!("listing queue {key}")))?;
                let top = taken.iter().filter_map(|k| index_of(k)).max();
                idx = top.map_or(idx, |t| t.max(idx)) + 1;
            }
            Err(f) => return Err(s3.final_error(f, &format!("writing to {key}"))),
        }
    }
}

/// Polls for the message at `object_key` until it exists or `deadline` passes (then `None`).
async fn poll(
    s3: &Arc<S3>,
    object_key: &str,
    want: Option<usize>,
    deadline: Instant,
) -> Result<Option<Message>> {
    let mut pause = Duration::from_millis(1).min(s3.poll_cap);
    loop {
        match object::get(s3, object_key, want).await {
            Ok(Some(m)) => return Ok(Some(m)),
            Ok(None) => {}
            Err(f) => return Err(s3.final_error(f, &format!("reading {object_key}"))),
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(s3.poll_cap);
    }
}

/// Polls for several messages `(pos, object key, size)` at once until all exist or `deadline`
/// passes (the missing ones are `None`). One message is polled with GET; several with one LIST
/// of their common prefix per round, then GETs of those that are there, so a peer that waits
/// for many messages (a gather's root) costs the server one request per round, not one per
/// message. The pause between rounds restarts at 1 ms whenever a message arrived.
async fn poll_many(
    s3: &Arc<S3>,
    jobs: Vec<(usize, String, usize)>,
    deadline: Instant,
) -> Result<Vec<(usize, String, Option<Message>)>> {
    if jobs.len() == 1 {
        let (pos, key, want) = jobs.into_iter().next().unwrap();
        let m = poll(s3, &key, Some(want), deadline).await?;
        return Ok(vec![(pos, key, m)]);
    }
    let first_pause = Duration::from_millis(1).min(s3.poll_cap);
    let mut pause = first_pause;
    let mut pending = jobs;
    let mut got = Vec::new();
    loop {
        let listed: std::collections::HashSet<String> = if pending.len() == 1 {
            pending.iter().map(|j| j.1.clone()).collect()
        } else {
            let prefix = common_prefix(pending.iter().map(|j| j.1.as_str()));
            object::list(s3, &prefix)
                .await
                .map_err(|f| s3.final_error(f, "listing messages"))?
                .into_iter()
                .collect()
        };
        let mut set = JoinSet::new();
        let mut still = Vec::new();
        for (pos, key, want) in pending {
            if listed.contains(&key) {
                let s3 = s3.clone();
                set.spawn(async move {
                    let r = object::get(&s3, &key, Some(want)).await;
                    (pos, key, want, r)
                });
            } else {
                still.push((pos, key, want));
            }
        }
        let mut progress = false;
        while let Some(j) = set.join_next().await {
            let (pos, key, want, r) =
                j.map_err(|e| Error::channel(format!("read task failed: {e}")))?;
            match r {
                Ok(Some(m)) => {
                    got.push((pos, key, Some(m)));
                    progress = true;
                }
                Ok(None) => still.push((pos, key, want)),
                Err(f) => return Err(s3.final_error(f, &format!("reading {key}"))),
            }
        }
        pending = still;
        if pending.is_empty() {
            return Ok(got);
        }
        let now = Instant::now();
        if now >= deadline {
            got.extend(pending.into_iter().map(|(pos, key, _)| (pos, key, None)));
            return Ok(got);
        }
        if progress {
            pause = first_pause;
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(s3.poll_cap);
    }
}

fn who(from: Option<usize>) -> String {
    match from {
        Some(r) => format!("rank {r}"),
        None => "any rank".to_string(),
    }
}

impl S3Transport {
    /// Builds the client from `cfg` and checks that the bucket is there (bounded by `deadline`).
    pub fn connect(cfg: &S3Config, deadline: Instant) -> Result<Self> {
        let cfg = cfg.clone();
        let s3 = runtime::run(
            async move {
                let s3 = S3::new(&cfg).await?;
                s3.check_bucket().await?;
                Ok(Arc::new(s3))
            },
            deadline,
            "connecting to S3",
        )?;
        Ok(S3Transport {
            s3,
            written: HashMap::new(),
            read: HashMap::new(),
            counters: HashMap::new(),
            shared: Vec::new(),
            deferred: Vec::new(),
            kept: Vec::new(),
            consumed: Vec::new(),
            cleanup: Vec::new(),
            closed: false,
            claims: Vec::new(),
        })
    }

    /// The endpoint and bucket, for messages.
    pub fn endpoint(&self) -> String {
        format!("{} bucket {:?}", self.s3.endpoint, self.s3.bucket)
    }

    fn check_open(&self) -> Result<()> {
        if self.closed {
            Err(Error::channel("the S3 channel is closed"))
        } else {
            Ok(())
        }
    }

    /// Rewrites the claims whose renewal is due, in the background.
    fn renew_claims(&mut self) {
        let now = Instant::now();
        for (key, owner, since, due) in &mut self.claims {
            if now < *due {
                continue;
            }
            *due = now + store::RANK_LEASE / 2;
            let (s3, key, body) = (self.s3.clone(), key.clone(), claim::body(*owner, *since));
            if let Some(h) = runtime::spawn(async move {
                if let Err(f) = object::put(&s3, key, body, false).await {
                    tracing::warn!("S3: {}", s3.final_error(f, "renewing a rank claim"));
                }
            }) {
                self.cleanup.push(h);
            }
        }
    }

    /// Deletes `objects` in the background.
    fn forget(&mut self, objects: Vec<String>) {
        self.cleanup.retain(|h| !h.is_finished());
        if objects.is_empty() {
            return;
        }
        let s3 = self.s3.clone();
        if let Some(h) = runtime::spawn(async move {
            if let Err(f) = object::delete(&s3, objects).await {
                tracing::warn!("S3 clean-up: {}", s3.final_error(f, "deleting messages"));
            }
        }) {
            self.cleanup.push(h);
        }
    }

    /// Deletes every object of each queue or counter in `keys` (listing them), plus the deferred
    /// ones, and waits.
    fn delete_listed(&mut self, keys: &[String], deadline: Instant) -> Result<usize> {
        let prefixes: Vec<String> = keys
            .iter()
            .map(|k| format!("{}{k}#", self.s3.prefix))
            .collect();
        for k in keys {
            self.forget_state(k);
        }
        let mut known = std::mem::take(&mut self.deferred);
        known.append(&mut self.consumed);
        let s3 = self.s3.clone();
        runtime::run(
            async move {
                let mut n = 0;
                for p in prefixes {
                    let found = object::list(&s3, &p)
                        .await
                        .map_err(|f| s3.final_error(f, "listing objects to delete"))?;
                    n += found.len();
                    known.extend(found);
                }
                object::delete(&s3, known)
                    .await
                    .map_err(|f| s3.final_error(f, "deleting objects"))?;
                Ok(n)
            },
            deadline,
            "deleting objects",
        )
    }

    fn forget_state(&mut self, key: &str) {
        self.written.remove(key);
        self.read.remove(key);
        self.counters.remove(key);
    }
}

impl StoreTransport for S3Transport {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn push(&mut self, tag: u32, puts: &[Put<'_>], deadline: Instant) -> Result<()> {
        self.renew_claims();
        self.check_open()?;
        let mut jobs = Vec::with_capacity(puts.len());
        for (pos, p) in puts.iter().enumerate() {
            let next = self.written.entry(p.key.to_string()).or_insert(0);
            let idx = *next;
            *next += 1;
            let head = Head {
                tag,
                readers: p.readers as u32,
                nonce: random_id() as u32,
            };
            jobs.push((
                pos,
                p.key.to_string(),
                idx,
                head.nonce,
                object::encode(head, p.data),
            ));
        }
        let bytes: usize = puts.iter().map(|p| p.data.len()).sum();
        let what = if puts.len() == 1 {
            format!("writing {bytes} bytes to {}", puts[0].key)
        } else {
            format!("writing {} messages ({bytes} bytes)", puts.len())
        };
        let s3 = self.s3.clone();
        let used: Vec<(usize, u64)> = runtime::run(
            async move {
                let mut set = JoinSet::new();
                for (pos, key, idx, nonce, body) in jobs {
                    let s3 = s3.clone();
                    set.spawn(
                        async move { (pos, claim_and_put(&s3, &key, idx, body, nonce).await) },
                    );
                }
                let mut used = Vec::new();
                while let Some(j) = set.join_next().await {
                    let (pos, r) =
                        j.map_err(|e| Error::channel(format!("write task failed: {e}")))?;
                    used.push((pos, r?));
                }
                Ok(used)
            },
            deadline,
            &what,
        )?;
        for (pos, idx) in used {
            let p = &puts[pos];
            let next = self.written.entry(p.key.to_string()).or_insert(0);
            *next = (*next).max(idx + 1);
            if p.readers > 1 {
                self.shared.push(msg_key(&self.s3, p.key, idx));
            }
        }
        Ok(())
    }

    fn pop(&mut self, tag: u32, takes: &mut [Take<'_>], deadline: Instant) -> Result<()> {
        self.renew_claims();
        self.check_open()?;
        let mut next: HashMap<&str, u64> = HashMap::new();
        let mut jobs = Vec::with_capacity(takes.len());
        for (pos, t) in takes.iter().enumerate() {
            let i = next
                .entry(t.key)
                .or_insert_with(|| self.read.get(t.key).copied().unwrap_or(0));
            jobs.push((pos, msg_key(&self.s3, t.key, *i), t.buf.len()));
            *i += 1;
        }
        let s3 = self.s3.clone();
        let mut got: Vec<(usize, String, Option<Message>)> = runtime::run(
            async move { poll_many(&s3, jobs, deadline).await },
            deadline + GRACE,
            "reading messages",
        )?;
        got.sort_by_key(|g| g.0);
        let mut problem: Option<Error> = None;
        let mut missing: Vec<usize> = Vec::new();
        let mut large = false;
        for (pos, object_key, msg) in got {
            let take = &mut takes[pos];
            let Some(msg) = msg else {
                missing.push(pos);
                continue;
            };
            *self.read.entry(take.key.to_string()).or_insert(0) += 1;
            if msg.head.readers <= 1 {
                large |= msg.data.len() >= DELETE_NOW;
                self.consumed.push(object_key);
            }
            let from = who(take.from);
            let want = take.buf.len();
            let e = if msg.head.tag != tag {
                Some(Error::invalid(format!(
                    "peers called operations in a different order: received a message of {} from {from}, expected {}",
                    describe_tag(msg.head.tag),
                    describe_tag(tag)
                )))
            } else if msg.data.len() != want {
                Some(Error::new(
                    ErrorKind::SizeMismatch,
                    format!(
                        "message from {from} does not have the {want} bytes of the receive buffer"
                    ),
                ))
            } else {
                take.buf.copy_from_slice(&msg.data);
                None
            };
            if problem.is_none() {
                problem = e;
            }
        }
        if large || self.consumed.len() >= DELETE_BATCH {
            let batch = std::mem::take(&mut self.consumed);
            self.forget(batch);
        }
        if let Some(e) = problem {
            return Err(e);
        }
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|&p| who(takes[p].from)).collect();
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "timed out waiting for a message from {} (key {})",
                    names.join(", "),
                    takes[missing[0]].key
                ),
            ));
        }
        Ok(())
    }

    fn pop_any(
        &mut self,
        keys: &[&str],
        max_len: usize,
        deadline: Instant,
    ) -> Result<(usize, u32, Vec<u8>)> {
        self.check_open()?;
        let objects: Vec<String> = keys
            .iter()
            .map(|k| msg_key(&self.s3, k, self.read.get(*k).copied().unwrap_or(0)))
            .collect();
        let s3 = self.s3.clone();
        let found: Option<(usize, Message)> = runtime::run(
            async move {
                let mut pause = Duration::from_millis(1).min(s3.poll_cap);
                loop {
                    let mut set = JoinSet::new();
                    for (i, o) in objects.iter().enumerate() {
                        let (s3, o) = (s3.clone(), o.clone());
                        set.spawn(async move { (i, object::get(&s3, &o, None).await) });
                    }
                    let mut best: Option<(usize, Message)> = None;
                    while let Some(j) = set.join_next().await {
                        let (i, r) =
                            j.map_err(|e| Error::channel(format!("read task failed: {e}")))?;
                        match r {
                            Ok(Some(m)) if best.as_ref().is_none_or(|b| i < b.0) => {
                                best = Some((i, m))
                            }
                            Ok(_) => {}
                            Err(f) => return Err(s3.final_error(f, "reading messages")),
                        }
                    }
                    if best.is_some() {
                        return Ok(best);
                    }
                    let now = Instant::now();
                    if now >= deadline {
                        return Ok(None);
                    }
                    tokio::time::sleep(pause.min(deadline - now)).await;
                    pause = (pause * 2).min(s3.poll_cap);
                }
            },
            deadline + GRACE,
            "waiting for messages",
        )?;
        let Some((i, msg)) = found else {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("timed out waiting for a message on {}", keys.join(" or ")),
            ));
        };
        let idx = self.read.entry(keys[i].to_string()).or_insert(0);
        self.deferred.push(msg_key(&self.s3, keys[i], *idx));
        *idx += 1;
        if msg.data.len() > max_len {
            return Err(Error::channel(format!(
                "unexpected {}-byte message on {}",
                msg.data.len(),
                keys[i]
            )));
        }
        Ok((i, msg.head.tag, msg.data))
    }

    fn pop_next(
        &mut self,
        key: &str,
        max_len: usize,
        wait: bool,
        deadline: Instant,
    ) -> Result<Option<(u32, Vec<u8>)>> {
        self.check_open()?;
        let idx = self.read.get(key).copied().unwrap_or(0);
        let object_key = msg_key(&self.s3, key, idx);
        let (s3, o) = (self.s3.clone(), object_key.clone());
        let found: Option<Message> = runtime::run(
            async move {
                if wait {
                    poll(&s3, &o, None, deadline).await
                } else {
                    object::get(&s3, &o, None)
                        .await
                        .map_err(|f| s3.final_error(f, &format!("reading {o}")))
                }
            },
            deadline + GRACE,
            "waiting for a message",
        )?;
        let Some(msg) = found else {
            return Ok(None);
        };
        self.read.insert(key.to_string(), idx + 1);
        self.kept.push(object_key);
        if msg.data.len() > max_len {
            return Err(Error::channel(format!(
                "unexpected {}-byte message on {key}",
                msg.data.len()
            )));
        }
        Ok(Some((msg.head.tag, msg.data)))
    }

    fn claim(&mut self, key: &str, owner: u64, deadline: Instant) -> Result<Option<String>> {
        self.check_open()?;
        let (s3, object) = (self.s3.clone(), self.s3.object(key));
        let obj = object.clone();
        let held = runtime::run(
            async move { claim::claim(&s3, &obj, owner).await },
            deadline,
            "claiming a rank",
        )?;
        if held.is_none() {
            let since = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let due = Instant::now() + store::RANK_LEASE / 2;
            self.claims.push((object, owner, since, due));
        }
        Ok(held)
    }

    fn incr(&mut self, key: &str, by: u64, deadline: Instant) -> Result<u64> {
        self.check_open()?;
        let (s3, k) = (self.s3.clone(), key.to_string());
        let (slot, value) = runtime::run(
            async move {
                let nonce = random_id() as u32;
                let (mut i, mut prev) = (0u64, 0u64);
                loop {
                    let slot = slot_key(&s3, &k, i);
                    match object::put(&s3, slot.clone(), slot_body(prev + by, nonce), true).await {
                        Ok(()) => return Ok((i, prev + by)),
                        Err(Fail::Exists) => {
                            // A retried request whose first attempt landed finds its own slot.
                            let there = object::get_raw(&s3, &slot)
                                .await
                                .map_err(|f| s3.final_error(f, "reading a counter slot"))?;
                            if there.as_deref().and_then(parse_slot) == Some((prev + by, nonce)) {
                                return Ok((i, prev + by));
                            }
                            let slots = object::list(&s3, &format!("{}{k}#c", s3.prefix))
                                .await
                                .map_err(|f| s3.final_error(f, "listing counter slots"))?;
                            let top = slots.iter().filter_map(|o| slot_of(o)).max().unwrap_or(i);
                            let top = top.max(i);
                            let raw = object::get_raw(&s3, &slot_key(&s3, &k, top))
                                .await
                                .map_err(|f| s3.final_error(f, "reading a counter slot"))?;
                            let (value, _) =
                                raw.as_deref().and_then(parse_slot).ok_or_else(|| {
                                    Error::channel(format!(
                                        "counter {k} slot {top} is missing or damaged (counter deleted early?)"
                                    ))
                                })?;
                            prev = value;
                            i = top + 1;
                        }
                        Err(f) => return Err(s3.final_error(f, &format!("counting at {k}"))),
                    }
                }
            },
            deadline,
            &format!("counting at {key}"),
        )?;
        let top = self.counters.entry(key.to_string()).or_insert(0);
        *top = (*top).max(slot);
        Ok(value)
    }

    fn delete(&mut self, keys: &[String], deadline: Instant) -> Result<()> {
        self.check_open()?;
        self.delete_listed(keys, deadline).map(|_| ())
    }

    fn discard(&mut self, keys: Vec<String>) {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for k in keys {
            let w = self.written.get(&k).copied();
            let c = self.counters.get(&k).copied();
            if w.is_none() && c.is_none() {
                unknown.push(k);
                continue;
            }
            known.extend((0..w.unwrap_or(0)).map(|i| msg_key(&self.s3, &k, i)));
            if let Some(top) = c {
                known.extend((0..=top).map(|i| slot_key(&self.s3, &k, i)));
            }
            self.forget_state(&k);
        }
        self.forget(known);
        if !unknown.is_empty() {
            let s3 = self.s3.clone();
            if let Some(h) = runtime::spawn(async move {
                let mut all = Vec::new();
                for k in unknown {
                    match object::list(&s3, &format!("{}{k}#", s3.prefix)).await {
                        Ok(found) => all.extend(found),
                        Err(f) => tracing::warn!("S3 clean-up: {}", s3.final_error(f, "listing")),
                    }
                }
                if let Err(f) = object::delete(&s3, all).await {
                    tracing::warn!("S3 clean-up: {}", s3.final_error(f, "deleting"));
                }
            }) {
                self.cleanup.push(h);
            }
        }
    }

    fn delete_prefix(&mut self, prefix: &str, deadline: Instant) -> Result<usize> {
        self.check_open()?;
        let full = format!("{}{prefix}", self.s3.prefix);
        self.shared.retain(|o| !o.starts_with(&full));
        self.kept.retain(|o| !o.starts_with(&full));
        self.written.retain(|k, _| !k.starts_with(prefix));
        self.read.retain(|k, _| !k.starts_with(prefix));
        self.counters.retain(|k, _| !k.starts_with(prefix));
        let mut deferred = std::mem::take(&mut self.deferred);
        deferred.append(&mut self.consumed);
        let s3 = self.s3.clone();
        runtime::run(
            async move {
                let found = object::list(&s3, &full)
                    .await
                    .map_err(|f| s3.final_error(f, "listing the run's objects"))?;
                let n = found.len();
                deferred.extend(found);
                object::delete(&s3, deferred)
                    .await
                    .map_err(|f| s3.final_error(f, "deleting the run's objects"))?;
                Ok(n)
            },
            deadline,
            &format!("deleting every object under {prefix}"),
        )
    }

    fn call_done(&mut self, call_prefix: &str) {
        self.written.retain(|k, _| !k.starts_with(call_prefix));
        self.read.retain(|k, _| !k.starts_with(call_prefix));
        self.counters.retain(|k, _| !k.starts_with(call_prefix));
    }

    fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        let mut last = std::mem::take(&mut self.shared);
        last.append(&mut self.deferred);
        last.append(&mut self.kept);
        last.append(&mut self.consumed);
        last.extend(std::mem::take(&mut self.claims).into_iter().map(|c| c.0));
        self.forget(last);
        let handles = std::mem::take(&mut self.cleanup);
        if handles.is_empty() {
            return;
        }
        let r = runtime::run(
            async move {
                for h in handles {
                    let _ = h.await;
                }
                Ok(())
            },
            Instant::now() + CLOSE_WAIT,
            "waiting for the last S3 deletions",
        );
        if let Err(e) = r {
            tracing::warn!("closing the S3 channel: {e}");
        }
    }
}

impl Drop for S3Transport {
    fn drop(&mut self) {
        self.close();
    }
}
