//! `MPI_Alloc_mem` / `MPI_Free_mem`: memory from the C heap (aligned as `malloc` aligns), the
//! live blocks recorded so that freeing anything else is an `MPI_ERR_BASE` error, never a crash.

use crate::cabi::out;
use crate::entry::MpiError;
use crate::gen::abi::*;
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::ffi::c_void;

/// The addresses of the blocks MPI_Alloc_mem handed out and MPI_Free_mem has not taken back.
static LIVE: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

pub unsafe fn alloc_mem(size: MPI_Aint, i: MPI_Info, baseptr: *mut c_void) -> Result<(), MpiError> {
    if baseptr.is_null() {
        return Err(MpiError::arg("baseptr is NULL"));
    }
    crate::objects::info::entries_or_null(i)?;
    let n = usize::try_from(size)
        .map_err(|_| MpiError::new(MPI_ERR_SIZE, format!("size = {size} is negative")))?;
    // malloc(0) may return NULL: a block of at least one byte keeps every address distinct.
    let p = libc::malloc(n.max(1));
    if p.is_null() {
        return Err(MpiError::new(
            MPI_ERR_NO_MEM,
            format!("cannot allocate {n} bytes"),
        ));
    }
    LIVE.lock().insert(p as usize);
    out(baseptr.cast::<*mut c_void>(), p, "baseptr")
}

pub unsafe fn free_mem(base: *mut c_void) -> Result<(), MpiError> {
    if !LIVE.lock().remove(&(base as usize)) {
        return Err(MpiError::new(
            MPI_ERR_BASE,
            format!("{base:p} is not a block from MPI_Alloc_mem (or was freed already)"),
        ));
    }
    libc::free(base);
    Ok(())
}
