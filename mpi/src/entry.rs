//! The entry guard every generated export goes through: it runs the implementation with panics
//! caught, turns an error into an MPI error code with a message (kept for `MPI_Error_string`),
//! and raises it on the error handler of the object the call is about ([`Raise`]).
//!
//! Error codes: a class (`MPI_ERR_*`, 0..=127) is returned as itself only by
//! `MPI_Comm_call_errhandler` and friends; an error of a procedure returns a code
//! `slot << 7 | class` (slot 1..=127, a ring of the most recent messages), so that
//! `MPI_Error_class(code)` is `code & 127` and `MPI_Error_string(code)` gives the message
//! ("MPI_Recv: ..."), naming the procedure.

use crate::gen::abi::*;
use crate::objects::errhandler;
use parking_lot::Mutex;
use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// An error of an MPI procedure: its class (`MPI_ERR_*`) and a message for the user. `raise`
/// redirects it to another object's error handler than the call's (e.g. the communicator of
/// a request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpiError {
    pub class: c_int,
    pub msg: String,
    pub raise: Option<Raise>,
}

impl MpiError {
    pub fn new(class: c_int, msg: impl Into<String>) -> Self {
        MpiError {
            class,
            msg: msg.into(),
            raise: None,
        }
    }
    /// Raises this error on `r`'s error handler instead of the call's object.
    pub fn on(mut self, r: Raise) -> Self {
        self.raise = Some(r);
        self
    }
    pub fn arg(msg: impl Into<String>) -> Self {
        MpiError::new(MPI_ERR_ARG, msg)
    }
    pub fn comm(msg: impl Into<String>) -> Self {
        MpiError::new(MPI_ERR_COMM, msg)
    }
    pub fn other(msg: impl Into<String>) -> Self {
        MpiError::new(MPI_ERR_OTHER, msg)
    }
    pub fn unsupported(msg: impl Into<String>) -> Self {
        MpiError::new(MPI_ERR_UNSUPPORTED_OPERATION, msg)
    }
}

impl std::fmt::Display for MpiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]", self.msg, class_name(self.class))
    }
}

/// The core's errors, by kind, in MPI's classes (the core's message is kept whole).
impl From<fmi::Error> for MpiError {
    fn from(e: fmi::Error) -> Self {
        use fmi::ErrorKind as K;
        let class = match e.kind() {
            K::NullArg | K::InvalidArg => MPI_ERR_ARG,
            K::SizeMismatch => MPI_ERR_COUNT,
            K::Truncated => MPI_ERR_TRUNCATE,
            K::Unsupported => MPI_ERR_UNSUPPORTED_OPERATION,
            K::Internal => MPI_ERR_INTERN,
            K::Mismatch => MPI_ERR_NOT_SAME,
            K::PeerLost => MPI_ERR_PROC_ABORTED,
            K::Timeout | K::Channel | K::Auth | K::Config | K::Limit | K::RankTaken => {
                MPI_ERR_OTHER
            }
        };
        let mut msg = e.to_string();
        if e.kind() == K::Timeout {
            msg.push_str(" (the MPI layer's bound on a blocking call is FMI_MPI_TIMEOUT seconds)");
        }
        MpiError::new(class, msg)
    }
}

/// The object whose error handler an error is raised on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raise {
    /// No object: MPI_COMM_SELF's handler (MPI-4), MPI_ERRORS_ARE_FATAL before init.
    Default,
    Comm(MPI_Comm),
    Win(MPI_Win),
    File(MPI_File),
    Session(MPI_Session),
}

impl Raise {
    /// The communicator behind an in/out handle (`MPI_Comm_free(&comm)`), read at entry.
    ///
    /// # Safety
    /// `p` is NULL or points to a readable handle.
    pub unsafe fn comm_at(p: *mut MPI_Comm) -> Raise {
        p.as_ref().map_or(Raise::Default, |c| Raise::Comm(*c))
    }
    /// # Safety
    /// `p` is NULL or points to a readable handle.
    pub unsafe fn win_at(p: *mut MPI_Win) -> Raise {
        p.as_ref().map_or(Raise::Default, |c| Raise::Win(*c))
    }
    /// # Safety
    /// `p` is NULL or points to a readable handle.
    pub unsafe fn file_at(p: *mut MPI_File) -> Raise {
        p.as_ref().map_or(Raise::Default, |c| Raise::File(*c))
    }
    /// # Safety
    /// `p` is NULL or points to a readable handle.
    pub unsafe fn session_at(p: *mut MPI_Session) -> Raise {
        p.as_ref().map_or(Raise::Default, |c| Raise::Session(*c))
    }
}

/// Runs the implementation of an `int`-returning procedure: MPI_SUCCESS, or the error code
/// after the error handler ran.
pub fn call(proc_: &'static str, raise: Raise, f: impl FnOnce() -> Result<(), MpiError>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => MPI_SUCCESS,
        Ok(Err(e)) => fail(proc_, raise, e),
        Err(p) => fail(proc_, raise, panicked(p)),
    }
}

/// Runs the implementation of a procedure returning a value (`MPI_Wtime`, `MPI_Comm_fromint`):
/// on an error the handler runs and `null` is returned.
pub fn value<T>(
    proc_: &'static str,
    raise: Raise,
    null: T,
    f: impl FnOnce() -> Result<T, MpiError>,
) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            fail(proc_, raise, e);
            null
        }
        Err(p) => {
            fail(proc_, raise, panicked(p));
            null
        }
    }
}

/// Runs the implementation of a tool-interface procedure (`MPI_T_*`): MPI_SUCCESS or the
/// error's class (an `MPI_T_ERR_*` value), with no error handler, as the standard says.
pub fn tool(proc_: &'static str, f: impl FnOnce() -> Result<(), MpiError>) -> c_int {
    let e = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return MPI_SUCCESS,
        Ok(Err(e)) => e,
        Err(p) => MpiError::new(MPI_T_ERR_INVALID, panicked(p).msg),
    };
    tracing::debug!("{proc_}: {} [{}]", e.msg, class_name(e.class));
    e.class
}

/// A tool-interface procedure without an implementation.
pub fn tool_unsupported(proc_: &'static str) -> c_int {
    tracing::debug!("{proc_}: not implemented by libfmi's MPI library");
    MPI_T_ERR_NOT_SUPPORTED
}

/// A procedure without an implementation.
pub fn unsupported(proc_: &'static str, raise: Raise) -> c_int {
    fail(proc_, raise, unsupported_error(proc_))
}

/// A value-returning procedure without an implementation.
pub fn unsupported_value<T>(proc_: &'static str, raise: Raise, null: T) -> T {
    fail(proc_, raise, unsupported_error(proc_));
    null
}

fn unsupported_error(proc_: &str) -> MpiError {
    MpiError::unsupported(format!(
        "{proc_} is not implemented by libfmi's MPI library (see docs/mpi-coverage.md)"
    ))
}

fn panicked(p: Box<dyn std::any::Any + Send>) -> MpiError {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    MpiError::new(
        MPI_ERR_INTERN,
        format!("internal error (caught panic: {what})"),
    )
}

/// Records the error, runs the handler of its object and returns the code.
fn fail(proc_: &'static str, raise: Raise, e: MpiError) -> c_int {
    let raise = e.raise.unwrap_or(raise);
    let msg = if e.msg.starts_with(proc_) {
        e.msg
    } else {
        format!("{proc_}: {}", e.msg)
    };
    let code = record(e.class, &msg);
    errhandler::raise(raise, code, &msg)
}

// ---- error codes and messages ----

const SLOTS: usize = 127;
const CLASS_BITS: u32 = 7;

struct Ring {
    next: usize,
    msgs: Vec<Option<(c_int, String)>>,
}

static RING: Mutex<Ring> = Mutex::new(Ring {
    next: 0,
    msgs: Vec::new(),
});

/// Stores a message for an error of `class` and returns its code.
pub fn record(class: c_int, msg: &str) -> c_int {
    let class = if (0..1 << CLASS_BITS).contains(&class) {
        class
    } else {
        MPI_ERR_OTHER
    };
    let mut r = RING.lock();
    if r.msgs.is_empty() {
        r.msgs = vec![None; SLOTS];
    }
    let slot = r.next;
    r.next = (slot + 1) % SLOTS;
    let code = ((slot as c_int + 1) << CLASS_BITS) | class;
    r.msgs[slot] = Some((code, msg.to_string()));
    code
}

/// The class of an error code or class, or None for a value that is neither.
pub fn class_of(code: c_int) -> Option<c_int> {
    if code < 0 {
        return None;
    }
    if let Some(c) = crate::objects::errclass::user_code_class(code) {
        return Some(c);
    }
    if crate::objects::errclass::is_user_class(code) {
        return Some(code);
    }
    if code < 1 << CLASS_BITS {
        return is_class(code).then_some(code);
    }
    let class = code & ((1 << CLASS_BITS) - 1);
    let slot = (code >> CLASS_BITS) as usize;
    ((1..=SLOTS).contains(&slot) && is_class(class)).then_some(class)
}

fn is_class(c: c_int) -> bool {
    ERROR_CLASSES.iter().any(|&(v, _)| v == c) || crate::objects::errclass::is_user_class(c)
}

/// The text of an error code (the recorded message) or class (its name and meaning).
pub fn error_string(code: c_int) -> Option<String> {
    if let Some(s) = crate::objects::errclass::user_string(code) {
        return Some(s);
    }
    let class = class_of(code)?;
    if code >= 1 << CLASS_BITS {
        let r = RING.lock();
        let slot = (code >> CLASS_BITS) as usize - 1;
        if let Some(Some((c, m))) = r.msgs.get(slot) {
            if *c == code {
                return Some(format!("{m} [{}]", class_name(class)));
            }
        }
        return Some(format!(
            "{} (the message of this error code was overwritten by later errors)",
            class_text(class)
        ));
    }
    Some(class_text(class))
}

/// `MPI_ERR_COMM`, ... for a class value.
pub fn class_name(class: c_int) -> &'static str {
    ERROR_CLASSES
        .iter()
        .find(|&&(v, _)| v == class)
        .map_or("user-defined error class", |&(_, n)| n)
}

fn class_text(class: c_int) -> String {
    let what = match class {
        MPI_SUCCESS => "no error",
        MPI_ERR_BUFFER => "invalid buffer pointer",
        MPI_ERR_COUNT => "invalid count argument",
        MPI_ERR_TYPE => "invalid datatype",
        MPI_ERR_TAG => "invalid tag",
        MPI_ERR_COMM => "invalid communicator",
        MPI_ERR_RANK => "invalid rank",
        MPI_ERR_REQUEST => "invalid request",
        MPI_ERR_ROOT => "invalid root",
        MPI_ERR_GROUP => "invalid group",
        MPI_ERR_OP => "invalid operation",
        MPI_ERR_ARG => "invalid argument",
        MPI_ERR_TRUNCATE => "message truncated",
        MPI_ERR_OTHER => "other error",
        MPI_ERR_INTERN => "internal error",
        MPI_ERR_IN_STATUS => "error code is in status",
        MPI_ERR_PENDING => "pending request",
        MPI_ERR_INFO_KEY => "invalid info key",
        MPI_ERR_INFO_VALUE => "invalid info value",
        MPI_ERR_INFO_NOKEY => "info key not defined",
        MPI_ERR_INFO => "invalid info object",
        MPI_ERR_KEYVAL => "invalid attribute key",
        MPI_ERR_NOT_SAME => "arguments differ between processes",
        MPI_ERR_UNSUPPORTED_OPERATION => "operation not supported",
        MPI_ERR_PROC_ABORTED => "a peer process aborted or was lost",
        MPI_ERR_ERRHANDLER => "invalid error handler",
        _ => "",
    };
    if what.is_empty() {
        class_name(class).to_string()
    } else {
        format!("{} ({what})", class_name(class))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_their_class_and_message() {
        let c = record(MPI_ERR_RANK, "MPI_Send: rank 9 out of range");
        assert_ne!(c, MPI_ERR_RANK);
        assert_eq!(class_of(c), Some(MPI_ERR_RANK));
        assert!(error_string(c).unwrap().starts_with("MPI_Send: rank 9"));
        assert_eq!(class_of(MPI_ERR_COMM), Some(MPI_ERR_COMM));
        assert!(error_string(MPI_ERR_COMM)
            .unwrap()
            .contains("invalid communicator"));
        assert_eq!(class_of(-5), None);
        assert_eq!(class_of(100), None);
        assert!(c <= MPI_ERR_LASTCODE);
    }
}
