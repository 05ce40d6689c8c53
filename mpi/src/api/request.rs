//! The wait/test family on request objects of any kind (`crate::objects::request`): Wait,
//! Test, Waitall/any/some, Testall/any/some, Request_get_status(_all/_any/_some),
//! Request_free, Start, Startall, Cancel.
//!
//! An operation's error is raised on its request's communicator. The multiple-completion calls
//! complete every request they can, put each one's error code in its status' `MPI_ERROR`
//! (`MPI_SUCCESS` for the others) and return `MPI_ERR_IN_STATUS`. Waitany and Waitsome look at
//! their requests in turn until one completes, at most `FMI_MPI_TIMEOUT`.

use crate::cabi::{out, slice};
use crate::entry::{self, MpiError};
use crate::gen::abi::*;
use crate::objects::request;
use crate::objects::{status, world};
use std::ffi::c_int;
use std::time::{Duration, Instant};

fn n_of(count: c_int, what: &str) -> Result<usize, MpiError> {
    crate::cabi::count(count, what)
}

/// The requests array of `n` handles.
unsafe fn reqs<'a>(p: *mut MPI_Request, n: usize) -> Result<&'a mut [MPI_Request], MpiError> {
    crate::cabi::slice_mut(p, n, "array_of_requests")
}

/// The statuses array of `n` (None: `MPI_STATUSES_IGNORE`).
unsafe fn statuses<'a>(p: *mut MPI_Status, n: usize) -> Option<&'a mut [MPI_Status]> {
    if p.is_null() || n == 0 {
        None
    } else {
        Some(std::slice::from_raw_parts_mut(p, n))
    }
}

pub unsafe fn wait(h: *mut MPI_Request, st: *mut MPI_Status) -> Result<(), MpiError> {
    let h = h.as_mut().ok_or_else(|| MpiError::arg("request is NULL"))?;
    let s = request::complete(h, true)?.ok_or_else(|| {
        MpiError::new(
            MPI_ERR_INTERN,
            "a blocking wait returned without completing",
        )
    })?;
    status::write(st, s);
    Ok(())
}

pub unsafe fn test(
    h: *mut MPI_Request,
    flag: *mut c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let h = h.as_mut().ok_or_else(|| MpiError::arg("request is NULL"))?;
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    let r = request::complete(h, false)?;
    *flag = r.is_some() as c_int;
    if let Some(s) = r {
        status::write(st, s);
    }
    Ok(())
}

/// The code an operation's error gets in a status (its message names `proc_`).
fn code_of(proc_: &str, e: &MpiError) -> c_int {
    let msg = if e.msg.starts_with(proc_) {
        e.msg.clone()
    } else {
        format!("{proc_}: {}", e.msg)
    };
    entry::record(e.class, &msg)
}

/// The result of a multiple-completion call with per-request errors: each failed request's
/// code in its status, and MPI_ERR_IN_STATUS raised on the first failed request's object.
fn in_status(
    proc_: &str,
    errs: &[(usize, MpiError)],
    sts: Option<&mut [MPI_Status]>,
    slot_of: impl Fn(usize) -> usize,
) -> Result<(), MpiError> {
    let Some((_, first)) = errs.first() else {
        return Ok(());
    };
    if let Some(sts) = sts {
        for (i, e) in errs {
            sts[slot_of(*i)].MPI_ERROR = code_of(proc_, e);
        }
    }
    let mut e = MpiError::new(
        MPI_ERR_IN_STATUS,
        format!(
            "{} of the requests failed (their codes are in the statuses); the first: {}",
            errs.len(),
            first.msg
        ),
    );
    e.raise = first.raise;
    Err(e)
}

pub unsafe fn waitall(
    count: c_int,
    hs: *mut MPI_Request,
    sts: *mut MPI_Status,
) -> Result<(), MpiError> {
    let n = n_of(count, "count")?;
    let hs = reqs(hs, n)?;
    let mut sts = statuses(sts, n);
    let mut errs = Vec::new();
    for (i, h) in hs.iter_mut().enumerate() {
        match request::complete(h, true) {
            Ok(s) => {
                let s = s.unwrap_or_else(|| status::empty(MPI_ANY_SOURCE));
                if let Some(sts) = sts.as_deref_mut() {
                    status::write(&mut sts[i], s);
                    sts[i].MPI_ERROR = MPI_SUCCESS;
                }
            }
            Err(e) => errs.push((i, e)),
        }
    }
    if errs.len() == 1 && n == 1 {
        return Err(errs.remove(0).1);
    }
    in_status("MPI_Waitall", &errs, sts, |i| i)
}

pub unsafe fn testall(
    count: c_int,
    hs: *mut MPI_Request,
    flag: *mut c_int,
    sts: *mut MPI_Status,
) -> Result<(), MpiError> {
    let n = n_of(count, "count")?;
    let hs = reqs(hs, n)?;
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    // All or nothing: see whether every one is done before completing any.
    for h in hs.iter() {
        if *h != MPI_REQUEST_NULL {
            let obj = request::get(*h)?;
            if obj.is_active()? && !obj.peek()? {
                *flag = 0;
                return Ok(());
            }
        }
    }
    *flag = 1;
    let mut sts = statuses(sts, n);
    let mut errs = Vec::new();
    for (i, h) in hs.iter_mut().enumerate() {
        match request::complete(h, false) {
            Ok(s) => {
                let s = s.unwrap_or_else(|| status::empty(MPI_ANY_SOURCE));
                if let Some(sts) = sts.as_deref_mut() {
                    status::write(&mut sts[i], s);
                    sts[i].MPI_ERROR = MPI_SUCCESS;
                }
            }
            Err(e) => errs.push((i, e)),
        }
    }
    in_status("MPI_Testall", &errs, sts, |i| i)
}

/// Whether `h` takes part in an any/some call (not null, active).
fn live(h: MPI_Request) -> Result<bool, MpiError> {
    if h == MPI_REQUEST_NULL {
        return Ok(false);
    }
    request::get(h)?.is_active()
}

/// Requests completed by a sweep: index and result.
type Done = Vec<(usize, Result<MPI_Status, MpiError>)>;

/// One pass over the live requests: the indices that completed, with their results.
fn sweep(hs: &mut [MPI_Request], first_only: bool) -> Result<(bool, Done), MpiError> {
    let mut any_live = false;
    let mut done = Vec::new();
    for (i, h) in hs.iter_mut().enumerate() {
        if !live(*h)? {
            continue;
        }
        any_live = true;
        match request::complete(h, false) {
            Ok(None) => {}
            Ok(Some(s)) => done.push((i, Ok(s))),
            Err(e) => done.push((i, Err(e))),
        }
        if first_only && !done.is_empty() {
            break;
        }
    }
    Ok((any_live, done))
}

/// Sweeps until something completes or nothing is live, at most the timeout.
fn sweep_until(
    hs: &mut [MPI_Request],
    first_only: bool,
    proc_: &str,
) -> Result<(bool, Done), MpiError> {
    let limit = world::timeout()?;
    let start = Instant::now();
    let mut pause = Duration::from_micros(20);
    loop {
        let (any_live, done) = sweep(hs, first_only)?;
        if !any_live || !done.is_empty() {
            return Ok((any_live, done));
        }
        if start.elapsed() >= limit {
            return Err(MpiError::other(format!(
                "{proc_}: none of {} requests completed within {:.3} s (FMI_MPI_TIMEOUT)",
                hs.len(),
                limit.as_secs_f64()
            )));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}

unsafe fn any_result(
    found: Option<(usize, Result<MPI_Status, MpiError>)>,
    indx: *mut c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    match found {
        None => {
            out(indx, MPI_UNDEFINED, "index")?;
            status::write_empty(st);
            Ok(())
        }
        Some((i, r)) => {
            out(indx, i as c_int, "index")?;
            status::write(st, r?);
            Ok(())
        }
    }
}

pub unsafe fn waitany(
    count: c_int,
    hs: *mut MPI_Request,
    indx: *mut c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let n = n_of(count, "count")?;
    let hs = reqs(hs, n)?;
    if indx.is_null() {
        return Err(MpiError::arg("index is NULL"));
    }
    let (_, mut done) = sweep_until(hs, true, "MPI_Waitany")?;
    any_result(done.pop(), indx, st)
}

pub unsafe fn testany(
    count: c_int,
    hs: *mut MPI_Request,
    indx: *mut c_int,
    flag: *mut c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let n = n_of(count, "count")?;
    let hs = reqs(hs, n)?;
    if indx.is_null() || flag.is_null() {
        return Err(MpiError::arg("index or flag is NULL"));
    }
    let (any_live, mut done) = sweep(hs, true)?;
    if !any_live {
        *flag = 1;
        return any_result(None, indx, st);
    }
    match done.pop() {
        None => {
            *flag = 0;
            *indx = MPI_UNDEFINED;
            Ok(())
        }
        some => {
            *flag = 1;
            any_result(some, indx, st)
        }
    }
}

unsafe fn some_result(
    proc_: &str,
    any_live: bool,
    done: Done,
    outcount: *mut c_int,
    idx: *mut c_int,
    sts: *mut MPI_Status,
    n: usize,
) -> Result<(), MpiError> {
    if !any_live {
        return out(outcount, MPI_UNDEFINED, "outcount");
    }
    let k = done.len();
    let idx = crate::cabi::slice_mut(idx, k.min(n), "array_of_indices")?;
    let mut sts = statuses(sts, n);
    let mut errs = Vec::new();
    for (j, (i, r)) in done.into_iter().enumerate() {
        idx[j] = i as c_int;
        match r {
            Ok(s) => {
                if let Some(sts) = sts.as_deref_mut() {
                    status::write(&mut sts[j], s);
                    sts[j].MPI_ERROR = MPI_SUCCESS;
                }
            }
            Err(e) => errs.push((j, e)),
        }
    }
    out(outcount, k as c_int, "outcount")?;
    in_status(proc_, &errs, sts, |j| j)
}

pub unsafe fn waitsome(
    incount: c_int,
    hs: *mut MPI_Request,
    outcount: *mut c_int,
    idx: *mut c_int,
    sts: *mut MPI_Status,
) -> Result<(), MpiError> {
    let n = n_of(incount, "incount")?;
    let hs = reqs(hs, n)?;
    if outcount.is_null() {
        return Err(MpiError::arg("outcount is NULL"));
    }
    let (any_live, done) = sweep_until(hs, false, "MPI_Waitsome")?;
    some_result("MPI_Waitsome", any_live, done, outcount, idx, sts, n)
}

pub unsafe fn testsome(
    incount: c_int,
    hs: *mut MPI_Request,
    outcount: *mut c_int,
    idx: *mut c_int,
    sts: *mut MPI_Status,
) -> Result<(), MpiError> {
    let n = n_of(incount, "incount")?;
    let hs = reqs(hs, n)?;
    if outcount.is_null() {
        return Err(MpiError::arg("outcount is NULL"));
    }
    let (any_live, done) = sweep(hs, false)?;
    some_result("MPI_Testsome", any_live, done, outcount, idx, sts, n)
}

/// The status `h` would complete with, if it would complete at once (the request is left
/// as it is).
fn status_of(h: MPI_Request) -> Result<Option<MPI_Status>, MpiError> {
    if h == MPI_REQUEST_NULL {
        return Ok(Some(status::empty(MPI_ANY_SOURCE)));
    }
    let obj = request::get(h)?;
    if !obj.is_active()? {
        return Ok(Some(status::empty(MPI_ANY_SOURCE)));
    }
    if !obj.peek()? {
        return Ok(None);
    }
    match obj.held_status()? {
        Some(Ok(s)) => Ok(Some(s)),
        Some(Err(e)) => Err(e.on(obj.raise)),
        None => Ok(None),
    }
}

pub unsafe fn request_get_status(
    h: MPI_Request,
    flag: *mut c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    let r = status_of(h)?;
    *flag = r.is_some() as c_int;
    if let Some(s) = r {
        status::write(st, s);
    }
    Ok(())
}

pub unsafe fn request_get_status_all(
    count: c_int,
    hs: *const MPI_Request,
    flag: *mut c_int,
    sts: *mut MPI_Status,
) -> Result<(), MpiError> {
    let n = n_of(count, "count")?;
    let hs = slice(hs, n, "array_of_requests")?;
    if flag.is_null() {
        return Err(MpiError::arg("flag is NULL"));
    }
    let mut got = Vec::with_capacity(n);
    for &h in hs {
        match status_of(h)? {
            Some(s) => got.push(s),
            None => {
                *flag = 0;
                return Ok(());
            }
        }
    }
    *flag = 1;
    if let Some(sts) = statuses(sts, n) {
        for (d, s) in sts.iter_mut().zip(got) {
            status::write(d, s);
        }
    }
    Ok(())
}

pub unsafe fn request_get_status_any(
    count: c_int,
    hs: *const MPI_Request,
    indx: *mut c_int,
    flag: *mut c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let n = n_of(count, "count")?;
    let hs = slice(hs, n, "array_of_requests")?;
    if flag.is_null() || indx.is_null() {
        return Err(MpiError::arg("index or flag is NULL"));
    }
    let mut any_live = false;
    for (i, &h) in hs.iter().enumerate() {
        if !live(h)? {
            continue;
        }
        any_live = true;
        if let Some(s) = status_of(h)? {
            *flag = 1;
            *indx = i as c_int;
            status::write(st, s);
            return Ok(());
        }
    }
    *flag = !any_live as c_int;
    *indx = MPI_UNDEFINED;
    if !any_live {
        status::write_empty(st);
    }
    Ok(())
}

pub unsafe fn request_get_status_some(
    incount: c_int,
    hs: *const MPI_Request,
    outcount: *mut c_int,
    idx: *mut c_int,
    sts: *mut MPI_Status,
) -> Result<(), MpiError> {
    let n = n_of(incount, "incount")?;
    let hs = slice(hs, n, "array_of_requests")?;
    if outcount.is_null() {
        return Err(MpiError::arg("outcount is NULL"));
    }
    let mut any_live = false;
    let mut done = Vec::new();
    for (i, &h) in hs.iter().enumerate() {
        if !live(h)? {
            continue;
        }
        any_live = true;
        if let Some(s) = status_of(h)? {
            done.push((i, s));
        }
    }
    if !any_live {
        *outcount = MPI_UNDEFINED;
        return Ok(());
    }
    let ix = crate::cabi::slice_mut(idx, done.len(), "array_of_indices")?;
    let mut sts = statuses(sts, n);
    for (j, (i, s)) in done.iter().enumerate() {
        ix[j] = *i as c_int;
        if let Some(sts) = sts.as_deref_mut() {
            status::write(&mut sts[j], *s);
        }
    }
    *outcount = done.len() as c_int;
    Ok(())
}

pub unsafe fn request_free(h: *mut MPI_Request) -> Result<(), MpiError> {
    let h = h.as_mut().ok_or_else(|| MpiError::arg("request is NULL"))?;
    request::free(h)
}

pub unsafe fn start(h: *mut MPI_Request) -> Result<(), MpiError> {
    let h = *h.as_ref().ok_or_else(|| MpiError::arg("request is NULL"))?;
    request::get(h)?.start()
}

pub unsafe fn startall(count: c_int, hs: *mut MPI_Request) -> Result<(), MpiError> {
    let n = n_of(count, "count")?;
    let hs = slice(hs, n, "array_of_requests")?;
    for &h in hs {
        request::get(h)?.start()?;
    }
    Ok(())
}

pub unsafe fn cancel(h: *mut MPI_Request) -> Result<(), MpiError> {
    let h = *h.as_ref().ok_or_else(|| MpiError::arg("request is NULL"))?;
    request::get(h)?.cancel()
}
