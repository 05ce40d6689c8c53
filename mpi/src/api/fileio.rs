//! MPI-IO data access at explicit offsets and at the individual file pointer: the one access
//! routine every read and write goes through (`access`, also used by the shared-pointer and
//! split collective forms of `fileshared` and `filesplit`), and the blocking, collective and
//! non-blocking reads and writes with their `_c` large-count forms.

use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::file::{self, FileObj};
use crate::objects::request::{self, NullOp};
use crate::objects::{datatype, status};
use std::ffi::c_void;

/// Where an access starts: an explicit offset, the individual or the shared file pointer.
#[derive(Clone, Copy)]
pub(super) enum At {
    Offset(MPI_Offset),
    Pointer,
    Shared,
}

/// Reads (`buf` is written) or writes `count` elements of `dt`; the status of the access.
pub(super) unsafe fn access(
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

pub(super) unsafe fn blocking(
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
pub(super) unsafe fn immediate(
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

pub unsafe fn file_read_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Pointer, buf, count, dt, st, false)
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

pub unsafe fn file_write_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    blocking(fh, At::Pointer, buf.cast_mut(), count, dt, st, true)
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

pub unsafe fn file_iread_c(
    fh: MPI_File,
    buf: *mut c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Pointer, buf, count, dt, r, false)
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

pub unsafe fn file_iwrite_c(
    fh: MPI_File,
    buf: *const c_void,
    count: MPI_Count,
    dt: MPI_Datatype,
    r: *mut MPI_Request,
) -> Result<(), MpiError> {
    immediate(fh, At::Pointer, buf.cast_mut(), count, dt, r, true)
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
