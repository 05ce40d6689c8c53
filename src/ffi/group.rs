//! C functions of derived communicators and groups: dup, split, create_group, free, and the
//! group operations (handles in a registry, as for communicators).

use super::handle::{self, fmi_comm};
use super::status::fmi_status;
use super::{guard, null, write_out};
use crate::comm::Group;
use crate::error::{Error, ErrorKind, Result};
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The color of `fmi_comm_split` for a process that joins no new communicator (it gets NULL),
/// and the rank `fmi_group_rank` and `fmi_group_translate_ranks` give for a process that is not
/// a member.
pub const FMI_UNDEFINED: i32 = -1;

/// Opaque group handle: an ordered set of processes. Made by `fmi_comm_group`,
/// `fmi_group_incl` and `fmi_group_excl`; released by `fmi_group_free`.
pub struct fmi_group {
    _private: [u8; 0],
}

static GROUPS: Lazy<Mutex<HashMap<usize, Group>>> = Lazy::new(|| Mutex::new(HashMap::new()));
/// Group handle ids are never reused, so use after free is always detected.
static NEXT_GROUP: AtomicUsize = AtomicUsize::new(0x10_0008);

fn register_group(g: Group) -> *mut fmi_group {
    let id = NEXT_GROUP.fetch_add(16, Ordering::Relaxed);
    GROUPS.lock().insert(id, g);
    std::ptr::without_provenance_mut(id)
}

fn group(h: *const fmi_group, what: &str) -> Result<Group> {
    if h.is_null() {
        return Err(Error::new(ErrorKind::NullArg, format!("{what} is NULL")));
    }
    GROUPS.lock().get(&(h as usize)).cloned().ok_or_else(|| {
        Error::invalid(format!(
            "{what} is not a live group handle (already freed, or not from fmi_comm_group, \
             fmi_group_incl or fmi_group_excl)"
        ))
    })
}

/// The `n` ranks at `ranks` (NULL is allowed when `n` is 0).
unsafe fn ranks_in(n: u32, ranks: *const u32) -> Result<Vec<usize>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if ranks.is_null() {
        return Err(null("ranks"));
    }
    Ok(std::slice::from_raw_parts(ranks, n as usize)
        .iter()
        .map(|&r| r as usize)
        .collect())
}

unsafe fn put_comm(out: *mut *mut fmi_comm, c: Option<crate::Communicator>) -> Result<()> {
    out.write(match c {
        Some(c) => handle::register(c),
        None => std::ptr::null_mut(),
    });
    Ok(())
}

/// Creates `*newcomm`: the same processes as `comm` in the same order, with a context of its
/// own (messages of one never match receives of the other). It shares `comm`'s connections.
/// Collective over `comm`. Release it with `fmi_comm_free`.
///
/// # Safety
/// `newcomm` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_comm_dup(
    comm: *mut fmi_comm,
    newcomm: *mut *mut fmi_comm,
) -> fmi_status {
    guard("fmi_comm_dup", || {
        write_out(newcomm, std::ptr::null_mut(), "newcomm")?;
        let c = handle::with_comm(comm, |c| c.dup())?;
        put_comm(newcomm, Some(c))
    })
}

/// Splits `comm`: the processes that pass the same `color` (>= 0) form a new communicator, ranked
/// by `key`, then by their rank in `comm`. A process that passes `FMI_UNDEFINED` gets NULL in
/// `*newcomm`. Collective over `comm`: every process calls it; when any passes a negative color
/// other than `FMI_UNDEFINED`, every process returns `FMI_ERR_INVALID_ARG`. The new communicator
/// shares `comm`'s connections; release it with `fmi_comm_free`.
///
/// # Safety
/// `newcomm` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_comm_split(
    comm: *mut fmi_comm,
    color: i32,
    key: i32,
    newcomm: *mut *mut fmi_comm,
) -> fmi_status {
    guard("fmi_comm_split", || {
        write_out(newcomm, std::ptr::null_mut(), "newcomm")?;
        let c = handle::with_comm(comm, |c| c.split(color, key))?;
        put_comm(newcomm, c)
    })
}

/// Creates `*newcomm` of the processes of `group` (made from `comm` or a communicator whose
/// processes are all in `comm`), ranked as in the group. Collective over the group only:
/// exactly its members call it, with the same group and `tag` (0..=`FMI_TAG_UB`); concurrent
/// calls with overlapping groups on one communicator need different tags. A process that is not
/// in the group gets `FMI_ERR_INVALID_ARG` at once. Release the result with `fmi_comm_free`.
///
/// # Safety
/// `newcomm` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_comm_create_group(
    comm: *mut fmi_comm,
    group: *const fmi_group,
    tag: u32,
    newcomm: *mut *mut fmi_comm,
) -> fmi_status {
    guard("fmi_comm_create_group", || {
        write_out(newcomm, std::ptr::null_mut(), "newcomm")?;
        let g = self::group(group, "group")?;
        let c = handle::with_comm(comm, |c| c.create_group(&g, tag))?;
        put_comm(newcomm, Some(c))
    })
}

/// Collective close of `*comm` (every process of it calls it): waits for every member, releases
/// the handle and sets `*comm` to NULL. Connections stay open while another communicator of the
/// same init uses them; on the communicator made by init it is `fmi_finalize`. Messages sent on
/// `*comm` that were never received are discarded and reported as `FMI_ERR_INVALID_ARG` (the
/// handle is released all the same).
///
/// # Safety
/// `comm` must be NULL or a valid pointer to a handle.
#[no_mangle]
pub unsafe extern "C" fn fmi_comm_free(comm: *mut *mut fmi_comm) -> fmi_status {
    guard("fmi_comm_free", || {
        if comm.is_null() {
            return Err(null("comm"));
        }
        let c = handle::take(*comm)?;
        *comm = std::ptr::null_mut();
        c.free()
    })
}

/// Writes this process's context id in `comm` to `*ctx` (0 for the communicator made by init;
/// equal on every member).
///
/// # Safety
/// `ctx` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_comm_context_id(comm: *const fmi_comm, ctx: *mut u32) -> fmi_status {
    guard("fmi_comm_context_id", || {
        let id = handle::with_comm(comm, |c| Ok(c.context_id()))?;
        write_out(ctx, id, "ctx")
    })
}

/// Creates `*group`: the processes of `comm` in rank order. Release it with `fmi_group_free`.
///
/// # Safety
/// `group` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_comm_group(
    comm: *const fmi_comm,
    group: *mut *mut fmi_group,
) -> fmi_status {
    guard("fmi_comm_group", || {
        write_out(group, std::ptr::null_mut(), "group")?;
        let g = handle::with_comm(comm, |c| Ok(c.group()))?;
        group.write(register_group(g));
        Ok(())
    })
}

/// Writes the number of processes in `group` to `*size`.
///
/// # Safety
/// `size` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_group_size(group: *const fmi_group, size: *mut u32) -> fmi_status {
    guard("fmi_group_size", || {
        let g = self::group(group, "group")?;
        write_out(size, g.size() as u32, "size")
    })
}

/// Writes this process's rank in `group` to `*rank`, or `FMI_UNDEFINED` when it is not a member.
///
/// # Safety
/// `rank` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_group_rank(group: *const fmi_group, rank: *mut i32) -> fmi_status {
    guard("fmi_group_rank", || {
        let g = self::group(group, "group")?;
        write_out(rank, g.rank().map_or(FMI_UNDEFINED, |r| r as i32), "rank")
    })
}

/// Creates `*newgroup` of the members `ranks[0..n]` of `group`, in that order (distinct ranks of
/// `group`; `ranks` may be NULL when `n` is 0, which gives an empty group).
///
/// # Safety
/// `ranks` must point to `n` readable values; `newgroup` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_group_incl(
    group: *const fmi_group,
    n: u32,
    ranks: *const u32,
    newgroup: *mut *mut fmi_group,
) -> fmi_status {
    guard("fmi_group_incl", || {
        write_out(newgroup, std::ptr::null_mut(), "newgroup")?;
        let g = self::group(group, "group")?.incl(&ranks_in(n, ranks)?)?;
        newgroup.write(register_group(g));
        Ok(())
    })
}

/// Creates `*newgroup`: `group` without the members `ranks[0..n]` (distinct ranks of `group`),
/// in the same order.
///
/// # Safety
/// `ranks` must point to `n` readable values; `newgroup` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_group_excl(
    group: *const fmi_group,
    n: u32,
    ranks: *const u32,
    newgroup: *mut *mut fmi_group,
) -> fmi_status {
    guard("fmi_group_excl", || {
        write_out(newgroup, std::ptr::null_mut(), "newgroup")?;
        let g = self::group(group, "group")?.excl(&ranks_in(n, ranks)?)?;
        newgroup.write(register_group(g));
        Ok(())
    })
}

/// For each of `ranks1[0..n]` (ranks of `group1`), writes the rank of the same process in
/// `group2` to `ranks2[i]`, or `FMI_UNDEFINED` when it is not a member of `group2`. Nothing is
/// written when a rank is out of range.
///
/// # Safety
/// `ranks1` must point to `n` readable values and `ranks2` to `n` writable ones.
#[no_mangle]
pub unsafe extern "C" fn fmi_group_translate_ranks(
    group1: *const fmi_group,
    n: u32,
    ranks1: *const u32,
    group2: *const fmi_group,
    ranks2: *mut i32,
) -> fmi_status {
    guard("fmi_group_translate_ranks", || {
        let g1 = self::group(group1, "group1")?;
        let g2 = self::group(group2, "group2")?;
        let from = ranks_in(n, ranks1)?;
        let to = g1.translate_ranks(&from, &g2)?;
        if n > 0 && ranks2.is_null() {
            return Err(null("ranks2"));
        }
        for (i, r) in to.into_iter().enumerate() {
            ranks2.add(i).write(r.map_or(FMI_UNDEFINED, |r| r as i32));
        }
        Ok(())
    })
}

/// Releases the group `*group` and sets `*group` to NULL (communicators made from it are not
/// affected).
///
/// # Safety
/// `group` must be NULL or a valid pointer to a handle.
#[no_mangle]
pub unsafe extern "C" fn fmi_group_free(group: *mut *mut fmi_group) -> fmi_status {
    guard("fmi_group_free", || {
        if group.is_null() {
            return Err(null("group"));
        }
        let h = *group;
        self::group(h, "*group")?;
        GROUPS.lock().remove(&(h as usize));
        *group = std::ptr::null_mut();
        Ok(())
    })
}
