//! Context ids: the number every message of a communicator carries, so that traffic of one
//! communicator never matches a receive of another that shares its connections.
//!
//! The communicator made by init has context 0. Every process keeps, per init (a [`Family`]),
//! the set of context ids it does not use ([`ContextIds`]). A new communicator gets its id the
//! way MPICH allocates them, without a central server: its creators combine their sets with a
//! bitwise AND (an allreduce over the parent, or over the group for `create_group`), and every
//! one of them takes the lowest id in the result, which is therefore free on each of them. A
//! process never has two live communicators with the same id; two communicators with the same
//! id have no process in common.
//!
//! The agreement never holds this process's lock across a collective (a dup on the caller's
//! thread and non-blocking dups on collectives workers may run at once, each waiting for
//! peers): [`agree`] gives the free set to one allocation of this process at a time (the one
//! with the lowest key, the same on every creator, as MPICH's non-blocking context-id
//! allocation does), the others contribute an empty set and try again. Blocking allocations
//! pick the lowest common id, non-blocking ones the highest.
//!
//! Freeing a communicator returns its id to this process's set only. Processes may free at
//! different times: an id that one member still uses is absent from that member's set, so the
//! AND leaves it out and no new communicator that includes this member gets it until the member
//! freed it too. A communicator released without `free` (dropped, or `fmi_release`) never
//! returns its id, since messages of it may still arrive.

use crate::error::{Error, ErrorKind, Result};
use parking_lot::{Mutex, MutexGuard};
use std::time::Instant;

/// Context ids per init: 0 (the communicator made by init) and 1..IDS for derived ones.
pub const IDS: usize = 2048;
/// 64-bit words of a set of ids.
pub const WORDS: usize = IDS / 64;

/// Bit 30 marks the temporary context of a `create_group` agreement (never an allocated id;
/// bit 31 is the direct channel's mark of background collectives).
pub const TEMPORARY: u32 = 1 << 30;

/// The ids this process does not use: bit i of word i / 64 set means id i is free.
#[derive(Debug)]
pub struct ContextIds {
    free: [u64; WORDS],
    /// The keys of the allocations under way on this process ([`agree`]).
    waiting: Vec<u64>,
    /// The allocation that holds the free set, if any.
    holder: Option<u64>,
}

impl ContextIds {
    fn new() -> ContextIds {
        let mut free = [u64::MAX; WORDS];
        free[0] &= !1; // id 0: the communicator made by init
        ContextIds {
            free,
            waiting: Vec::new(),
            holder: None,
        }
    }
    /// The set of free ids, to be combined with the other creators' sets.
    pub fn mask(&self) -> [u64; WORDS] {
        self.free
    }
    /// Marks `id` as used when it is free; false when it is not.
    pub fn try_take(&mut self, id: u32) -> bool {
        let bit = 1u64 << (id % 64);
        let w = &mut self.free[id as usize / 64];
        let free = *w & bit != 0;
        *w &= !bit;
        free
    }
    /// Returns `id` to the free set.
    pub fn release(&mut self, id: u32) {
        if id != 0 && (id as usize) < IDS {
            self.free[id as usize / 64] |= 1u64 << (id % 64);
        }
    }
}

/// The lowest id set in `mask` (the AND of every creator's free set).
pub fn lowest(mask: &[u64]) -> Result<u32> {
    mask.iter()
        .enumerate()
        .find(|(_, &w)| w != 0)
        .map(|(i, &w)| (i * 64) as u32 + w.trailing_zeros())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                format!(
                    "no context id is free on every member: at most {} communicators can be \
                     alive at once per init (free some with free)",
                    IDS - 1
                ),
            )
        })
}

/// The highest id set in `mask`.
pub fn highest(mask: &[u64]) -> Result<u32> {
    match mask.iter().rposition(|&w| w != 0) {
        Some(i) => Ok((i * 64) as u32 + 63 - mask[i].leading_zeros()),
        None => lowest(mask),
    }
}

/// Which common free id an allocation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Blocking allocations (dup, split, create_group).
    Lowest,
    /// Non-blocking ones (idup).
    Highest,
}

/// Agrees with the other creators on an id free on each of them and reserves it here (unless
/// `want` is false: a process that joins no new communicator takes part without reserving).
/// `and` ANDs a vector of words over the creators (every creator passes vectors of the same
/// length, in the same order); `extra` words are ANDed along with the free set in the attempt
/// that succeeds and returned. Never holds the lock across `and`.
///
/// Several allocations of this process may run at once (a blocking dup on the caller's thread,
/// idups on collectives workers): as in MPICH, the free set goes to one of them at a time, the
/// one with the lowest `key` among those under way here (the same key on every creator: the
/// parent's context id and whether the allocation is non-blocking). An allocation that does
/// not hold the set contributes an empty one; an attempt in which some creator did so fails on
/// every creator, which try again, until `deadline`. The allocation of lowest key among those
/// under way gets the set on each of its creators once the others' rounds ended, so it
/// succeeds; without the priority two allocations that each held the set on some processes
/// could fail each other forever.
pub fn agree(
    family: &Family,
    deadline: Instant,
    pick: Pick,
    want: bool,
    key: u64,
    extra: &[u64],
    and: impl FnMut(&mut [u64]) -> Result<()>,
) -> Result<(u32, Vec<u64>)> {
    family.ids(deadline)?.waiting.push(key);
    let r = agree_rounds(family, deadline, pick, want, key, extra, and);
    // Bounded by a new deadline: the entry must go even when the agreement timed out.
    let mut ids = family.ids(Instant::now() + HOLD)?;
    if let Some(i) = ids.waiting.iter().position(|&k| k == key) {
        ids.waiting.swap_remove(i);
    }
    if ids.holder == Some(key) {
        ids.holder = None;
    }
    r
}

/// The key of an allocation over the communicator of context `ctx` (for `create_group`, its
/// temporary context), blocking or not: lower keys get the free set first.
pub fn key(ctx: u32, nonblocking: bool) -> u64 {
    (u64::from(ctx) << 1) | u64::from(nonblocking)
}

/// How long the end of an agreement waits for the lock of the free set (held only briefly).
const HOLD: std::time::Duration = std::time::Duration::from_secs(10);

fn agree_rounds(
    family: &Family,
    deadline: Instant,
    pick: Pick,
    want: bool,
    key: u64,
    extra: &[u64],
    mut and: impl FnMut(&mut [u64]) -> Result<()>,
) -> Result<(u32, Vec<u64>)> {
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        let (mut words, mine) = {
            let mut ids = family.ids(deadline)?;
            let first = ids.waiting.iter().min() == Some(&key);
            if ids.holder.is_none() && first {
                ids.holder = Some(key);
            }
            if ids.holder == Some(key) {
                (ids.mask().to_vec(), true)
            } else {
                (vec![0; WORDS], false)
            }
        };
        // 1 where this creator holds its free set (the AND says whether every creator does).
        words.push(u64::from(mine));
        words.extend_from_slice(extra);
        let r = and(&mut words);
        let mut ids = family.ids(deadline)?;
        r?;
        if words[WORDS] == 1 {
            let common = &words[..WORDS];
            let id = match pick {
                Pick::Lowest => lowest(common)?,
                Pick::Highest => highest(common)?,
            };
            // Held since the snapshot, the set still has the id (others only returned ids).
            if want && !ids.try_take(id) {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!("context id {id} was taken while this agreement held the free set"),
                ));
            }
            ids.holder = None;
            return Ok((id, words.split_off(WORDS + 1)));
        }
        if ids.holder == Some(key) {
            ids.holder = None;
        }
        drop(ids);
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "no context id could be agreed on every member in {attempt} attempts (other \
                     communicators of the same processes were being created at the same time)"
                ),
            ));
        }
        // Let the allocation that holds the set finish its round.
        std::thread::yield_now();
    }
}

/// What the communicators derived from one init share on this process.
#[derive(Debug)]
pub struct Family {
    /// Random: groups and communicators of different inits never mix.
    pub id: u64,
    /// Peers of the init (the transport's ranks).
    pub size: usize,
    ids: Mutex<ContextIds>,
}

impl Family {
    pub fn new(size: usize) -> Family {
        Family {
            id: crate::channel::store::join::random_id(),
            size,
            ids: Mutex::new(ContextIds::new()),
        }
    }

    /// The free set, held until the guard is dropped, so that two threads of this process that
    /// create communicators at once never take the same id; waits until `deadline`.
    pub fn ids(&self, deadline: Instant) -> Result<MutexGuard<'_, ContextIds>> {
        self.ids.try_lock_until(deadline).ok_or_else(|| {
            Error::new(
                ErrorKind::Timeout,
                "another thread of this process was creating a communicator of the same init \
                 until the deadline",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_common_id_and_release() {
        let mut a = ContextIds::new();
        let mut b = ContextIds::new();
        assert_eq!(lowest(&a.mask()).unwrap(), 1);
        assert!(a.try_take(1));
        assert!(b.try_take(2));
        let and: Vec<u64> = a.mask().iter().zip(b.mask()).map(|(x, y)| x & y).collect();
        assert_eq!(lowest(&and).unwrap(), 3);
        a.release(1);
        let and: Vec<u64> = a.mask().iter().zip(b.mask()).map(|(x, y)| x & y).collect();
        assert_eq!(lowest(&and).unwrap(), 1);
        a.release(0); // never freed
        assert_eq!(a.mask()[0] & 1, 0);
        for id in 1..IDS as u32 {
            assert!(a.try_take(id));
        }
        assert_eq!(
            lowest(&a.mask()).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        assert!(!a.try_take(64 * 5 + 7));
        a.release(64 * 5 + 7);
        assert_eq!(lowest(&a.mask()).unwrap(), 64 * 5 + 7);
        assert_eq!(highest(&a.mask()).unwrap(), 64 * 5 + 7);
        assert!(a.try_take(64 * 5 + 7));
        assert!(!a.try_take(64 * 5 + 7));
        let b = ContextIds::new();
        assert_eq!(highest(&b.mask()).unwrap(), IDS as u32 - 1);
    }
}
