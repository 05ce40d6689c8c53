//! Status codes, their texts, the thread-local last error message, and the library version.

use crate::error::{status_message, status_table, ErrorKind};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};

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
    /// A message received with `fmi_recv_tag` or `fmi_sendrecv` was longer than the receive
    /// buffer. The message was consumed; the buffer holds its first bytes.
    FMI_ERR_TRUNCATE = 12,
    /// The rendezvous server's relay refused a circuit or cut it at one of its limits: circuits
    /// per job or per IP address, bytes or duration per circuit (the message names the limit).
    FMI_ERR_LIMIT = 13,
    /// Another process already holds this rank of the communicator (a retried or duplicated
    /// invocation, at the rendezvous server or in the store's rank claim). The running job is not
    /// disturbed.
    FMI_ERR_RANK_TAKEN = 14,
}

// `fmi_status` is written out above because cbindgen (which generates fmi.h) does not expand
// macros; everything else about a status comes from the one list in `crate::error`
// (`status_table!`). This expansion ties the two together at compile time: every variant must be
// in the list (the `match` is exhaustive), with the list's value (the `const` assertions).
macro_rules! check_status_enum {
    (success: ($s_code:literal, $s_name:ident, $s_msg:literal);
     errors: $(($kind:ident, $code:literal, $name:ident, $msg:literal, $doc:literal)),+ $(,)?) => {
        const _: () = assert!(fmi_status::$s_name as i32 == $s_code);
        $(const _: () = assert!(fmi_status::$name as i32 == $code);)+

        impl fmi_status {
            pub(crate) fn from_kind(k: ErrorKind) -> Self {
                match k {
                    $(ErrorKind::$kind => fmi_status::$name,)+
                }
            }

            /// The error kind of a status (None for success).
            pub fn kind(self) -> Option<ErrorKind> {
                match self {
                    fmi_status::$s_name => None,
                    $(fmi_status::$name => Some(ErrorKind::$kind),)+
                }
            }
        }
    };
}
status_table!(check_status_enum);

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
    status_message(status).as_ptr()
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
    use super::*;
    use crate::error::STATUS_TABLE;
    use std::ffi::CStr;

    #[test]
    fn c_enum_and_strerror_follow_the_status_list() {
        for s in STATUS_TABLE {
            let text = unsafe { CStr::from_ptr(fmi_strerror(s.code)) };
            assert_eq!(text, s.message, "{}", s.name);
        }
        for &k in ErrorKind::ALL {
            let st = fmi_status::from_kind(k);
            assert_eq!(st as i32, k.code(), "{k:?}");
            assert_eq!(format!("{st:?}"), k.c_name());
            assert_eq!(st.kind(), Some(k));
        }
        assert_eq!(fmi_status::FMI_SUCCESS.kind(), None);
        let past_the_list = STATUS_TABLE.iter().map(|s| s.code).max().unwrap() + 1;
        for unknown in [-1, past_the_list, 1000] {
            let text = unsafe { CStr::from_ptr(fmi_strerror(unknown)) };
            assert_eq!(text.to_str().unwrap(), "unknown status code");
        }
    }

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
