//! Handle conversion to and from `int` (`MPI_Comm_toint`, `MPI_Type_fromint`, ... of the
//! standard ABI, for languages that keep handles as integers): a handle's value is the int
//! (every handle of this library fits: predefined ones are below 0x400, the program's come from
//! one counter starting at 0x10000). Validity is checked where the handle is used, as for any
//! handle.

use crate::entry::MpiError;
use crate::gen::abi::*;
use std::ffi::c_int;

fn to_int(h: usize, kind: &str) -> Result<c_int, MpiError> {
    c_int::try_from(h)
        .map_err(|_| MpiError::arg(format!("the {kind} handle {h:#x} does not fit in an int")))
}

fn from_int(v: c_int, kind: &str) -> Result<usize, MpiError> {
    usize::try_from(v).map_err(|_| MpiError::arg(format!("{v} is not a {kind} handle")))
}

pub fn comm_toint(h: MPI_Comm) -> Result<c_int, MpiError> {
    to_int(h.0, "communicator")
}
pub fn comm_fromint(v: c_int) -> Result<MPI_Comm, MpiError> {
    from_int(v, "communicator").map(MPI_Comm)
}

pub fn errhandler_toint(h: MPI_Errhandler) -> Result<c_int, MpiError> {
    to_int(h.0, "error handler")
}
pub fn errhandler_fromint(v: c_int) -> Result<MPI_Errhandler, MpiError> {
    from_int(v, "error handler").map(MPI_Errhandler)
}

pub fn file_toint(h: MPI_File) -> Result<c_int, MpiError> {
    to_int(h.0, "file")
}
pub fn file_fromint(v: c_int) -> Result<MPI_File, MpiError> {
    from_int(v, "file").map(MPI_File)
}

pub fn group_toint(h: MPI_Group) -> Result<c_int, MpiError> {
    to_int(h.0, "group")
}
pub fn group_fromint(v: c_int) -> Result<MPI_Group, MpiError> {
    from_int(v, "group").map(MPI_Group)
}

pub fn info_toint(h: MPI_Info) -> Result<c_int, MpiError> {
    to_int(h.0, "info")
}
pub fn info_fromint(v: c_int) -> Result<MPI_Info, MpiError> {
    from_int(v, "info").map(MPI_Info)
}

pub fn message_toint(h: MPI_Message) -> Result<c_int, MpiError> {
    to_int(h.0, "message")
}
pub fn message_fromint(v: c_int) -> Result<MPI_Message, MpiError> {
    from_int(v, "message").map(MPI_Message)
}

pub fn op_toint(h: MPI_Op) -> Result<c_int, MpiError> {
    to_int(h.0, "operator")
}
pub fn op_fromint(v: c_int) -> Result<MPI_Op, MpiError> {
    from_int(v, "operator").map(MPI_Op)
}

pub fn request_toint(h: MPI_Request) -> Result<c_int, MpiError> {
    to_int(h.0, "request")
}
pub fn request_fromint(v: c_int) -> Result<MPI_Request, MpiError> {
    from_int(v, "request").map(MPI_Request)
}

pub fn session_toint(h: MPI_Session) -> Result<c_int, MpiError> {
    to_int(h.0, "session")
}
pub fn session_fromint(v: c_int) -> Result<MPI_Session, MpiError> {
    from_int(v, "session").map(MPI_Session)
}

pub fn type_toint(h: MPI_Datatype) -> Result<c_int, MpiError> {
    to_int(h.0, "datatype")
}
pub fn type_fromint(v: c_int) -> Result<MPI_Datatype, MpiError> {
    from_int(v, "datatype").map(MPI_Datatype)
}

pub fn win_toint(h: MPI_Win) -> Result<c_int, MpiError> {
    to_int(h.0, "window")
}
pub fn win_fromint(v: c_int) -> Result<MPI_Win, MpiError> {
    from_int(v, "window").map(MPI_Win)
}
