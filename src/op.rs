//! Reduction operators: the built-in ones (sum, prod, min, max, bitwise, logical) and user functions.

use crate::datatype::Datatype;
use crate::error::{Error, Result};
use std::fmt;
use std::sync::Arc;

/// The built-in reduction operators of the C API (`FMI_OP_SUM` ... `FMI_OP_LOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinOp {
    Sum,
    Prod,
    Min,
    Max,
    BAnd,
    BOr,
    BXor,
    LAnd,
    LOr,
}

impl BuiltinOp {
    pub const ALL: [BuiltinOp; 9] = [
        BuiltinOp::Sum,
        BuiltinOp::Prod,
        BuiltinOp::Min,
        BuiltinOp::Max,
        BuiltinOp::BAnd,
        BuiltinOp::BOr,
        BuiltinOp::BXor,
        BuiltinOp::LAnd,
        BuiltinOp::LOr,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BuiltinOp::Sum => "sum",
            BuiltinOp::Prod => "prod",
            BuiltinOp::Min => "min",
            BuiltinOp::Max => "max",
            BuiltinOp::BAnd => "band",
            BuiltinOp::BOr => "bor",
            BuiltinOp::BXor => "bxor",
            BuiltinOp::LAnd => "land",
            BuiltinOp::LOr => "lor",
        }
    }

    /// Whether the operator is defined for the datatype.
    pub fn supports(self, t: Datatype) -> bool {
        match self {
            BuiltinOp::Sum | BuiltinOp::Prod | BuiltinOp::Min | BuiltinOp::Max => {
                t != Datatype::Byte
            }
            BuiltinOp::BAnd | BuiltinOp::BOr | BuiltinOp::BXor => {
                t.is_integer() || t == Datatype::Byte
            }
            BuiltinOp::LAnd | BuiltinOp::LOr => t.is_integer(),
        }
    }
}

/// A user reduction: `accum[i] = accum[i] (+) next[i]` over `count` elements of `Datatype`.
pub type UserFn = Arc<dyn Fn(&mut [u8], &[u8], usize, Datatype) + Send + Sync>;

#[derive(Clone)]
enum Kind {
    Builtin(BuiltinOp),
    User(UserFn),
}

/// A reduction operator with its algebraic properties, which decide the algorithm:
/// an operator that is not both commutative and associative is folded strictly left to right.
#[derive(Clone)]
pub struct ReduceOp {
    kind: Kind,
    commutative: bool,
    associative: bool,
}

impl fmt::Debug for ReduceOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Builtin(b) => write!(f, "ReduceOp({})", b.name()),
            Kind::User(_) => write!(
                f,
                "ReduceOp(user, commutative={}, associative={})",
                self.commutative, self.associative
            ),
        }
    }
}

impl ReduceOp {
    pub fn builtin(op: BuiltinOp) -> Self {
        ReduceOp {
            kind: Kind::Builtin(op),
            commutative: true,
            associative: true,
        }
    }

    pub fn user(f: UserFn, commutative: bool, associative: bool) -> Self {
        ReduceOp {
            kind: Kind::User(f),
            commutative,
            associative,
        }
    }

    /// True when the result must be the strict left-to-right fold in rank order.
    pub fn ordered(&self) -> bool {
        !(self.commutative && self.associative)
    }

    /// Fails when the operator is not defined for the datatype.
    pub fn check(&self, t: Datatype) -> Result<()> {
        match &self.kind {
            Kind::Builtin(b) if !b.supports(t) => Err(Error::invalid(format!(
                "operator {} is not defined for datatype {}",
                b.name(),
                t.name()
            ))),
            _ => Ok(()),
        }
    }

    /// `accum = accum (+) next`, element-wise. Both slices have the same length, a multiple of `t.size()`.
    pub fn apply(&self, accum: &mut [u8], next: &[u8], t: Datatype) {
        debug_assert_eq!(accum.len(), next.len());
        if accum.is_empty() {
            return;
        }
        match &self.kind {
            Kind::Builtin(b) => apply_builtin(*b, t, accum, next),
            Kind::User(f) => f(accum, next, accum.len() / t.size(), t),
        }
    }
}

/// Numeric element access for the built-in kernels.
trait Elem: Copy + PartialOrd {
    const W: usize;
    fn read(b: &[u8]) -> Self;
    fn write(self, b: &mut [u8]);
    fn add(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn truthy(self) -> bool;
    fn from_bool(b: bool) -> Self;
}

trait Bits: Elem {
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
}

macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const W: usize = std::mem::size_of::<$t>();
            fn read(b: &[u8]) -> Self { <$t>::from_ne_bytes(b.try_into().expect("element width")) }
            fn write(self, b: &mut [u8]) { b.copy_from_slice(&self.to_ne_bytes()) }
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            fn truthy(self) -> bool { self != 0 }
            fn from_bool(b: bool) -> Self { b as $t }
        }
        impl Bits for $t {
            fn and(self, o: Self) -> Self { self & o }
            fn or(self, o: Self) -> Self { self | o }
            fn xor(self, o: Self) -> Self { self ^ o }
        }
    )*};
}
int_elem!(i8, u8, i16, u16, i32, u32, i64, u64);

macro_rules! float_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const W: usize = std::mem::size_of::<$t>();
            fn read(b: &[u8]) -> Self { <$t>::from_ne_bytes(b.try_into().expect("element width")) }
            fn write(self, b: &mut [u8]) { b.copy_from_slice(&self.to_ne_bytes()) }
            fn add(self, o: Self) -> Self { self + o }
            fn mul(self, o: Self) -> Self { self * o }
            fn truthy(self) -> bool { self != 0.0 }
            fn from_bool(b: bool) -> Self { if b { 1.0 } else { 0.0 } }
        }
    )*};
}
float_elem!(f32, f64);

/// Applies `f` element-wise; uses a typed loop when both buffers are aligned for `T`.
fn fold<T: Elem>(accum: &mut [u8], next: &[u8], f: impl Fn(T, T) -> T) {
    // SAFETY: every bit pattern is a valid value of the integer and float types used here.
    let (pa, a, sa) = unsafe { accum.align_to_mut::<T>() };
    let (pb, b, sb) = unsafe { next.align_to::<T>() };
    if pa.is_empty() && sa.is_empty() && pb.is_empty() && sb.is_empty() {
        for (x, y) in a.iter_mut().zip(b) {
            *x = f(*x, *y);
        }
        return;
    }
    for (x, y) in accum.chunks_exact_mut(T::W).zip(next.chunks_exact(T::W)) {
        f(T::read(x), T::read(y)).write(x);
    }
}

fn sum<T: Elem>(a: T, b: T) -> T {
    a.add(b)
}
fn prod<T: Elem>(a: T, b: T) -> T {
    a.mul(b)
}
fn min<T: Elem>(a: T, b: T) -> T {
    if b < a {
        b
    } else {
        a
    }
}
fn max<T: Elem>(a: T, b: T) -> T {
    if b > a {
        b
    } else {
        a
    }
}
fn land<T: Elem>(a: T, b: T) -> T {
    T::from_bool(a.truthy() && b.truthy())
}
fn lor<T: Elem>(a: T, b: T) -> T {
    T::from_bool(a.truthy() || b.truthy())
}
fn band<T: Bits>(a: T, b: T) -> T {
    a.and(b)
}
fn bor<T: Bits>(a: T, b: T) -> T {
    a.or(b)
}
fn bxor<T: Bits>(a: T, b: T) -> T {
    a.xor(b)
}

macro_rules! on_ints {
    ($t:expr, $acc:expr, $next:expr, $f:ident) => {
        match $t {
            Datatype::Int8 => fold::<i8>($acc, $next, $f::<i8>),
            Datatype::UInt8 | Datatype::Byte => fold::<u8>($acc, $next, $f::<u8>),
            Datatype::Int16 => fold::<i16>($acc, $next, $f::<i16>),
            Datatype::UInt16 => fold::<u16>($acc, $next, $f::<u16>),
            Datatype::Int32 => fold::<i32>($acc, $next, $f::<i32>),
            Datatype::UInt32 => fold::<u32>($acc, $next, $f::<u32>),
            Datatype::Int64 => fold::<i64>($acc, $next, $f::<i64>),
            Datatype::UInt64 => fold::<u64>($acc, $next, $f::<u64>),
            Datatype::Float | Datatype::Double => unreachable!("checked by ReduceOp::check"),
        }
    };
}

macro_rules! on_numbers {
    ($t:expr, $acc:expr, $next:expr, $f:ident) => {
        match $t {
            Datatype::Float => fold::<f32>($acc, $next, $f::<f32>),
            Datatype::Double => fold::<f64>($acc, $next, $f::<f64>),
            other => on_ints!(other, $acc, $next, $f),
        }
    };
}

fn apply_builtin(op: BuiltinOp, t: Datatype, acc: &mut [u8], next: &[u8]) {
    match op {
        BuiltinOp::Sum => on_numbers!(t, acc, next, sum),
        BuiltinOp::Prod => on_numbers!(t, acc, next, prod),
        BuiltinOp::Min => on_numbers!(t, acc, next, min),
        BuiltinOp::Max => on_numbers!(t, acc, next, max),
        BuiltinOp::LAnd => on_numbers!(t, acc, next, land),
        BuiltinOp::LOr => on_numbers!(t, acc, next, lor),
        BuiltinOp::BAnd => on_ints!(t, acc, next, band),
        BuiltinOp::BOr => on_ints!(t, acc, next, bor),
        BuiltinOp::BXor => on_ints!(t, acc, next, bxor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_i32_and_unaligned_path() {
        let op = ReduceOp::builtin(BuiltinOp::Sum);
        let mut a = [0u8; 9];
        let b = [0u8; 9];
        a[1..5].copy_from_slice(&7i32.to_ne_bytes());
        let mut bb = b;
        bb[1..5].copy_from_slice(&(-3i32).to_ne_bytes());
        op.apply(&mut a[1..5], &bb[1..5], Datatype::Int32);
        assert_eq!(i32::from_ne_bytes(a[1..5].try_into().unwrap()), 4);
    }

    #[test]
    fn checks_domain() {
        assert!(ReduceOp::builtin(BuiltinOp::BAnd)
            .check(Datatype::Float)
            .is_err());
        assert!(ReduceOp::builtin(BuiltinOp::Sum)
            .check(Datatype::Byte)
            .is_err());
        assert!(ReduceOp::builtin(BuiltinOp::BXor)
            .check(Datatype::Byte)
            .is_ok());
        assert!(ReduceOp::builtin(BuiltinOp::LOr)
            .check(Datatype::Double)
            .is_err());
    }

    #[test]
    fn integer_overflow_wraps() {
        let op = ReduceOp::builtin(BuiltinOp::Prod);
        let mut a = 200u8.to_ne_bytes();
        op.apply(&mut a, &2u8.to_ne_bytes(), Datatype::UInt8);
        assert_eq!(a[0], 144);
    }
}
