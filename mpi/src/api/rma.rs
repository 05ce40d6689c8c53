//! The one-sided operations: `MPI_Put`, `MPI_Get`, `MPI_Accumulate`, `MPI_Get_accumulate`,
//! `MPI_Fetch_and_op`, `MPI_Compare_and_swap`, the request forms (`MPI_Rput`, ...) and the
//! `_c` forms, with any datatype: the origin's data is packed through the datatype engine, the
//! target datatype travels as its list of data blocks, and accumulates apply the predefined
//! operator element-wise at the target (`crate::rma`). Each operation is complete at the
//! target when it returns; a request form returns a request already complete.

#![allow(clippy::too_many_arguments)]

use crate::cabi::out;
use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::request::{self, NullOp};
use crate::objects::win::{self, WinObj};
use crate::objects::{datatype as dt, op as opobj, status};
use crate::reduce::{Op, Operator};
use crate::rma::origin;
use crate::rma::wire::{Kind, Msg};
use crate::types::{Named, Type};
use std::ffi::{c_int, c_void};
use std::sync::Arc;

fn count_of(n: i64, what: &str) -> Result<u64, MpiError> {
    u64::try_from(n).map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("{what} = {n} is negative")))
}

/// The window, the target rank (None: `MPI_PROC_NULL`, nothing to do).
fn target(w: MPI_Win, rank: c_int) -> Result<(Arc<WinObj>, Option<usize>), MpiError> {
    let o = win::get(w)?;
    if rank == MPI_PROC_NULL {
        return Ok((o, None));
    }
    let t = crate::api::winsync::target_of(&o, rank)?;
    Ok((o, Some(t)))
}

fn bytes_match(a: u64, b: u64, what: &str) -> Result<(), MpiError> {
    if a != b {
        return Err(MpiError::new(
            MPI_ERR_TYPE,
            format!("{what}: the origin has {a} bytes of data, the target {b} (the datatypes' signatures differ)"),
        ));
    }
    Ok(())
}

/// The request to `target` for `tcount` elements of `ttype` at `disp`.
fn msg(kind: Kind, disp: MPI_Aint, tcount: u64, ttype: &Type) -> Result<Msg, MpiError> {
    let mut m = Msg::control(kind, 0);
    m.disp = disp as i64;
    m.blocks = origin::layout(ttype, tcount)?;
    Ok(m)
}

fn named_index(n: Named) -> u16 {
    Named::ALL.iter().position(|&x| x == n).unwrap_or(0) as u16
}

/// A predefined operator allowed in one-sided accumulates and the element type it works on
/// (with no data to combine, any type: nothing is computed, as MPICH accepts it).
fn acc_op(h: MPI_Op, ttype: &Type, tcount: u64) -> Result<(Op, Named), MpiError> {
    let op = match opobj::get(h)? {
        Operator::Predefined(op) => op,
        Operator::User { .. } => return Err(MpiError::new(
            MPI_ERR_OP,
            "one-sided accumulates take predefined operators only (MPI forbids user-defined ones)",
        )),
    };
    if ttype.bytes(tcount)? == 0 {
        return Ok((op, ttype.uniform().unwrap_or(Named::ALL[0])));
    }
    let n = op.check(ttype)?;
    Ok((op, n))
}

unsafe fn put_impl(
    buf: *const c_void,
    count: i64,
    otype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    tcount: i64,
    ttype: MPI_Datatype,
    w: MPI_Win,
) -> Result<(), MpiError> {
    let (o, t) = target(w, rank)?;
    let (count, tcount) = (
        count_of(count, "origin_count")?,
        count_of(tcount, "target_count")?,
    );
    let (ot, tt) = (dt::committed(otype)?, dt::committed(ttype)?);
    let Some(t) = t else { return Ok(()) };
    let mut m = msg(Kind::Put, disp, tcount, &tt)?;
    m.data = origin::pack(buf.cast(), count, &ot)?;
    bytes_match(m.data.len() as u64, m.span(), "MPI_Put")?;
    origin::request(&o, t, &m, 0).map(drop)
}

unsafe fn get_impl(
    buf: *mut c_void,
    count: i64,
    otype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    tcount: i64,
    ttype: MPI_Datatype,
    w: MPI_Win,
) -> Result<(), MpiError> {
    let (o, t) = target(w, rank)?;
    let (count, tcount) = (
        count_of(count, "origin_count")?,
        count_of(tcount, "target_count")?,
    );
    let (ot, tt) = (dt::committed(otype)?, dt::committed(ttype)?);
    let Some(t) = t else { return Ok(()) };
    let m = msg(Kind::Get, disp, tcount, &tt)?;
    bytes_match(ot.bytes(count)?, m.span(), "MPI_Get")?;
    let data = origin::request(&o, t, &m, m.span() as usize)?;
    bytes_match(ot.bytes(count)?, data.len() as u64, "MPI_Get")?;
    ot.unpack(&data, buf.cast(), count)?;
    Ok(())
}

/// Accumulate, and get-accumulate when `result` is given.
unsafe fn acc_impl(
    buf: *const c_void,
    count: i64,
    otype: MPI_Datatype,
    result: Option<(*mut c_void, i64, MPI_Datatype)>,
    rank: c_int,
    disp: MPI_Aint,
    tcount: i64,
    ttype: MPI_Datatype,
    op: MPI_Op,
    w: MPI_Win,
) -> Result<(), MpiError> {
    let (o, t) = target(w, rank)?;
    let tcount = count_of(tcount, "target_count")?;
    let tt = dt::committed(ttype)?;
    let (op, n) = acc_op(op, &tt, tcount)?;
    let kind = if result.is_some() {
        Kind::GetAcc
    } else {
        Kind::Acc
    };
    let mut m = msg(kind, disp, tcount, &tt)?;
    m.op = Op::ALL.iter().position(|&x| x == op).unwrap_or(0) as u8;
    m.named = named_index(n);
    // MPI_NO_OP ignores the origin buffer.
    if op != Op::NoOp {
        let count = count_of(count, "origin_count")?;
        let ot = dt::committed(otype)?;
        let on = if ot.bytes(count)? == 0 {
            n
        } else {
            op.check(&ot)?
        };
        if on != n {
            return Err(MpiError::new(
                MPI_ERR_TYPE,
                format!(
                    "the origin's elements are {}, the target's {}: an accumulate combines the same type",
                    on.name(),
                    n.name()
                ),
            ));
        }
        m.data = origin::pack(buf.cast(), count, &ot)?;
        bytes_match(m.data.len() as u64, m.span(), "accumulate")?;
    }
    let res = match result {
        Some((rbuf, rcount, rtype)) => {
            let rcount = count_of(rcount, "result_count")?;
            let rt = dt::committed(rtype)?;
            bytes_match(rt.bytes(rcount)?, m.span(), "MPI_Get_accumulate's result")?;
            Some((rbuf, rcount, rt))
        }
        None => None,
    };
    let Some(t) = t else { return Ok(()) };
    let data = origin::request(&o, t, &m, m.span() as usize)?;
    if let Some((rbuf, rcount, rt)) = res {
        bytes_match(rt.bytes(rcount)?, data.len() as u64, "MPI_Get_accumulate")?;
        rt.unpack(&data, rbuf.cast(), rcount)?;
    }
    Ok(())
}

/// A request already complete, for the request forms.
unsafe fn done(w: MPI_Win, req: *mut MPI_Request) -> Result<(), MpiError> {
    if req.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    let h = request::register(
        Box::new(NullOp::new(false, status::empty(MPI_ANY_SOURCE))),
        Raise::Win(w),
    );
    out(req, h, "request")
}

fn check_req(req: *mut MPI_Request) -> Result<(), MpiError> {
    if req.is_null() {
        return Err(MpiError::arg("request is NULL"));
    }
    Ok(())
}

pub unsafe fn put_c(
    buf: *const c_void,
    count: MPI_Count,
    otype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    tcount: MPI_Count,
    ttype: MPI_Datatype,
    w: MPI_Win,
) -> Result<(), MpiError> {
    put_impl(buf, count, otype, rank, disp, tcount, ttype, w)
}

pub unsafe fn get_c(
    buf: *mut c_void,
    count: MPI_Count,
    otype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    tcount: MPI_Count,
    ttype: MPI_Datatype,
    w: MPI_Win,
) -> Result<(), MpiError> {
    get_impl(buf, count, otype, rank, disp, tcount, ttype, w)
}

pub unsafe fn accumulate_c(
    buf: *const c_void,
    count: MPI_Count,
    otype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    tcount: MPI_Count,
    ttype: MPI_Datatype,
    op: MPI_Op,
    w: MPI_Win,
) -> Result<(), MpiError> {
    let (c, tc) = (count, tcount);
    acc_impl(buf, c, otype, None, rank, disp, tc, ttype, op, w)
}

pub unsafe fn get_accumulate_c(
    buf: *const c_void,
    count: MPI_Count,
    otype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: MPI_Count,
    rtype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    tcount: MPI_Count,
    ttype: MPI_Datatype,
    op: MPI_Op,
    w: MPI_Win,
) -> Result<(), MpiError> {
    let r = Some((rbuf, rcount, rtype));
    let (c, tc) = (count, tcount);
    acc_impl(buf, c, otype, r, rank, disp, tc, ttype, op, w)
}

pub unsafe fn fetch_and_op(
    buf: *const c_void,
    rbuf: *mut c_void,
    datatype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    op: MPI_Op,
    w: MPI_Win,
) -> Result<(), MpiError> {
    let r = Some((rbuf, 1, datatype));
    acc_impl(buf, 1, datatype, r, rank, disp, 1, datatype, op, w)
}

pub unsafe fn compare_and_swap(
    buf: *const c_void,
    compare: *const c_void,
    rbuf: *mut c_void,
    datatype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    w: MPI_Win,
) -> Result<(), MpiError> {
    let (o, t) = target(w, rank)?;
    let ty = dt::committed(datatype)?;
    let n = ty.as_named().ok_or_else(|| {
        MpiError::new(
            MPI_ERR_TYPE,
            "MPI_Compare_and_swap takes a predefined datatype",
        )
    })?;
    let Some(t) = t else { return Ok(()) };
    let mut m = msg(Kind::Cas, disp, 1, &ty)?;
    m.named = named_index(n);
    m.data = origin::pack(buf.cast(), 1, &ty)?;
    m.compare = origin::pack(compare.cast(), 1, &ty)?;
    let data = origin::request(&o, t, &m, m.span() as usize)?;
    ty.unpack(&data, rbuf.cast(), 1)?;
    Ok(())
}

pub unsafe fn rput_c(
    buf: *const c_void,
    count: MPI_Count,
    otype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    tcount: MPI_Count,
    ttype: MPI_Datatype,
    w: MPI_Win,
    req: *mut MPI_Request,
) -> Result<(), MpiError> {
    check_req(req)?;
    put_c(buf, count, otype, rank, disp, tcount, ttype, w)?;
    done(w, req)
}

pub unsafe fn rget_c(
    buf: *mut c_void,
    count: MPI_Count,
    otype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    tcount: MPI_Count,
    ttype: MPI_Datatype,
    w: MPI_Win,
    req: *mut MPI_Request,
) -> Result<(), MpiError> {
    check_req(req)?;
    get_c(buf, count, otype, rank, disp, tcount, ttype, w)?;
    done(w, req)
}

pub unsafe fn raccumulate_c(
    buf: *const c_void,
    count: MPI_Count,
    otype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    tcount: MPI_Count,
    ttype: MPI_Datatype,
    op: MPI_Op,
    w: MPI_Win,
    req: *mut MPI_Request,
) -> Result<(), MpiError> {
    check_req(req)?;
    accumulate_c(buf, count, otype, rank, disp, tcount, ttype, op, w)?;
    done(w, req)
}

pub unsafe fn rget_accumulate_c(
    buf: *const c_void,
    count: MPI_Count,
    otype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: MPI_Count,
    rtype: MPI_Datatype,
    rank: c_int,
    disp: MPI_Aint,
    tcount: MPI_Count,
    ttype: MPI_Datatype,
    op: MPI_Op,
    w: MPI_Win,
    req: *mut MPI_Request,
) -> Result<(), MpiError> {
    check_req(req)?;
    get_accumulate_c(
        buf, count, otype, rbuf, rcount, rtype, rank, disp, tcount, ttype, op, w,
    )?;
    done(w, req)
}
