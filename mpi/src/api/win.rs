//! Windows: creation (`MPI_Win_create`, `_allocate`, `_allocate_shared` on one process,
//! `_create_dynamic` with attach/detach), `MPI_Win_free`, names, info, group, error handlers,
//! and the synchronisation calls (fence, lock/unlock, lock_all, flushes, sync, and
//! post/start/complete/wait/test). The protocol is in `crate::rma`; the data operations are in
//! `api/rma.rs`; attributes in `api/winattr.rs`.

use crate::cabi::{out, read, string, write_string};
use crate::entry::{self, MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::errhandler::{self, ERRHANDLERS};
use crate::objects::win::{self, Epochs, WinObj, WINS};
use crate::objects::{attr, comm, group, info, world};
use crate::rma::origin;
use crate::rma::target::{Memory, Service};
use parking_lot::Mutex;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn size_of(size: MPI_Aint) -> Result<usize, MpiError> {
    usize::try_from(size)
        .map_err(|_| MpiError::new(MPI_ERR_SIZE, format!("size = {size} is negative")))
}

fn disp_unit_of(d: i64) -> Result<usize, MpiError> {
    usize::try_from(d)
        .ok()
        .filter(|&d| d > 0)
        .ok_or_else(|| MpiError::new(MPI_ERR_DISP, format!("disp_unit = {d} (must be > 0)")))
}

/// Windows whose name this process picked (as rank 0 of their communicator).
static PICKED: AtomicU64 = AtomicU64::new(0);

/// The connections of a new window: its members join a core communicator of their own under
/// a name rank 0 picks (its world rank and count make it unique in the job) and broadcasts.
fn connect(obj: &comm::CommObj) -> Result<fmi::Communicator, MpiError> {
    let mut name = [0u8; 128];
    let (job, cfg, faas) = obj.with(|k| {
        Ok((
            k.name().to_string(),
            k.config().clone(),
            k.faas_memory_mib(),
        ))
    })?;
    if obj.rank == 0 {
        let me = comm::world_rank().unwrap_or(0);
        let s = format!("{job}.win{me}.{}", PICKED.fetch_add(1, Ordering::Relaxed));
        let b = s.as_bytes();
        if b.len() > name.len() {
            return Err(MpiError::other(format!("window name {s:?} too long")));
        }
        name[..b.len()].copy_from_slice(b);
    }
    obj.with(|k| k.bcast(&mut name, 0))?;
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    let name = String::from_utf8_lossy(&name[..end]).into_owned();
    let mut core = fmi::Communicator::new(obj.rank as u32, obj.size as u32, cfg, &name, faas)
        .map_err(|e| MpiError::other(format!("cannot connect the window's processes: {e}")))?;
    core.set_timeout(world::timeout()?)?;
    world::apply_env_channel(&mut core)?;
    Ok(core)
}

/// Makes a window over `size` bytes at `base` (collective over `c`).
fn make(
    base: usize,
    size: usize,
    disp_unit: usize,
    i: MPI_Info,
    c: MPI_Comm,
    flavor: c_int,
    allocated: Option<usize>,
) -> Result<MPI_Win, MpiError> {
    let obj = comm::get(c)?;
    let entries = info::entries_or_null(i)?;
    let timeout = world::timeout()?;
    let (rank, n, members) = (obj.rank, obj.size, obj.members.clone());
    let comm_ref = if n > 1 {
        Some(Arc::new(Mutex::new(connect(&obj)?)))
    } else {
        None
    };
    let mem = Arc::new(Memory::new(
        base,
        size,
        disp_unit,
        flavor == MPI_WIN_FLAVOR_DYNAMIC,
    ));
    let service = match &comm_ref {
        Some(k) => Some(Service::start(k.clone(), mem.clone())?),
        None => None,
    };
    let fatal = ERRHANDLERS
        .get(MPI_ERRORS_ARE_FATAL.0)
        .ok_or_else(|| MpiError::other("MPI is not initialized"))?;
    let w = WinObj {
        comm: comm_ref,
        rank,
        size: n,
        members,
        mem,
        flavor,
        allocated,
        service: Mutex::new(service),
        timeout,
        errhandler: Mutex::new((MPI_ERRORS_ARE_FATAL, fatal)),
        name: Mutex::new(String::new()),
        attrs: Mutex::new(Vec::new()),
        info: Mutex::new(entries),
        epochs: Mutex::new(Epochs::default()),
        size_attr: Box::new(size as MPI_Aint),
        disp_attr: Box::new(disp_unit as c_int),
        flavor_attr: Box::new(flavor),
        model_attr: Box::new(MPI_WIN_UNIFIED),
    };
    Ok(MPI_Win(WINS.insert(w)))
}

unsafe fn create(
    base: *mut c_void,
    size: MPI_Aint,
    disp_unit: i64,
    i: MPI_Info,
    c: MPI_Comm,
    w: *mut MPI_Win,
) -> Result<(), MpiError> {
    if w.is_null() {
        return Err(MpiError::arg("win is NULL"));
    }
    let size = size_of(size)?;
    let du = disp_unit_of(disp_unit)?;
    if base.is_null() && size > 0 {
        return Err(MpiError::arg(
            "base is NULL for a window of more than 0 bytes",
        ));
    }
    let h = make(base as usize, size, du, i, c, MPI_WIN_FLAVOR_CREATE, None)?;
    out(w, h, "win")
}

pub unsafe fn win_create(
    base: *mut c_void,
    size: MPI_Aint,
    disp_unit: c_int,
    i: MPI_Info,
    c: MPI_Comm,
    w: *mut MPI_Win,
) -> Result<(), MpiError> {
    create(base, size, i64::from(disp_unit), i, c, w)
}

pub unsafe fn win_create_c(
    base: *mut c_void,
    size: MPI_Aint,
    disp_unit: MPI_Aint,
    i: MPI_Info,
    c: MPI_Comm,
    w: *mut MPI_Win,
) -> Result<(), MpiError> {
    create(base, size, disp_unit as i64, i, c, w)
}

unsafe fn allocate(
    size: MPI_Aint,
    disp_unit: i64,
    i: MPI_Info,
    c: MPI_Comm,
    baseptr: *mut c_void,
    w: *mut MPI_Win,
    flavor: c_int,
) -> Result<(), MpiError> {
    if w.is_null() || baseptr.is_null() {
        return Err(MpiError::arg("win or baseptr is NULL"));
    }
    let size = size_of(size)?;
    let du = disp_unit_of(disp_unit)?;
    if flavor == MPI_WIN_FLAVOR_SHARED && comm::get(c)?.size > 1 {
        return Err(MpiError::new(
            MPI_ERR_RMA_SHARED,
            "MPI_Win_allocate_shared: the ranks of this library are separate processes (possibly \
             on separate machines) that share no memory; it works on a communicator of one \
             process only (use MPI_Win_allocate otherwise)",
        ));
    }
    // Zeroed (a window's memory starts defined), at least one byte so the address is distinct.
    let p = libc::calloc(size.max(1), 1);
    if p.is_null() {
        return Err(MpiError::new(
            MPI_ERR_NO_MEM,
            format!("cannot allocate {size} bytes"),
        ));
    }
    let h = match make(p as usize, size, du, i, c, flavor, Some(p as usize)) {
        Ok(h) => h,
        Err(e) => {
            libc::free(p);
            return Err(e);
        }
    };
    out(baseptr.cast::<*mut c_void>(), p, "baseptr")?;
    out(w, h, "win")
}

pub unsafe fn win_allocate(
    size: MPI_Aint,
    disp_unit: c_int,
    i: MPI_Info,
    c: MPI_Comm,
    baseptr: *mut c_void,
    w: *mut MPI_Win,
) -> Result<(), MpiError> {
    let f = MPI_WIN_FLAVOR_ALLOCATE;
    allocate(size, i64::from(disp_unit), i, c, baseptr, w, f)
}

pub unsafe fn win_allocate_c(
    size: MPI_Aint,
    disp_unit: MPI_Aint,
    i: MPI_Info,
    c: MPI_Comm,
    baseptr: *mut c_void,
    w: *mut MPI_Win,
) -> Result<(), MpiError> {
    let f = MPI_WIN_FLAVOR_ALLOCATE;
    allocate(size, disp_unit as i64, i, c, baseptr, w, f)
}

pub unsafe fn win_allocate_shared(
    size: MPI_Aint,
    disp_unit: c_int,
    i: MPI_Info,
    c: MPI_Comm,
    baseptr: *mut c_void,
    w: *mut MPI_Win,
) -> Result<(), MpiError> {
    let f = MPI_WIN_FLAVOR_SHARED;
    allocate(size, i64::from(disp_unit), i, c, baseptr, w, f)
}

pub unsafe fn win_allocate_shared_c(
    size: MPI_Aint,
    disp_unit: MPI_Aint,
    i: MPI_Info,
    c: MPI_Comm,
    baseptr: *mut c_void,
    w: *mut MPI_Win,
) -> Result<(), MpiError> {
    let f = MPI_WIN_FLAVOR_SHARED;
    allocate(size, disp_unit as i64, i, c, baseptr, w, f)
}

/// The memory of rank `r` of a shared window (one process: its own).
unsafe fn shared_query(
    w: MPI_Win,
    r: c_int,
    size: *mut MPI_Aint,
    baseptr: *mut c_void,
) -> Result<usize, MpiError> {
    let o = win::get(w)?;
    if o.flavor != MPI_WIN_FLAVOR_SHARED {
        return Err(MpiError::new(
            MPI_ERR_RMA_FLAVOR,
            "MPI_Win_shared_query of a window not made by MPI_Win_allocate_shared",
        ));
    }
    if r != MPI_PROC_NULL && usize::try_from(r).map_or(true, |r| r >= o.size) {
        return Err(MpiError::new(
            MPI_ERR_RANK,
            format!("rank {r} is not in the window's group of {}", o.size),
        ));
    }
    out(size, o.mem.size as MPI_Aint, "size")?;
    out(
        baseptr.cast::<*mut c_void>(),
        o.mem.base as *mut c_void,
        "baseptr",
    )?;
    Ok(o.mem.disp_unit)
}

pub unsafe fn win_shared_query(
    w: MPI_Win,
    r: c_int,
    size: *mut MPI_Aint,
    disp_unit: *mut c_int,
    baseptr: *mut c_void,
) -> Result<(), MpiError> {
    let du = shared_query(w, r, size, baseptr)?;
    out(disp_unit, du as c_int, "disp_unit")
}

pub unsafe fn win_shared_query_c(
    w: MPI_Win,
    r: c_int,
    size: *mut MPI_Aint,
    disp_unit: *mut MPI_Aint,
    baseptr: *mut c_void,
) -> Result<(), MpiError> {
    let du = shared_query(w, r, size, baseptr)?;
    out(disp_unit, du as MPI_Aint, "disp_unit")
}

pub unsafe fn win_create_dynamic(
    i: MPI_Info,
    c: MPI_Comm,
    w: *mut MPI_Win,
) -> Result<(), MpiError> {
    if w.is_null() {
        return Err(MpiError::arg("win is NULL"));
    }
    let h = make(0, 0, 1, i, c, MPI_WIN_FLAVOR_DYNAMIC, None)?;
    out(w, h, "win")
}

fn dynamic(o: &WinObj, what: &str) -> Result<(), MpiError> {
    if o.flavor != MPI_WIN_FLAVOR_DYNAMIC {
        return Err(MpiError::new(
            MPI_ERR_RMA_FLAVOR,
            format!("{what} of a window not made by MPI_Win_create_dynamic"),
        ));
    }
    Ok(())
}

pub fn win_attach(w: MPI_Win, base: *mut c_void, size: MPI_Aint) -> Result<(), MpiError> {
    let o = win::get(w)?;
    dynamic(&o, "MPI_Win_attach")?;
    let size = size_of(size)?;
    if base.is_null() && size > 0 {
        return Err(MpiError::arg("base is NULL"));
    }
    let (b, e) = (base as usize, base as usize + size);
    let mut regions = o.mem.regions.lock();
    if regions.iter().any(|&(rb, rn)| b < rb + rn && rb < e) {
        return Err(MpiError::new(
            MPI_ERR_RMA_ATTACH,
            "the region overlaps a region already attached",
        ));
    }
    regions.push((b, size));
    Ok(())
}

pub fn win_detach(w: MPI_Win, base: *const c_void) -> Result<(), MpiError> {
    let o = win::get(w)?;
    dynamic(&o, "MPI_Win_detach")?;
    let mut regions = o.mem.regions.lock();
    let at = regions
        .iter()
        .position(|&(b, _)| b == base as usize)
        .ok_or_else(|| {
            MpiError::new(
                MPI_ERR_RMA_ATTACH,
                format!("no region attached at {base:p}"),
            )
        })?;
    regions.remove(at);
    Ok(())
}

pub unsafe fn win_free(w: *mut MPI_Win) -> Result<(), MpiError> {
    let h = read(w, "win")?;
    let o = win::get(h)?;
    {
        let e = o.epochs.lock();
        if !e.locks.is_empty() || e.lock_all || e.access.is_some() || e.exposure.is_some() {
            return Err(MpiError::new(
                MPI_ERR_RMA_SYNC,
                "MPI_Win_free with an epoch open (a lock, lock_all, start or post not ended)",
            ));
        }
    }
    // Every rank is done with the window once all reach this point.
    origin::barrier(&o)?;
    attr::delete_all_in(attr::Kind::Win, h.0, &o.attrs)?;
    WINS.remove(h.0);
    win::dismantle(&o);
    let o = Arc::try_unwrap(o)
        .map_err(|_| MpiError::other("the window is in use by another thread"))?;
    if let Some(k) = o.comm {
        let core = Arc::try_unwrap(k)
            .map_err(|_| {
                MpiError::new(MPI_ERR_INTERN, "the window's connections are still in use")
            })?
            .into_inner();
        // Collective: the window's connections close when every member is done.
        core.finalize()?;
    }
    out(w, MPI_WIN_NULL, "win")
}

pub unsafe fn win_set_name(w: MPI_Win, name: *const c_char) -> Result<(), MpiError> {
    let o = win::get(w)?;
    *o.name.lock() = string(name, MPI_MAX_OBJECT_NAME as usize - 1, "win_name")?;
    Ok(())
}

pub unsafe fn win_get_name(w: MPI_Win, name: *mut c_char, len: *mut c_int) -> Result<(), MpiError> {
    if len.is_null() {
        return Err(MpiError::arg("resultlen is NULL"));
    }
    let n = win::get(w)?.name.lock().clone();
    write_string(name, MPI_MAX_OBJECT_NAME as usize, &n, len, "win_name")
}

pub fn win_set_info(w: MPI_Win, i: MPI_Info) -> Result<(), MpiError> {
    let o = win::get(w)?;
    let entries = info::get(i)?.snapshot();
    let mut cur = o.info.lock();
    for (k, v) in entries {
        match cur.iter_mut().find(|(ck, _)| *ck == k) {
            Some(slot) => slot.1 = v,
            None => cur.push((k, v)),
        }
    }
    Ok(())
}

pub unsafe fn win_get_info(w: MPI_Win, used: *mut MPI_Info) -> Result<(), MpiError> {
    let o = win::get(w)?;
    if used.is_null() {
        return Err(MpiError::arg("info_used is NULL"));
    }
    let entries = o.info.lock().clone();
    let h = MPI_Info(info::INFOS.insert(info::InfoObj::from(entries)));
    out(used, h, "info_used")
}

pub unsafe fn win_get_group(w: MPI_Win, g: *mut MPI_Group) -> Result<(), MpiError> {
    let o = win::get(w)?;
    out(g, group::new(o.members.clone()), "group")
}

pub fn win_set_errhandler(w: MPI_Win, eh: MPI_Errhandler) -> Result<(), MpiError> {
    let o = win::get(w)?;
    *o.errhandler.lock() = win::errhandler_for_win(eh)?;
    Ok(())
}

pub unsafe fn win_get_errhandler(w: MPI_Win, eh: *mut MPI_Errhandler) -> Result<(), MpiError> {
    let o = win::get(w)?;
    let (h, handler) = o.errhandler.lock().clone();
    errhandler::add_ref(h, handler);
    out(eh, h, "errhandler")
}

/// Runs `w`'s error handler for `errorcode` (returns when the handler returns).
pub fn win_call_errhandler(w: MPI_Win, errorcode: c_int) -> Result<(), MpiError> {
    let o = win::get(w)?;
    let (_, h) = o.errhandler.lock().clone();
    let msg = entry::error_string(errorcode).unwrap_or_else(|| format!("error code {errorcode}"));
    errhandler::invoke(&h, Raise::Win(w), errorcode, &msg);
    Ok(())
}

// Synchronisation.

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

pub fn win_fence(_assert: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
    // Every operation of this process completed when its call returned.
    origin::barrier(&o)
}

pub fn win_lock(lock_type: c_int, rank: c_int, _assert: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
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

pub fn win_lock_all(_assert: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
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

pub fn win_post(g: MPI_Group, _assert: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
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

pub fn win_start(g: MPI_Group, _assert: c_int, w: MPI_Win) -> Result<(), MpiError> {
    let o = win::get(w)?;
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
