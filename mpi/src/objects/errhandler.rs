//! Error handlers: the predefined ones (`MPI_ERRORS_ARE_FATAL`, `MPI_ERRORS_ABORT`,
//! `MPI_ERRORS_RETURN`) and the program's (`MPI_Comm_create_errhandler`, ...), and raising an
//! error on the handler of the object it is about.
//!
//! `MPI_ERRORS_ARE_FATAL` and `MPI_ERRORS_ABORT` print the message (naming the procedure) and
//! end this process with a non-zero exit status; `fmirun` (like `mpiexec`) then stops the other
//! processes of the job. Errors about no object, or about an invalid communicator, are raised on
//! `MPI_COMM_SELF` (MPI-4); files default to `MPI_ERRORS_RETURN` as the standard says (the
//! handler of `MPI_FILE_NULL`, which the program may change: `crate::objects::file`).

use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::handles::Table;
use std::ffi::{c_int, c_void};
use std::io::Write;
use std::sync::Arc;

/// What an error handler does.
#[derive(Debug)]
pub enum Handler {
    Fatal,
    Abort,
    Return,
    Comm(MPI_Comm_errhandler_function),
    CommX {
        f: MPIX_Comm_errhandler_function_x,
        destructor: Option<MPIX_Destructor_function>,
        extra: usize,
    },
    Win(MPI_Win_errhandler_function),
    File(MPI_File_errhandler_function),
    Session(MPI_Session_errhandler_function),
}

impl Drop for Handler {
    fn drop(&mut self) {
        if let Handler::CommX {
            destructor: Some(d),
            extra,
            ..
        } = self
        {
            // SAFETY: the program's destructor, given with its own extra state.
            unsafe { d(*extra as *mut c_void) };
        }
    }
}

/// The error handlers by handle.
pub static ERRHANDLERS: Table<Handler> = Table::new("error handler");

/// The kinds of object an error handler is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Comm,
    Win,
    File,
    Session,
}

impl Kind {
    fn plural(self) -> &'static str {
        match self {
            Kind::Comm => "communicators",
            Kind::Win => "windows",
            Kind::File => "files",
            Kind::Session => "sessions",
        }
    }
}

impl Handler {
    /// The kind a user's handler was made for; None for the predefined ones, which fit all.
    fn kind(&self) -> Option<Kind> {
        match self {
            Handler::Fatal | Handler::Abort | Handler::Return => None,
            Handler::Comm(_) | Handler::CommX { .. } => Some(Kind::Comm),
            Handler::Win(_) => Some(Kind::Win),
            Handler::File(_) => Some(Kind::File),
            Handler::Session(_) => Some(Kind::Session),
        }
    }
}

/// The error handler `h` for attaching to an object of kind `k`: a predefined one, or one
/// made by that kind's `MPI_*_create_errhandler`.
pub fn for_kind(h: MPI_Errhandler, k: Kind) -> Result<(MPI_Errhandler, Arc<Handler>), MpiError> {
    let obj = ERRHANDLERS.get(h.0).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_ERRHANDLER,
            format!("{:#x} is not a live error handler", h.0),
        )
    })?;
    match obj.kind() {
        Some(made) if made != k => Err(MpiError::new(
            MPI_ERR_ERRHANDLER,
            format!(
                "the error handler was made for {}, not {}",
                made.plural(),
                k.plural()
            ),
        )),
        _ => Ok((h, obj)),
    }
}

/// Puts the predefined handlers at their fixed values (idempotent).
pub fn install_predefined() {
    for (h, obj) in [
        (MPI_ERRORS_ARE_FATAL, Handler::Fatal),
        (MPI_ERRORS_ABORT, Handler::Abort),
        (MPI_ERRORS_RETURN, Handler::Return),
    ] {
        if !ERRHANDLERS.contains(h.0) {
            ERRHANDLERS.insert_at(h.0, obj);
        }
    }
}

/// The handler an object of `raise`'s kind uses when it has none of its own.
fn fallback(raise: Raise) -> Arc<Handler> {
    match raise {
        Raise::File(_) => Arc::new(Handler::Return),
        _ => crate::objects::comm::errhandler_of(MPI_COMM_SELF)
            .map(|(_, h)| h)
            .unwrap_or_else(|| Arc::new(Handler::Fatal)),
    }
}

/// Runs the error handler of `raise`'s object for `code` (message `msg`) and returns `code`
/// (when the handler returns).
pub fn raise(raise: Raise, code: c_int, msg: &str) -> c_int {
    let handler = match raise {
        Raise::Comm(c) => crate::objects::comm::errhandler_of(c).map(|(_, h)| h),
        Raise::Session(s) => crate::objects::session::errhandler_of(s).map(|(_, h)| h),
        Raise::Win(w) => crate::objects::win::errhandler_of(w).map(|(_, h)| h),
        Raise::File(f) => Some(crate::objects::file::errhandler_of(f).1),
        _ => None,
    }
    .unwrap_or_else(|| fallback(raise));
    invoke(&handler, raise, code, msg);
    code
}

/// Calls `handler` for `code`.
pub fn invoke(handler: &Handler, raise: Raise, code: c_int, msg: &str) {
    match handler {
        Handler::Return => {}
        Handler::Fatal | Handler::Abort => {
            let what = if matches!(handler, Handler::Fatal) {
                "MPI_ERRORS_ARE_FATAL"
            } else {
                "MPI_ERRORS_ABORT"
            };
            let text = crate::entry::error_string(code).unwrap_or_else(|| msg.to_string());
            abort_process(
                &format!("{text}\n(error handler {what}: aborting the job)"),
                1,
            );
        }
        Handler::Comm(f) => {
            let mut comm = match raise {
                Raise::Comm(c) => c,
                _ => MPI_COMM_SELF,
            };
            let mut code = code;
            // SAFETY: the program's handler, called as MPI calls it.
            unsafe { f(&mut comm, &mut code) };
        }
        Handler::CommX { f, extra, .. } => {
            let comm = match raise {
                Raise::Comm(c) => c,
                _ => MPI_COMM_SELF,
            };
            // SAFETY: the program's handler with its own extra state.
            unsafe { f(comm, code, *extra as *mut c_void) };
        }
        Handler::Win(f) => {
            if let Raise::Win(mut w) = raise {
                let mut code = code;
                // SAFETY: the program's handler.
                unsafe { f(&mut w, &mut code) };
            }
        }
        Handler::File(f) => {
            if let Raise::File(mut fh) = raise {
                let mut code = code;
                // SAFETY: the program's handler.
                unsafe { f(&mut fh, &mut code) };
            }
        }
        Handler::Session(f) => {
            if let Raise::Session(mut s) = raise {
                let mut code = code;
                // SAFETY: the program's handler.
                unsafe { f(&mut s, &mut code) };
            }
        }
    }
}

/// Prints `msg` with this process's rank and ends the process with `status` (non-zero), after
/// flushing the program's C stdio buffers.
pub fn abort_process(msg: &str, status: c_int) -> ! {
    let rank = crate::objects::comm::world_rank()
        .map(|r| format!(" (rank {r})"))
        .unwrap_or_default();
    let _ = writeln!(std::io::stderr(), "MPI error{rank}: {msg}");
    let status = if status == 0 { 1 } else { status };
    // SAFETY: fflush(NULL) flushes every C output stream; exit runs the atexit handlers.
    unsafe {
        libc::fflush(std::ptr::null_mut());
    }
    std::process::exit(status & 0xff | i32::from(status & 0xff == 0))
}

/// The program's references to each user handler handle beyond the first (MPI_Comm_get_errhandler
/// hands out a new reference; MPI_Errhandler_free releases one).
static EXTRA_REFS: parking_lot::Mutex<std::collections::BTreeMap<usize, usize>> =
    parking_lot::Mutex::new(std::collections::BTreeMap::new());

/// One more reference of the program to `h` (made live again if the program had freed it).
pub fn add_ref(h: MPI_Errhandler, obj: Arc<Handler>) {
    if crate::handles::is_predefined(h.0) {
        return;
    }
    if ERRHANDLERS.contains(h.0) {
        *EXTRA_REFS.lock().entry(h.0).or_insert(0) += 1;
    } else {
        ERRHANDLERS.insert_arc_at(h.0, obj);
    }
}

/// Releases one reference of the program to `h`; false when `h` is not live.
pub fn release(h: MPI_Errhandler) -> bool {
    if !ERRHANDLERS.contains(h.0) {
        return false;
    }
    let mut refs = EXTRA_REFS.lock();
    match refs.get_mut(&h.0) {
        Some(n) if *n > 0 => {
            *n -= 1;
            if *n == 0 {
                refs.remove(&h.0);
            }
        }
        _ => {
            ERRHANDLERS.remove(h.0);
        }
    }
    true
}
