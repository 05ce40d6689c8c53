//! Reduction operator handles: the built-in codes and user functions registered by `fmi_op_create`.

use super::types::fmi_datatype;
use super::{guard, status::fmi_status, write_out};
use crate::error::{Error, Result};
use crate::op::{BuiltinOp, ReduceOp};
use once_cell::sync::Lazy;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Reduction operator: a built-in `FMI_OP_*` code or an id returned by `fmi_op_create`.
pub type fmi_op = u32;
/// Sum (all datatypes except FMI_BYTE; integers wrap around).
pub const FMI_OP_SUM: fmi_op = 1;
/// Product (all datatypes except FMI_BYTE; integers wrap around).
pub const FMI_OP_PROD: fmi_op = 2;
/// Minimum (all datatypes except FMI_BYTE).
pub const FMI_OP_MIN: fmi_op = 3;
/// Maximum (all datatypes except FMI_BYTE).
pub const FMI_OP_MAX: fmi_op = 4;
/// Bitwise and (integer datatypes and FMI_BYTE).
pub const FMI_OP_BAND: fmi_op = 5;
/// Bitwise or (integer datatypes and FMI_BYTE).
pub const FMI_OP_BOR: fmi_op = 6;
/// Bitwise exclusive or (integer datatypes and FMI_BYTE).
pub const FMI_OP_BXOR: fmi_op = 7;
/// Logical and: 1 when both are non-zero, else 0 (integer datatypes).
pub const FMI_OP_LAND: fmi_op = 8;
/// Logical or: 1 when either is non-zero, else 0 (integer datatypes).
pub const FMI_OP_LOR: fmi_op = 9;

/// A user reduction: computes `accum[i] = accum[i] (+) next[i]` for `i < count`, where `accum` is
/// the LEFT operand. Buffers are aligned for `dtype`. It may be called from any thread that runs
/// a libfmi call, must not call libfmi itself, and must not unwind or longjmp.
pub type fmi_user_fn = Option<
    unsafe extern "C" fn(
        accum: *mut c_void,
        next: *const c_void,
        count: usize,
        dtype: fmi_datatype,
        user_data: *mut c_void,
    ),
>;

static USER_OPS: Lazy<RwLock<HashMap<fmi_op, ReduceOp>>> =
    Lazy::new(|| RwLock::new(HashMap::new()));
static NEXT_OP: AtomicU32 = AtomicU32::new(0x100);

/// The operator behind a C op code.
pub(crate) fn lookup(op: fmi_op) -> Result<ReduceOp> {
    if (FMI_OP_SUM..=FMI_OP_LOR).contains(&op) {
        return Ok(ReduceOp::builtin(BuiltinOp::ALL[(op - 1) as usize]));
    }
    USER_OPS.read().get(&op).cloned().ok_or_else(|| {
        Error::invalid(format!(
            "unknown op {op} (not built-in, not created, or already freed)"
        ))
    })
}

struct CFunction {
    f: unsafe extern "C" fn(*mut c_void, *const c_void, usize, fmi_datatype, *mut c_void),
    user_data: *mut c_void,
}
// SAFETY: the caller of fmi_op_create promises the function and its data may be used from any
// thread that makes libfmi calls (documented on fmi_op_create).
unsafe impl Send for CFunction {}
unsafe impl Sync for CFunction {}

impl CFunction {
    fn call(&self, acc: &mut [u8], next: &[u8], count: usize, t: crate::Datatype) {
        // SAFETY: both buffers hold `count` elements of `t`; the function is the caller's.
        unsafe {
            (self.f)(
                acc.as_mut_ptr() as *mut c_void,
                next.as_ptr() as *const c_void,
                count,
                t.raw(),
                self.user_data,
            )
        }
    }
}

/// Registers a user reduction and writes its id to `*out`.
///
/// `commutative` and `associative` (non-zero = true) choose the algorithm: unless both hold, every
/// reduction with this op is the strict left-to-right fold v0 (+) v1 (+) ... in rank order, with
/// the same result on every peer. Every peer must create an equivalent op. `user_data` is passed
/// to every call and must stay valid until `fmi_op_free`.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access described above: buffers for their full
/// size in bytes, strings NUL-terminated, out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_op_create(
    function: fmi_user_fn,
    user_data: *mut c_void,
    commutative: c_int,
    associative: c_int,
    out: *mut fmi_op,
) -> fmi_status {
    guard("fmi_op_create", || {
        write_out(out, 0, "out")?;
        let f =
            function.ok_or_else(|| Error::new(crate::ErrorKind::NullArg, "function is NULL"))?;
        let cf = CFunction { f, user_data };
        let call = Arc::new(
            move |acc: &mut [u8], next: &[u8], count: usize, t: crate::Datatype| {
                cf.call(acc, next, count, t)
            },
        );
        let op = ReduceOp::user(call, commutative != 0, associative != 0);
        let id = NEXT_OP.fetch_add(1, Ordering::Relaxed);
        USER_OPS.write().insert(id, op);
        write_out(out, id, "out")
    })
}

/// Releases a user reduction created by `fmi_op_create`. Built-in ops cannot be freed.
#[no_mangle]
pub extern "C" fn fmi_op_free(op: fmi_op) -> fmi_status {
    guard("fmi_op_free", || {
        if (FMI_OP_SUM..=FMI_OP_LOR).contains(&op) {
            return Err(Error::invalid(format!(
                "op {op} is built-in and cannot be freed"
            )));
        }
        USER_OPS.write().remove(&op).map(|_| ()).ok_or_else(|| {
            Error::invalid(format!("unknown op {op} (not created, or already freed)"))
        })
    })
}
