//! MPI-IO through the shared file pointer: the ordered (collective) reads and writes on any
//! group, `MPI_File_seek_shared` and `_get_position_shared`, and the independent `*_shared`
//! accesses (on a group of one process), with their `_c` large-count forms.

use super::file::end_in_etypes;
use super::fileio::{access, blocking, immediate, At};
use crate::cabi::out;
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::file;
use crate::objects::{datatype, status};
use std::ffi::{c_int, c_void};

/// An ordered access (collective): the ranks' data follow one another in rank order from the
/// shared file pointer, which every rank then moves past all of it.
pub(super) unsafe fn ordered(
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

pub unsafe fn file_read_shared_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Shared, buf, count, dt, st, false)
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

pub unsafe fn file_iread_shared_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Shared, buf, count, dt, r, false)
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

pub unsafe fn file_read_ordered_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    ordered(fh, buf, count, dt, st, false)
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
