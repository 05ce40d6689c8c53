//! Intercommunicators: this library makes none (`MPI_Intercomm_create` returns
//! MPI_ERR_UNSUPPORTED_OPERATION), so every live communicator is an intra-communicator and
//! `MPI_Intercomm_merge` of one is the standard's MPI_ERR_COMM.

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm;
use std::ffi::c_int;

pub unsafe fn intercomm_merge(
    c: MPI_Comm,
    _high: c_int,
    _newintracomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    comm::get(c)?;
    Err(MpiError::comm(
        "not an inter-communicator (this library has intra-communicators only)",
    ))
}
