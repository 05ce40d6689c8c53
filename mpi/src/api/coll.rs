//! Collectives onto the core.

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm;

pub fn barrier(c: MPI_Comm) -> Result<(), MpiError> {
    comm::get(c)?.with(|k| k.barrier())
}
