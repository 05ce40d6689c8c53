//! Error type of the safe Rust API: a status kind plus a human-readable message.

use std::ffi::CStr;
use std::fmt;

/// The one list of status codes: every error kind with its C status value (a fixed integer: part
/// of the C ABI), its name in `fmi.h` and the text `fmi_strerror` and `Display` give for it.
///
/// A callback macro: `status_table!(m)` expands to `m! { success: (0, FMI_SUCCESS, "success");
/// errors: (Kind, code, FMI_NAME, "text", "doc"), ... }`. `ErrorKind` and its tables are generated
/// here; `src/ffi/status.rs` writes the C enum `fmi_status` out (cbindgen, which makes `fmi.h`,
/// does not expand macros) and checks it against this list at compile time (every variant named
/// here with this value, and no other).
///
/// To add a status: append a row with the next integer (never reuse or renumber one), add the
/// same name and value to `fmi_status`, regenerate the header (`FMI_BLESS=1 cargo test --test
/// header`), and add it to python/fmi/_capi.py.
macro_rules! status_table {
    ($m:ident) => {
        $m! {
            success: (0, FMI_SUCCESS, "success");
            errors:
            (NullArg, 1, FMI_ERR_NULL_ARG, "a required pointer argument was NULL",
                "A required pointer argument was NULL."),
            (InvalidArg, 2, FMI_ERR_INVALID_ARG, "invalid argument",
                "An argument was out of range or inconsistent."),
            (Config, 3, FMI_ERR_CONFIG, "invalid or unreadable configuration",
                "The configuration is missing, malformed, or has an unknown key or wrong value."),
            (Timeout, 4, FMI_ERR_TIMEOUT, "operation timed out",
                "The call did not complete within the communicator's timeout."),
            (SizeMismatch, 5, FMI_ERR_SIZE_MISMATCH,
                "message size does not match the receive buffer",
                "A message's size differs from the receive buffer, or buffer sizes disagree."),
            (Channel, 6, FMI_ERR_CHANNEL, "communication channel error",
                "A channel (socket, rendezvous server, store) failed."),
            (PeerLost, 7, FMI_ERR_PEER_LOST, "connection to a peer was lost",
                "A peer closed its connection or died."),
            (Auth, 8, FMI_ERR_AUTH, "authentication failed",
                "Authentication with the rendezvous server or a peer failed."),
            (Unsupported, 9, FMI_ERR_UNSUPPORTED, "operation or feature not supported",
                "The operation or configured feature is not supported by this build."),
            (Internal, 10, FMI_ERR_INTERNAL, "internal error in libfmi",
                "A bug in libfmi (for example a caught panic)."),
            (Mismatch, 11, FMI_ERR_MISMATCH,
                "peers disagree on a setting that must be equal on every peer",
                "Peers disagree on a setting that must be equal everywhere (init digest, hint, pin)."),
            (Truncated, 12, FMI_ERR_TRUNCATE, "message longer than the receive buffer",
                "A message was longer than its receive buffer (it was consumed)."),
            (Limit, 13, FMI_ERR_LIMIT, "refused by a limit of the rendezvous server's relay",
                "The rendezvous server's relay refused or cut a circuit at one of its limits (circuits per job or per IP address, bytes or duration per circuit)."),
            (RankTaken, 14, FMI_ERR_RANK_TAKEN,
                "this rank of the communicator is held by another running process",
                "Another process already holds this rank of the communicator (a retried or duplicated invocation); the running job is not disturbed."),
        }
    };
}
pub(crate) use status_table;

/// One status code: its C value, its name in `fmi.h` and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusInfo {
    /// The `fmi_status` value.
    pub code: i32,
    /// The C name, e.g. `FMI_ERR_TIMEOUT`.
    pub name: &'static str,
    /// What `fmi_strerror` returns for it (NUL-terminated for C).
    pub message: &'static CStr,
}

/// The NUL-terminated form of a message literal, checked at compile time.
const fn c_text(s: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(s.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("a status message must not contain NUL"),
    }
}

macro_rules! define_error_kind {
    (success: ($s_code:literal, $s_name:ident, $s_msg:literal);
     errors: $(($kind:ident, $code:literal, $name:ident, $msg:literal, $doc:literal)),+ $(,)?) => {
        /// What went wrong, as one of the status codes the C API reports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $( #[doc = $doc] $kind, )+
        }

        impl ErrorKind {
            /// Every kind, in the order of their codes.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind),+];

            /// This kind's row of the status list.
            pub const fn info(self) -> StatusInfo {
                match self {
                    $(ErrorKind::$kind => StatusInfo {
                        code: $code,
                        name: stringify!($name),
                        message: c_text(concat!($msg, "\0")),
                    },)+
                }
            }

            /// The kind whose C status value is `code` (None for success and unknown values).
            pub const fn from_code(code: i32) -> Option<ErrorKind> {
                match code {
                    $($code => Some(ErrorKind::$kind),)+
                    _ => None,
                }
            }
        }

        /// Every status the C API reports, success first, in the order of their codes.
        pub const STATUS_TABLE: &[StatusInfo] = &[
            StatusInfo {
                code: $s_code,
                name: stringify!($s_name),
                message: c_text(concat!($s_msg, "\0")),
            },
            $(ErrorKind::$kind.info(),)+
        ];
    };
}
status_table!(define_error_kind);

/// What `fmi_strerror` returns for a value that is no status code.
pub const UNKNOWN_STATUS: &CStr = c"unknown status code";

/// The text of a C status value: the list's message, or [`UNKNOWN_STATUS`].
pub fn status_message(code: i32) -> &'static CStr {
    STATUS_TABLE
        .iter()
        .find(|s| s.code == code)
        .map_or(UNKNOWN_STATUS, |s| s.message)
}

impl ErrorKind {
    /// The C status value (`fmi_status`) of this kind.
    pub const fn code(self) -> i32 {
        self.info().code
    }

    /// The C name of this kind's status, e.g. `FMI_ERR_TIMEOUT`.
    pub const fn c_name(self) -> &'static str {
        self.info().name
    }

    /// Static text for the kind (what `fmi_strerror` prints).
    pub fn describe(self) -> &'static str {
        self.info()
            .message
            .to_str()
            .expect("status messages are ASCII")
    }
}

/// An error with its kind and a message naming the operation, peer and channel where known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Prefixes the message with context (e.g. the operation name), keeping the kind.
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArg, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }
    pub fn channel(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Channel, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind.describe())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_has_a_distinct_name_and_message_and_round_trips() {
        assert_eq!(STATUS_TABLE.len(), ErrorKind::ALL.len() + 1);
        assert_eq!(STATUS_TABLE[0].code, 0);
        assert_eq!(STATUS_TABLE[0].name, "FMI_SUCCESS");
        let codes: HashSet<i32> = STATUS_TABLE.iter().map(|s| s.code).collect();
        let names: HashSet<&str> = STATUS_TABLE.iter().map(|s| s.name).collect();
        let texts: HashSet<&CStr> = STATUS_TABLE.iter().map(|s| s.message).collect();
        assert_eq!(codes.len(), STATUS_TABLE.len(), "codes repeat");
        assert_eq!(names.len(), STATUS_TABLE.len(), "names repeat");
        assert_eq!(texts.len(), STATUS_TABLE.len(), "messages repeat");
        assert!(!texts.contains(UNKNOWN_STATUS));
        for (i, &k) in ErrorKind::ALL.iter().enumerate() {
            // Codes are 1, 2, 3, ... in list order: none skipped, none renumbered.
            assert_eq!(k.code(), i as i32 + 1, "{k:?}");
            assert_eq!(ErrorKind::from_code(k.code()), Some(k));
            assert!(k.c_name().starts_with("FMI_ERR_"), "{k:?}");
            assert_eq!(status_message(k.code()).to_str().unwrap(), k.describe());
            assert!(!k.describe().is_empty());
        }
        assert_eq!(ErrorKind::from_code(0), None);
        for unknown in [-1, ErrorKind::ALL.len() as i32 + 1, i32::MAX, i32::MIN] {
            assert_eq!(ErrorKind::from_code(unknown), None);
            assert_eq!(status_message(unknown), UNKNOWN_STATUS);
        }
        assert_eq!(status_message(0), c"success");
    }

    #[test]
    fn display_names_the_kind() {
        let e = Error::new(ErrorKind::Timeout, "recv from peer 1");
        assert_eq!(e.to_string(), "recv from peer 1 (operation timed out)");
    }
}
