//! MPI-IO on local POSIX files (the objects in `crate::objects::file`): open/close/delete,
//! size, mode, group, info, atomicity and sync, views (any file type, `native` representation;
//! other data representations are `MPI_ERR_UNSUPPORTED_DATAREP`), the individual file pointer
//! (seek, position) and error handlers. The data accesses are in `fileio` (explicit offsets and
//! the individual pointer), `fileshared` (the shared pointer) and `filesplit` (split collectives).

use crate::cabi::{out, read, string, write_string};
use crate::entry::{self, MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::errhandler;
use crate::objects::file::{self, FileObj, View, FILES};
use crate::objects::{comm, datatype, group, info};
use std::ffi::{c_char, c_int};
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
pub(super) fn end_in_etypes(obj: &FileObj) -> Result<i64, MpiError> {
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
