//! Datatype attributes: keyvals (create, free), set, get, delete, on the one attribute
//! mechanism of `crate::objects::attr` (copy callbacks run by `MPI_Type_dup`, delete callbacks
//! by `MPI_Type_free` and `MPI_Type_delete_attr`).

use crate::cabi::{out, read};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::attr::{self, Kind};
use crate::objects::datatype as dt;
use std::ffi::{c_int, c_void};

pub unsafe fn type_create_keyval(
    copy: Option<MPI_Type_copy_attr_function>,
    delete: Option<MPI_Type_delete_attr_function>,
    keyval: *mut c_int,
    extra_state: *mut c_void,
) -> Result<(), MpiError> {
    if keyval.is_null() {
        return Err(MpiError::arg("type_keyval is NULL"));
    }
    let kv = attr::create(
        Kind::Type,
        copy.map_or(0, |f| f as usize),
        delete.map_or(0, |f| f as usize),
        extra_state as usize,
    );
    out(keyval, kv, "type_keyval")
}

pub unsafe fn type_free_keyval(keyval: *mut c_int) -> Result<(), MpiError> {
    let kv = read(keyval, "type_keyval")?;
    attr::free(Kind::Type, kv)?;
    out(keyval, MPI_KEYVAL_INVALID, "type_keyval")
}

pub fn type_set_attr(datatype: MPI_Datatype, kv: c_int, val: *mut c_void) -> Result<(), MpiError> {
    let o = dt::object(datatype)?;
    attr::set_in(Kind::Type, datatype.0, &o.attrs, kv, val as usize)
}

/// Writes the attribute's value (a `void *`) to `*val`.
pub unsafe fn type_get_attr(
    datatype: MPI_Datatype,
    kv: c_int,
    val: *mut c_void,
    flag: *mut c_int,
) -> Result<(), MpiError> {
    let o = dt::object(datatype)?;
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    match attr::get_in(Kind::Type, &o.attrs, kv)? {
        Some(v) => {
            out(val.cast::<*mut c_void>(), v as *mut c_void, "attribute_val")?;
            out(flag, 1, "flag")
        }
        None => out(flag, 0, "flag"),
    }
}

pub fn type_delete_attr(datatype: MPI_Datatype, kv: c_int) -> Result<(), MpiError> {
    let o = dt::object(datatype)?;
    attr::delete_in(Kind::Type, datatype.0, &o.attrs, kv)
}
