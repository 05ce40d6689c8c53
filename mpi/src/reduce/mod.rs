//! Reductions: the predefined operators (MPI's table of which apply to which datatypes, and
//! their kernels on every predefined type incl. pair types, complex and `long double`), user
//! operators (`MPI_User_function` and the large-count form, with the commute flag), and the
//! core operator (`fmi::ReduceOp`) a collective runs: the core's own built-in kernel when it has
//! one for the type, otherwise opaque elements of the packed value size reduced by these
//! kernels, so the core's algorithms split buffers only between whole values.
//!
//! Data reaches the core packed (`types::Type::pack`); a user function sees it in the datatype's
//! own layout, rebuilt here. No C-ABI code: the API wraps the C function pointer.

mod kernels;
pub mod longdouble;

use crate::engine::{Class, Error, Result};
use crate::types::{Category, Named, Part, Prim, Type};
use std::sync::Arc;

/// The predefined operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Max,
    Min,
    Sum,
    Prod,
    Land,
    Lor,
    Lxor,
    Band,
    Bor,
    Bxor,
    Maxloc,
    Minloc,
    Replace,
    NoOp,
}

impl Op {
    pub const ALL: [Op; 14] = [
        Op::Max,
        Op::Min,
        Op::Sum,
        Op::Prod,
        Op::Land,
        Op::Lor,
        Op::Lxor,
        Op::Band,
        Op::Bor,
        Op::Bxor,
        Op::Maxloc,
        Op::Minloc,
        Op::Replace,
        Op::NoOp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Max => "MPI_MAX",
            Op::Min => "MPI_MIN",
            Op::Sum => "MPI_SUM",
            Op::Prod => "MPI_PROD",
            Op::Land => "MPI_LAND",
            Op::Lor => "MPI_LOR",
            Op::Lxor => "MPI_LXOR",
            Op::Band => "MPI_BAND",
            Op::Bor => "MPI_BOR",
            Op::Bxor => "MPI_BXOR",
            Op::Maxloc => "MPI_MAXLOC",
            Op::Minloc => "MPI_MINLOC",
            Op::Replace => "MPI_REPLACE",
            Op::NoOp => "MPI_NO_OP",
        }
    }

    /// MPI's table: whether the operator is defined for the predefined type.
    pub fn supports(self, n: Named) -> bool {
        use Category::*;
        let c = n.category();
        match self {
            Op::Max | Op::Min => matches!(c, CInteger | FortranInteger | Floating),
            Op::Sum | Op::Prod => matches!(c, CInteger | FortranInteger | Floating | Complex),
            Op::Land | Op::Lor | Op::Lxor => matches!(c, CInteger | Logical),
            Op::Band | Op::Bor | Op::Bxor => matches!(c, CInteger | FortranInteger | Byte),
            Op::Maxloc | Op::Minloc => c == Pair,
            Op::Replace | Op::NoOp => true,
        }
    }

    /// The predefined type the operator reduces in `t` (every basic element of `t` must be that
    /// one type), after checking MPI's table (`MPI_ERR_OP`) and this build's arithmetic
    /// (`MPI_ERR_UNSUPPORTED_OPERATION` for quadruple precision, and `long double` off x86-64).
    pub fn check(self, t: &Type) -> Result<Named> {
        let n = t.uniform().ok_or_else(|| {
            Error::new(
                Class::Op,
                format!(
                    "{} needs a datatype made of one predefined type; this one mixes several",
                    self.name()
                ),
            )
        })?;
        if !self.supports(n) {
            return Err(Error::new(
                Class::Op,
                format!("{} is not defined for {}", self.name(), n.name()),
            ));
        }
        if matches!(self, Op::Replace | Op::NoOp) {
            return Ok(n);
        }
        let quad = matches!(n.prim(), Prim::F128 | Prim::Complex(Part::F128));
        let ld = matches!(n.prim(), Prim::LongDouble | Prim::Complex(Part::LongDouble))
            || n == Named::LongDoubleInt;
        if quad || (ld && !longdouble::SUPPORTED) {
            return Err(Error::new(
                Class::Unsupported,
                format!(
                    "{} on {}: this build has no arithmetic for that type",
                    self.name(),
                    n.name()
                ),
            ));
        }
        Ok(n)
    }

    /// `inout[i] = in[i] op inout[i]` over packed values of `n` (checked by [`Op::check`]).
    pub fn apply(self, n: Named, input: &[u8], inout: &mut [u8]) {
        kernels::apply(self, n.prim(), input, inout)
    }
}

/// A user function in the datatype's layout: `f(invec, inoutvec, count)` computes
/// `inoutvec[i] = invec[i] op inoutvec[i]` for `count` elements; `max_count` is the largest
/// count one call takes (`INT_MAX` for `MPI_User_function`).
#[derive(Clone)]
pub struct UserFn {
    pub f: Arc<dyn Fn(*mut u8, *mut u8, u64) + Send + Sync>,
    pub max_count: u64,
}

/// An MPI operator: predefined, or a user function with its commute flag.
#[derive(Clone)]
pub enum Operator {
    Predefined(Op),
    User { f: UserFn, commute: bool },
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operator::Predefined(op) => f.write_str(op.name()),
            Operator::User { commute, .. } => write!(f, "user op (commute={commute})"),
        }
    }
}

/// The core's element type for packed values of `n` when the core has the operator built in.
fn core_builtin(op: Op, n: Named) -> Option<(fmi::Datatype, fmi::BuiltinOp)> {
    use fmi::Datatype as D;
    let t = match n.prim() {
        Prim::I8 => D::Int8,
        Prim::U8 => D::UInt8,
        Prim::I16 => D::Int16,
        Prim::U16 => D::UInt16,
        Prim::I32 => D::Int32,
        Prim::U32 => D::UInt32,
        Prim::I64 => D::Int64,
        Prim::U64 => D::UInt64,
        Prim::F32 => D::Float,
        Prim::F64 => D::Double,
        Prim::Raw(1) if n.category() == Category::Byte => D::Byte,
        _ => return None,
    };
    let b = match op {
        Op::Sum => fmi::BuiltinOp::Sum,
        Op::Prod => fmi::BuiltinOp::Prod,
        Op::Max => fmi::BuiltinOp::Max,
        Op::Min => fmi::BuiltinOp::Min,
        Op::Band => fmi::BuiltinOp::BAnd,
        Op::Bor => fmi::BuiltinOp::BOr,
        Op::Bxor => fmi::BuiltinOp::BXor,
        Op::Land => fmi::BuiltinOp::LAnd,
        Op::Lor => fmi::BuiltinOp::LOr,
        _ => return None,
    };
    b.supports(t).then_some((t, b))
}

impl Operator {
    pub fn commutative(&self) -> bool {
        match self {
            Operator::Predefined(_) => true,
            Operator::User { commute, .. } => *commute,
        }
    }

    /// The core element type and operator that reduce packed data of `t` (the core folds
    /// `accum = accum (+) next`, accum being the lower ranks' part: MPI's `invec`).
    pub fn core(&self, t: &Arc<Type>) -> Result<(fmi::Datatype, fmi::ReduceOp)> {
        t.check_committed()?;
        let size = usize::try_from(t.size()).unwrap_or(usize::MAX);
        match self {
            Operator::Predefined(op) => {
                let n = op.check(t)?;
                if let Some((d, b)) = core_builtin(*op, n) {
                    return Ok((d, fmi::ReduceOp::builtin(b)));
                }
                let op = *op;
                let elem = opaque(n.size())?;
                let f = Arc::new(
                    move |acc: &mut [u8], next: &[u8], _: usize, _: fmi::Datatype| {
                        // acc = acc op next; the predefined operators commute.
                        op.apply(n, next, acc)
                    },
                );
                Ok((elem, fmi::ReduceOp::user(f, true, true)))
            }
            Operator::User { f, commute } => {
                let elem = opaque(size)?;
                let (f, t, commute) = (f.clone(), t.clone(), *commute);
                let run = Arc::new(
                    move |acc: &mut [u8], next: &[u8], _: usize, _: fmi::Datatype| {
                        user_packed(&f, &t, commute, acc, next)
                    },
                );
                Ok((elem, fmi::ReduceOp::user(run, commute, true)))
            }
        }
    }

    /// `MPI_Reduce_local`: `inout = in op inout` over `count` elements of `t` in the user's
    /// layout.
    ///
    /// # Safety
    /// Both buffers must hold `count` elements of `t` (readable; `inout` also writable).
    pub unsafe fn reduce_local(
        &self,
        t: &Arc<Type>,
        input: *const u8,
        inout: *mut u8,
        count: u64,
    ) -> Result<()> {
        t.check_committed()?;
        match self {
            Operator::Predefined(op) => {
                let n = op.check(t)?;
                let bytes = usize::try_from(t.bytes(count)?)
                    .map_err(|_| Error::new(Class::Count, "count too large"))?;
                let mut a = vec![0u8; bytes];
                let mut b = vec![0u8; bytes];
                // SAFETY: the caller's guarantee.
                unsafe {
                    t.pack(input, count, &mut a)?;
                    t.pack(inout, count, &mut b)?;
                }
                op.apply(n, &a, &mut b);
                // SAFETY: the caller's guarantee.
                unsafe { t.unpack(&b, inout, count) }
            }
            Operator::User { f, .. } => {
                call_chunked(f, t, input as *mut u8, inout, count);
                Ok(())
            }
        }
    }
}

fn opaque(size: usize) -> Result<fmi::Datatype> {
    fmi::Datatype::opaque(size).map_err(|_| {
        Error::new(
            Class::Type,
            "a reduction needs a datatype with data (its size is 0)",
        )
    })
}

/// Calls the user function over `count` elements in chunks it accepts.
fn call_chunked(f: &UserFn, t: &Type, input: *mut u8, inout: *mut u8, count: u64) {
    let mut done = 0u64;
    while done < count {
        let n = (count - done).min(f.max_count.max(1));
        let off = (done as i64).wrapping_mul(t.extent()) as isize;
        (f.f)(input.wrapping_offset(off), inout.wrapping_offset(off), n);
        done += n;
    }
}

/// `acc = acc op next` over packed elements of `t` with a user function, which works in the
/// datatype's layout: dense types are passed in place, others rebuilt in a scratch buffer.
fn user_packed(f: &UserFn, t: &Type, commute: bool, acc: &mut [u8], next: &[u8]) {
    let size = t.size() as usize;
    let count = (acc.len() / size) as u64;
    if let Some(disp) = t.dense() {
        let base = |p: *mut u8| p.wrapping_offset(-(disp as isize));
        if commute {
            // acc = next op acc, the same by commutativity; `next` is only read.
            call_chunked(
                f,
                t,
                base(next.as_ptr() as *mut u8),
                base(acc.as_mut_ptr()),
                count,
            );
        } else {
            let mut tmp = next.to_vec();
            call_chunked(f, t, base(acc.as_mut_ptr()), base(tmp.as_mut_ptr()), count);
            acc.copy_from_slice(&tmp);
        }
        return;
    }
    // Scratch buffers spanning `count` elements from the true lower bound.
    let ext = t.extent();
    let span = if count == 0 {
        0
    } else {
        ((count as i64 - 1) * ext.abs() + t.true_extent()) as usize
    };
    let origin = if ext < 0 {
        (count as i64 - 1) * -ext
    } else {
        0
    } - t.true_lb();
    let mut a = vec![0u8; span];
    let mut b = vec![0u8; span];
    let pa = a.as_mut_ptr().wrapping_offset(origin as isize);
    let pb = b.as_mut_ptr().wrapping_offset(origin as isize);
    // SAFETY: the scratch buffers span the type map of `count` elements from `origin`; the
    // packed slices hold exactly `count` elements (the core passes whole elements).
    unsafe {
        t.unpack(acc, pa, count).expect("whole elements");
        t.unpack(next, pb, count).expect("whole elements");
    }
    call_chunked(f, t, pa, pb, count);
    // SAFETY: as above.
    unsafe { t.pack(pb, count, acc).expect("whole elements") };
}

#[cfg(test)]
mod tests;
