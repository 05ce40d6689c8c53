//! Inter-communicators: `MPI_Intercomm_create` (the leaders exchange their groups over the peer
//! communicator), `MPI_Intercomm_create_from_groups` (sessions: both groups are known),
//! `MPI_Intercomm_merge`, and dup/split/create of an inter-communicator (called from
//! `api/comm.rs`). The object is `objects::intercomm`'s.

use crate::cabi::{out, string};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm::{self, CommObj};
use crate::objects::intercomm::{self, Parts};
use crate::objects::{group, info};
use std::ffi::{c_char, c_int};

fn leader(r: c_int, n: usize, what: &str) -> Result<usize, MpiError> {
    usize::try_from(r).ok().filter(|&r| r < n).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_RANK,
            format!("{what} {r} is out of range (valid: 0..{n})"),
        )
    })
}

/// FNV-1a of `words`, as a tag of the core's `create_group` above every MPI tag (those of
/// `MPI_Comm_create_group` are at most `MPI_TAG_UB`), so that the two never meet.
fn core_tag(words: impl IntoIterator<Item = u64>) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for w in words {
        for b in w.to_le_bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    (crate::p2p::TAG_UB as u32 + 1) | (h & crate::p2p::TAG_UB as u32)
}

/// The union of both groups, first group first, as a core communicator made over the world
/// (collective over both groups).
fn union_of(
    local: &[usize],
    remote: &[usize],
    first: bool,
    tag: u32,
) -> Result<fmi::Communicator, MpiError> {
    let all: Vec<usize> = if first {
        local.iter().chain(remote).copied().collect()
    } else {
        remote.iter().chain(local).copied().collect()
    };
    let g = comm::core_group(&all)?;
    let world = comm::get(MPI_COMM_WORLD)?;
    world.with(|k| k.create_group(&g, tag))
}

fn check_disjoint(local: &[usize], remote: &[usize]) -> Result<(), MpiError> {
    if let Some(m) = local.iter().find(|m| remote.contains(m)) {
        return Err(MpiError::comm(format!(
            "process {m} (world rank) is in both groups: the groups of an inter-communicator \
             are disjoint"
        )));
    }
    Ok(())
}

/// The leader's half of `MPI_Intercomm_create`: sends the local group (with its world rank)
/// to the remote leader over the peer communicator with `tag`, and returns the message that
/// came back (`[size, leader's world rank, world ranks...]` as little-endian u64s).
fn leaders_exchange(
    lobj: &CommObj,
    ll: usize,
    pc: MPI_Comm,
    remote_leader: c_int,
    tag: c_int,
    cap: usize,
) -> Result<Vec<u8>, MpiError> {
    let pobj = comm::get(pc)?;
    let rl = leader(remote_leader, pobj.size, "remote_leader")?;
    if rl == pobj.rank {
        return Err(MpiError::new(
            MPI_ERR_RANK,
            "remote_leader is this process itself (the two leaders are different processes)",
        ));
    }
    if !(0..=crate::p2p::TAG_UB).contains(&tag) {
        return Err(MpiError::new(
            MPI_ERR_TAG,
            format!("tag {tag} out of range (valid: 0..={})", crate::p2p::TAG_UB),
        ));
    }
    let mut mine = Vec::with_capacity(8 * (2 + lobj.size));
    for w in [lobj.size, lobj.members[ll]].iter().chain(&lobj.members) {
        mine.extend_from_slice(&(*w as u64).to_le_bytes());
    }
    // The MPI tag as the point-to-point layer sends it (tag times 4), on the peer's core.
    let ctag = (tag as u32) << 2;
    let mut theirs = vec![0u8; cap];
    let st = pobj.with(|k| {
        k.sendrecv(
            &mine,
            rl,
            ctag,
            &mut theirs,
            fmi::Source::Rank(rl),
            fmi::TagSel::Tag(ctag),
        )
    })?;
    theirs.truncate(st.bytes);
    Ok(theirs)
}

fn words(b: &[u8]) -> Vec<usize> {
    b.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")) as usize)
        .collect()
}

/// Collective over the union of `local_comm` and the remote group.
pub unsafe fn intercomm_create(
    lc: MPI_Comm,
    local_leader: c_int,
    pc: MPI_Comm,
    remote_leader: c_int,
    tag: c_int,
    newintercomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    if newintercomm.is_null() {
        return Err(MpiError::arg("newintercomm is NULL"));
    }
    let lobj = comm::get(lc)?;
    if lobj.inter.is_some() {
        return Err(MpiError::comm(
            "local_comm is an inter-communicator (it must be an intra-communicator)",
        ));
    }
    let ll = leader(local_leader, lobj.size, "local_leader")?;
    let world_size = comm::get(MPI_COMM_WORLD)?.size;
    // [status, size, leader, ranks...]: status 0 is the remote group, else the leader failed
    // (every process of the local group then fails too, instead of waiting).
    let cap = 8 * (3 + world_size);
    let mut msg = vec![0u8; cap];
    let mut failure = None;
    if lobj.rank == ll {
        match leaders_exchange(&lobj, ll, pc, remote_leader, tag, cap - 8) {
            Ok(theirs) => msg[8..8 + theirs.len()].copy_from_slice(&theirs),
            Err(e) => {
                msg[..8].copy_from_slice(&1u64.to_le_bytes());
                failure = Some(e);
            }
        }
    }
    lobj.with(|k| k.bcast(&mut msg, ll))?;
    if let Some(e) = failure {
        return Err(e);
    }
    let w = words(&msg);
    if w[0] != 0 {
        return Err(MpiError::other(
            "the local leader failed to exchange the groups with the remote leader",
        ));
    }
    let n = w[1];
    if n == 0 || n > world_size {
        return Err(MpiError::new(
            MPI_ERR_INTERN,
            format!("the remote leader reported a group of {n} processes"),
        ));
    }
    let remote_leader_world = w[2];
    let remote: Vec<usize> = w[3..3 + n].to_vec();
    let local_members = lobj.members.clone();
    check_disjoint(&local_members, &remote)?;
    let first = local_members[ll] < remote_leader_world;
    let (a, b) = if first {
        (&local_members, &remote)
    } else {
        (&remote, &local_members)
    };
    let t = core_tag(
        [tag as u64]
            .into_iter()
            .chain(a.iter().chain(b.iter()).map(|&x| x as u64)),
    );
    let local = lobj.with(|k| k.dup())?;
    let union = union_of(&local_members, &remote, first, t)?;
    let eh = lobj.errhandler.lock().clone();
    let h = intercomm::build(
        Parts {
            union,
            local,
            local_members,
            remote,
            first,
        },
        eh,
    )?;
    out(newintercomm, h, "newintercomm")
}

/// Collective over both groups, with no parent communicator (sessions).
#[allow(clippy::too_many_arguments)]
pub unsafe fn intercomm_create_from_groups(
    lg: MPI_Group,
    local_leader: c_int,
    rg: MPI_Group,
    remote_leader: c_int,
    stringtag: *const c_char,
    i: MPI_Info,
    eh: MPI_Errhandler,
    newintercomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    if newintercomm.is_null() {
        return Err(MpiError::arg("newintercomm is NULL"));
    }
    let st = string(stringtag, MPI_MAX_STRINGTAG_LEN as usize, "stringtag")?;
    let hints = info::entries_or_null(i)?;
    crate::objects::errhandler::install_predefined();
    let handler = comm::errhandler_for_comm(eh)?;
    let local = group::get(lg)?;
    let remote = group::get(rg)?;
    let ll = leader(local_leader, local.members.len(), "local_leader")?;
    let rl = leader(remote_leader, remote.members.len(), "remote_leader")?;
    check_disjoint(&local.members, &remote.members)?;
    let world = comm::get(MPI_COMM_WORLD)?;
    let me = world.members[world.rank];
    if !local.members.contains(&me) {
        return Err(MpiError::new(
            MPI_ERR_GROUP,
            "this process is not a member of local_group",
        ));
    }
    drop(world);
    let first = local.members[ll] < remote.members[rl];
    let text = st.bytes().map(u64::from);
    // The local group's communicator first (its tag differs from the union's).
    let lt = core_tag([1u64].into_iter().chain(text.clone()));
    let ut = core_tag([2u64].into_iter().chain(text));
    let g = comm::core_group(&local.members)?;
    let lcore = comm::get(MPI_COMM_WORLD)?.with(|k| k.create_group(&g, lt))?;
    let union = union_of(&local.members, &remote.members, first, ut)?;
    let h = intercomm::build(
        Parts {
            union,
            local: lcore,
            local_members: local.members.clone(),
            remote: remote.members.clone(),
            first,
        },
        handler,
    )?;
    if let Ok(o) = comm::get(h) {
        *o.info.lock() = hints;
    }
    out(newintercomm, h, "newintercomm")
}

/// An intra-communicator of both groups: the group whose processes pass `high` false first
/// (both the same: the group whose leader has the lower world rank first).
pub unsafe fn intercomm_merge(
    c: MPI_Comm,
    high: c_int,
    newintracomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    if newintracomm.is_null() {
        return Err(MpiError::arg("newintracomm is NULL"));
    }
    let obj = intercomm::get(c)?;
    let i = obj.inter.as_ref().ok_or_else(intercomm::not_inter)?;
    let (loff, roff) = i.offsets(obj.size);
    let nremote = i.remote.len();
    let mine = [u8::from(high != 0)];
    let mut all = vec![0u8; obj.size + nremote];
    obj.with_core(|k| k.allgather(&mine, &mut all))?;
    // Each group's choice is its rank 0's (MPI requires the same in a group).
    let (mine, theirs) = (all[loff] != 0, all[roff] != 0);
    let local_first = if mine != theirs { !mine } else { i.first };
    let key = if local_first {
        obj.rank
    } else {
        nremote + obj.rank
    };
    let core = obj
        .with_core(|k| k.split(0, key as i32))?
        .ok_or_else(|| MpiError::new(MPI_ERR_INTERN, "the merged communicator came out empty"))?;
    let members = comm::world_ranks(&core)?;
    out(
        newintracomm,
        comm::register(core, members, &obj),
        "newintracomm",
    )
}

/// `MPI_Comm_dup` of an inter-communicator (collective over both groups): the new object.
pub fn dup_of(obj: &CommObj) -> Result<MPI_Comm, MpiError> {
    let parts = intercomm::derive(obj, None)?
        .ok_or_else(|| MpiError::new(MPI_ERR_INTERN, "a dup came out empty"))?;
    intercomm::build(parts, obj.errhandler.lock().clone())
}

/// `MPI_Comm_split` of an inter-communicator: the processes of both groups with the same
/// color make one (MPI_COMM_NULL when either group has none of that color).
pub fn split_of(obj: &CommObj, color: i32, key: i32) -> Result<MPI_Comm, MpiError> {
    match intercomm::derive(obj, Some((color, key)))? {
        Some(parts) => intercomm::build(parts, obj.errhandler.lock().clone()),
        None => Ok(MPI_COMM_NULL),
    }
}

/// `MPI_Comm_create` of an inter-communicator: `members` (world ranks) is a subgroup of the
/// local group; each group passes its own.
pub fn create_of(obj: &CommObj, members: &[usize]) -> Result<MPI_Comm, MpiError> {
    let me = obj.members[obj.rank];
    match members.iter().position(|&m| m == me) {
        Some(k) => split_of(obj, 0, k as i32),
        None => split_of(obj, fmi::UNDEFINED, 0),
    }
}

/// Both groups of an inter-communicator compared (`MPI_Comm_compare`): congruent when both
/// are the same in the same order, similar when the same sets, else unequal.
pub fn compare(a: &CommObj, b: &CommObj) -> c_int {
    match (&a.inter, &b.inter) {
        (Some(x), Some(y)) => {
            let l = crate::api::comm::compare_members(&a.members, &b.members, MPI_CONGRUENT);
            let r = crate::api::comm::compare_members(&x.remote, &y.remote, MPI_CONGRUENT);
            if l == MPI_UNEQUAL || r == MPI_UNEQUAL {
                MPI_UNEQUAL
            } else if l == MPI_SIMILAR || r == MPI_SIMILAR {
                MPI_SIMILAR
            } else {
                MPI_CONGRUENT
            }
        }
        _ => MPI_UNEQUAL,
    }
}
