//! Checked access to the C arguments of MPI procedures: every pointer is checked for NULL,
//! every count for range, before it is used; strings are copied with their bounds.

use crate::entry::MpiError;
use crate::gen::abi::*;
use std::ffi::{c_char, c_int, CStr};

/// Writes `v` to the output argument `p` (`what` names it in the error).
///
/// # Safety
/// `p` is NULL or valid for a write of `T`.
pub unsafe fn out<T>(p: *mut T, v: T, what: &str) -> Result<(), MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(format!("{what} is NULL")));
    }
    p.write(v);
    Ok(())
}

/// Reads the input argument `p`.
///
/// # Safety
/// `p` is NULL or valid for a read of `T`.
pub unsafe fn read<T: Copy>(p: *const T, what: &str) -> Result<T, MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(format!("{what} is NULL")));
    }
    Ok(p.read())
}

/// The array argument `p` of `n` elements (NULL allowed when `n` is 0).
///
/// # Safety
/// `p` is NULL or valid for reads of `n` elements.
pub unsafe fn slice<'a, T>(p: *const T, n: usize, what: &str) -> Result<&'a [T], MpiError> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(MpiError::arg(format!("{what} is NULL")));
    }
    Ok(std::slice::from_raw_parts(p, n))
}

/// The output array argument `p` of `n` elements (NULL allowed when `n` is 0).
///
/// # Safety
/// `p` is NULL or valid for writes of `n` elements.
pub unsafe fn slice_mut<'a, T>(p: *mut T, n: usize, what: &str) -> Result<&'a mut [T], MpiError> {
    if n == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(MpiError::arg(format!("{what} is NULL")));
    }
    Ok(std::slice::from_raw_parts_mut(p, n))
}

/// A non-negative count.
pub fn count(n: c_int, what: &str) -> Result<usize, MpiError> {
    usize::try_from(n)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("{what} = {n} is negative")))
}

/// A NUL-terminated string argument of at most `max` bytes (without the NUL).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
pub unsafe fn string(p: *const c_char, max: usize, what: &str) -> Result<String, MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(format!("{what} is NULL")));
    }
    let s = CStr::from_ptr(p);
    if s.to_bytes().len() > max {
        return Err(MpiError::arg(format!(
            "{what} is {} bytes long (at most {max})",
            s.to_bytes().len()
        )));
    }
    Ok(s.to_string_lossy().into_owned())
}

/// Copies `s` into the caller's buffer of `cap` bytes (truncated to `cap - 1`, NUL-terminated)
/// and its length into `len` (when not NULL).
///
/// # Safety
/// `buf` is NULL or valid for `cap` bytes; `len` is NULL or valid for a write.
pub unsafe fn write_string(
    buf: *mut c_char,
    cap: usize,
    s: &str,
    len: *mut c_int,
    what: &str,
) -> Result<(), MpiError> {
    if buf.is_null() {
        return Err(MpiError::arg(format!("{what} is NULL")));
    }
    let n = s.len().min(cap.saturating_sub(1));
    std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), buf, n);
    if cap > 0 {
        *buf.add(n) = 0;
    }
    if !len.is_null() {
        *len = n as c_int;
    }
    Ok(())
}
