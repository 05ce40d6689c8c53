//! The element-wise kernels of the predefined operators on packed values (the data bytes of
//! each value back to back, as `types::Type::pack` writes them): `inout[i] = in[i] op inout[i]`.

use super::longdouble::Ld;
use super::Op;
use crate::types::{PairKind, Part, Prim};
use half::f16;

/// A numeric representation the kernels read and write (unaligned, native byte order).
trait Num: Copy {
    const W: usize;
    fn rd(b: &[u8]) -> Self;
    fn wr(self, b: &mut [u8]);
    fn add(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn lt(self, o: Self) -> bool;
    fn eq(self, o: Self) -> bool;
}

/// Integer representations: also bitwise and logical operators.
trait Int: Num {
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
    fn truthy(self) -> bool;
    fn from_bool(b: bool) -> Self;
}

macro_rules! ints {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const W: usize = std::mem::size_of::<$t>();
            fn rd(b: &[u8]) -> Self { <$t>::from_ne_bytes(b[..Self::W].try_into().expect("width")) }
            fn wr(self, b: &mut [u8]) { b[..Self::W].copy_from_slice(&self.to_ne_bytes()) }
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            fn lt(self, o: Self) -> bool { self < o }
            fn eq(self, o: Self) -> bool { self == o }
        }
        impl Int for $t {
            fn and(self, o: Self) -> Self { self & o }
            fn or(self, o: Self) -> Self { self | o }
            fn xor(self, o: Self) -> Self { self ^ o }
            fn truthy(self) -> bool { self != 0 }
            fn from_bool(b: bool) -> Self { b as $t }
        }
    )*};
}
ints!(i8, u8, i16, u16, i32, u32, i64, u64, i128);

macro_rules! floats {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const W: usize = std::mem::size_of::<$t>();
            fn rd(b: &[u8]) -> Self { <$t>::from_ne_bytes(b[..Self::W].try_into().expect("width")) }
            fn wr(self, b: &mut [u8]) { b[..Self::W].copy_from_slice(&self.to_ne_bytes()) }
            fn add(self, o: Self) -> Self { self + o }
            fn mul(self, o: Self) -> Self { self * o }
            fn lt(self, o: Self) -> bool { self < o }
            fn eq(self, o: Self) -> bool { self == o }
        }
    )*};
}
floats!(f16, f32, f64);

impl Num for Ld {
    const W: usize = 16;
    fn rd(b: &[u8]) -> Self {
        Ld::read(b)
    }
    fn wr(self, b: &mut [u8]) {
        self.write(b)
    }
    fn add(self, o: Self) -> Self {
        self + o
    }
    fn mul(self, o: Self) -> Self {
        self * o
    }
    fn lt(self, o: Self) -> bool {
        Ld::lt(self, o)
    }
    fn eq(self, o: Self) -> bool {
        !Ld::lt(self, o) && !Ld::lt(o, self)
    }
}

/// Numbers with a negation (complex products need it).
trait Signed: Num {
    fn sub(self, o: Self) -> Self;
}
impl Signed for f16 {
    fn sub(self, o: Self) -> Self {
        self - o
    }
}
impl Signed for f32 {
    fn sub(self, o: Self) -> Self {
        self - o
    }
}
impl Signed for f64 {
    fn sub(self, o: Self) -> Self {
        self - o
    }
}
impl Signed for Ld {
    fn sub(self, o: Self) -> Self {
        self - o
    }
}

/// `inout = f(in, inout)` over values of `w` bytes.
fn each(input: &[u8], inout: &mut [u8], w: usize, mut f: impl FnMut(&[u8], &mut [u8])) {
    for (x, y) in input.chunks_exact(w).zip(inout.chunks_exact_mut(w)) {
        f(x, y);
    }
}

fn arith<T: Num>(op: Op, input: &[u8], inout: &mut [u8]) {
    each(input, inout, T::W, |x, y| {
        let (a, b) = (T::rd(x), T::rd(y));
        let r = match op {
            Op::Sum => a.add(b),
            Op::Prod => a.mul(b),
            Op::Max => {
                if b.lt(a) {
                    a
                } else {
                    b
                }
            }
            Op::Min => {
                if a.lt(b) {
                    a
                } else {
                    b
                }
            }
            _ => unreachable!("checked by Op::supports"),
        };
        r.wr(y);
    });
}

fn integer<T: Int>(op: Op, input: &[u8], inout: &mut [u8]) {
    match op {
        Op::Sum | Op::Prod | Op::Max | Op::Min => arith::<T>(op, input, inout),
        _ => each(input, inout, T::W, |x, y| {
            let (a, b) = (T::rd(x), T::rd(y));
            let r = match op {
                Op::Band => a.and(b),
                Op::Bor => a.or(b),
                Op::Bxor => a.xor(b),
                Op::Land => T::from_bool(a.truthy() && b.truthy()),
                Op::Lor => T::from_bool(a.truthy() || b.truthy()),
                Op::Lxor => T::from_bool(a.truthy() != b.truthy()),
                _ => unreachable!("checked by Op::supports"),
            };
            r.wr(y);
        }),
    }
}

fn complex<T: Signed>(op: Op, input: &[u8], inout: &mut [u8]) {
    let w = T::W;
    each(input, inout, 2 * w, |x, y| {
        let (a, b) = (T::rd(x), T::rd(&x[w..]));
        let (c, d) = (T::rd(y), T::rd(&y[w..]));
        let (re, im) = match op {
            Op::Sum => (a.add(c), b.add(d)),
            Op::Prod => (a.mul(c).sub(b.mul(d)), a.mul(d).add(b.mul(c))),
            _ => unreachable!("checked by Op::supports"),
        };
        re.wr(y);
        im.wr(&mut y[w..]);
    });
}

/// MAXLOC/MINLOC with MPI's rule: the better value wins; on a tie, the lower index.
fn loc<V: Num, I: Num>(op: Op, input: &[u8], inout: &mut [u8], at: usize) {
    each(input, inout, at + I::W, |x, y| {
        let (u, i) = (V::rd(x), I::rd(&x[at..]));
        let (v, j) = (V::rd(y), I::rd(&y[at..]));
        let better = match op {
            Op::Maxloc => v.lt(u),
            _ => u.lt(v),
        };
        if better {
            y.copy_from_slice(x);
        } else if u.eq(v) && i.lt(j) {
            i.wr(&mut y[at..]);
        }
    });
}

/// Packed offset of the index in a pair (no padding in packed data).
fn pair(op: Op, k: PairKind, input: &[u8], inout: &mut [u8]) {
    let at = k.parts().0.size();
    match k {
        PairKind::FloatInt => loc::<f32, i32>(op, input, inout, at),
        PairKind::DoubleInt => loc::<f64, i32>(op, input, inout, at),
        PairKind::LongInt if at == 8 => loc::<i64, i32>(op, input, inout, at),
        PairKind::LongInt => loc::<i32, i32>(op, input, inout, at),
        PairKind::TwoInt | PairKind::TwoInteger => loc::<i32, i32>(op, input, inout, at),
        PairKind::ShortInt => loc::<i16, i32>(op, input, inout, at),
        PairKind::LongDoubleInt => loc::<Ld, i32>(op, input, inout, at),
        PairKind::TwoReal => loc::<f32, f32>(op, input, inout, at),
        PairKind::TwoDouble => loc::<f64, f64>(op, input, inout, at),
    }
}

/// `inout[i] = in[i] op inout[i]` over the packed values of representation `p`; the caller has
/// checked the operator against the datatype (`Op::check`) and the lengths (equal, whole values).
pub fn apply(op: Op, p: Prim, input: &[u8], inout: &mut [u8]) {
    debug_assert_eq!(input.len(), inout.len());
    match op {
        Op::Replace => return inout.copy_from_slice(input),
        Op::NoOp => return,
        _ => {}
    }
    match p {
        Prim::I8 => integer::<i8>(op, input, inout),
        Prim::U8 | Prim::Raw(1) => integer::<u8>(op, input, inout),
        Prim::I16 => integer::<i16>(op, input, inout),
        Prim::U16 => integer::<u16>(op, input, inout),
        Prim::I32 => integer::<i32>(op, input, inout),
        Prim::U32 => integer::<u32>(op, input, inout),
        Prim::I64 => integer::<i64>(op, input, inout),
        Prim::U64 => integer::<u64>(op, input, inout),
        Prim::I128 => integer::<i128>(op, input, inout),
        Prim::Bool => integer::<u8>(op, input, inout),
        Prim::F16 => arith::<f16>(op, input, inout),
        Prim::F32 => arith::<f32>(op, input, inout),
        Prim::F64 => arith::<f64>(op, input, inout),
        Prim::LongDouble => arith::<Ld>(op, input, inout),
        Prim::Complex(Part::F16) => complex::<f16>(op, input, inout),
        Prim::Complex(Part::F32) => complex::<f32>(op, input, inout),
        Prim::Complex(Part::F64) => complex::<f64>(op, input, inout),
        Prim::Complex(Part::LongDouble) => complex::<Ld>(op, input, inout),
        Prim::Pair(k) => pair(op, k, input, inout),
        Prim::F128 | Prim::Complex(Part::F128) | Prim::Raw(_) => {
            unreachable!("refused by Op::check")
        }
    }
}
