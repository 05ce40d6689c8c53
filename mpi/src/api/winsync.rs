//! Window synchronisation: fence, lock/unlock, lock_all/unlock_all, the flushes, sync, and
//! post/start/complete/wait/test (generalized active target), with the checks of their target
//! ranks, groups and `MPI_MODE_*` assertions. The protocol is in `crate::rma`.

use crate::cabi::out;
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::group;
use crate::objects::win::{self, WinObj};
use crate::rma::origin;
use std::ffi::c_int;

/// `rank` as a rank of the window.
pub fn target_of(o: &WinObj, rank: c_int) -> Result<usize, MpiError> {
    usize::try_from(rank)
        .ok()
        .filter(|&r| r < o.size)
        .ok_or_else(|| {
            MpiError::new(
                MPI_ERR_RANK,
                format!("rank {rank} is not in the window's group of {}", o.size),
            )
        })
}

/// Checks an `assert` argument: a combination of the `MPI_MODE_*` bits the call allows. The
/// assertions are hints; this implementation needs none of them.
fn check_assert(assert: c_int, allowed: c_int, what: &str) -> Result<(), MpiError> {
    if assert & !allowed != 0 {
        return Err(MpiError::new(
            MPI_ERR_ASSERT,
            format!("{what}: assert {assert:#x} has bits other than the MPI_MODE_* it allows ({allowed:#x})"),
        ));
    }
    Ok(())
}

pub fn win_fence(assert: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
    let allowed = MPI_MODE_NOSTORE | MPI_MODE_NOPUT | MPI_MODE_NOPRECEDE | MPI_MODE_NOSUCCEED;
    check_assert(assert, allowed, "MPI_Win_fence")?;
    // Every operation of this process completed when its call returned.
    origin::barrier(&o)
}

pub fn win_lock(lock_type: c_int, rank: c_int, assert: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
    check_assert(assert, MPI_MODE_NOCHECK, "MPI_Win_lock")?;
    let t = target_of(&o, rank)?;
    let exclusive = match lock_type {
        MPI_LOCK_EXCLUSIVE => true,
        MPI_LOCK_SHARED => false,
        _ => {
            return Err(MpiError::new(
                MPI_ERR_LOCKTYPE,
                format!("lock_type {lock_type} (MPI_LOCK_EXCLUSIVE or MPI_LOCK_SHARED)"),
            ))
        }
    };
    {
        let e = o.epochs.lock();
        if e.locks.contains_key(&t) || e.lock_all {
            return Err(MpiError::new(
                MPI_ERR_RMA_SYNC,
                format!("this process holds a lock on rank {t} of the window already"),
            ));
        }
    }
    origin::lock(&o, t, exclusive)?;
    o.epochs.lock().locks.insert(t, exclusive);
    Ok(())
}

pub fn win_unlock(rank: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
    let t = target_of(&o, rank)?;
    let exclusive = o.epochs.lock().locks.get(&t).copied().ok_or_else(|| {
        MpiError::new(
            MPI_ERR_RMA_SYNC,
            format!("MPI_Win_unlock of rank {t}: this process holds no lock on it"),
        )
    })?;
    origin::unlock(&o, t, exclusive)?;
    o.epochs.lock().locks.remove(&t);
    Ok(())
}

pub fn win_lock_all(assert: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
    check_assert(assert, MPI_MODE_NOCHECK, "MPI_Win_lock_all")?;
    {
        let e = o.epochs.lock();
        if e.lock_all || !e.locks.is_empty() {
            return Err(MpiError::new(
                MPI_ERR_RMA_SYNC,
                "MPI_Win_lock_all while this process holds locks on the window",
            ));
        }
    }
    for t in 0..o.size {
        if let Err(e) = origin::lock(&o, t, false) {
            for u in 0..t {
                let _ = origin::unlock(&o, u, false);
            }
            return Err(e);
        }
    }
    o.epochs.lock().lock_all = true;
    Ok(())
}

pub fn win_unlock_all(w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
    if !o.epochs.lock().lock_all {
        return Err(MpiError::new(
            MPI_ERR_RMA_SYNC,
            "MPI_Win_unlock_all without MPI_Win_lock_all",
        ));
    }
    let mut first = None;
    for t in 0..o.size {
        if let Err(e) = origin::unlock(&o, t, false) {
            first.get_or_insert(e);
        }
    }
    o.epochs.lock().lock_all = false;
    first.map_or(Ok(()), Err)
}

/// The flushes: every operation of this process completed when its call returned, so a flush
/// only checks its arguments and that a passive-target epoch is open.
fn flush(w: MPI_Win, rank: Option<c_int>) -> Result<(), MpiError> {
    let o = win::get(w)?;
    let e = o.epochs.lock();
    match rank {
        Some(r) => {
            let t = target_of(&o, r)?;
            if !e.lock_all && !e.locks.contains_key(&t) {
                return Err(MpiError::new(
                    MPI_ERR_RMA_SYNC,
                    format!("flush of rank {t}: no lock on it is held (MPI_Win_lock first)"),
                ));
            }
        }
        None => {
            if !e.lock_all && e.locks.is_empty() {
                return Err(MpiError::new(
                    MPI_ERR_RMA_SYNC,
                    "flush with no passive-target epoch open (MPI_Win_lock first)",
                ));
            }
        }
    }
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    Ok(())
}

pub fn win_flush(rank: c_int, w: MPI_Win) -> Result<(), MpiError> {
    flush(w, Some(rank))
}

pub fn win_flush_local(rank: c_int, w: MPI_Win) -> Result<(), MpiError> {
    flush(w, Some(rank))
}

pub fn win_flush_all(w: MPI_Win) -> Result<(), MpiError> {
    flush(w, None)
}

pub fn win_flush_local_all(w: MPI_Win) -> Result<(), MpiError> {
    flush(w, None)
}

/// Public and private copies are one (`MPI_WIN_UNIFIED`): a memory barrier.
pub fn win_sync(w: MPI_Win) -> Result<(), MpiError> {
    win::get(w)?;
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    Ok(())
}

/// The window ranks of a group's processes.
fn ranks_of(o: &WinObj, g: MPI_Group) -> Result<Vec<usize>, MpiError> {
    group::get(g)?
        .members
        .iter()
        .map(|m| {
            o.members.iter().position(|x| x == m).ok_or_else(|| {
                MpiError::new(
                    MPI_ERR_GROUP,
                    format!("world rank {m} of the group is not in the window"),
                )
            })
        })
        .collect()
}

pub fn win_post(g: MPI_Group, assert: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
    let allowed = MPI_MODE_NOCHECK | MPI_MODE_NOSTORE | MPI_MODE_NOPUT;
    check_assert(assert, allowed, "MPI_Win_post")?;
    let origins = ranks_of(&o, g)?;
    if o.epochs.lock().exposure.is_some() {
        return Err(MpiError::new(
            MPI_ERR_RMA_SYNC,
            "MPI_Win_post while an exposure epoch is open",
        ));
    }
    origin::post(&o, &origins)?;
    o.epochs.lock().exposure = Some(origins);
    Ok(())
}

pub fn win_start(g: MPI_Group, assert: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
    check_assert(assert, MPI_MODE_NOCHECK, "MPI_Win_start")?;
    let targets = ranks_of(&o, g)?;
    if o.epochs.lock().access.is_some() {
        return Err(MpiError::new(
            MPI_ERR_RMA_SYNC,
            "MPI_Win_start while an access epoch is open",
        ));
    }
    origin::start(&o, &targets)?;
    o.epochs.lock().access = Some(targets);
    Ok(())
}

pub fn win_complete(w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
    let targets =
        o.epochs.lock().access.take().ok_or_else(|| {
            MpiError::new(MPI_ERR_RMA_SYNC, "MPI_Win_complete without MPI_Win_start")
        })?;
    origin::complete(&o, &targets)
}

fn exposure(o: &WinObj, what: &str) -> Result<Vec<usize>, MpiError> {
    o.epochs
        .lock()
        .exposure
        .clone()
        .ok_or_else(|| MpiError::new(MPI_ERR_RMA_SYNC, format!("{what} without MPI_Win_post")))
}

pub fn win_wait(w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
    let origins = exposure(&o, "MPI_Win_wait")?;
    origin::arrived(&o, &origins, true)?;
    o.epochs.lock().exposure = None;
    Ok(())
}

pub unsafe fn win_test(w: MPI_Win, flag: *mut c_int) -> Result<(), MpiError> {
    let o = win::get(w)?;
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    let origins = exposure(&o, "MPI_Win_test")?;
    let left = origin::arrived(&o, &origins, false)?;
    let done = left.is_empty();
    o.epochs.lock().exposure = if done { None } else { Some(left) };
    out(flag, done as c_int, "flag")
}
