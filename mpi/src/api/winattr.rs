//! Window keyvals (`MPI_Win_create_keyval`, `MPI_Win_free_keyval`): made and freed as for
//! communicators and datatypes, in the one keyval table. Windows themselves are not implemented
//! (their procedures return MPI_ERR_UNSUPPORTED_OPERATION), so no window ever holds an attribute.

use crate::cabi::{out, read};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::attr::{self, Kind};
use std::ffi::{c_int, c_void};

pub unsafe fn win_create_keyval(
    copy: Option<MPI_Win_copy_attr_function>,
    delete: Option<MPI_Win_delete_attr_function>,
    keyval: *mut c_int,
    extra_state: *mut c_void,
) -> Result<(), MpiError> {
    if keyval.is_null() {
        return Err(MpiError::arg("win_keyval is NULL"));
    }
    let kv = attr::create(
        Kind::Win,
        copy.map_or(0, |f| f as usize),
        delete.map_or(0, |f| f as usize),
        extra_state as usize,
    );
    out(keyval, kv, "win_keyval")
}

pub unsafe fn win_free_keyval(keyval: *mut c_int) -> Result<(), MpiError> {
    let kv = read(keyval, "win_keyval")?;
    attr::free(Kind::Win, kv)?;
    out(keyval, MPI_KEYVAL_INVALID, "win_keyval")
}
