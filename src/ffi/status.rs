//! Status codes, their texts, the thread-local last error message, and the library version.

use crate::error::ErrorKind;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};

/// Result of every libfmi call. `FMI_SUCCESS` is 0; on any other value,
/// `fmi_last_error_message()` describes what failed (operation, peer, channel, elapsed time).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum fmi_status {
    /// The call succeeded.
    FMI_SUCCESS = 0,
    /// A required pointer argument was NULL.
    FMI_ERR_NULL_ARG = 1,
    /// An argument was out of range or inconsistent (peer id, datatype, op, hint, handle, ...).
    FMI_ERR_INVALID_ARG = 2,
    /// The configuration file is missing, malformed, or has an unknown key or wrong value.
    FMI_ERR_CONFIG = 3,
    /// The call did not complete within the communicator's timeout.
    FMI_ERR_TIMEOUT = 4,
    /// A message's size differs from the receive buffer, or buffer sizes disagree.
    FMI_ERR_SIZE_MISMATCH = 5,
    /// A channel (socket, rendezvous server, store) failed.
    FMI_ERR_CHANNEL = 6,
    /// A peer closed its connection or died.
    FMI_ERR_PEER_LOST = 7,
    /// Authentication with the rendezvous server or a peer failed.
    FMI_ERR_AUTH = 8,
    /// The operation or configured feature is not supported by this build.
    FMI_ERR_UNSUPPORTED = 9,
    /// A bug in libfmi (for example a caught panic). Please report it.
    FMI_ERR_INTERNAL = 10,
    /// Peers disagree on a setting that must be equal on every peer: the channel-selection
    /// configuration at init (enabled backends, `model` section, ring threshold, library
    /// version), or the value of a collective `fmi_set_hint` / `fmi_set_channel`. Every peer gets
    /// this status and the setting is unchanged.
    FMI_ERR_MISMATCH = 11,
}

impl fmi_status {
    pub(crate) fn from_kind(k: ErrorKind) -> Self {
        match k {
            ErrorKind::NullArg => fmi_status::FMI_ERR_NULL_ARG,
            ErrorKind::InvalidArg => fmi_status::FMI_ERR_INVALID_ARG,
            ErrorKind::Config => fmi_status::FMI_ERR_CONFIG,
            ErrorKind::Timeout => fmi_status::FMI_ERR_TIMEOUT,
            ErrorKind::SizeMismatch => fmi_status::FMI_ERR_SIZE_MISMATCH,
            ErrorKind::Channel => fmi_status::FMI_ERR_CHANNEL,
            ErrorKind::PeerLost => fmi_status::FMI_ERR_PEER_LOST,
            ErrorKind::Auth => fmi_status::FMI_ERR_AUTH,
            ErrorKind::Unsupported => fmi_status::FMI_ERR_UNSUPPORTED,
            ErrorKind::Internal => fmi_status::FMI_ERR_INTERNAL,
            ErrorKind::Mismatch => fmi_status::FMI_ERR_MISMATCH,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    tracing::debug!("{msg}");
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Static English text for a status code. Any integer is accepted; unknown codes give
/// "unknown status code". The string is never NULL and must not be freed.
#[no_mangle]
pub extern "C" fn fmi_strerror(status: c_int) -> *const c_char {
    let s: &'static CStr = match status {
        0 => c"success",
        1 => c"a required pointer argument was NULL",
        2 => c"invalid argument",
        3 => c"invalid or unreadable configuration",
        4 => c"operation timed out",
        5 => c"message size does not match the receive buffer",
        6 => c"communication channel error",
        7 => c"connection to a peer was lost",
        8 => c"authentication failed",
        9 => c"operation or feature not supported",
        10 => c"internal error in libfmi",
        11 => c"peers disagree on a setting that must be equal on every peer",
        _ => c"unknown status code",
    };
    s.as_ptr()
}

/// Detail of the last failed libfmi call on the calling thread: the function, operation, peer,
/// channel and elapsed time where known. Empty before any failure. Successful calls leave it
/// unchanged. The pointer stays valid until the next failing libfmi call on the same thread.
#[no_mangle]
pub extern "C" fn fmi_last_error_message() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Major version of the library.
pub const FMI_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const FMI_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const FMI_VERSION_PATCH: u32 = 0;

/// The library version as "MAJOR.MINOR.PATCH". Never NULL; must not be freed.
#[no_mangle]
pub extern "C" fn fmi_version() -> *const c_char {
    c"0.1.0".as_ptr()
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_matches_cargo() {
        let v = unsafe { std::ffi::CStr::from_ptr(super::fmi_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        assert_eq!(
            format!(
                "{}.{}.{}",
                super::FMI_VERSION_MAJOR,
                super::FMI_VERSION_MINOR,
                super::FMI_VERSION_PATCH
            ),
            env!("CARGO_PKG_VERSION")
        );
    }
}
