//! Communicators: size, rank, dup, split, split_type, create, create_group, free, compare,
//! group, names, info hints (`fmi_hint`, `fmi_channel`), inter-communicator queries.

use crate::cabi::{out, read, string, write_string};
use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::comm::{self, CommObj};
use crate::objects::idup_request::{Adopt, IdupOp};
use crate::objects::{attr, group, host, info, request, topo};
use std::ffi::{c_char, c_int};
use std::sync::Arc;

pub unsafe fn comm_size(c: MPI_Comm, size: *mut c_int) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    out(size, obj.size as c_int, "size")
}

pub unsafe fn comm_rank(c: MPI_Comm, rank: *mut c_int) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    out(rank, obj.rank as c_int, "rank")
}

/// Registers a communicator the core made from `parent`.
fn adopt(parent: &CommObj, core: fmi::Communicator) -> Result<MPI_Comm, MpiError> {
    let members = comm::world_ranks(&core)?;
    Ok(comm::register(core, members, parent))
}

pub unsafe fn comm_dup(c: MPI_Comm, newcomm: *mut MPI_Comm) -> Result<(), MpiError> {
    if newcomm.is_null() {
        return Err(MpiError::arg("newcomm is NULL"));
    }
    let obj = comm::get(c)?;
    let h = if obj.inter.is_some() {
        crate::api::inter::dup_of(&obj)?
    } else {
        let core = obj.with(|k| k.dup())?;
        adopt(&obj, core)?
    };
    let h = dress_dup(c, &obj, h, None)?;
    out(newcomm, h, "newcomm")
}

/// Registers `core`, a duplicate of `c` (see [`dress_dup`]).
fn adopt_dup(
    c: MPI_Comm,
    obj: &CommObj,
    core: fmi::Communicator,
    hints: Option<&[(String, String)]>,
) -> Result<MPI_Comm, MpiError> {
    let h = adopt(obj, core)?;
    dress_dup(c, obj, h, hints)
}

/// Completes `h`, a registered duplicate of `c`: attributes copied by their copy callbacks,
/// the topology kept, the info hints the parent's (`hints` None) or `hints` (`_with_info`).
fn dress_dup(
    c: MPI_Comm,
    obj: &CommObj,
    h: MPI_Comm,
    hints: Option<&[(String, String)]>,
) -> Result<MPI_Comm, MpiError> {
    let new = comm::get(h)?;
    let r = match hints {
        None => {
            *new.info.lock() = obj.info.lock().clone();
            Ok(())
        }
        Some(entries) => {
            new.info.lock().clear();
            apply_hints(&new, entries)
        }
    };
    if let Err(e) = r.and_then(|()| attr::copy_all(c, obj, h, &new)) {
        drop(new);
        comm::forget(h);
        return Err(e);
    }
    // A duplicate keeps the topology.
    topo::copy(c, h);
    Ok(h)
}

/// Starts a dup of `c` on its collectives worker; the new communicator is registered when
/// the request completes (`objects/idup_request.rs`).
unsafe fn start_idup(
    c: MPI_Comm,
    hints: Option<Vec<(String, String)>>,
    newcomm: *mut MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    if newcomm.is_null() {
        return Err(MpiError::arg("newcomm is NULL"));
    }
    if request.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let obj = comm::get(c)?;
    if obj.inter.is_some() {
        return Err(MpiError::unsupported(
            "MPI_Comm_idup of an intercommunicator is not implemented (MPI_Comm_dup is)",
        ));
    }
    let (core, _) = obj.p2p()?;
    let adopt: Adopt = Box::new(move |k| {
        let obj = comm::get(c)?;
        adopt_dup(c, &obj, k, hints.as_deref())
    });
    let op = IdupOp::start(core, adopt, newcomm)?;
    let h = request::register(Box::new(op), Raise::Comm(c));
    out(request, h, "request")
}

pub unsafe fn comm_idup(
    c: MPI_Comm,
    newcomm: *mut MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    start_idup(c, None, newcomm, request)
}

pub unsafe fn comm_idup_with_info(
    c: MPI_Comm,
    i: MPI_Info,
    newcomm: *mut MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    let entries = info::entries_or_null(i)?;
    start_idup(c, Some(entries), newcomm, request)
}

pub unsafe fn comm_dup_with_info(
    c: MPI_Comm,
    i: MPI_Info,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    let entries = info::entries_or_null(i)?;
    comm_dup(c, newcomm)?;
    let h = *newcomm;
    let new = comm::get(h)?;
    new.info.lock().clear();
    apply_hints(&new, &entries)
}

pub(crate) fn split_color(color: c_int) -> i32 {
    if color == MPI_UNDEFINED {
        fmi::UNDEFINED
    } else if color == fmi::UNDEFINED {
        // -1 is the core's UNDEFINED; for MPI it is an invalid (negative) color.
        i32::MIN
    } else {
        color
    }
}

pub unsafe fn comm_split(
    c: MPI_Comm,
    color: c_int,
    key: c_int,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    if newcomm.is_null() {
        return Err(MpiError::arg("newcomm is NULL"));
    }
    let obj = comm::get(c)?;
    if obj.inter.is_some() {
        let h = crate::api::inter::split_of(&obj, split_color(color), key)?;
        return out(newcomm, h, "newcomm");
    }
    let child = obj.with(|k| k.split(split_color(color), key))?;
    let h = match child {
        Some(core) => adopt(&obj, core)?,
        None => MPI_COMM_NULL,
    };
    out(newcomm, h, "newcomm")
}

/// MPI_COMM_TYPE_SHARED groups the processes by host identity (same host name and kernel boot
/// id). MPI_COMM_TYPE_HW_GUIDED and MPI_COMM_TYPE_RESOURCE_GUIDED with `mpi_hw_resource_type` =
/// `mpi_shared_memory` are the same; with that key absent or naming another resource they give
/// MPI_COMM_NULL (the standard's answer for a resource type not recognized).
/// MPI_COMM_TYPE_HW_UNGUIDED gives the host's processes when that is a strict subset of `c`
/// (setting `mpi_hw_resource_type` = `mpi_shared_memory` in `info`), else MPI_COMM_NULL: the
/// host is the one hardware level this library tells apart.
pub unsafe fn comm_split_type(
    c: MPI_Comm,
    split_type: c_int,
    key: c_int,
    i: MPI_Info,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    if newcomm.is_null() {
        return Err(MpiError::arg("newcomm is NULL"));
    }
    let entries = info::entries_or_null(i)?;
    let shared_memory = entries
        .iter()
        .any(|(k, v)| k == "mpi_hw_resource_type" && v == "mpi_shared_memory");
    // Whether this process asks for the split by host (else it gets MPI_COMM_NULL); every
    // process of `c` takes part in the collective either way.
    let by_host = match split_type {
        MPI_COMM_TYPE_SHARED | MPI_COMM_TYPE_HW_UNGUIDED => true,
        MPI_COMM_TYPE_HW_GUIDED | MPI_COMM_TYPE_RESOURCE_GUIDED => shared_memory,
        MPI_UNDEFINED => false,
        _ => {
            return Err(MpiError::arg(format!(
                "split_type {split_type} is none of MPI_COMM_TYPE_SHARED, _HW_GUIDED, \
                 _HW_UNGUIDED, _RESOURCE_GUIDED or MPI_UNDEFINED"
            )))
        }
    };
    let obj = comm::get(c)?;
    if obj.inter.is_some() {
        // Both groups' processes on one host share a color: the host's identity.
        let color = if by_host && split_type != MPI_COMM_TYPE_HW_UNGUIDED {
            (host::identity() & 0x3fff_ffff) as i32
        } else {
            fmi::UNDEFINED
        };
        let h = crate::api::inter::split_of(&obj, color, key)?;
        return out(newcomm, h, "newcomm");
    }
    let mine = host::identity().to_le_bytes();
    let mut all = vec![0u8; 8 * obj.size];
    obj.with(|k| k.allgather(&mine, &mut all))?;
    let ids: Vec<u64> = all
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    let me = u64::from_le_bytes(mine);
    // Unguided: the host level only when it is smaller than `c` (every process on this host
    // means every process sees the same, so all get MPI_COMM_NULL).
    let smaller = ids.iter().any(|&x| x != me);
    let by_host = by_host && (split_type != MPI_COMM_TYPE_HW_UNGUIDED || smaller);
    // The color of a host: the lowest rank on it.
    let color = if by_host {
        ids.iter().position(|&x| x == me).unwrap_or(obj.rank) as c_int
    } else {
        MPI_UNDEFINED
    };
    comm_split(c, color, key, newcomm)?;
    if split_type == MPI_COMM_TYPE_HW_UNGUIDED && by_host && i != MPI_INFO_NULL {
        info::get(i)?.set("mpi_hw_resource_type", "mpi_shared_memory");
    }
    Ok(())
}

/// Collective over `c`: the members of `group` get a communicator of it (ranked as in the
/// group), the others MPI_COMM_NULL. Disjoint groups on different processes each get theirs.
pub unsafe fn comm_create(
    c: MPI_Comm,
    g: MPI_Group,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    if newcomm.is_null() {
        return Err(MpiError::arg("newcomm is NULL"));
    }
    let obj = comm::get(c)?;
    let grp = group::get(g)?;
    check_subset(&obj, &grp)?;
    if obj.inter.is_some() {
        let h = crate::api::inter::create_of(&obj, &grp.members)?;
        return out(newcomm, h, "newcomm");
    }
    let me = obj.members[obj.rank];
    if grp.rank_of(me).is_none() {
        return out(newcomm, MPI_COMM_NULL, "newcomm");
    }
    let h = create_of(&obj, &grp, fmi::TAG_UB)?;
    out(newcomm, h, "newcomm")
}

fn check_subset(obj: &CommObj, grp: &group::GroupObj) -> Result<(), MpiError> {
    if let Some(m) = grp.members.iter().find(|m| !obj.members.contains(m)) {
        return Err(MpiError::new(
            MPI_ERR_GROUP,
            format!("process {m} of the group is not a member of the communicator"),
        ));
    }
    Ok(())
}

fn create_of(obj: &CommObj, grp: &group::GroupObj, tag: u32) -> Result<MPI_Comm, MpiError> {
    let fg = comm::core_group(&grp.members)?;
    let core = obj.with(|k| k.create_group(&fg, tag))?;
    adopt(obj, core)
}

/// Collective over the members of `group` only.
pub unsafe fn comm_create_group(
    c: MPI_Comm,
    g: MPI_Group,
    tag: c_int,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    if newcomm.is_null() {
        return Err(MpiError::arg("newcomm is NULL"));
    }
    let obj = comm::get(c)?;
    let grp = group::get(g)?;
    check_subset(&obj, &grp)?;
    let tag = u32::try_from(tag).map_err(|_| {
        MpiError::new(
            MPI_ERR_TAG,
            format!("tag {tag} is negative (valid: 0..=MPI_TAG_UB)"),
        )
    })?;
    if grp.rank_of(obj.members[obj.rank]).is_none() {
        return Err(MpiError::new(
            MPI_ERR_GROUP,
            "this process is not a member of the group (only members call MPI_Comm_create_group)",
        ));
    }
    let h = create_of(&obj, &grp, tag)?;
    out(newcomm, h, "newcomm")
}

/// Collective: deletes the attributes (their callbacks run), then closes the communicator.
pub unsafe fn comm_free(c: *mut MPI_Comm) -> Result<(), MpiError> {
    let h = read(c, "comm")?;
    if h == MPI_COMM_WORLD || h == MPI_COMM_SELF {
        return Err(MpiError::comm(
            "MPI_COMM_WORLD and MPI_COMM_SELF cannot be freed",
        ));
    }
    let users = comm::get(h)?.users();
    if users > 0 {
        return Err(MpiError::other(format!(
            "{users} request(s) still use the communicator: complete and free them before \
             MPI_Comm_free"
        )));
    }
    attr::delete_all(h)?;
    let mut obj = comm::take(h)?;
    topo::detach(h);
    out(c, MPI_COMM_NULL, "comm")?;
    // Its own buffer for buffered sends goes with it (after its messages are sent).
    crate::p2p::bsend::detach_from(crate::p2p::bsend::Owner::Comm(h.0))?;
    // An inter-communicator's own cores first (the same order on every process).
    crate::objects::intercomm::release(&mut obj)?;
    obj.into_core()?.free()?;
    Ok(())
}

pub unsafe fn comm_disconnect(c: *mut MPI_Comm) -> Result<(), MpiError> {
    comm_free(c)
}

pub unsafe fn comm_compare(a: MPI_Comm, b: MPI_Comm, result: *mut c_int) -> Result<(), MpiError> {
    let x = comm::get(a)?;
    let y = comm::get(b)?;
    let r = if a == b {
        MPI_IDENT
    } else if x.inter.is_some() || y.inter.is_some() {
        crate::api::inter::compare(&x, &y)
    } else {
        compare_members(&x.members, &y.members, MPI_CONGRUENT)
    };
    out(result, r, "result")
}

/// IDENT-like (`same`) for the same order, SIMILAR for the same set, else UNEQUAL.
pub fn compare_members(a: &[usize], b: &[usize], same: c_int) -> c_int {
    if a == b {
        return same;
    }
    let mut x = a.to_vec();
    let mut y = b.to_vec();
    x.sort_unstable();
    y.sort_unstable();
    if x == y {
        MPI_SIMILAR
    } else {
        MPI_UNEQUAL
    }
}

pub unsafe fn comm_group(c: MPI_Comm, g: *mut MPI_Group) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    if g.is_null() {
        return Err(MpiError::arg("group is NULL"));
    }
    out(g, group::new(obj.members.clone()), "group")
}

pub unsafe fn comm_set_name(c: MPI_Comm, name: *const c_char) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let n = string(name, MPI_MAX_OBJECT_NAME as usize - 1, "comm_name")?;
    *obj.name.lock() = n;
    Ok(())
}

pub unsafe fn comm_get_name(
    c: MPI_Comm,
    name: *mut c_char,
    len: *mut c_int,
) -> Result<(), MpiError> {
    if len.is_null() {
        return Err(MpiError::arg("resultlen is NULL"));
    }
    // The null handle has a name too (as MPICH reports it).
    let n = if c == MPI_COMM_NULL {
        "MPI_COMM_NULL".to_string()
    } else {
        comm::get(c)?.name.lock().clone()
    };
    write_string(name, MPI_MAX_OBJECT_NAME as usize, &n, len, "comm_name")
}

pub unsafe fn comm_test_inter(c: MPI_Comm, flag: *mut c_int) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    out(flag, obj.inter.is_some() as c_int, "flag")
}

pub unsafe fn comm_remote_size(c: MPI_Comm, size: *mut c_int) -> Result<(), MpiError> {
    let obj = crate::objects::intercomm::get(c)?;
    let n = obj.inter.as_ref().map_or(0, |i| i.remote.len());
    out(size, n as c_int, "size")
}

pub unsafe fn comm_remote_group(c: MPI_Comm, g: *mut MPI_Group) -> Result<(), MpiError> {
    let obj = crate::objects::intercomm::get(c)?;
    if g.is_null() {
        return Err(MpiError::arg("group is NULL"));
    }
    let remote = obj.inter.as_ref().map_or(Vec::new(), |i| i.remote.clone());
    out(g, group::new(remote), "group")
}

/// Applies the libfmi hints among `entries` (collective: every process passes the same).
fn apply_hints(obj: &Arc<CommObj>, entries: &[(String, String)]) -> Result<(), MpiError> {
    for (k, v) in entries {
        match k.as_str() {
            "fmi_hint" => {
                let hint = info::parse_hint(v)?;
                crate::objects::intercomm::each_core(obj, |core| core.set_hint(hint))?;
            }
            "fmi_channel" => {
                crate::objects::intercomm::each_core(obj, |core| core.pin_channel(v.trim()))?
            }
            // Other hints are not used by this library (MPI allows ignoring them).
            _ => continue,
        }
        let mut used = obj.info.lock();
        used.retain(|(x, _)| x != k);
        used.push((k.clone(), v.trim().to_string()));
    }
    Ok(())
}

/// `fmi_hint` ("fast"/"cheap": the model's choice of channel per operation) and `fmi_channel`
/// ("direct", "redis", "s3": pin one; "auto": let the model choose). Collective.
pub fn comm_set_info(c: MPI_Comm, i: MPI_Info) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let entries = info::get(i)?.snapshot();
    apply_hints(&obj, &entries)
}

/// The hints in use: `fmi_hint`, `fmi_channel` (the pinned channel or "auto").
pub unsafe fn comm_get_info(c: MPI_Comm, used: *mut MPI_Info) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    if used.is_null() {
        return Err(MpiError::arg("info_used is NULL"));
    }
    let (hint, pinned) = obj.with_core(|k| Ok((k.hint().name(), k.pinned_channel())))?;
    let entries = vec![
        ("fmi_hint".to_string(), hint.to_string()),
        (
            "fmi_channel".to_string(),
            pinned.unwrap_or("auto").to_string(),
        ),
    ];
    let h = MPI_Info(info::INFOS.insert(info::InfoObj::from(entries)));
    out(used, h, "info_used")
}
