//! `MPI_X_toint` / `MPI_X_fromint`: handles as integers (the ABI's replacement of the Fortran
//! handle conversions). Every handle value of this library fits in an int; a value that does not
//! name a live object is reported when it is used.

use crate::entry::MpiError;
use crate::gen::abi::*;
use std::ffi::c_int;

fn to_int(h: usize, kind: &str) -> Result<c_int, MpiError> {
    c_int::try_from(h)
        .map_err(|_| MpiError::arg(format!("{kind} handle {h:#x} does not fit in an int")))
}

fn from_int(i: c_int, kind: &str) -> Result<usize, MpiError> {
    usize::try_from(i).map_err(|_| MpiError::arg(format!("{i} is not a {kind} handle (negative)")))
}

// One function per procedure, written out: the generator finds implementations by their
// `pub fn NAME(` text. (MPI_Type_toint/fromint are with the datatypes, api/datatype.rs.)

pub fn comm_toint(h: MPI_Comm) -> Result<c_int, MpiError> {
    to_int(h.0, "communicator")
}
pub fn comm_fromint(i: c_int) -> Result<MPI_Comm, MpiError> {
    from_int(i, "communicator").map(MPI_Comm)
}

pub fn errhandler_toint(h: MPI_Errhandler) -> Result<c_int, MpiError> {
    to_int(h.0, "error handler")
}
pub fn errhandler_fromint(i: c_int) -> Result<MPI_Errhandler, MpiError> {
    from_int(i, "error handler").map(MPI_Errhandler)
}

pub fn file_toint(h: MPI_File) -> Result<c_int, MpiError> {
    to_int(h.0, "file")
}
pub fn file_fromint(i: c_int) -> Result<MPI_File, MpiError> {
    from_int(i, "file").map(MPI_File)
}

pub fn group_toint(h: MPI_Group) -> Result<c_int, MpiError> {
    to_int(h.0, "group")
}
pub fn group_fromint(i: c_int) -> Result<MPI_Group, MpiError> {
    from_int(i, "group").map(MPI_Group)
}

pub fn info_toint(h: MPI_Info) -> Result<c_int, MpiError> {
    to_int(h.0, "info")
}
pub fn info_fromint(i: c_int) -> Result<MPI_Info, MpiError> {
    from_int(i, "info").map(MPI_Info)
}

pub fn message_toint(h: MPI_Message) -> Result<c_int, MpiError> {
    to_int(h.0, "message")
}
pub fn message_fromint(i: c_int) -> Result<MPI_Message, MpiError> {
    from_int(i, "message").map(MPI_Message)
}

pub fn op_toint(h: MPI_Op) -> Result<c_int, MpiError> {
    to_int(h.0, "op")
}
pub fn op_fromint(i: c_int) -> Result<MPI_Op, MpiError> {
    from_int(i, "op").map(MPI_Op)
}

pub fn request_toint(h: MPI_Request) -> Result<c_int, MpiError> {
    to_int(h.0, "request")
}
pub fn request_fromint(i: c_int) -> Result<MPI_Request, MpiError> {
    from_int(i, "request").map(MPI_Request)
}

pub fn session_toint(h: MPI_Session) -> Result<c_int, MpiError> {
    to_int(h.0, "session")
}
pub fn session_fromint(i: c_int) -> Result<MPI_Session, MpiError> {
    from_int(i, "session").map(MPI_Session)
}

pub fn win_toint(h: MPI_Win) -> Result<c_int, MpiError> {
    to_int(h.0, "window")
}
pub fn win_fromint(i: c_int) -> Result<MPI_Win, MpiError> {
    from_int(i, "window").map(MPI_Win)
}
