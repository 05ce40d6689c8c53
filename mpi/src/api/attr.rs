//! Communicator attributes: keyvals (create, free), set, get (incl. the predefined
//! MPI_TAG_UB, MPI_HOST, MPI_IO, MPI_WTIME_IS_GLOBAL, MPI_APPNUM, MPI_UNIVERSE_SIZE,
//! MPI_LASTUSEDCODE), delete; and the MPI-1 names (Keyval_create, Attr_put, ...).

use crate::cabi::{out, read};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::attr::{self, Kind};
use crate::objects::{comm, errclass};
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicI32, Ordering};

// The predefined attributes' values: the caller gets a pointer to them, valid for the run.
// MPI_TAG_UB is the point-to-point layer's bound (the core keeps two flag bits of its tag).
static TAG_UB: AtomicI32 = AtomicI32::new(crate::p2p::TAG_UB);
static HOST: AtomicI32 = AtomicI32::new(MPI_PROC_NULL);
static IO: AtomicI32 = AtomicI32::new(MPI_ANY_SOURCE);
static WTIME_IS_GLOBAL: AtomicI32 = AtomicI32::new(0);
static APPNUM: AtomicI32 = AtomicI32::new(0);
static LASTUSEDCODE: AtomicI32 = AtomicI32::new(0);

/// The predefined attribute `kv`: Some(pointer to its value) or Some(None) when not set, None
/// when `kv` is not predefined.
fn predefined(kv: c_int) -> Option<Option<*mut c_void>> {
    let p = |a: &'static AtomicI32| Some(a.as_ptr().cast::<c_void>());
    Some(match kv {
        MPI_TAG_UB => p(&TAG_UB),
        MPI_HOST => p(&HOST),
        MPI_IO => p(&IO),
        MPI_WTIME_IS_GLOBAL => p(&WTIME_IS_GLOBAL),
        MPI_APPNUM => p(&APPNUM),
        MPI_LASTUSEDCODE => {
            LASTUSEDCODE.store(errclass::last_used_code(), Ordering::Relaxed);
            p(&LASTUSEDCODE)
        }
        // No processes can be spawned: the universe size is not defined.
        MPI_UNIVERSE_SIZE => None,
        _ => return None,
    })
}

pub unsafe fn comm_create_keyval(
    copy: Option<MPI_Comm_copy_attr_function>,
    delete: Option<MPI_Comm_delete_attr_function>,
    keyval: *mut c_int,
    extra_state: *mut c_void,
) -> Result<(), MpiError> {
    if keyval.is_null() {
        return Err(MpiError::arg("comm_keyval is NULL"));
    }
    let kv = attr::create(
        Kind::Comm,
        copy.map_or(0, |f| f as usize),
        delete.map_or(0, |f| f as usize),
        extra_state as usize,
    );
    out(keyval, kv, "comm_keyval")
}

pub unsafe fn comm_free_keyval(keyval: *mut c_int) -> Result<(), MpiError> {
    let kv = read(keyval, "comm_keyval")?;
    attr::free(Kind::Comm, kv)?;
    out(keyval, MPI_KEYVAL_INVALID, "comm_keyval")
}

pub unsafe fn comm_set_attr(c: MPI_Comm, kv: c_int, val: *mut c_void) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    attr::set(c, &obj, kv, val as usize)
}

/// Writes the attribute's value (a `void *`) to `*val`.
pub unsafe fn comm_get_attr(
    c: MPI_Comm,
    kv: c_int,
    val: *mut c_void,
    flag: *mut c_int,
) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    let found = match predefined(kv) {
        Some(v) => v,
        None => attr::get(&obj, kv)?.map(|v| v as *mut c_void),
    };
    match found {
        Some(v) => {
            out(val.cast::<*mut c_void>(), v, "attribute_val")?;
            out(flag, 1, "flag")
        }
        None => out(flag, 0, "flag"),
    }
}

pub fn comm_delete_attr(c: MPI_Comm, kv: c_int) -> Result<(), MpiError> {
    let obj = comm::get(c)?;
    attr::delete(c, &obj, kv)
}

// MPI-1 names (deprecated, in the ABI header).

pub unsafe fn keyval_create(
    copy: Option<MPI_Copy_function>,
    delete: Option<MPI_Delete_function>,
    keyval: *mut c_int,
    extra_state: *mut c_void,
) -> Result<(), MpiError> {
    if keyval.is_null() {
        return Err(MpiError::arg("keyval is NULL"));
    }
    let kv = attr::create(
        Kind::Comm,
        copy.map_or(0, |f| f as usize),
        delete.map_or(0, |f| f as usize),
        extra_state as usize,
    );
    out(keyval, kv, "keyval")
}

pub unsafe fn keyval_free(keyval: *mut c_int) -> Result<(), MpiError> {
    comm_free_keyval(keyval)
}

pub unsafe fn attr_put(c: MPI_Comm, kv: c_int, val: *mut c_void) -> Result<(), MpiError> {
    comm_set_attr(c, kv, val)
}

pub unsafe fn attr_get(
    c: MPI_Comm,
    kv: c_int,
    val: *mut c_void,
    flag: *mut c_int,
) -> Result<(), MpiError> {
    comm_get_attr(c, kv, val, flag)
}

pub fn attr_delete(c: MPI_Comm, kv: c_int) -> Result<(), MpiError> {
    comm_delete_attr(c, kv)
}
