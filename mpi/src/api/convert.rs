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

macro_rules! conversions {
    ($($to:ident, $from:ident, $ty:ident, $kind:literal;)+) => {$(
        pub fn $to(h: $ty) -> Result<c_int, MpiError> {
            to_int(h.0, $kind)
        }
        pub fn $from(i: c_int) -> Result<$ty, MpiError> {
            from_int(i, $kind).map($ty)
        }
    )+};
}

conversions! {
    comm_toint, comm_fromint, MPI_Comm, "communicator";
    errhandler_toint, errhandler_fromint, MPI_Errhandler, "error handler";
    file_toint, file_fromint, MPI_File, "file";
    group_toint, group_fromint, MPI_Group, "group";
    info_toint, info_fromint, MPI_Info, "info";
    message_toint, message_fromint, MPI_Message, "message";
    op_toint, op_fromint, MPI_Op, "op";
    request_toint, request_fromint, MPI_Request, "request";
    session_toint, session_fromint, MPI_Session, "session";
    type_toint, type_fromint, MPI_Datatype, "datatype";
    win_toint, win_fromint, MPI_Win, "window";
}
