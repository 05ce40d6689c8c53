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
//! thread and a non-blocking dup on a collectives worker may run at once, each waiting for
//! peers): [`agree`] snapshots the free set, ANDs it over the creators, picks an id, reserves it
//! under a short lock (another allocation of this process may have taken it meanwhile), and
//! ANDs whether every creator reserved it; if any did not, each releases it and they try again
//! (as MPICH's non-blocking context-id allocation retries). Blocking allocations pick the
//! lowest common id, non-blocking ones the highest, so that the two kinds seldom collide.
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
}

impl ContextIds {
    fn new() -> ContextIds {
        let mut free = [u64::MAX; WORDS];
        free[0] &= !1; // id 0: the communicator made by init
        ContextIds { free }
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
/// length, in the same order); `extra` words are ANDed along with the free set in the first
/// round of the attempt that succeeds and returned. Never holds the lock across `and`; retries
/// until `deadline` while another allocation of this process took the picked id meanwhile.
pub fn agree(
    family: &Family,
    deadline: Instant,
    pick: Pick,
    want: bool,
    extra: &[u64],
    mut and: impl FnMut(&mut [u64]) -> Result<()>,
) -> Result<(u32, Vec<u64>)> {
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        let mut words = family.ids(deadline)?.mask().to_vec();
        words.extend_from_slice(extra);
        and(&mut words)?;
        let common = &words[..WORDS];
        let id = match pick {
            Pick::Lowest => lowest(common)?,
            Pick::Highest => highest(common)?,
        };
        let took = !want || family.ids(deadline)?.try_take(id);
        let mut all = vec![u64::MAX; words.len()];
        all[0] = u64::from(took);
        if let Err(e) = and(&mut all) {
            if took && want {
                family.ids(deadline)?.release(id);
            }
            return Err(e);
        }
        if all[0] == 1 {
            return Ok((id, words.split_off(WORDS)));
        }
        if took && want {
            family.ids(deadline)?.release(id);
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "no context id could be reserved on every member in {} attempts (other \
                     communicators of the same processes were being created at the same time)",
                    attempt
                ),
            ));
        }
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
