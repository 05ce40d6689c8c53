//! Error handlers, error classes, codes and strings.

use crate::cabi::{out, read, string, write_string};
use crate::entry::{self, MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::comm;
use crate::objects::errclass;
use crate::objects::errhandler::{self, Handler, ERRHANDLERS};
use std::ffi::{c_char, c_int, c_void};

fn new_handler(h: Handler, out_h: *mut MPI_Errhandler) -> Result<(), MpiError> {
    if out_h.is_null() {
        return Err(MpiError::arg("errhandler is NULL"));
    }
    let v = MPI_Errhandler(ERRHANDLERS.insert(h));
    // SAFETY: checked non-NULL; the caller's output argument.
    unsafe { out_h.write(v) };
    Ok(())
}

fn required<T>(f: Option<T>, what: &str) -> Result<T, MpiError> {
    f.ok_or_else(|| MpiError::arg(format!("{what} is NULL")))
}

pub unsafe fn comm_create_errhandler(
    f: Option<MPI_Comm_errhandler_function>,
    eh: *mut MPI_Errhandler,
) -> Result<(), MpiError> {
    new_handler(Handler::Comm(required(f, "comm_errhandler_fn")?), eh)
}

pub unsafe fn mpix_comm_create_errhandler_x(
    f: Option<MPIX_Comm_errhandler_function_x>,
    destructor: Option<MPIX_Destructor_function>,
    extra_state: *mut c_void,
    eh: *mut MPI_Errhandler,
) -> Result<(), MpiError> {
    let f = required(f, "comm_errhandler_fn_x")?;
    new_handler(
        Handler::CommX {
            f,
            destructor,
            extra: extra_state as usize,
        },
        eh,
    )
}

pub unsafe fn win_create_errhandler(
    f: Option<MPI_Win_errhandler_function>,
    eh: *mut MPI_Errhandler,
) -> Result<(), MpiError> {
    new_handler(Handler::Win(required(f, "win_errhandler_fn")?), eh)
}

pub unsafe fn file_create_errhandler(
    f: Option<MPI_File_errhandler_function>,
    eh: *mut MPI_Errhandler,
) -> Result<(), MpiError> {
    new_handler(Handler::File(required(f, "file_errhandler_fn")?), eh)
}

pub unsafe fn session_create_errhandler(
    f: Option<MPI_Session_errhandler_function>,
    eh: *mut MPI_Errhandler,
) -> Result<(), MpiError> {
    new_handler(Handler::Session(required(f, "session_errhandler_fn")?), eh)
}

pub fn comm_set_errhandler(c: MPI_Comm, eh: MPI_Errhandler) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let h = comm::errhandler_for_comm(eh)?;
    *obj.errhandler.lock() = h;
    Ok(())
}

pub unsafe fn comm_get_errhandler(c: MPI_Comm, eh: *mut MPI_Errhandler) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let (h, handler) = obj.errhandler.lock().clone();
    // A new reference of the program (MPI_Errhandler_free releases one); a handler the
    // program freed while attached is still this communicator's, its handle becomes live again.
    errhandler::add_ref(h, handler);
    out(eh, h, "errhandler")
}

/// Runs `c`'s error handler for `errorcode` (returns when the handler returns).
pub fn comm_call_errhandler(c: MPI_Comm, errorcode: c_int) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    let (_, h) = obj.errhandler.lock().clone();
    let msg = entry::error_string(errorcode).unwrap_or_else(|| format!("error code {errorcode}"));
    errhandler::invoke(&h, Raise::Comm(c), errorcode, &msg);
    Ok(())
}

/// Releases the program's handle (a communicator using the handler keeps it).
pub unsafe fn errhandler_free(eh: *mut MPI_Errhandler) -> Result<(), MpiError> {
    let h = read(eh, "errhandler")?;
    if crate::handles::is_predefined(h.0) {
        // Freeing a predefined handler is allowed and does nothing (MPI-4.1).
        if !ERRHANDLERS.contains(h.0) && h != MPI_ERRHANDLER_NULL {
            errhandler::install_predefined();
        }
        if h == MPI_ERRHANDLER_NULL {
            return Err(MpiError::new(
                MPI_ERR_ERRHANDLER,
                "the handler is MPI_ERRHANDLER_NULL",
            ));
        }
    } else if !errhandler::release(h) {
        return Err(MpiError::new(
            MPI_ERR_ERRHANDLER,
            format!("{:#x} is not a live error handler", h.0),
        ));
    }
    out(eh, MPI_ERRHANDLER_NULL, "errhandler")
}

pub unsafe fn error_string(code: c_int, s: *mut c_char, len: *mut c_int) -> Result<(), MpiError> {
    let text = entry::error_string(code)
        .ok_or_else(|| MpiError::arg(format!("{code} is not an MPI error code or class")))?;
    if len.is_null() {
        return Err(MpiError::arg("resultlen is NULL"));
    }
    write_string(s, MPI_MAX_ERROR_STRING as usize, &text, len, "string")
}

pub unsafe fn error_class(code: c_int, class: *mut c_int) -> Result<(), MpiError> {
    let c = entry::class_of(code)
        .ok_or_else(|| MpiError::arg(format!("{code} is not an MPI error code or class")))?;
    out(class, c, "errorclass")
}

pub unsafe fn add_error_class(class: *mut c_int) -> Result<(), MpiError> {
    let c = errclass::add_class()
        .ok_or_else(|| MpiError::other("no more error classes can be added"))?;
    out(class, c, "errorclass")
}

pub unsafe fn add_error_code(class: c_int, code: *mut c_int) -> Result<(), MpiError> {
    if entry::class_of(class) != Some(class) {
        return Err(MpiError::arg(format!("{class} is not an error class")));
    }
    let c = errclass::add_code(class)
        .ok_or_else(|| MpiError::other("no more error codes can be added"))?;
    out(code, c, "errorcode")
}

pub unsafe fn add_error_string(code: c_int, s: *const c_char) -> Result<(), MpiError> {
    let text = string(s, MPI_MAX_ERROR_STRING as usize - 1, "string")?;
    if errclass::set_string(code, &text) {
        Ok(())
    } else {
        Err(MpiError::arg(format!(
            "{code} is not an error class or code added by MPI_Add_error_class/code"
        )))
    }
}

fn removal(r: Result<(), errclass::RemoveError>, what: &str, v: c_int) -> Result<(), MpiError> {
    use errclass::RemoveError::*;
    match r {
        Ok(()) => Ok(()),
        Err(NotAdded) => Err(MpiError::arg(format!(
            "{v} is not an error {what} added by MPI_Add_error_{what}"
        ))),
        Err(HasCodes) => Err(MpiError::arg(format!(
            "error class {v} still has error codes (remove them first)"
        ))),
        Err(HasString) => Err(MpiError::arg(format!(
            "error {what} {v} still has a string (MPI_Remove_error_string first)"
        ))),
        Err(NoString) => Err(MpiError::arg(format!("{v} has no string to remove"))),
    }
}

pub fn remove_error_class(class: c_int) -> Result<(), MpiError> {
    removal(errclass::remove_class(class), "class", class)
}

pub fn remove_error_code(code: c_int) -> Result<(), MpiError> {
    removal(errclass::remove_code(code), "code", code)
}

pub fn remove_error_string(code: c_int) -> Result<(), MpiError> {
    removal(errclass::remove_string(code), "string", code)
}

// The MPI-1 names (removed in MPI-3.0, still exported by MPICH).

pub unsafe fn errhandler_create(
    f: Option<MPI_Comm_errhandler_function>,
    eh: *mut MPI_Errhandler,
) -> Result<(), MpiError> {
    comm_create_errhandler(f, eh)
}

pub unsafe fn errhandler_get(c: MPI_Comm, eh: *mut MPI_Errhandler) -> Result<(), MpiError> {
    comm_get_errhandler(c, eh)
}

pub fn errhandler_set(c: MPI_Comm, eh: MPI_Errhandler) -> Result<(), MpiError> {
    comm_set_errhandler(c, eh)
}
