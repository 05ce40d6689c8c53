//! Operators: user operators (`MPI_Op_create`, the large-count `MPI_Op_create_c`), free,
//! commutativity, and `MPI_Reduce_local`. The kernels are `crate::reduce`.

use crate::cabi;
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::datatype as dt;
use crate::objects::op::{self as ops, OPS};
use crate::reduce::{Operator, UserFn};
use std::ffi::{c_int, c_void};
use std::sync::Arc;

fn create(f: UserFn, commute: c_int, op: *mut MPI_Op) -> Result<(), MpiError> {
    let h = MPI_Op(OPS.insert(Operator::User {
        f,
        commute: commute != 0,
    }));
    // SAFETY: `op` is the caller's out-parameter.
    unsafe { cabi::out(op, h, "op") }.inspect_err(|_| {
        OPS.remove(h.0);
    })
}

/// The datatype handle a user function is called with: the handle the reduction was called
/// with is not known to the kernels, so the function gets the handle of the type map it reduces
/// (registered once per operator call site by the caller of `Operator::core`).
pub unsafe fn op_create(
    user_fn: Option<MPI_User_function>,
    commute: c_int,
    op: *mut MPI_Op,
) -> Result<(), MpiError> {
    let f = user_fn.ok_or_else(|| MpiError::arg("user_fn is NULL"))?;
    let call = Arc::new(
        move |inv: *mut u8, inout: *mut u8, n: u64, mut t: MPI_Datatype| {
            let mut len = n as c_int;
            // SAFETY: the engine passes `n` elements of the datatype in its layout (n <= INT_MAX).
            unsafe { f(inv.cast(), inout.cast(), &mut len, &mut t) }
        },
    );
    create(user_fn_of(call, c_int::MAX as u64), commute, op)
}

pub unsafe fn op_create_c(
    user_fn: Option<MPI_User_function_c>,
    commute: c_int,
    op: *mut MPI_Op,
) -> Result<(), MpiError> {
    let f = user_fn.ok_or_else(|| MpiError::arg("user_fn is NULL"))?;
    let call = Arc::new(
        move |inv: *mut u8, inout: *mut u8, n: u64, mut t: MPI_Datatype| {
            let mut len = n as MPI_Count;
            // SAFETY: the engine passes `n` elements of the datatype in its layout.
            unsafe { f(inv.cast(), inout.cast(), &mut len, &mut t) }
        },
    );
    create(user_fn_of(call, i64::MAX as u64), commute, op)
}

type CFn = Arc<dyn Fn(*mut u8, *mut u8, u64, MPI_Datatype) + Send + Sync>;

/// A user function that gets the datatype handle of the current reduction.
fn user_fn_of(call: CFn, max_count: u64) -> UserFn {
    UserFn {
        f: Arc::new(move |a, b, n| call(a, b, n, current_type())),
        max_count,
    }
}

thread_local! {
    static CURRENT: std::cell::Cell<MPI_Datatype> = const { std::cell::Cell::new(MPI_DATATYPE_NULL) };
}

/// The datatype handle of the reduction this thread runs (what a user function receives).
fn current_type() -> MPI_Datatype {
    CURRENT.with(|c| c.get())
}

/// Runs `f` with `t` as the datatype handle user functions receive on this thread.
pub fn with_type<R>(t: MPI_Datatype, f: impl FnOnce() -> R) -> R {
    let before = CURRENT.with(|c| c.replace(t));
    let r = f();
    CURRENT.with(|c| c.set(before));
    r
}

pub unsafe fn op_free(op: *mut MPI_Op) -> Result<(), MpiError> {
    let h = cabi::read(op, "op")?;
    if ops::is_predefined(h) {
        return Err(MpiError::new(
            MPI_ERR_OP,
            "a predefined operator cannot be freed",
        ));
    }
    ops::get(h)?;
    OPS.remove(h.0);
    cabi::out(op, MPI_OP_NULL, "op")
}

pub unsafe fn op_commutative(op: MPI_Op, commute: *mut c_int) -> Result<(), MpiError> {
    cabi::out(commute, ops::get(op)?.commutative() as c_int, "commute")
}

unsafe fn reduce_local_n(
    inbuf: *const c_void,
    inoutbuf: *mut c_void,
    count: i64,
    datatype: MPI_Datatype,
    op: MPI_Op,
) -> Result<(), MpiError> {
    let n = u64::try_from(count)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("count = {count} is negative")))?;
    let t = dt::committed(datatype)?;
    let o = ops::get(op)?;
    if n > 0 && (inbuf.is_null() || inoutbuf.is_null()) {
        return Err(MpiError::new(MPI_ERR_BUFFER, "a buffer is NULL"));
    }
    with_type(datatype, || unsafe {
        o.reduce_local(&t, inbuf.cast(), inoutbuf.cast(), n)
    })?;
    Ok(())
}

pub unsafe fn reduce_local_c(
    inbuf: *const c_void,
    inoutbuf: *mut c_void,
    count: MPI_Count,
    datatype: MPI_Datatype,
    op: MPI_Op,
) -> Result<(), MpiError> {
    reduce_local_n(inbuf, inoutbuf, count, datatype, op)
}
