//! The Redis channel: a [`StoreTransport`] over one synchronous connection of the `redis` crate.
//!
//! Every queue is a Redis list. A message is a head element ([`frame::Head`]) and its data:
//! - up to [`CHUNK`] bytes for one reader (or up to [`SHARED_INLINE`] bytes over all copies for
//!   several) travel inline in the head; a message for `k` readers is pushed as `k` copies;
//! - larger messages for one reader follow the head as chunk elements of the same list;
//! - larger messages for several readers are stored once, as chunk strings `{key}#{id}:{i}`
//!   with a reader count `{key}#{id}:refs`; each reader pops one copy of the head, fetches the
//!   chunks and decrements the count in one pipeline, and the last reader deletes them.
//!
//! A chunked message is written in one MULTI/EXEC transaction: a failure half-way (the server
//! out of memory, say) writes nothing, so a queue never holds half a message that would make
//! the reader take the next message's head for a chunk.
//!
//! Readers wait with BLPOP (no polling, no fixed sleeps). Every write sets the key's TTL.
//! Names are only ever passed as command arguments, which the crate escapes.

mod conn;
pub mod frame;

use super::store::{Put, StoreTransport, Take};
use crate::config::RedisConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::tag::describe_tag;
use conn::Conn;
use frame::{Head, Kind};
use std::time::{Duration, Instant};

/// Chunk size of large messages.
pub(crate) const CHUNK: usize = 4 << 20;
/// A message for several readers is pushed as inline copies while all copies together stay
/// within this many bytes.
pub(crate) const SHARED_INLINE: usize = 1 << 20;

/// The Redis transport of one communicator.
pub struct RedisTransport {
    conn: Conn,
    ttl_ms: u64,
    next_id: u64,
}

impl RedisTransport {
    /// Connects to the server of `cfg` (bounded by `deadline`).
    pub fn connect(cfg: &RedisConfig, deadline: Instant) -> Result<Self> {
        Ok(RedisTransport {
            conn: Conn::open(cfg, deadline)?,
            ttl_ms: cfg.ttl.as_millis().max(1) as u64,
            next_id: 0,
        })
    }

    /// `redis://host:port/db`.
    pub fn endpoint(&self) -> &str {
        self.conn.endpoint()
    }

    fn who(take: &Take<'_>) -> String {
        match take.from {
            Some(r) => format!("rank {r}"),
            None => "any rank".to_string(),
        }
    }

    /// Completes `take` from its popped head element: copies inline data, or collects the chunks.
    /// A message of the wrong tag or size is consumed completely, then reported.
    fn finish(
        &mut self,
        tag: u32,
        take: &mut Take<'_>,
        elem: Vec<u8>,
        deadline: Instant,
    ) -> Result<()> {
        let who = Self::who(take);
        let (head, inline) =
            Head::decode(&elem).map_err(|e| e.context(format!("message from {who}")))?;
        let want = take.buf.len();
        let problem = if head.tag != tag {
            Some(Error::invalid(format!(
                "peers called operations in a different order: received a message of {} from {who}, expected {}",
                describe_tag(head.tag),
                describe_tag(tag)
            )))
        } else if head.len != want as u64 {
            Some(Error::new(
                ErrorKind::SizeMismatch,
                format!(
                    "message from {who} has {} bytes, receive buffer has {want} bytes",
                    head.len
                ),
            ))
        } else {
            None
        };
        let mut buf: Option<&mut [u8]> = if problem.is_none() {
            Some(&mut *take.buf)
        } else {
            None
        };
        match head.kind {
            Kind::Inline => {
                if let Some(b) = buf {
                    b.copy_from_slice(inline);
                }
            }
            Kind::Stream => {
                let mut left = head.chunks as usize;
                let mut at = 0usize;
                while left > 0 {
                    let mut p = self.conn.pipe();
                    p.cmd("LPOP").arg(take.key).arg(left);
                    let (got,): (Option<Vec<Vec<u8>>>,) =
                        self.conn
                            .query(&p, deadline, Duration::ZERO, "popping chunks (LPOP)")?;
                    let got = match got {
                        Some(v) if !v.is_empty() => v,
                        _ => {
                            let one = self.conn.blpop(&[take.key], deadline)?;
                            if one.is_empty() {
                                return Err(Error::new(
                                    ErrorKind::Timeout,
                                    format!(
                                        "timed out in the middle of a {}-byte message from {who} ({left} of {} chunks missing)",
                                        head.len, head.chunks
                                    ),
                                ));
                            }
                            one.into_iter().map(|(_, v)| v).collect()
                        }
                    };
                    for chunk in got {
                        left -= 1;
                        if let Some(b) = buf.as_deref_mut() {
                            let end = at + chunk.len();
                            if end > b.len() {
                                return Err(Error::channel(format!(
                                    "message from {who} has more data than its header says"
                                )));
                            }
                            b[at..end].copy_from_slice(&chunk);
                        }
                        at += chunk.len();
                    }
                }
                if buf.is_some() && at != want {
                    return Err(Error::channel(format!(
                        "message from {who} has {at} bytes of data, its header says {want}"
                    )));
                }
            }
            Kind::Shared => {
                let chunk_keys: Vec<String> = (0..head.chunks)
                    .map(|i| format!("{}#{}:{i}", take.key, head.id))
                    .collect();
                let refs = format!("{}#{}:refs", take.key, head.id);
                let mut p = self.conn.pipe();
                if buf.is_some() {
                    for k in &chunk_keys {
                        p.cmd("GET").arg(k);
                    }
                }
                p.cmd("DECR").arg(&refs);
                let mut vals: Vec<::redis::Value> =
                    self.conn
                        .query(&p, deadline, Duration::ZERO, "fetching chunks (GET)")?;
                let left: i64 = match vals.pop() {
                    Some(v) => ::redis::from_redis_value(v)
                        .map_err(|e| Error::channel(format!("DECR answered {e}")))?,
                    None => 0,
                };
                if left <= 0 {
                    let mut gone = chunk_keys.clone();
                    gone.push(refs);
                    self.conn.discard(gone);
                }
                if let Some(b) = buf {
                    let mut at = 0usize;
                    for (k, v) in chunk_keys.iter().zip(vals) {
                        let data: Option<Vec<u8>> = ::redis::from_redis_value(v)
                            .map_err(|e| Error::channel(format!("GET {k} answered {e}")))?;
                        let data = data.ok_or_else(|| {
                            Error::channel(format!(
                                "part {k} of a message from {who} is gone (expired? raise backends.Redis.ttl_ms)"
                            ))
                        })?;
                        let end = at + data.len();
                        if end > b.len() {
                            return Err(Error::channel(format!(
                                "message from {who} has more data than its header says"
                            )));
                        }
                        b[at..end].copy_from_slice(&data);
                        at = end;
                    }
                    if at != want {
                        return Err(Error::channel(format!(
                            "message from {who} has {at} bytes of data, its header says {want}"
                        )));
                    }
                }
            }
        }
        match problem {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn timeout(takes: &[Take<'_>], pending: &[usize]) -> Error {
        let who: Vec<String> = pending.iter().map(|&i| Self::who(&takes[i])).collect();
        Error::new(
            ErrorKind::Timeout,
            format!(
                "timed out waiting for a message from {} (key {})",
                who.join(", "),
                takes[pending[0]].key
            ),
        )
    }
}

impl StoreTransport for RedisTransport {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn push(&mut self, tag: u32, puts: &[Put<'_>], deadline: Instant) -> Result<()> {
        if puts.is_empty() {
            return Ok(());
        }
        let ttl = self.ttl_ms;
        let mut p = self.conn.pipe();
        let mut bytes = 0usize;
        let mut chunked = false;
        for put in puts {
            let (key, data, readers) = (put.key, put.data, put.readers.max(1));
            bytes += data.len();
            let id = self.next_id;
            self.next_id += 1;
            let n = data.len();
            let inline = n <= CHUNK && (readers == 1 || n.saturating_mul(readers) <= SHARED_INLINE);
            let head = |kind, chunks| Head {
                kind,
                tag,
                len: n as u64,
                id,
                chunks,
            };
            if inline {
                let elem = head(Kind::Inline, 0).encode(data);
                let c = p.cmd("RPUSH").arg(key);
                for _ in 0..readers {
                    c.arg(&elem);
                }
                c.ignore();
                p.cmd("PEXPIRE").arg(key).arg(ttl).ignore();
            } else if readers == 1 {
                chunked = true;
                let chunks = n.div_ceil(CHUNK);
                p.cmd("RPUSH")
                    .arg(key)
                    .arg(head(Kind::Stream, chunks as u32).encode(&[]))
                    .ignore();
                p.cmd("PEXPIRE").arg(key).arg(ttl).ignore();
                for c in data.chunks(CHUNK) {
                    p.cmd("RPUSH").arg(key).arg(c).ignore();
                    p.cmd("PEXPIRE").arg(key).arg(ttl).ignore();
                }
            } else {
                chunked = true;
                let chunks = n.div_ceil(CHUNK).max(1);
                if n == 0 {
                    p.cmd("SET")
                        .arg(format!("{key}#{id}:0"))
                        .arg(&[] as &[u8])
                        .arg("PX")
                        .arg(ttl)
                        .ignore();
                }
                for (i, c) in data.chunks(CHUNK).enumerate() {
                    p.cmd("SET")
                        .arg(format!("{key}#{id}:{i}"))
                        .arg(c)
                        .arg("PX")
                        .arg(ttl)
                        .ignore();
                }
                p.cmd("SET")
                    .arg(format!("{key}#{id}:refs"))
                    .arg(readers)
                    .arg("PX")
                    .arg(ttl)
                    .ignore();
                let elem = head(Kind::Shared, chunks as u32).encode(&[]);
                let c = p.cmd("RPUSH").arg(key);
                for _ in 0..readers {
                    c.arg(&elem);
                }
                c.ignore();
                p.cmd("PEXPIRE").arg(key).arg(ttl).ignore();
            }
        }
        if chunked {
            p.atomic();
        }
        let what = if puts.len() == 1 {
            format!("writing {bytes} bytes to {}", puts[0].key)
        } else {
            format!("writing {} messages ({bytes} bytes)", puts.len())
        };
        self.conn.query::<()>(&p, deadline, Duration::ZERO, &what)
    }

    fn pop(&mut self, tag: u32, takes: &mut [Take<'_>], deadline: Instant) -> Result<()> {
        let mut pending: Vec<usize> = (0..takes.len()).collect();
        while !pending.is_empty() {
            let keys: Vec<&str> = pending.iter().map(|&i| takes[i].key).collect();
            let got = self.conn.blpop(&keys, deadline)?;
            if got.is_empty() {
                return Err(Self::timeout(takes, &pending));
            }
            let mut done: Vec<usize> = Vec::new();
            for (ki, elem) in got {
                let i = pending[ki];
                self.finish(tag, &mut takes[i], elem, deadline)?;
                done.push(i);
            }
            pending.retain(|i| !done.contains(i));
            if pending.len() >= 2 {
                // Take whatever else is already there in one round trip.
                let mut p = self.conn.pipe();
                for &i in &pending {
                    p.cmd("LPOP").arg(takes[i].key);
                }
                let got: Vec<Option<Vec<u8>>> =
                    self.conn
                        .query(&p, deadline, Duration::ZERO, "popping messages (LPOP)")?;
                let mut done = Vec::new();
                for (ki, elem) in got.into_iter().enumerate() {
                    if let Some(elem) = elem {
                        let i = pending[ki];
                        self.finish(tag, &mut takes[i], elem, deadline)?;
                        done.push(i);
                    }
                }
                pending.retain(|i| !done.contains(i));
            }
        }
        Ok(())
    }

    fn pop_any(
        &mut self,
        keys: &[&str],
        max_len: usize,
        deadline: Instant,
    ) -> Result<(usize, u32, Vec<u8>)> {
        let got = self.conn.blpop(keys, deadline)?;
        let mut it = got.into_iter();
        let Some((i, elem)) = it.next() else {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("timed out waiting for a message on {}", keys.join(" or ")),
            ));
        };
        // Several arrived at once (only when polling close to the deadline): put the others back.
        let rest: Vec<(usize, Vec<u8>)> = it.collect();
        if !rest.is_empty() {
            let mut p = self.conn.pipe();
            for (k, v) in rest {
                p.cmd("LPUSH").arg(keys[k]).arg(v).ignore();
            }
            self.conn
                .query::<()>(&p, deadline, Duration::ZERO, "returning messages (LPUSH)")?;
        }
        let (head, inline) = Head::decode(&elem)?;
        if head.kind != Kind::Inline || inline.len() > max_len {
            return Err(Error::channel(format!(
                "unexpected {}-byte message on {}",
                head.len, keys[i]
            )));
        }
        Ok((i, head.tag, inline.to_vec()))
    }

    fn pop_next(
        &mut self,
        key: &str,
        max_len: usize,
        wait: bool,
        deadline: Instant,
    ) -> Result<Option<(u32, Vec<u8>)>> {
        let elem = if wait {
            match self.conn.blpop(&[key], deadline)?.into_iter().next() {
                Some((_, e)) => e,
                None => return Ok(None),
            }
        } else {
            let mut p = self.conn.pipe();
            p.cmd("LPOP").arg(key);
            let (e,): (Option<Vec<u8>>,) =
                self.conn
                    .query(&p, deadline, Duration::ZERO, "a pop (LPOP)")?;
            match e {
                Some(e) => e,
                None => return Ok(None),
            }
        };
        let (head, inline) = Head::decode(&elem)?;
        if head.kind != Kind::Inline || inline.len() > max_len {
            return Err(Error::channel(format!(
                "unexpected {}-byte message on {key}",
                head.len
            )));
        }
        Ok(Some((head.tag, inline.to_vec())))
    }

    fn claim(&mut self, key: &str, owner: u64, deadline: Instant) -> Result<Option<String>> {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let value = format!("{owner:016x} {since}");
        Ok(self
            .conn
            .claim(key, &value, deadline)?
            .map(|(holder, ttl)| {
                let age = holder
                    .split_once(' ')
                    .and_then(|(_, t)| t.parse::<u128>().ok())
                    .map_or(String::new(), |t| {
                        format!(
                            "claimed {:.1} s ago, ",
                            since.saturating_sub(t) as f64 / 1e3
                        )
                    });
                format!(
                    "{age}its lease runs {:.1} s more unless renewed",
                    ttl.max(0) as f64 / 1e3
                )
            }))
    }

    fn incr(&mut self, key: &str, by: u64, deadline: Instant) -> Result<u64> {
        let mut p = self.conn.pipe();
        p.cmd("INCRBY").arg(key).arg(by);
        p.cmd("PEXPIRE").arg(key).arg(self.ttl_ms).ignore();
        let (v,): (u64,) =
            self.conn
                .query(&p, deadline, Duration::ZERO, &format!("counting at {key}"))?;
        Ok(v)
    }

    fn delete(&mut self, keys: &[String], deadline: Instant) -> Result<()> {
        self.conn.discard(keys.to_vec());
        let p = self.conn.pipe();
        self.conn
            .query::<()>(&p, deadline, Duration::ZERO, "deleting keys (UNLINK)")
    }

    fn discard(&mut self, keys: Vec<String>) {
        self.conn.discard(keys);
    }

    fn delete_prefix(&mut self, prefix: &str, deadline: Instant) -> Result<usize> {
        self.conn.delete_prefix(prefix, deadline)
    }

    fn close(&mut self) {
        self.conn.close(Duration::from_millis(500));
    }
}
