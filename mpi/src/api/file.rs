//! MPI-IO on local POSIX files (the objects in `crate::objects::file`): open/close/delete, size,
//! views (any file type, `native` representation), reads and writes at
//! explicit offsets and at the individual file pointer (blocking, non-blocking, collective and
//! split collective), the shared file pointer (ordered accesses and `MPI_File_seek_shared` on
//! any group; the independent `*_shared` accesses on a group of one process), seek, sync,
//! atomicity, info and error handlers. Other data representations are
//! `MPI_ERR_UNSUPPORTED_DATAREP`.

use crate::cabi::{out, read, string, write_string};
use crate::entry::{self, MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::errhandler;
use crate::objects::file::{self, FileObj, View, FILES};
use crate::objects::request::{self, NullOp};
use crate::objects::{comm, datatype, group, info, status};
use std::ffi::{c_char, c_int, c_void};
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::Arc;

/// The longest file name accepted (Linux's PATH_MAX less the NUL).
const MAX_PATH: usize = 4095;

/// Errors of MPI_File_open and MPI_File_delete go to MPI_FILE_NULL's handler.
fn on_null(e: MpiError) -> MpiError {
    e.on(Raise::File(MPI_FILE_NULL))
}

/// The access mode's checks (MPI-4.1 §14.2.1).
fn check_amode(amode: c_int) -> Result<(), MpiError> {
    let known = MPI_MODE_RDONLY
        | MPI_MODE_RDWR
        | MPI_MODE_WRONLY
        | MPI_MODE_CREATE
        | MPI_MODE_EXCL
        | MPI_MODE_DELETE_ON_CLOSE
        | MPI_MODE_UNIQUE_OPEN
        | MPI_MODE_SEQUENTIAL
        | MPI_MODE_APPEND;
    let bad = |m: &str| {
        Err(MpiError::new(
            MPI_ERR_AMODE,
            format!("amode {amode:#x}: {m}"),
        ))
    };
    if amode & !known != 0 {
        return bad("unknown mode bits");
    }
    let access = [MPI_MODE_RDONLY, MPI_MODE_RDWR, MPI_MODE_WRONLY]
        .iter()
        .filter(|&&m| amode & m != 0)
        .count();
    if access != 1 {
        return bad("exactly one of MPI_MODE_RDONLY, MPI_MODE_RDWR and MPI_MODE_WRONLY is needed");
    }
    if amode & MPI_MODE_RDONLY != 0 && amode & (MPI_MODE_CREATE | MPI_MODE_EXCL) != 0 {
        return bad("MPI_MODE_RDONLY with MPI_MODE_CREATE or MPI_MODE_EXCL");
    }
    if amode & MPI_MODE_RDWR != 0 && amode & MPI_MODE_SEQUENTIAL != 0 {
        return bad("MPI_MODE_RDWR with MPI_MODE_SEQUENTIAL");
    }
    Ok(())
}

/// Opens `path` here; `first`: this process creates the file (with MPI_MODE_EXCL's check).
fn open_local(path: &PathBuf, amode: c_int, first: bool) -> Result<std::fs::File, MpiError> {
    let mut o = OpenOptions::new();
    o.read(amode & (MPI_MODE_RDONLY | MPI_MODE_RDWR) != 0)
        .write(amode & (MPI_MODE_WRONLY | MPI_MODE_RDWR) != 0);
    if amode & MPI_MODE_CREATE != 0 {
        if first && amode & MPI_MODE_EXCL != 0 {
            o.create_new(true);
        } else {
            o.create(true);
        }
    }
    o.open(path).map_err(|e| file::io_error(&e, path))
}

/// Agrees on an error class over the file's group: the largest class any rank had (0: none).
fn agree(core: &mut fmi::Communicator, class: c_int) -> Result<c_int, MpiError> {
    if core.size() == 1 {
        return Ok(class);
    }
    let mut buf = class.to_ne_bytes();
    core.allreduce_in_place(
        &mut buf,
        fmi::Datatype::Int32,
        &fmi::ReduceOp::builtin(fmi::BuiltinOp::Max),
    )?;
    Ok(c_int::from_ne_bytes(buf))
}

fn class_of(r: &Result<std::fs::File, MpiError>) -> c_int {
    r.as_ref().err().map_or(0, |e| e.class)
}

/// The error of a rank whose own step worked when another rank's failed.
fn elsewhere(class: c_int, what: &str) -> MpiError {
    MpiError::new(
        class,
        format!(
            "{what} failed on another process of the group ({})",
            entry::class_name(class)
        ),
    )
}

pub unsafe fn file_open(
    c: MPI_Comm,
    filename: *const c_char,
    amode: c_int,
    inf: MPI_Info,
    fh: *mut MPI_File,
) -> Result<(), MpiError> {
    open(c, filename, amode, inf, fh).map_err(on_null)
}

unsafe fn open(
    c: MPI_Comm,
    filename: *const c_char,
    amode: c_int,
    inf: MPI_Info,
    fh: *mut MPI_File,
) -> Result<(), MpiError> {
    if fh.is_null() {
        return Err(MpiError::arg("fh is NULL"));
    }
    let obj = comm::get(c)?;
    let name = string(filename, MAX_PATH, "filename")?;
    if name.is_empty() {
        return Err(MpiError::new(MPI_ERR_BAD_FILE, "the file name is empty"));
    }
    check_amode(amode)?;
    let hints = info::entries_or_null(inf)?;
    let path = PathBuf::from(&name);
    let mut core = obj.with(|k| k.dup())?;
    // Rank 0 creates the file first (MPI_MODE_EXCL is checked once), then the others open it;
    // every rank fails when one does (its own error, or the class of another's).
    let mut mine = (core.rank() == 0).then(|| open_local(&path, amode, true));
    if core.size() > 1 {
        let mut first = mine.as_ref().map_or(0, class_of).to_ne_bytes();
        core.bcast(&mut first, 0)?;
        let first = c_int::from_ne_bytes(first);
        if first != 0 {
            return Err(match mine {
                Some(Err(e)) => e,
                _ => elsewhere(first, &format!("opening {name}")),
            });
        }
        if core.rank() != 0 {
            mine = Some(open_local(&path, amode, false));
        }
        let all = agree(&mut core, mine.as_ref().map_or(0, class_of))?;
        if all != 0 {
            return Err(match mine {
                Some(Err(e)) => e,
                _ => elsewhere(all, &format!("opening {name}")),
            });
        }
    }
    let f = mine.expect("every rank has opened the file")?;
    let position = if amode & MPI_MODE_APPEND != 0 {
        f.metadata().map_err(|e| file::io_error(&e, &path))?.len() as i64
    } else {
        0
    };
    let obj = FileObj {
        file: f,
        path,
        amode,
        members: obj.members.clone(),
        rank: core.rank(),
        core: parking_lot::Mutex::new(core),
        errhandler: parking_lot::Mutex::new(file::default_errhandler()),
        view: parking_lot::Mutex::new(View::bytes()),
        position: parking_lot::Mutex::new(position),
        shared: parking_lot::Mutex::new(position),
        atomic: parking_lot::Mutex::new(false),
        info: parking_lot::Mutex::new(hints),
        split: parking_lot::Mutex::new(None),
    };
    *fh = MPI_File(FILES.insert(obj));
    Ok(())
}

pub unsafe fn file_close(fh: *mut MPI_File) -> Result<(), MpiError> {
    let h = read(fh, "fh")?;
    let obj = file::get(h)?;
    if obj.split.lock().is_some() {
        return Err(MpiError::other(
            "a split collective operation is still pending on the file (call its _end first)",
        ));
    }
    // Every rank has closed before a file opened with MPI_MODE_DELETE_ON_CLOSE is deleted.
    obj.with(|k| if k.size() > 1 { k.barrier() } else { Ok(()) })?;
    FILES.remove(h.0);
    if obj.amode & MPI_MODE_DELETE_ON_CLOSE != 0 {
        match std::fs::remove_file(&obj.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                *fh = MPI_FILE_NULL;
                return Err(file::io_error(&e, &obj.path));
            }
            _ => {}
        }
    }
    *fh = MPI_FILE_NULL;
    Ok(())
}

pub unsafe fn file_delete(filename: *const c_char, inf: MPI_Info) -> Result<(), MpiError> {
    let go = || -> Result<(), MpiError> {
        let name = string(filename, MAX_PATH, "filename")?;
        info::entries_or_null(inf)?;
        let path = PathBuf::from(&name);
        std::fs::remove_file(&path).map_err(|e| file::io_error(&e, &path))
    };
    go().map_err(on_null)
}

// ---- size, mode, group, info ----

fn offset_arg(v: MPI_Offset, what: &str) -> Result<u64, MpiError> {
    u64::try_from(v).map_err(|_| MpiError::arg(format!("{what} = {v} is negative")))
}

pub fn file_set_size(fh: MPI_File, size: MPI_Offset) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let size = offset_arg(size, "size")?;
    obj.writable()?;
    let mine = obj
        .file
        .set_len(size)
        .map_err(|e| file::io_error(&e, &obj.path));
    collective_result(&obj, mine, "resizing the file")
}

pub fn file_preallocate(fh: MPI_File, size: MPI_Offset) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let size = offset_arg(size, "size")?;
    obj.writable()?;
    let mine = obj.size().and_then(|now| {
        if now < size {
            obj.file
                .set_len(size)
                .map_err(|e| file::io_error(&e, &obj.path))
        } else {
            Ok(())
        }
    });
    collective_result(&obj, mine, "preallocating the file")
}

/// A collective step's result on every rank: its own error, or another rank's class.
fn collective_result(
    obj: &FileObj,
    mine: Result<(), MpiError>,
    what: &str,
) -> Result<(), MpiError> {
    let class = mine.as_ref().err().map_or(0, |e| e.class);
    let all = obj.with(|k| {
        if k.size() == 1 {
            return Ok(class);
        }
        let mut buf = class.to_ne_bytes();
        k.allreduce_in_place(
            &mut buf,
            fmi::Datatype::Int32,
            &fmi::ReduceOp::builtin(fmi::BuiltinOp::Max),
        )?;
        Ok(c_int::from_ne_bytes(buf))
    })?;
    mine?;
    if all != 0 {
        return Err(elsewhere(all, what));
    }
    Ok(())
}

pub unsafe fn file_get_size(fh: MPI_File, size: *mut MPI_Offset) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    out(size, obj.size()? as MPI_Offset, "size")
}

pub unsafe fn file_get_amode(fh: MPI_File, amode: *mut c_int) -> Result<(), MpiError> {
    out(amode, file::get(fh)?.amode, "amode")
}

pub unsafe fn file_get_group(fh: MPI_File, g: *mut MPI_Group) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    if g.is_null() {
        return Err(MpiError::arg("group is NULL"));
    }
    *g = group::new(obj.members.clone());
    Ok(())
}

pub fn file_set_info(fh: MPI_File, inf: MPI_Info) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    file_set_info_entries(&obj, info::entries_or_null(inf)?);
    Ok(())
}

pub unsafe fn file_get_info(fh: MPI_File, info_used: *mut MPI_Info) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    if info_used.is_null() {
        return Err(MpiError::arg("info_used is NULL"));
    }
    let entries = obj.info.lock().clone();
    *info_used = MPI_Info(info::INFOS.insert(info::InfoObj::from(entries)));
    Ok(())
}

pub fn file_set_atomicity(fh: MPI_File, flag: c_int) -> Result<(), MpiError> {
    *file::get(fh)?.atomic.lock() = flag != 0;
    Ok(())
}

pub unsafe fn file_get_atomicity(fh: MPI_File, flag: *mut c_int) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let v = c_int::from(*obj.atomic.lock());
    out(flag, v, "flag")
}

pub fn file_sync(fh: MPI_File) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let mine = obj
        .file
        .sync_all()
        .map_err(|e| file::io_error(&e, &obj.path));
    collective_result(&obj, mine, "syncing the file")
}

// ---- views and the file pointer ----

pub unsafe fn file_set_view(
    fh: MPI_File,
    disp: MPI_Offset,
    etype: MPI_Datatype,
    filetype: MPI_Datatype,
    datarep: *const c_char,
    inf: MPI_Info,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let rep = string(datarep, MPI_MAX_DATAREP_STRING as usize - 1, "datarep")?;
    match rep.as_str() {
        "native" => {}
        "internal" | "external32" => {
            return Err(MpiError::new(
                MPI_ERR_UNSUPPORTED_DATAREP,
                format!("data representation {rep:?}: this library writes \"native\" only"),
            ))
        }
        _ => {
            return Err(MpiError::new(
                MPI_ERR_UNSUPPORTED_DATAREP,
                format!("unknown data representation {rep:?}"),
            ))
        }
    }
    if disp == MPI_DISPLACEMENT_CURRENT {
        return Err(MpiError::unsupported(
            "MPI_DISPLACEMENT_CURRENT (a view at the shared file pointer) is not implemented",
        ));
    }
    if disp < 0 {
        return Err(MpiError::arg(format!("disp = {disp} is negative")));
    }
    let et = datatype::committed(etype)?;
    let ft = datatype::committed(filetype)?;
    if et.size() == 0 {
        return Err(MpiError::new(MPI_ERR_TYPE, "the etype has no data"));
    }
    if ft.size() % et.size() != 0 {
        return Err(MpiError::new(
            MPI_ERR_TYPE,
            format!(
                "the filetype ({} bytes) is not made of etypes ({} bytes)",
                ft.size(),
                et.size()
            ),
        ));
    }
    if ft.lb() < 0 || ft.true_lb() < 0 {
        return Err(MpiError::new(
            MPI_ERR_TYPE,
            "the filetype reaches before its start (negative displacements)",
        ));
    }
    let hints = info::entries_or_null(inf)?;
    *obj.view.lock() = View {
        disp,
        etype: (etype, et),
        filetype: (filetype, ft),
    };
    *obj.position.lock() = 0;
    *obj.shared.lock() = 0;
    file_set_info_entries(&obj, hints);
    obj.with(|k| if k.size() > 1 { k.barrier() } else { Ok(()) })
}

fn file_set_info_entries(obj: &FileObj, add: Vec<(String, String)>) {
    let mut hints = obj.info.lock();
    for (k, v) in add {
        match hints.iter_mut().find(|(hk, _)| *hk == k) {
            Some(slot) => slot.1 = v,
            None => hints.push((k, v)),
        }
    }
}

/// The handle a view's type is reported under: a predefined one as itself, a derived one as a
/// new handle the program frees.
fn report_type((h, t): &(MPI_Datatype, Arc<crate::types::Type>)) -> MPI_Datatype {
    if datatype::is_predefined(*h) {
        *h
    } else {
        datatype::register(t.clone())
    }
}

pub unsafe fn file_get_view(
    fh: MPI_File,
    disp: *mut MPI_Offset,
    etype: *mut MPI_Datatype,
    filetype: *mut MPI_Datatype,
    datarep: *mut c_char,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    if disp.is_null() || etype.is_null() || filetype.is_null() {
        return Err(MpiError::arg("disp, etype or filetype is NULL"));
    }
    let v = obj.view.lock().clone();
    write_string(
        datarep,
        MPI_MAX_DATAREP_STRING as usize,
        "native",
        std::ptr::null_mut(),
        "datarep",
    )?;
    *disp = v.disp;
    *etype = report_type(&v.etype);
    *filetype = report_type(&v.filetype);
    Ok(())
}

pub unsafe fn file_get_byte_offset(
    fh: MPI_File,
    offset: MPI_Offset,
    disp: *mut MPI_Offset,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let at = obj.view.lock().byte_offset(offset)?;
    out(disp, at as MPI_Offset, "disp")
}

pub unsafe fn file_get_type_extent(
    fh: MPI_File,
    dt: MPI_Datatype,
    extent: *mut MPI_Aint,
) -> Result<(), MpiError> {
    file::get(fh)?;
    let t = datatype::get(dt)?;
    out(extent, t.extent() as MPI_Aint, "extent")
}

pub unsafe fn file_get_type_extent_c(
    fh: MPI_File,
    dt: MPI_Datatype,
    extent: *mut MPI_Count,
) -> Result<(), MpiError> {
    file::get(fh)?;
    let t = datatype::get(dt)?;
    out(extent, t.extent() as MPI_Count, "extent")
}

pub fn file_seek(fh: MPI_File, offset: MPI_Offset, whence: c_int) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let mut pos = obj.position.lock();
    let base = match whence {
        MPI_SEEK_SET => 0,
        MPI_SEEK_CUR => *pos,
        MPI_SEEK_END => end_in_etypes(&obj)?,
        _ => {
            return Err(MpiError::arg(format!(
                "whence = {whence} (MPI_SEEK_SET, MPI_SEEK_CUR or MPI_SEEK_END)"
            )))
        }
    };
    let new = base
        .checked_add(offset)
        .filter(|&p| p >= 0)
        .ok_or_else(|| MpiError::arg(format!("seeking to {base} + {offset}: before the view")))?;
    *pos = new;
    Ok(())
}

/// The end of the file in elementary types of the view (a partial one counts).
fn end_in_etypes(obj: &FileObj) -> Result<i64, MpiError> {
    let v = obj.view.lock().clone();
    let esize = v.etype.1.size();
    let data = v.data_before(obj.size()?);
    Ok(data.div_ceil(esize) as i64)
}

pub unsafe fn file_get_position(fh: MPI_File, offset: *mut MPI_Offset) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let p = *obj.position.lock();
    out(offset, p, "offset")
}

// ---- reads and writes ----

/// Where an access starts: an explicit offset, the individual or the shared file pointer.
#[derive(Clone, Copy)]
enum At {
    Offset(MPI_Offset),
    Pointer,
    Shared,
}

/// Reads (`buf` is written) or writes `count` elements of `dt`; the status of the access.
unsafe fn access(
    obj: &FileObj,
    at: At,
    buf: *mut c_void,
    count: i64,
    dt: MPI_Datatype,
    write: bool,
) -> Result<MPI_Status, MpiError> {
    let count = u64::try_from(count)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("count = {count} is negative")))?;
    let t = datatype::committed(dt)?;
    let bytes = t.bytes(count)?;
    if buf.is_null() && bytes > 0 && t.true_lb() == 0 {
        return Err(MpiError::new(
            MPI_ERR_BUFFER,
            format!("buf is NULL with count {count} ({bytes} bytes)"),
        ));
    }
    if write {
        obj.writable()?;
    } else {
        obj.readable()?;
    }
    let view = obj.view.lock().clone();
    let esize = view.etype.1.size();
    if bytes % esize != 0 {
        return Err(MpiError::new(
            MPI_ERR_TYPE,
            format!("the datatype's data ({bytes} bytes) is not made of etypes ({esize} bytes)"),
        ));
    }
    if let At::Shared = at {
        if obj.members.len() > 1 {
            return Err(MpiError::unsupported(
                "independent accesses through the shared file pointer are implemented for files \
                 opened by one process (use the ordered forms, or explicit offsets)",
            ));
        }
    }
    let mut pos = match at {
        At::Shared => obj.shared.lock(),
        _ => obj.position.lock(),
    };
    let offset = match at {
        At::Offset(o) => {
            if o < 0 {
                return Err(MpiError::arg(format!("offset = {o} is negative")));
            }
            o
        }
        At::Pointer | At::Shared => *pos,
    };
    let n = usize::try_from(bytes)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, "the access is too large for memory"))?;
    let segments = view.segments(view.data_byte(offset)?, bytes)?;
    let mut data = vec![0u8; n];
    let done = if write {
        t.pack(buf.cast_const().cast(), count, &mut data)?;
        let mut at = 0;
        for (pos, len) in segments {
            obj.write_at(pos, &data[at..at + len])?;
            at += len;
        }
        n
    } else {
        // The data read up to the first short run (the end of the file).
        let mut got = 0;
        for (pos, len) in segments {
            let k = obj.read_at(pos, &mut data[got..got + len])?;
            got += k;
            if k < len {
                break;
            }
        }
        t.unpack(&data[..got], buf.cast(), count)?;
        got
    };
    if let At::Pointer | At::Shared = at {
        *pos = offset + (done / esize as usize) as i64;
    }
    let mut st = status::empty(MPI_ANY_SOURCE);
    status::set_bytes(&mut st, done as u64);
    Ok(st)
}

unsafe fn blocking(
    fh: MPI_File,
    at: At,
    buf: *mut c_void,
    count: i64,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
    write: bool,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let s = access(&obj, at, buf, count, dt, write)?;
    status::write(st, s);
    Ok(())
}

/// A non-blocking access: done at once; the request completes with its status.
unsafe fn immediate(
    fh: MPI_File,
    at: At,
    buf: *mut c_void,
    count: i64,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
    write: bool,
) -> Result<(), MpiError> {
    if r.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let obj = file::get(fh)?;
    let s = access(&obj, at, buf, count, dt, write)?;
    *r = request::register(Box::new(NullOp::new(false, s)), Raise::File(fh));
    Ok(())
}

/// The begin of a split collective access: done at once; its status waits for the end.
unsafe fn begin(
    fh: MPI_File,
    at: At,
    buf: *mut c_void,
    count: i64,
    dt: MPI_Datatype,
    write: bool,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    pending_split(&obj)?;
    let s = access(&obj, at, buf, count, dt, write)?;
    *obj.split.lock() = Some(s);
    Ok(())
}

unsafe fn end(fh: MPI_File, st: *mut MPI_Status) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let s = obj.split.lock().take().ok_or_else(|| {
        MpiError::other("no split collective operation is pending on the file (call _begin first)")
    })?;
    status::write(st, s);
    Ok(())
}

pub unsafe fn file_read(
    fh: MPI_File,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Pointer, buf, count.into(), dt, st, false)
}

pub unsafe fn file_read_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Pointer, buf, count, dt, st, false)
}

pub unsafe fn file_read_all(
    fh: MPI_File,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Pointer, buf, count.into(), dt, st, false)
}

pub unsafe fn file_read_all_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Pointer, buf, count, dt, st, false)
}

pub unsafe fn file_write(
    fh: MPI_File,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Pointer, buf.cast_mut(), count.into(), dt, st, true)
}

pub unsafe fn file_write_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Pointer, buf.cast_mut(), count, dt, st, true)
}

pub unsafe fn file_write_all(
    fh: MPI_File,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Pointer, buf.cast_mut(), count.into(), dt, st, true)
}

pub unsafe fn file_write_all_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Pointer, buf.cast_mut(), count, dt, st, true)
}

pub unsafe fn file_iread(
    fh: MPI_File,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Pointer, buf, count.into(), dt, r, false)
}

pub unsafe fn file_iread_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Pointer, buf, count, dt, r, false)
}

pub unsafe fn file_iread_all(
    fh: MPI_File,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Pointer, buf, count.into(), dt, r, false)
}

pub unsafe fn file_iread_all_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Pointer, buf, count, dt, r, false)
}

pub unsafe fn file_iwrite(
    fh: MPI_File,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Pointer, buf.cast_mut(), count.into(), dt, r, true)
}

pub unsafe fn file_iwrite_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Pointer, buf.cast_mut(), count, dt, r, true)
}

pub unsafe fn file_iwrite_all(
    fh: MPI_File,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Pointer, buf.cast_mut(), count.into(), dt, r, true)
}

pub unsafe fn file_iwrite_all_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Pointer, buf.cast_mut(), count, dt, r, true)
}

pub unsafe fn file_read_at(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Offset(offset), buf, count.into(), dt, st, false)
}

pub unsafe fn file_read_at_c(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Offset(offset), buf, count, dt, st, false)
}

pub unsafe fn file_read_at_all(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Offset(offset), buf, count.into(), dt, st, false)
}

pub unsafe fn file_read_at_all_c(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Offset(offset), buf, count, dt, st, false)
}

pub unsafe fn file_write_at(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(
        fh,
        At::Offset(offset),
        buf.cast_mut(),
        count.into(),
        dt,
        st,
        true,
    )
}

pub unsafe fn file_write_at_c(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Offset(offset), buf.cast_mut(), count, dt, st, true)
}

pub unsafe fn file_write_at_all(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(
        fh,
        At::Offset(offset),
        buf.cast_mut(),
        count.into(),
        dt,
        st,
        true,
    )
}

pub unsafe fn file_write_at_all_c(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Offset(offset), buf.cast_mut(), count, dt, st, true)
}

pub unsafe fn file_iread_at(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Offset(offset), buf, count.into(), dt, r, false)
}

pub unsafe fn file_iread_at_c(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Offset(offset), buf, count, dt, r, false)
}

pub unsafe fn file_iread_at_all(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Offset(offset), buf, count.into(), dt, r, false)
}

pub unsafe fn file_iread_at_all_c(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Offset(offset), buf, count, dt, r, false)
}

pub unsafe fn file_iwrite_at(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(
        fh,
        At::Offset(offset),
        buf.cast_mut(),
        count.into(),
        dt,
        r,
        true,
    )
}

pub unsafe fn file_iwrite_at_c(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Offset(offset), buf.cast_mut(), count, dt, r, true)
}

pub unsafe fn file_iwrite_at_all(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(
        fh,
        At::Offset(offset),
        buf.cast_mut(),
        count.into(),
        dt,
        r,
        true,
    )
}

pub unsafe fn file_iwrite_at_all_c(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Offset(offset), buf.cast_mut(), count, dt, r, true)
}

/// An ordered access (collective): the ranks' data follow one another in rank order from the
/// shared file pointer, which every rank then moves past all of it.
unsafe fn ordered(
    fh: MPI_File,
    buf: *mut c_void,
    count: i64,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
    write: bool,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let n = u64::try_from(count)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("count = {count} is negative")))?;
    let bytes = datatype::committed(dt)?.bytes(n)?;
    let esize = obj.view.lock().etype.1.size();
    let mine = (bytes / esize) as i64;
    let (before, total) = obj.with(|k| {
        let sum = fmi::ReduceOp::builtin(fmi::BuiltinOp::Sum);
        let mut incl = mine.to_ne_bytes();
        k.scan_in_place(&mut incl, fmi::Datatype::Int64, &sum)?;
        let mut all = mine.to_ne_bytes();
        k.allreduce_in_place(&mut all, fmi::Datatype::Int64, &sum)?;
        Ok((i64::from_ne_bytes(incl) - mine, i64::from_ne_bytes(all)))
    })?;
    let base = *obj.shared.lock();
    let s = access(&obj, At::Offset(base + before), buf, count, dt, write);
    *obj.shared.lock() = base + total;
    status::write(st, s?);
    Ok(())
}

fn pending_split(obj: &FileObj) -> Result<(), MpiError> {
    if obj.split.lock().is_some() {
        return Err(MpiError::other(
            "a split collective operation is already pending on the file",
        ));
    }
    Ok(())
}

/// `MPI_File_seek_shared` (collective: every rank passes the same position).
pub fn file_seek_shared(fh: MPI_File, offset: MPI_Offset, whence: c_int) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let base = match whence {
        MPI_SEEK_SET => 0,
        MPI_SEEK_CUR => *obj.shared.lock(),
        MPI_SEEK_END => end_in_etypes(&obj)?,
        _ => {
            return Err(MpiError::arg(format!(
                "whence = {whence} (MPI_SEEK_SET, MPI_SEEK_CUR or MPI_SEEK_END)"
            )))
        }
    };
    let new = base
        .checked_add(offset)
        .filter(|&p| p >= 0)
        .ok_or_else(|| MpiError::arg(format!("seeking to {base} + {offset}: before the view")))?;
    obj.with(|k| if k.size() > 1 { k.barrier() } else { Ok(()) })?;
    *obj.shared.lock() = new;
    Ok(())
}

pub unsafe fn file_get_position_shared(
    fh: MPI_File,
    offset: *mut MPI_Offset,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    let p = *obj.shared.lock();
    out(offset, p, "offset")
}

pub unsafe fn file_read_shared(
    fh: MPI_File,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Shared, buf, count.into(), dt, st, false)
}

pub unsafe fn file_read_shared_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Shared, buf, count, dt, st, false)
}

pub unsafe fn file_write_shared(
    fh: MPI_File,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Shared, buf.cast_mut(), count.into(), dt, st, true)
}

pub unsafe fn file_write_shared_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Shared, buf.cast_mut(), count, dt, st, true)
}

pub unsafe fn file_iread_shared(
    fh: MPI_File,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Shared, buf, count.into(), dt, r, false)
}

pub unsafe fn file_iread_shared_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Shared, buf, count, dt, r, false)
}

pub unsafe fn file_iwrite_shared(
    fh: MPI_File,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Shared, buf.cast_mut(), count.into(), dt, r, true)
}

pub unsafe fn file_iwrite_shared_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Shared, buf.cast_mut(), count, dt, r, true)
}

pub unsafe fn file_read_ordered(
    fh: MPI_File,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    ordered(fh, buf, count.into(), dt, st, false)
}

pub unsafe fn file_read_ordered_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    ordered(fh, buf, count, dt, st, false)
}

pub unsafe fn file_write_ordered(
    fh: MPI_File,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    ordered(fh, buf.cast_mut(), count.into(), dt, st, true)
}

pub unsafe fn file_write_ordered_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    ordered(fh, buf.cast_mut(), count, dt, st, true)
}

pub unsafe fn file_read_ordered_begin(
    fh: MPI_File,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    pending_split(&obj)?;
    let mut s = status::empty(MPI_ANY_SOURCE);
    ordered(fh, buf, count.into(), dt, &mut s, false)?;
    *obj.split.lock() = Some(s);
    Ok(())
}

pub unsafe fn file_read_ordered_begin_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    pending_split(&obj)?;
    let mut s = status::empty(MPI_ANY_SOURCE);
    ordered(fh, buf, count, dt, &mut s, false)?;
    *obj.split.lock() = Some(s);
    Ok(())
}

pub unsafe fn file_read_ordered_end(
    fh: MPI_File,
    _buf: *mut c_void,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    end(fh, st)
}

pub unsafe fn file_write_ordered_begin(
    fh: MPI_File,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    pending_split(&obj)?;
    let mut s = status::empty(MPI_ANY_SOURCE);
    ordered(fh, buf.cast_mut(), count.into(), dt, &mut s, true)?;
    *obj.split.lock() = Some(s);
    Ok(())
}

pub unsafe fn file_write_ordered_begin_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    let obj = file::get(fh)?;
    pending_split(&obj)?;
    let mut s = status::empty(MPI_ANY_SOURCE);
    ordered(fh, buf.cast_mut(), count, dt, &mut s, true)?;
    *obj.split.lock() = Some(s);
    Ok(())
}

pub unsafe fn file_write_ordered_end(
    fh: MPI_File,
    _buf: *const c_void,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    end(fh, st)
}

// The split collectives (MPI_File_read_all_begin / _end, ...).

pub unsafe fn file_read_all_begin(
    fh: MPI_File,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    begin(fh, At::Pointer, buf, count.into(), dt, false)
}

pub unsafe fn file_read_all_begin_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    begin(fh, At::Pointer, buf, count, dt, false)
}

pub unsafe fn file_read_all_end(
    fh: MPI_File,
    _buf: *mut c_void,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    end(fh, st)
}

pub unsafe fn file_write_all_begin(
    fh: MPI_File,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    begin(fh, At::Pointer, buf.cast_mut(), count.into(), dt, true)
}

pub unsafe fn file_write_all_begin_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    begin(fh, At::Pointer, buf.cast_mut(), count, dt, true)
}

pub unsafe fn file_write_all_end(
    fh: MPI_File,
    _buf: *const c_void,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    end(fh, st)
}

pub unsafe fn file_read_at_all_begin(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *mut c_void,
    count: c_int,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    begin(fh, At::Offset(offset), buf, count.into(), dt, false)
}

pub unsafe fn file_read_at_all_begin_c(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    begin(fh, At::Offset(offset), buf, count, dt, false)
}

pub unsafe fn file_read_at_all_end(
    fh: MPI_File,
    _buf: *mut c_void,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    end(fh, st)
}

pub unsafe fn file_write_at_all_begin(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *const c_void,
    count: c_int,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    begin(
        fh,
        At::Offset(offset),
        buf.cast_mut(),
        count.into(),
        dt,
        true,
    )
}

pub unsafe fn file_write_at_all_begin_c(
    fh: MPI_File,
    offset: MPI_Offset,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
) -> Result<(), MpiError> {
    begin(fh, At::Offset(offset), buf.cast_mut(), count, dt, true)
}

pub unsafe fn file_write_at_all_end(
    fh: MPI_File,
    _buf: *const c_void,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    end(fh, st)
}

// ---- error handlers ----

pub fn file_set_errhandler(fh: MPI_File, eh: MPI_Errhandler) -> Result<(), MpiError> {
    let h = file::errhandler_for_file(eh)?;
    if fh == MPI_FILE_NULL {
        file::set_default_errhandler(h);
        return Ok(());
    }
    *file::get(fh)?.errhandler.lock() = h;
    Ok(())
}

pub unsafe fn file_get_errhandler(fh: MPI_File, eh: *mut MPI_Errhandler) -> Result<(), MpiError> {
    let (h, handler) = if fh == MPI_FILE_NULL {
        file::default_errhandler()
    } else {
        file::get(fh)?.errhandler.lock().clone()
    };
    errhandler::add_ref(h, handler);
    out(eh, h, "errhandler")
}

/// Runs `fh`'s error handler for `errorcode` (returns when the handler returns).
pub fn file_call_errhandler(fh: MPI_File, errorcode: c_int) -> Result<(), MpiError> {
    if fh != MPI_FILE_NULL {
        file::get(fh)?;
    }
    let (_, h) = file::errhandler_of(fh);
    let msg = entry::error_string(errorcode).unwrap_or_else(|| format!("error code {errorcode}"));
    errhandler::invoke(&h, Raise::File(fh), errorcode, &msg);
    Ok(())
}
