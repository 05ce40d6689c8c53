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

    /// Whether the operator is defined for the datatype (never for an opaque element).
    pub fn supports(self, t: Datatype) -> bool {
        if matches!(t, Datatype::Opaque(_)) {
            return false;
        }
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

/// A user reduction: `accum[i] = accum[i] (+) next[i]` over `count` elements of `Datatype`
/// (for `Datatype::Opaque(n)`, `count` elements of `n` bytes each, not necessarily aligned).
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

    /// `out = a (+) b`, element-wise, without first copying `a` into `out` (built-in operators
    /// read both inputs and write the output in one pass; a user function, which reduces in
    /// place, gets `out` as a copy of `a`). All three slices have the same length, a multiple of
    /// `t.size()`; `out` must not overlap `a` or `b` (the borrows guarantee it).
    pub fn apply_into(&self, out: &mut [u8], a: &[u8], b: &[u8], t: Datatype) {
        debug_assert_eq!(out.len(), a.len());
        debug_assert_eq!(out.len(), b.len());
        if out.is_empty() {
            return;
        }
        match &self.kind {
            Kind::Builtin(op) => apply_builtin_into(*op, t, out, a, b),
            Kind::User(f) => {
                out.copy_from_slice(a);
                f(out, b, out.len() / t.size(), t)
            }
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

/// `out = f(a, b)` element-wise; uses a typed loop when the three buffers are aligned for `T`.
fn fold_into<T: Elem>(out: &mut [u8], a: &[u8], b: &[u8], f: impl Fn(T, T) -> T) {
    // SAFETY: every bit pattern is a valid value of the integer and float types used here.
    let (po, o, so) = unsafe { out.align_to_mut::<T>() };
    let (pa, ta, sa) = unsafe { a.align_to::<T>() };
    let (pb, tb, sb) = unsafe { b.align_to::<T>() };
    if [po.len(), so.len(), pa.len(), sa.len(), pb.len(), sb.len()] == [0; 6] {
        for ((z, x), y) in o.iter_mut().zip(ta).zip(tb) {
            *z = f(*x, *y);
        }
        return;
    }
    for ((z, x), y) in out
        .chunks_exact_mut(T::W)
        .zip(a.chunks_exact(T::W))
        .zip(b.chunks_exact(T::W))
    {
        f(T::read(x), T::read(y)).write(z);
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
    ($fold:ident, $t:expr, $f:ident, $($buf:expr),+) => {
        match $t {
            Datatype::Int8 => $fold::<i8>($($buf),+, $f::<i8>),
            Datatype::UInt8 | Datatype::Byte => $fold::<u8>($($buf),+, $f::<u8>),
            Datatype::Int16 => $fold::<i16>($($buf),+, $f::<i16>),
            Datatype::UInt16 => $fold::<u16>($($buf),+, $f::<u16>),
            Datatype::Int32 => $fold::<i32>($($buf),+, $f::<i32>),
            Datatype::UInt32 => $fold::<u32>($($buf),+, $f::<u32>),
            Datatype::Int64 => $fold::<i64>($($buf),+, $f::<i64>),
            Datatype::UInt64 => $fold::<u64>($($buf),+, $f::<u64>),
            Datatype::Float | Datatype::Double | Datatype::Opaque(_) => {
                unreachable!("checked by ReduceOp::check")
            }
        }
    };
}

macro_rules! on_numbers {
    ($fold:ident, $t:expr, $f:ident, $($buf:expr),+) => {
        match $t {
            Datatype::Float => $fold::<f32>($($buf),+, $f::<f32>),
            Datatype::Double => $fold::<f64>($($buf),+, $f::<f64>),
            other => on_ints!($fold, other, $f, $($buf),+),
        }
    };
}

fn apply_builtin(op: BuiltinOp, t: Datatype, acc: &mut [u8], next: &[u8]) {
    match op {
        BuiltinOp::Sum => on_numbers!(fold, t, sum, acc, next),
        BuiltinOp::Prod => on_numbers!(fold, t, prod, acc, next),
        BuiltinOp::Min => on_numbers!(fold, t, min, acc, next),
        BuiltinOp::Max => on_numbers!(fold, t, max, acc, next),
        BuiltinOp::LAnd => on_numbers!(fold, t, land, acc, next),
        BuiltinOp::LOr => on_numbers!(fold, t, lor, acc, next),
        BuiltinOp::BAnd => on_ints!(fold, t, band, acc, next),
        BuiltinOp::BOr => on_ints!(fold, t, bor, acc, next),
        BuiltinOp::BXor => on_ints!(fold, t, bxor, acc, next),
    }
}

fn apply_builtin_into(op: BuiltinOp, t: Datatype, out: &mut [u8], a: &[u8], b: &[u8]) {
    match op {
        BuiltinOp::Sum => on_numbers!(fold_into, t, sum, out, a, b),
        BuiltinOp::Prod => on_numbers!(fold_into, t, prod, out, a, b),
        BuiltinOp::Min => on_numbers!(fold_into, t, min, out, a, b),
        BuiltinOp::Max => on_numbers!(fold_into, t, max, out, a, b),
        BuiltinOp::LAnd => on_numbers!(fold_into, t, land, out, a, b),
        BuiltinOp::LOr => on_numbers!(fold_into, t, lor, out, a, b),
        BuiltinOp::BAnd => on_ints!(fold_into, t, band, out, a, b),
        BuiltinOp::BOr => on_ints!(fold_into, t, bor, out, a, b),
        BuiltinOp::BXor => on_ints!(fold_into, t, bxor, out, a, b),
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
    fn apply_into_matches_apply() {
        // Every operator and datatype, aligned and unaligned buffers: out = a (+) b must be the
        // bits that apply(a copy of a, b) gives, user operators included.
        let a: Vec<u8> = (0..67u32).map(|i| (i * 37 + 11) as u8).collect();
        let b: Vec<u8> = (0..67u32).map(|i| (i * 91 + 5) as u8).collect();
        let user = ReduceOp::user(
            Arc::new(|acc: &mut [u8], next: &[u8], _n, _t| {
                for (x, y) in acc.iter_mut().zip(next) {
                    *x = x.wrapping_mul(3).wrapping_add(*y);
                }
            }),
            false,
            false,
        );
        let mut ops: Vec<ReduceOp> = BuiltinOp::ALL.map(ReduceOp::builtin).to_vec();
        ops.push(user);
        for op in &ops {
            for t in Datatype::ALL {
                if op.check(t).is_err() {
                    continue;
                }
                for off in [0usize, 1] {
                    let n = (64 / t.size()) * t.size();
                    let (x, y) = (&a[off..off + n], &b[off..off + n]);
                    let mut want = x.to_vec();
                    op.apply(&mut want, y, t);
                    let mut out = vec![0u8; n + 1];
                    op.apply_into(&mut out[off..off + n], x, y, t);
                    assert_eq!(&out[off..off + n], &want[..], "{op:?} {t:?} offset {off}");
                }
            }
        }
    }

    #[test]
    fn integer_overflow_wraps() {
        let op = ReduceOp::builtin(BuiltinOp::Prod);
        let mut a = 200u8.to_ne_bytes();
        op.apply(&mut a, &2u8.to_ne_bytes(), Datatype::UInt8);
        assert_eq!(a[0], 144);
    }
}
