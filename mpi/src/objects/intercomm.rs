//! Inter-communicators: two disjoint groups, each process naming the other group's processes
//! by their ranks in it.
//!
//! An inter-communicator is a [`CommObj`] whose `rank`, `size` and `members` are the local
//! group's, whose core is the union of both groups (ordered: the *first* group, the one whose
//! leader has the lower world rank, then the second; its collectives run there), plus
//! [`Inter`]:
//!
//! - point-to-point traffic runs on two more cores over the same union, one per direction:
//!   `ab` ordered [first, second] and `ba` ordered [second, first]. The first group sends on
//!   `ab` (to core rank `size of first + r`) and the second group receives on it, where the
//!   core rank of a sender is its rank in the first group: the sources, wildcards, probes and
//!   statuses of the point-to-point layer need no translation. `ba` is the other direction.
//! - the local group's own core communicator (the local phases of the collectives).
//!
//! Every core is made and freed in the same order on every process of both groups.

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm::{self, CommObj};
use crate::p2p::{CommRef, From};
use parking_lot::Mutex;
use std::sync::Arc;

/// What an inter-communicator adds to a communicator object.
pub struct Inter {
    /// The world rank of each rank of the remote group.
    pub remote: Vec<usize>,
    /// Whether the local group is the first in the union's order.
    pub first: bool,
    /// The union ordered [first group, second group]: the first group's sends.
    ab: CommRef,
    /// The union ordered [second group, first group]: the second group's sends.
    ba: CommRef,
    /// The local group's own communicator.
    pub local: Mutex<fmi::Communicator>,
}

/// The error of an operation this library does not provide on inter-communicators.
pub fn unsupported() -> MpiError {
    MpiError::unsupported(
        "this operation is not supported on an inter-communicator by this library (it \
         provides point-to-point, the blocking collectives, dup, split, create, merge, free, \
         compare, attributes and names on inter-communicators)",
    )
}

/// The error of an operation that needs an inter-communicator.
pub fn not_inter() -> MpiError {
    MpiError::comm("not an inter-communicator")
}

fn bad_rank(r: usize, n: usize, what: &str) -> MpiError {
    MpiError::new(
        MPI_ERR_RANK,
        format!(
            "{what} rank {r} is out of range: on an inter-communicator it names a process of \
             the remote group, which has {n}"
        ),
    )
}

impl Inter {
    /// The core a send to remote rank `dest` goes on, and the core rank of `dest` there.
    pub fn send_core(&self, dest: usize, local_size: usize) -> Result<(&CommRef, usize), MpiError> {
        if dest >= self.remote.len() {
            return Err(bad_rank(dest, self.remote.len(), "destination"));
        }
        let core = if self.first { &self.ab } else { &self.ba };
        Ok((core, local_size + dest))
    }

    /// The core a receive from `src` (a remote rank or any) runs on.
    pub fn recv_core(&self, src: From) -> Result<&CommRef, MpiError> {
        if let From::Rank(r) = src {
            if r >= self.remote.len() {
                return Err(bad_rank(r, self.remote.len(), "source"));
            }
        }
        Ok(if self.first { &self.ba } else { &self.ab })
    }

    /// Requests that hold the point-to-point cores.
    pub fn users(&self) -> usize {
        Arc::strong_count(&self.ab) - 1 + Arc::strong_count(&self.ba) - 1
    }

    /// The union rank of the first rank of the local group and of the remote group.
    pub fn offsets(&self, local_size: usize) -> (usize, usize) {
        if self.first {
            (0, local_size)
        } else {
            (self.remote.len(), 0)
        }
    }
}

/// Runs `f` on the core of `obj` and, on an inter-communicator, on each of its other cores
/// (the hints of `MPI_Comm_set_info` apply to all).
pub fn each_core(
    obj: &CommObj,
    mut f: impl FnMut(&mut fmi::Communicator) -> fmi::Result<()>,
) -> Result<(), MpiError> {
    obj.with_core(&mut f)?;
    if let Some(i) = &obj.inter {
        let busy = || MpiError::other("the inter-communicator is in use by another thread");
        f(&mut *i.ab.try_lock().ok_or_else(busy)?).map_err(core_err)?;
        f(&mut *i.ba.try_lock().ok_or_else(busy)?).map_err(core_err)?;
        f(&mut *i.local.try_lock().ok_or_else(busy)?).map_err(core_err)?;
    }
    Ok(())
}

/// The inter-communicator behind `c` (an error for an intra-communicator).
pub fn get(c: MPI_Comm) -> Result<Arc<CommObj>, MpiError> {
    let obj = comm::get(c)?;
    if obj.inter.is_none() {
        return Err(not_inter());
    }
    Ok(obj)
}

/// Whether `c` is a live inter-communicator.
pub fn is_inter(c: MPI_Comm) -> bool {
    comm::COMMS.get(c.0).is_some_and(|o| o.inter.is_some())
}

/// The parts of an inter-communicator being made, before its point-to-point cores.
pub struct Parts {
    /// The union ordered [first group, second group].
    pub union: fmi::Communicator,
    pub local: fmi::Communicator,
    /// World ranks of the local and remote groups.
    pub local_members: Vec<usize>,
    pub remote: Vec<usize>,
    pub first: bool,
}

fn core_err(e: fmi::Error) -> MpiError {
    MpiError::from(e)
}

/// Completes an inter-communicator (collective over both groups, in the same order on every
/// process): the reversed union by a split of the union, and the union for collectives by a
/// dup of it. The new object inherits `eh`.
pub fn build(
    p: Parts,
    eh: (MPI_Errhandler, Arc<crate::objects::errhandler::Handler>),
) -> Result<MPI_Comm, MpiError> {
    let Parts {
        mut union,
        local,
        local_members,
        remote,
        first,
    } = p;
    let n_first = if first {
        local_members.len()
    } else {
        remote.len()
    };
    let n_second = union.size() - n_first;
    let r = union.rank();
    let key = if r < n_first {
        n_second + r
    } else {
        r - n_first
    };
    let ba = union
        .split(0, key as i32)
        .map_err(core_err)?
        .ok_or_else(|| MpiError::new(MPI_ERR_INTERN, "the reversed union came out empty"))?;
    let coll = union.dup().map_err(core_err)?;
    let inter = Inter {
        remote,
        first,
        ab: Arc::new(Mutex::new(union)),
        ba: Arc::new(Mutex::new(ba)),
        local: Mutex::new(local),
    };
    let mut obj = CommObj::new(coll, local_members, eh, "");
    // The object's rank and size are the local group's.
    obj.rank = inter.local.lock().rank();
    obj.size = inter.local.lock().size();
    obj.inter = Some(inter);
    let h = comm::COMMS.insert(obj);
    if let Some(o) = comm::COMMS.get(h) {
        o.ep.set_buffer_key(h);
    }
    Ok(MPI_Comm(h))
}

/// Frees the cores an inter-communicator adds (collective over both groups, in the same
/// order everywhere); the caller frees the object's own core after.
pub fn release(obj: &mut CommObj) -> Result<(), MpiError> {
    let Some(i) = obj.inter.take() else {
        return Ok(());
    };
    let take = |c: CommRef| {
        Arc::try_unwrap(c).map(Mutex::into_inner).map_err(|_| {
            MpiError::other(
                "requests still use the inter-communicator: complete and free them first",
            )
        })
    };
    let ab = take(i.ab)?;
    let ba = take(i.ba)?;
    ab.free().map_err(core_err)?;
    ba.free().map_err(core_err)?;
    i.local.into_inner().free().map_err(core_err)?;
    Ok(())
}

/// The cores of a new inter-communicator from `obj`'s: dup (`color` None) or split by
/// `color`/`key` (None when this process or either group is left without processes).
/// Collective over both groups.
pub fn derive(obj: &CommObj, split: Option<(i32, i32)>) -> Result<Option<Parts>, MpiError> {
    let i = obj.inter.as_ref().ok_or_else(not_inter)?;
    let mut local = i
        .local
        .try_lock()
        .ok_or_else(|| MpiError::other("the inter-communicator is in use by another thread"))?;
    let mut ab =
        i.ab.try_lock()
            .ok_or_else(|| MpiError::other("the inter-communicator is in use by another thread"))?;
    let Some((color, key)) = split else {
        let new_local = local.dup().map_err(core_err)?;
        let union = ab.dup().map_err(core_err)?;
        return Ok(Some(Parts {
            union,
            local: new_local,
            local_members: obj.members.clone(),
            remote: i.remote.clone(),
            first: i.first,
        }));
    };
    let new_local = local.split(color, key).map_err(core_err)?;
    // The union keeps the first group before the second, each in its new local order.
    let ukey = match &new_local {
        Some(l) => l.rank() as i32 + if i.first { 0 } else { 1 << 24 },
        None => 0,
    };
    let ucolor = if new_local.is_some() {
        color
    } else {
        fmi::UNDEFINED
    };
    let union = ab.split(ucolor, ukey).map_err(core_err)?;
    let (Some(union), Some(new_local)) = (union, new_local) else {
        return Ok(None);
    };
    let all = comm::world_ranks(&union)?;
    let local_members = comm::world_ranks(&new_local)?;
    let remote: Vec<usize> = all
        .iter()
        .copied()
        .filter(|m| !local_members.contains(m))
        .collect();
    if remote.is_empty() {
        // No process of the remote group has this color: every process of the new union sees
        // the same and gives MPI_COMM_NULL.
        union.free().map_err(core_err)?;
        new_local.free().map_err(core_err)?;
        return Ok(None);
    }
    Ok(Some(Parts {
        union,
        local: new_local,
        local_members,
        remote,
        first: i.first,
    }))
}
