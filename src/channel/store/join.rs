//! Agreeing on a fresh run id at init, over any [`StoreTransport`].
//!
//! Rank 0 draws a random 64-bit run id. Every other rank draws a random nonce, pushes a join
//! `(rank, size, nonce)` to `fmi:{name}:join` and waits on `fmi:{name}:welcome:{nonce}`, where
//! rank 0 answers with the run id; then it confirms on `fmi:{name}:{run}:ack`. Rank 0 answers
//! every join it reads (joins left over from a crashed earlier run too: nobody waits on those
//! answers, and rank 0 deletes them at the end) and returns once every rank has confirmed.
//! Because each joiner only reads the answer to its own fresh nonce, and the confirmations live
//! under the fresh run id, nothing an earlier run left behind can be mistaken for this run.
//!
//! Before all this, each rank claims `fmi:{name}:rank:{r}` ([`StoreTransport::claim`], atomic):
//! a second process for a rank that a running process holds (a retried invocation) is refused
//! with `FMI_ERR_RANK_TAKEN` before it writes anything the running job could read. The claim is
//! released when the transport closes, or lapses [`super::RANK_LEASE`] after a crash.

use super::keys::{NameKeys, Namespace};
use super::{Put, StoreTransport, Take};
use crate::error::{Error, ErrorKind, Result};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Tags of the three init messages (operation byte 0xFE, never used by a collective).
const TAG_JOIN: u32 = 0xFE00_0001;
const TAG_WELCOME: u32 = 0xFE00_0002;
const TAG_ACK: u32 = 0xFE00_0003;

const OK: u8 = 0;
const BAD_SIZE: u8 = 1;

/// A random 64-bit id (OS-seeded SipHash of the time, process id and a counter).
pub fn random_id() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(now);
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn record(a: u32, b: u32, c: u64) -> [u8; 16] {
    let mut m = [0u8; 16];
    m[..4].copy_from_slice(&a.to_le_bytes());
    m[4..8].copy_from_slice(&b.to_le_bytes());
    m[8..].copy_from_slice(&c.to_le_bytes());
    m
}

/// Agrees on the run id of communicator `name` (collective: every rank calls it) and returns the
/// run's key namespace.
pub fn agree(
    t: &mut dyn StoreTransport,
    name: &str,
    rank: usize,
    size: usize,
    deadline: Instant,
) -> Result<Namespace> {
    let keys = NameKeys::new(name);
    if let Some(holder) = t.claim(&keys.rank(rank), random_id(), deadline)? {
        return Err(Error::new(
            ErrorKind::RankTaken,
            format!(
                "rank {rank} of communicator {name} is held by another running process on the \
                 {} channel ({holder}); a second process for the same rank is refused and the \
                 running job is not disturbed (a run that crashed frees its ranks within {} s)",
                t.name(),
                super::RANK_LEASE.as_secs()
            ),
        ));
    }
    if rank == 0 {
        serve(t, &keys, size, deadline)
    } else {
        join(t, &keys, rank, size, deadline)
    }
}

fn serve(
    t: &mut dyn StoreTransport,
    keys: &NameKeys,
    size: usize,
    deadline: Instant,
) -> Result<Namespace> {
    let run = random_id();
    let ns = keys.run(run);
    let (join_key, ack_key) = (keys.join(), ns.ack());
    let mut confirmed = vec![false; size];
    confirmed[0] = true;
    let mut missing = size - 1;
    let mut answered: Vec<u64> = Vec::new();
    while missing > 0 {
        let got = t.pop_any(&[&join_key, &ack_key], 16, deadline);
        let (which, tag, msg) = got.map_err(|e| {
            if e.kind() != ErrorKind::Timeout {
                return e;
            }
            let absent: Vec<String> = (1..size)
                .filter(|&r| !confirmed[r])
                .map(|r| r.to_string())
                .collect();
            Error::new(
                ErrorKind::Timeout,
                format!(
                    "rank(s) {} never joined (run with the same comm_name and num_peers?)",
                    absent.join(", ")
                ),
            )
        })?;
        let expected = if which == 0 { TAG_JOIN } else { TAG_ACK };
        if tag != expected || msg.len() != 16 {
            continue; // not a message of this protocol: ignore it
        }
        let (r, n, nonce) = (u32_at(&msg, 0) as usize, u32_at(&msg, 4), u64_at(&msg, 8));
        if which == 0 {
            let status = if n as usize == size && r > 0 && r < size {
                OK
            } else {
                tracing::warn!(
                    "join from rank {r} of {n} peers, but this communicator has {size}: refused"
                );
                BAD_SIZE
            };
            let answer = record(u32::from(status), size as u32, run);
            let key = keys.welcome(nonce);
            t.push(
                TAG_WELCOME,
                &[Put {
                    key: &key,
                    data: &answer,
                    readers: 1,
                }],
                deadline,
            )?;
            answered.push(nonce);
        } else {
            answered.retain(|&x| x != nonce);
            if r < size && !confirmed[r] {
                confirmed[r] = true;
                missing -= 1;
            }
        }
    }
    // Answers to joins that never confirmed (left over from an earlier run): nobody reads them.
    t.discard(answered.into_iter().map(|n| keys.welcome(n)).collect());
    Ok(ns)
}

fn join(
    t: &mut dyn StoreTransport,
    keys: &NameKeys,
    rank: usize,
    size: usize,
    deadline: Instant,
) -> Result<Namespace> {
    let nonce = random_id();
    let hello = record(rank as u32, size as u32, nonce);
    t.push(
        TAG_JOIN,
        &[Put {
            key: &keys.join(),
            data: &hello,
            readers: 1,
        }],
        deadline,
    )?;
    let mut answer = [0u8; 16];
    let welcome = keys.welcome(nonce);
    t.pop(
        TAG_WELCOME,
        &mut [Take {
            key: &welcome,
            from: Some(0),
            buf: &mut answer,
        }],
        deadline,
    )
    .map_err(|e| {
        if e.kind() == ErrorKind::Timeout {
            Error::new(
                ErrorKind::Timeout,
                "rank 0 never answered (is it running with the same comm_name?)",
            )
        } else {
            e
        }
    })?;
    let (status, n, run) = (u32_at(&answer, 0), u32_at(&answer, 4), u64_at(&answer, 8));
    if status != u32::from(OK) {
        return Err(Error::invalid(format!(
            "rank 0 has {n} peers, this rank was started with num_peers {size}"
        )));
    }
    let ns = keys.run(run);
    t.push(
        TAG_ACK,
        &[Put {
            key: &ns.ack(),
            data: &record(rank as u32, 0, nonce),
            readers: 1,
        }],
        deadline,
    )?;
    Ok(ns)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_differ() {
        let a = super::random_id();
        let b = super::random_id();
        assert_ne!(a, b);
    }
}
