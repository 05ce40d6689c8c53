//! Window attributes: keyvals (`MPI_Win_create_keyval`, `MPI_Win_free_keyval`, made and freed
//! as for communicators and datatypes, in the one keyval table), set, get, delete (delete
//! callbacks run by `MPI_Win_free` too), and the predefined attributes `MPI_WIN_BASE`,
//! `MPI_WIN_SIZE`, `MPI_WIN_DISP_UNIT`, `MPI_WIN_CREATE_FLAVOR`, `MPI_WIN_MODEL`.

use crate::cabi::{out, read};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::attr::{self, Kind};
use crate::objects::win;
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

pub fn win_set_attr(w: MPI_Win, kv: c_int, val: *mut c_void) -> Result<(), MpiError> {
    let o = win::get(w)?;
    attr::set_in(Kind::Win, w.0, &o.attrs, kv, val as usize)
}

/// Writes the attribute's value (a `void *`) to `*val`: for `MPI_WIN_BASE` the base address,
/// for the other predefined keys a pointer to the value (as MPI defines them).
pub unsafe fn win_get_attr(
    w: MPI_Win,
    kv: c_int,
    val: *mut c_void,
    flag: *mut c_int,
) -> Result<(), MpiError> {
    let o = win::get(w)?;
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    let found = match kv {
        MPI_WIN_BASE => Some(o.mem.base),
        MPI_WIN_SIZE => Some(&*o.size_attr as *const MPI_Aint as usize),
        MPI_WIN_DISP_UNIT => Some(&*o.disp_attr as *const c_int as usize),
        MPI_WIN_CREATE_FLAVOR => Some(&*o.flavor_attr as *const c_int as usize),
        MPI_WIN_MODEL => Some(&*o.model_attr as *const c_int as usize),
        _ => attr::get_in(Kind::Win, &o.attrs, kv)?,
    };
    match found {
        Some(v) => {
            out(val.cast::<*mut c_void>(), v as *mut c_void, "attribute_val")?;
            out(flag, 1, "flag")
        }
        None => out(flag, 0, "flag"),
    }
}

pub fn win_delete_attr(w: MPI_Win, kv: c_int) -> Result<(), MpiError> {
    let o = win::get(w)?;
    attr::delete_in(Kind::Win, w.0, &o.attrs, kv)
}
