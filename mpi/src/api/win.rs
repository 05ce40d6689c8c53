//! Windows: creation (`MPI_Win_create`, `_allocate`, `_allocate_shared` on processes of one
//! host, `_create_dynamic` with attach/detach), `MPI_Win_free`, names, info, group and error
//! handlers. The protocol is in `crate::rma`; the synchronisation calls are in
//! `api/winsync.rs`, the data operations in `api/rma.rs`, attributes in `api/winattr.rs`.

use crate::cabi::{out, read, string, write_string};
use crate::entry::{self, MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::errhandler::{self, ERRHANDLERS};
use crate::objects::win::{self, Alloc, Epochs, WinObj, WINS};
use crate::objects::{attr, comm, group, host, info, world};
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
#[allow(clippy::too_many_arguments)]
fn make(
    base: usize,
    size: usize,
    disp_unit: usize,
    i: MPI_Info,
    c: MPI_Comm,
    flavor: c_int,
    allocated: Option<Alloc>,
    shared: Vec<(usize, usize, usize)>,
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
        shared,
        service: Mutex::new(service),
        timeout,
        next_seq: AtomicU64::new(0),
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
    let h = make(
        base as usize,
        size,
        du,
        i,
        c,
        MPI_WIN_FLAVOR_CREATE,
        None,
        Vec::new(),
    )?;
    out(w, h, "win")
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
        return allocate_mapped(size, du, i, c, baseptr, w);
    }
    // Zeroed (a window's memory starts defined), at least one byte so the address is distinct.
    let p = libc::calloc(size.max(1), 1);
    if p.is_null() {
        return Err(MpiError::new(
            MPI_ERR_NO_MEM,
            format!("cannot allocate {size} bytes"),
        ));
    }
    let shared = if flavor == MPI_WIN_FLAVOR_SHARED {
        vec![(p as usize, size, du)]
    } else {
        Vec::new()
    };
    let alloc = Some(Alloc::Heap(p as usize));
    let h = match make(p as usize, size, du, i, c, flavor, alloc, shared) {
        Ok(h) => h,
        Err(e) => {
            libc::free(p);
            return Err(e);
        }
    };
    out(baseptr.cast::<*mut c_void>(), p, "baseptr")?;
    out(w, h, "win")
}

/// `MPI_Win_allocate_shared` on several processes: they must be on one host; rank 0 makes a
/// POSIX shared-memory object holding every rank's part (in rank order), the others map it,
/// and its name is removed once all have it (the mapping lives until `MPI_Win_free`).
unsafe fn allocate_mapped(
    size: usize,
    du: usize,
    i: MPI_Info,
    c: MPI_Comm,
    baseptr: *mut c_void,
    w: *mut MPI_Win,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let n = obj.size;
    let mut mine = Vec::with_capacity(24);
    mine.extend_from_slice(&host::identity().to_le_bytes());
    mine.extend_from_slice(&(size as u64).to_le_bytes());
    mine.extend_from_slice(&(du as u64).to_le_bytes());
    let mut all = vec![0u8; 24 * n];
    obj.with(|k| k.allgather(&mine, &mut all))?;
    let field = |r: usize, f: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&all[24 * r + 8 * f..24 * r + 8 * f + 8]);
        u64::from_le_bytes(b) as usize
    };
    if (0..n).any(|r| field(r, 0) != field(0, 0)) {
        return Err(MpiError::new(
            MPI_ERR_RMA_SHARED,
            "MPI_Win_allocate_shared: the processes of the communicator are on different hosts \
             and share no memory (MPI_Comm_split_type with MPI_COMM_TYPE_SHARED groups those that do)",
        ));
    }
    let mut offsets = Vec::with_capacity(n);
    let mut total = 0usize;
    for r in 0..n {
        offsets.push(total);
        total = total
            .checked_add(field(r, 1))
            .ok_or_else(|| MpiError::new(MPI_ERR_SIZE, "the window's total size overflows"))?;
    }
    let len = total.max(1);
    // Rank 0 names and sizes the object; its name (empty on failure) goes to every rank.
    let mut name = [0u8; 64];
    let mut made: Result<(), MpiError> = Ok(());
    if obj.rank == 0 {
        let s = format!(
            "/fmi-win-{}-{}",
            std::process::id(),
            PICKED.fetch_add(1, Ordering::Relaxed)
        );
        made = shm_create(&s, len);
        if made.is_ok() {
            name[..s.len()].copy_from_slice(s.as_bytes());
        }
    }
    obj.with(|k| k.bcast(&mut name, 0))?;
    made?;
    let end = name.iter().position(|&b| b == 0).unwrap_or(0);
    if end == 0 {
        return Err(MpiError::new(
            MPI_ERR_NO_MEM,
            "MPI_Win_allocate_shared: rank 0 could not make the shared memory",
        ));
    }
    let cname = std::ffi::CString::new(&name[..end]).expect("no NUL inside");
    let mapped = shm_map(&cname, len);
    // Everyone has tried to map it: the name can go (the mappings stay).
    let synced = obj.with(|k| k.barrier());
    if obj.rank == 0 {
        libc::shm_unlink(cname.as_ptr());
    }
    let addr = mapped?;
    synced?;
    let shared: Vec<(usize, usize, usize)> = (0..n)
        .map(|r| (addr + offsets[r], field(r, 1), field(r, 2)))
        .collect();
    let base = shared[obj.rank].0;
    let alloc = Some(Alloc::Mapped { addr, len });
    let h = match make(base, size, du, i, c, MPI_WIN_FLAVOR_SHARED, alloc, shared) {
        Ok(h) => h,
        Err(e) => {
            libc::munmap(addr as *mut c_void, len);
            return Err(e);
        }
    };
    out(
        baseptr.cast::<*mut c_void>(),
        base as *mut c_void,
        "baseptr",
    )?;
    out(w, h, "win")
}

/// Makes the shared-memory object `name` of `len` zero bytes.
unsafe fn shm_create(name: &str, len: usize) -> Result<(), MpiError> {
    let c = std::ffi::CString::new(name).expect("no NUL inside");
    let fd = libc::shm_open(
        c.as_ptr(),
        libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
        0o600,
    );
    if fd < 0 {
        return Err(MpiError::new(
            MPI_ERR_NO_MEM,
            format!("shm_open {name}: {}", std::io::Error::last_os_error()),
        ));
    }
    let rc = libc::ftruncate(fd, len as libc::off_t);
    let err = std::io::Error::last_os_error();
    libc::close(fd);
    if rc != 0 {
        libc::shm_unlink(c.as_ptr());
        return Err(MpiError::new(
            MPI_ERR_NO_MEM,
            format!("sizing the shared memory to {len} bytes: {err}"),
        ));
    }
    Ok(())
}

/// Maps the shared-memory object `name` of `len` bytes.
unsafe fn shm_map(name: &std::ffi::CStr, len: usize) -> Result<usize, MpiError> {
    let fd = libc::shm_open(name.as_ptr(), libc::O_RDWR, 0);
    if fd < 0 {
        return Err(MpiError::new(
            MPI_ERR_NO_MEM,
            format!("shm_open: {}", std::io::Error::last_os_error()),
        ));
    }
    let p = libc::mmap(
        std::ptr::null_mut(),
        len,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_SHARED,
        fd,
        0,
    );
    let err = std::io::Error::last_os_error();
    libc::close(fd);
    if p == libc::MAP_FAILED {
        return Err(MpiError::new(
            MPI_ERR_NO_MEM,
            format!("mapping {len} bytes of shared memory: {err}"),
        ));
    }
    Ok(p as usize)
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

/// The memory of rank `r` that this process can access: of a shared window every rank's;
/// of any other flavor (MPI-4.1) its own, and none (size 0, NULL) for other ranks.
/// `MPI_PROC_NULL` asks for the lowest rank's memory: rank 0's own (others get none).
unsafe fn shared_query(
    w: MPI_Win,
    r: c_int,
    size: *mut MPI_Aint,
    baseptr: *mut c_void,
) -> Result<usize, MpiError> {
    let o = win::get(w)?;
    if r != MPI_PROC_NULL && usize::try_from(r).map_or(true, |r| r >= o.size) {
        return Err(MpiError::new(
            MPI_ERR_RANK,
            format!("rank {r} is not in the window's group of {}", o.size),
        ));
    }
    if o.flavor == MPI_WIN_FLAVOR_SHARED {
        // Every rank's memory is mapped here; MPI_PROC_NULL: the lowest rank with any.
        let at = if r == MPI_PROC_NULL {
            o.shared.iter().position(|s| s.1 > 0).unwrap_or(0)
        } else {
            r as usize
        };
        let (p, n, du) = o.shared.get(at).copied().unwrap_or((0, 0, o.mem.disp_unit));
        out(size, n as MPI_Aint, "size")?;
        out(baseptr.cast::<*mut c_void>(), p as *mut c_void, "baseptr")?;
        return Ok(du);
    }
    let mine = if r == MPI_PROC_NULL {
        o.rank == 0
    } else {
        r as usize == o.rank
    };
    let (n, p) = if mine && o.flavor != MPI_WIN_FLAVOR_DYNAMIC {
        (o.mem.size, o.mem.base)
    } else {
        (0, 0)
    };
    out(size, n as MPI_Aint, "size")?;
    out(baseptr.cast::<*mut c_void>(), p as *mut c_void, "baseptr")?;
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
    let h = make(0, 0, 1, i, c, MPI_WIN_FLAVOR_DYNAMIC, None, Vec::new())?;
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
    // The null handle has a name too (as MPICH reports it).
    let n = if w == MPI_WIN_NULL {
        "MPI_WIN_NULL".to_string()
    } else {
        win::get(w)?.name.lock().clone()
    };
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
