//! Dynamic processes: this library starts no processes (no `MPI_Comm_spawn`), so no process
//! has a parent.

use crate::cabi::out;
use crate::entry::MpiError;
use crate::gen::abi::*;

/// MPI_COMM_NULL: the process was not spawned.
pub unsafe fn comm_get_parent(parent: *mut MPI_Comm) -> Result<(), MpiError> {
    crate::objects::world::running()?;
    out(parent, MPI_COMM_NULL, "parent")
}
