//! Statuses: Get_count, Get_elements(_x/_c), Status_set_elements(_x/_c), Test_cancelled,
//! Status_set_cancelled, Status_get_/set_ source, tag and error (what this library keeps in a
//! status: `crate::objects::status`).

use crate::cabi::{out, read};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::{datatype, status};
use std::ffi::c_int;

unsafe fn status_in(p: *const MPI_Status) -> Result<MPI_Status, MpiError> {
    read(p, "status (MPI_STATUS_IGNORE cannot be queried)")
}

unsafe fn status_out<'a>(p: *mut MPI_Status) -> Result<&'a mut MPI_Status, MpiError> {
    p.as_mut()
        .ok_or_else(|| MpiError::arg("status is NULL (MPI_STATUS_IGNORE cannot be set)"))
}

/// Whole elements of `dt` in the status' data, or None (`MPI_UNDEFINED`).
fn count_in(s: &MPI_Status, dt: MPI_Datatype) -> Result<Option<u64>, MpiError> {
    let t = datatype::get(dt)?;
    let bytes = status::bytes(s);
    Ok(match t.size() {
        0 => Some(0),
        n if bytes % n == 0 => Some(bytes / n),
        _ => None,
    })
}

fn elements_in(s: &MPI_Status, dt: MPI_Datatype) -> Result<Option<u64>, MpiError> {
    let t = datatype::get(dt)?;
    Ok(t.get_elements(status::bytes(s)))
}

fn as_int(v: Option<u64>) -> c_int {
    v.and_then(|v| c_int::try_from(v).ok())
        .unwrap_or(MPI_UNDEFINED)
}

fn as_count(v: Option<u64>) -> MPI_Count {
    v.and_then(|v| MPI_Count::try_from(v).ok())
        .unwrap_or(MPI_UNDEFINED as MPI_Count)
}

pub unsafe fn get_count(
    st: *const MPI_Status,
    dt: MPI_Datatype,
    count: *mut c_int,
) -> Result<(), MpiError> {
    let s = status_in(st)?;
    out(count, as_int(count_in(&s, dt)?), "count")
}

pub unsafe fn get_count_c(
    st: *const MPI_Status,
    dt: MPI_Datatype,
    count: *mut MPI_Count,
) -> Result<(), MpiError> {
    let s = status_in(st)?;
    out(count, as_count(count_in(&s, dt)?), "count")
}

pub unsafe fn get_elements(
    st: *const MPI_Status,
    dt: MPI_Datatype,
    count: *mut c_int,
) -> Result<(), MpiError> {
    let s = status_in(st)?;
    out(count, as_int(elements_in(&s, dt)?), "count")
}

pub unsafe fn get_elements_c(
    st: *const MPI_Status,
    dt: MPI_Datatype,
    count: *mut MPI_Count,
) -> Result<(), MpiError> {
    let s = status_in(st)?;
    out(count, as_count(elements_in(&s, dt)?), "count")
}

pub unsafe fn get_elements_x(
    st: *const MPI_Status,
    dt: MPI_Datatype,
    count: *mut MPI_Count,
) -> Result<(), MpiError> {
    get_elements_c(st, dt, count)
}

/// The bytes of data in which `dt` has `count` basic elements.
fn bytes_for(dt: MPI_Datatype, count: MPI_Count) -> Result<u64, MpiError> {
    let count = u64::try_from(count)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("count {count} is negative")))?;
    let t = datatype::get(dt)?;
    let per = t.elements();
    let overflow = || MpiError::new(MPI_ERR_COUNT, "count times the datatype's size overflows");
    if per == 0 {
        return if count == 0 {
            Ok(0)
        } else {
            Err(MpiError::new(
                MPI_ERR_COUNT,
                format!("the datatype has no elements; count {count} cannot be set"),
            ))
        };
    }
    let mut bytes = (count / per).checked_mul(t.size()).ok_or_else(overflow)?;
    let mut rest = count % per;
    for &(n, k) in &t.flat().sig {
        if rest == 0 {
            break;
        }
        let e = n.elements();
        let take = (rest / e).min(k);
        bytes += take * n.size() as u64;
        rest -= take * e;
        if take < k {
            break;
        }
    }
    if rest != 0 || t.get_elements(bytes) != Some(count) {
        return Err(MpiError::new(
            MPI_ERR_COUNT,
            format!("{count} basic elements are no whole prefix of the datatype's data"),
        ));
    }
    Ok(bytes)
}

pub unsafe fn status_set_elements_c(
    st: *mut MPI_Status,
    dt: MPI_Datatype,
    count: MPI_Count,
) -> Result<(), MpiError> {
    let s = status_out(st)?;
    let b = bytes_for(dt, count)?;
    status::set_bytes(s, b);
    Ok(())
}

pub unsafe fn status_set_elements_x(
    st: *mut MPI_Status,
    dt: MPI_Datatype,
    count: MPI_Count,
) -> Result<(), MpiError> {
    status_set_elements_c(st, dt, count)
}

pub unsafe fn test_cancelled(st: *const MPI_Status, flag: *mut c_int) -> Result<(), MpiError> {
    let s = status_in(st)?;
    out(flag, status::cancelled(&s) as c_int, "flag")
}

pub unsafe fn status_set_cancelled(st: *mut MPI_Status, flag: c_int) -> Result<(), MpiError> {
    status::set_cancelled(status_out(st)?, flag != 0);
    Ok(())
}

pub unsafe fn status_get_source(st: *const MPI_Status, v: *mut c_int) -> Result<(), MpiError> {
    out(v, status_in(st)?.MPI_SOURCE, "source")
}

pub unsafe fn status_get_tag(st: *const MPI_Status, v: *mut c_int) -> Result<(), MpiError> {
    out(v, status_in(st)?.MPI_TAG, "tag")
}

pub unsafe fn status_get_error(st: *const MPI_Status, v: *mut c_int) -> Result<(), MpiError> {
    out(v, status_in(st)?.MPI_ERROR, "error")
}

pub unsafe fn status_set_source(st: *mut MPI_Status, v: c_int) -> Result<(), MpiError> {
    status_out(st)?.MPI_SOURCE = v;
    Ok(())
}

pub unsafe fn status_set_tag(st: *mut MPI_Status, v: c_int) -> Result<(), MpiError> {
    status_out(st)?.MPI_TAG = v;
    Ok(())
}

pub unsafe fn status_set_error(st: *mut MPI_Status, v: c_int) -> Result<(), MpiError> {
    status_out(st)?.MPI_ERROR = v;
    Ok(())
}
