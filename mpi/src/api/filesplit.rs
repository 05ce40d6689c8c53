//! MPI-IO split collectives (`MPI_File_read_all_begin` / `_end`, ...): the begin does the access
//! at once and keeps its status on the file until the end; one split collective may be pending
//! on a file at a time. At the individual pointer, at explicit offsets and ordered.

use super::fileio::{access, At};
use super::fileshared::ordered;
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::file::{self, FileObj};
use crate::objects::status;
use std::ffi::c_void;

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

fn pending_split(obj: &FileObj) -> Result<(), MpiError> {
    if obj.split.lock().is_some() {
        return Err(MpiError::other(
            "a split collective operation is already pending on the file",
        ));
    }
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
