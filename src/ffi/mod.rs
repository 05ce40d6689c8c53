//! The C API. It only translates: null and argument checks, handle lookup, the panic boundary and
//! status codes; the work is done by the safe [`crate::Communicator`].
#![allow(non_camel_case_types)]

// The order below is the order of the generated header.
/// Status codes, error messages, version.
pub mod status;

/// Datatype and hint codes.
pub mod types;

/// Reduction operators.
pub mod ops;

/// Communicator handles.
pub mod handle;

/// Creating, configuring and releasing communicators.
pub mod comm;

/// Channel selection and per-channel counters.
pub mod channel;

/// Point-to-point messages.
pub mod p2p;

/// Non-blocking collectives.
pub mod icollectives;
/// Non-blocking point-to-point: requests.
pub mod request;
/// Tagged point-to-point messages: tags, wildcards, probe, send-receive.
pub mod tagged;

/// Collective operations.
pub mod collectives;

/// Collectives with a block per peer of any size (v-collectives), reduce-scatter, exscan.
pub mod vcollectives;

use crate::error::{Error, ErrorKind, Result};
use status::{fmi_status, set_last_error};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs the body of a C function: errors become status codes with a thread-local message, and a
/// panic becomes `FMI_ERR_INTERNAL` instead of unwinding into C.
pub(crate) fn guard(func: &'static str, body: impl FnOnce() -> Result<()>) -> fmi_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => fmi_status::FMI_SUCCESS,
        Ok(Err(e)) => {
            set_last_error(&format!("{func}: {}", e.message()));
            fmi_status::from_kind(e.kind())
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("{func}: internal error (panic: {what})"));
            fmi_status::FMI_ERR_INTERNAL
        }
    }
}

pub(crate) fn null(what: &str) -> Error {
    Error::new(ErrorKind::NullArg, format!("{what} is NULL"))
}

/// Byte length of `count` elements of `elem_size`, refusing sizes no buffer can have.
pub(crate) fn byte_len(count: usize, elem_size: usize, what: &str) -> Result<usize> {
    count
        .checked_mul(elem_size)
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(|| Error::invalid(format!("{what}: count {count} is too large")))
}

/// `FMI_IN_PLACE` where a real buffer is needed: each function handles the forms it accepts
/// before it asks for its buffers.
fn not_in_place(p: *const c_void, what: &str) -> Result<()> {
    if collectives::is_in_place(p) {
        return Err(Error::invalid(format!(
            "{what} is FMI_IN_PLACE, which this call does not accept here (fmi.h lists where it is)"
        )));
    }
    Ok(())
}

/// A read-only view of a C buffer. NULL and `FMI_IN_PLACE` are refused (NULL is allowed for
/// zero bytes).
///
/// # Safety
/// `p` must point to `len` readable bytes that stay valid and unmodified for `'a`.
pub(crate) unsafe fn in_buf<'a>(p: *const c_void, len: usize, what: &str) -> Result<&'a [u8]> {
    not_in_place(p, what)?;
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(null(what));
    }
    Ok(std::slice::from_raw_parts(p as *const u8, len))
}

/// A writable view of a C buffer. NULL and `FMI_IN_PLACE` are refused (NULL is allowed for
/// zero bytes).
///
/// # Safety
/// `p` must point to `len` writable bytes not otherwise accessed during `'a`.
pub(crate) unsafe fn out_buf<'a>(p: *mut c_void, len: usize, what: &str) -> Result<&'a mut [u8]> {
    not_in_place(p, what)?;
    if len == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(null(what));
    }
    Ok(std::slice::from_raw_parts_mut(p as *mut u8, len))
}

/// Whether two byte ranges share memory (then the send data is copied first).
pub(crate) fn overlaps(a: *const c_void, alen: usize, b: *const c_void, blen: usize) -> bool {
    if alen == 0 || blen == 0 || a.is_null() || b.is_null() {
        return false;
    }
    let (a, b) = (a as usize, b as usize);
    a < b.saturating_add(blen) && b < a.saturating_add(alen)
}

/// Writes through an out-pointer after a null check.
///
/// # Safety
/// `p`, if not NULL, must be valid for writes of `T`.
pub(crate) unsafe fn write_out<T>(p: *mut T, v: T, what: &str) -> Result<()> {
    if p.is_null() {
        return Err(null(what));
    }
    p.write(v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn panic_becomes_internal_error_with_message() {
        let s = guard("fmi_test", || panic!("boom"));
        assert_eq!(s, fmi_status::FMI_ERR_INTERNAL);
        let msg = unsafe { CStr::from_ptr(status::fmi_last_error_message()) };
        assert_eq!(
            msg.to_str().unwrap(),
            "fmi_test: internal error (panic: boom)"
        );
    }

    #[test]
    fn errors_map_to_status_and_message() {
        let s = guard("fmi_test", || Err(Error::new(ErrorKind::Timeout, "waited")));
        assert_eq!(s, fmi_status::FMI_ERR_TIMEOUT);
        let msg = unsafe { CStr::from_ptr(status::fmi_last_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "fmi_test: waited");
        assert_eq!(guard("fmi_test", || Ok(())), fmi_status::FMI_SUCCESS);
    }

    #[test]
    fn overlap_detection() {
        let b = [0u8; 16];
        let p = b.as_ptr() as *const c_void;
        let q = unsafe { b.as_ptr().add(8) } as *const c_void;
        assert!(overlaps(p, 16, q, 8));
        assert!(!overlaps(p, 8, q, 8));
        assert!(!overlaps(p, 0, q, 8));
    }
}
