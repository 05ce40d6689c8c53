//! Info objects: create, set, get, get_string, get_valuelen, get_nkeys, get_nthkey, delete,
//! dup, free, create_env.

use crate::cabi::{out, read, string, write_string};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::info::{self, InfoObj, INFOS};
use std::ffi::{c_char, c_int};

const KEY_MAX: usize = MPI_MAX_INFO_KEY as usize - 1;
const VAL_MAX: usize = MPI_MAX_INFO_VAL as usize - 1;

unsafe fn key(k: *const c_char) -> Result<String, MpiError> {
    let s = string(k, usize::MAX, "key")?;
    if s.is_empty() || s.len() > KEY_MAX {
        return Err(MpiError::new(
            MPI_ERR_INFO_KEY,
            format!("info key of {} bytes (1..={KEY_MAX})", s.len()),
        ));
    }
    Ok(s)
}

fn new_handle(obj: InfoObj) -> MPI_Info {
    MPI_Info(INFOS.insert(obj))
}

pub unsafe fn info_create(i: *mut MPI_Info) -> Result<(), MpiError> {
    if i.is_null() {
        return Err(MpiError::arg("info is NULL"));
    }
    out(i, new_handle(InfoObj::default()), "info")
}

pub unsafe fn info_create_env(
    _argc: c_int,
    _argv: *mut *mut c_char,
    i: *mut MPI_Info,
) -> Result<(), MpiError> {
    if i.is_null() {
        return Err(MpiError::arg("info is NULL"));
    }
    let env = info::get(MPI_INFO_ENV)?.snapshot();
    out(i, new_handle(InfoObj::from(env)), "info")
}

pub unsafe fn info_set(i: MPI_Info, k: *const c_char, v: *const c_char) -> Result<(), MpiError> {
    let obj = info::get(i)?;
    let k = key(k)?;
    let v = string(v, usize::MAX, "value")?;
    if v.len() > VAL_MAX {
        return Err(MpiError::new(
            MPI_ERR_INFO_VALUE,
            format!("info value of {} bytes (at most {VAL_MAX})", v.len()),
        ));
    }
    obj.set(&k, &v);
    Ok(())
}

pub unsafe fn info_delete(i: MPI_Info, k: *const c_char) -> Result<(), MpiError> {
    let obj = info::get(i)?;
    let k = key(k)?;
    let mut e = obj.entries.lock();
    let before = e.len();
    e.retain(|(x, _)| *x != k);
    if e.len() == before {
        return Err(MpiError::new(
            MPI_ERR_INFO_NOKEY,
            format!("info key {k:?} is not set"),
        ));
    }
    Ok(())
}

/// The deprecated form: copies at most `valuelen` characters (plus the NUL).
pub unsafe fn info_get(
    i: MPI_Info,
    k: *const c_char,
    valuelen: c_int,
    value: *mut c_char,
    flag: *mut c_int,
) -> Result<(), MpiError> {
    let obj = info::get(i)?;
    let k = key(k)?;
    let n = crate::cabi::count(valuelen, "valuelen")?;
    match obj.get(&k) {
        Some(v) => {
            write_string(value, n + 1, &v, std::ptr::null_mut(), "value")?;
            out(flag, 1, "flag")
        }
        None => out(flag, 0, "flag"),
    }
}

/// Copies the value into `buflen` bytes (NUL included) and sets `buflen` to the value's length
/// plus one; `buflen` 0 only asks for the length.
pub unsafe fn info_get_string(
    i: MPI_Info,
    k: *const c_char,
    buflen: *mut c_int,
    value: *mut c_char,
    flag: *mut c_int,
) -> Result<(), MpiError> {
    let obj = info::get(i)?;
    let k = key(k)?;
    let cap = crate::cabi::count(read(buflen, "buflen")?, "*buflen")?;
    match obj.get(&k) {
        Some(v) => {
            if cap > 0 {
                write_string(value, cap, &v, std::ptr::null_mut(), "value")?;
            }
            out(buflen, v.len() as c_int + 1, "buflen")?;
            out(flag, 1, "flag")
        }
        None => out(flag, 0, "flag"),
    }
}

pub unsafe fn info_get_valuelen(
    i: MPI_Info,
    k: *const c_char,
    valuelen: *mut c_int,
    flag: *mut c_int,
) -> Result<(), MpiError> {
    let obj = info::get(i)?;
    let k = key(k)?;
    match obj.get(&k) {
        Some(v) => {
            out(valuelen, v.len() as c_int, "valuelen")?;
            out(flag, 1, "flag")
        }
        None => out(flag, 0, "flag"),
    }
}

pub unsafe fn info_get_nkeys(i: MPI_Info, nkeys: *mut c_int) -> Result<(), MpiError> {
    let obj = info::get(i)?;
    let n = obj.entries.lock().len() as c_int;
    out(nkeys, n, "nkeys")
}

pub unsafe fn info_get_nthkey(i: MPI_Info, n: c_int, k: *mut c_char) -> Result<(), MpiError> {
    let obj = info::get(i)?;
    let e = obj.entries.lock();
    let idx = usize::try_from(n)
        .ok()
        .filter(|&x| x < e.len())
        .ok_or_else(|| {
            MpiError::arg(format!(
                "n = {n} out of range for {} keys (valid: 0..{})",
                e.len(),
                e.len()
            ))
        })?;
    write_string(
        k,
        MPI_MAX_INFO_KEY as usize,
        &e[idx].0,
        std::ptr::null_mut(),
        "key",
    )
}

pub unsafe fn info_dup(i: MPI_Info, newinfo: *mut MPI_Info) -> Result<(), MpiError> {
    let obj = info::get(i)?;
    if newinfo.is_null() {
        return Err(MpiError::arg("newinfo is NULL"));
    }
    out(
        newinfo,
        new_handle(InfoObj::from(obj.snapshot())),
        "newinfo",
    )
}

pub unsafe fn info_free(i: *mut MPI_Info) -> Result<(), MpiError> {
    let h = read(i, "info")?;
    if h == MPI_INFO_ENV {
        return Err(MpiError::new(MPI_ERR_INFO, "MPI_INFO_ENV cannot be freed"));
    }
    INFOS.remove(h.0).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_INFO,
            format!("{:#x} is not a live info object", h.0),
        )
    })?;
    out(i, MPI_INFO_NULL, "info")
}
