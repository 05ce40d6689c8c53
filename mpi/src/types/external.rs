//! The "external32" data representation (`MPI_Pack_external`): every basic value big-endian
//! with the standard's fixed sizes (`long` and `unsigned long` 4 bytes, `wchar_t` 2, `long
//! double` IEEE quadruple precision 16). Works on the packed native form (the data bytes in
//! type-map order, [`Type::pack`]): each value of the type signature is converted in turn. A
//! value that does not fit its external32 size (a `long` beyond 32 bits) is an error, never
//! cut silently.

use super::{Named, Part, Prim, Type};
use crate::engine::{Class, Error, Result};
use std::mem::size_of;

/// One basic value's conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conv {
    /// An integer or IEEE value of this many bytes: reverse its bytes on a little-endian host.
    Swap(usize),
    /// Characters: copied.
    Copy(usize),
    /// An integer of `native` bytes stored in `ext` (fewer) bytes; `signed`: two's complement.
    Narrow {
        native: usize,
        ext: usize,
        signed: bool,
    },
    /// C `long double` (x86-64: 80-bit extended) <-> IEEE quadruple precision.
    LongDouble,
}

impl Conv {
    fn native(self) -> usize {
        match self {
            Conv::Swap(n) | Conv::Copy(n) => n,
            Conv::Narrow { native, .. } => native,
            Conv::LongDouble => size_of::<u128>(),
        }
    }
    fn ext(self) -> usize {
        match self {
            Conv::Swap(n) | Conv::Copy(n) => n,
            Conv::Narrow { ext, .. } => ext,
            Conv::LongDouble => 16,
        }
    }
}

fn prim_convs(p: Prim, out: &mut Vec<Conv>) {
    match p {
        Prim::LongDouble => out.push(Conv::LongDouble),
        Prim::Complex(part) => {
            let q = match part {
                Part::F16 => Prim::F16,
                Part::F32 => Prim::F32,
                Part::F64 => Prim::F64,
                Part::LongDouble => Prim::LongDouble,
                Part::F128 => Prim::F128,
            };
            prim_convs(q, out);
            prim_convs(q, out);
        }
        Prim::Pair(k) => {
            let (v, i) = k.parts();
            prim_convs(v, out);
            prim_convs(i, out);
        }
        Prim::Raw(n) => out.push(Conv::Copy(n)),
        other => out.push(Conv::Swap(other.size())),
    }
}

/// `long` / `unsigned long` in external32's 4 bytes.
fn long(signed: bool) -> Conv {
    let native = size_of::<libc::c_long>();
    if native == 4 {
        Conv::Swap(4)
    } else {
        Conv::Narrow {
            native,
            ext: 4,
            signed,
        }
    }
}

/// The conversions of one value of `n`, in the order of its packed bytes.
fn convs(n: Named) -> Vec<Conv> {
    match n {
        Named::Long => vec![long(true)],
        Named::UnsignedLong => vec![long(false)],
        Named::LongInt => vec![long(true), Conv::Swap(4)],
        Named::Wchar => vec![Conv::Narrow {
            native: size_of::<libc::wchar_t>(),
            ext: 2,
            signed: false,
        }],
        _ => {
            let mut v = vec![];
            prim_convs(n.prim(), &mut v);
            v
        }
    }
}

/// Converts one value from native to external32 bytes (`to_external`) or back.
fn convert(c: Conv, from: &[u8], to: &mut [u8], to_external: bool) -> Result<()> {
    match c {
        Conv::Copy(_) => to.copy_from_slice(from),
        Conv::Swap(_) => {
            to.copy_from_slice(from);
            if cfg!(target_endian = "little") {
                to.reverse();
            }
        }
        Conv::Narrow {
            native,
            ext,
            signed,
        } => {
            if to_external {
                let mut b = [0u8; 8];
                b[..native].copy_from_slice(from);
                let raw = u64::from_ne_bytes(b);
                let bits = 8 * native as u32;
                let v: i128 = if signed {
                    ((raw << (64 - bits)) as i64 >> (64 - bits)) as i128
                } else {
                    raw as i128
                };
                let ebits = 8 * ext as u32;
                let fits = if signed {
                    v >= -(1i128 << (ebits - 1)) && v < (1i128 << (ebits - 1))
                } else {
                    v >= 0 && v < (1i128 << ebits)
                };
                if !fits {
                    return Err(Error::new(
                        Class::Arg,
                        format!("the value {v} does not fit external32's {ext}-byte integer"),
                    ));
                }
                to.copy_from_slice(&(v as u64).to_be_bytes()[8 - ext..]);
            } else {
                let mut b = [0u8; 8];
                b[8 - ext..].copy_from_slice(from);
                let raw = u64::from_be_bytes(b);
                let ebits = 8 * ext as u32;
                let v = if signed {
                    ((raw << (64 - ebits)) as i64 >> (64 - ebits)) as u64
                } else {
                    raw
                };
                to.copy_from_slice(&v.to_ne_bytes()[..native]);
            }
        }
        Conv::LongDouble => {
            let mut b = [0u8; 16];
            b.copy_from_slice(from);
            if to_external {
                to.copy_from_slice(&native_ld_to_quad(&b).to_be_bytes());
            } else {
                to.copy_from_slice(&quad_to_native_ld(u128::from_be_bytes(b)));
            }
        }
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
fn native_ld_to_quad(b: &[u8; 16]) -> u128 {
    // x87 extended: 64-bit significand with explicit integer bit, then sign and 15-bit
    // exponent (bias 16383, as quadruple's).
    let m = u64::from_le_bytes(b[0..8].try_into().expect("8 bytes"));
    let se = u16::from_le_bytes([b[8], b[9]]) as u128;
    let frac = ((m & !(1u64 << 63)) as u128) << 49;
    (se << 112) | frac
}

#[cfg(target_arch = "x86_64")]
fn quad_to_native_ld(q: u128) -> [u8; 16] {
    let se = (q >> 112) as u16;
    let exp = se & 0x7fff;
    let frac = q & ((1u128 << 112) - 1);
    // The explicit integer bit is set for every number but zeros and subnormals; the low 49
    // bits of the fraction do not fit and are truncated.
    let int_bit = if exp != 0 { 1u64 << 63 } else { 0 };
    let m = int_bit | (frac >> 49) as u64;
    let mut b = [0u8; 16];
    b[0..8].copy_from_slice(&m.to_le_bytes());
    b[8..10].copy_from_slice(&se.to_le_bytes());
    b
}

#[cfg(not(target_arch = "x86_64"))]
fn native_ld_to_quad(b: &[u8; 16]) -> u128 {
    // long double is IEEE quadruple precision on the other 64-bit Linux targets.
    u128::from_ne_bytes(*b)
}

#[cfg(not(target_arch = "x86_64"))]
fn quad_to_native_ld(q: u128) -> [u8; 16] {
    q.to_ne_bytes()
}

impl Type {
    /// The conversions of one element of this type, in packed order, with how many times each
    /// predefined type of the signature repeats.
    fn external_convs(&self) -> Vec<(Vec<Conv>, u64)> {
        self.flat()
            .sig
            .iter()
            .map(|&(n, k)| (convs(n), k))
            .collect()
    }

    /// `MPI_Pack_external_size`: bytes of `count` elements in external32.
    pub fn external_bytes(&self, count: u64) -> Result<u64> {
        let one = self.external_convs().iter().try_fold(0u64, |acc, (c, k)| {
            let per: u64 = c.iter().map(|c| c.ext() as u64).sum();
            per.checked_mul(*k).and_then(|b| b.checked_add(acc))
        });
        one.and_then(|b| b.checked_mul(count)).ok_or_else(|| {
            Error::new(
                Class::Count,
                "count times the external32 size overflows 64 bits",
            )
        })
    }

    /// Calls `f(conversion, native range, external range)` for each basic value of `count`
    /// elements, after checking the lengths.
    fn walk_external(
        &self,
        count: u64,
        native_len: usize,
        ext_len: usize,
        mut f: impl FnMut(Conv, std::ops::Range<usize>, std::ops::Range<usize>) -> Result<()>,
    ) -> Result<()> {
        if native_len as u64 != self.bytes(count)?
            || ext_len as u64 != self.external_bytes(count)?
        {
            return Err(Error::new(
                Class::Arg,
                "external32: buffer lengths do not match the count",
            ));
        }
        let convs = self.external_convs();
        let (mut n, mut e) = (0usize, 0usize);
        for _ in 0..count {
            for (c, k) in &convs {
                for _ in 0..*k {
                    for &one in c {
                        let (a, b) = (one.native(), one.ext());
                        f(one, n..n + a, e..e + b)?;
                        n += a;
                        e += b;
                    }
                }
            }
        }
        Ok(())
    }

    /// Converts `count` elements' packed native data (`count * size` bytes) to external32
    /// ([`Type::external_bytes`] long).
    pub fn to_external(&self, count: u64, native: &[u8], ext: &mut [u8]) -> Result<()> {
        self.walk_external(count, native.len(), ext.len(), |c, n, e| {
            convert(c, &native[n], &mut ext[e], true)
        })
    }

    /// Converts `count` elements of external32 data back to packed native data.
    pub fn from_external(&self, count: u64, ext: &[u8], native: &mut [u8]) -> Result<()> {
        self.walk_external(count, native.len(), ext.len(), |c, n, e| {
            convert(c, &ext[e], &mut native[n], false)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn roundtrip(t: &Arc<Type>, native: &[u8]) -> Vec<u8> {
        let count = native.len() as u64 / t.size();
        let mut ext = vec![0u8; t.external_bytes(count).unwrap() as usize];
        t.to_external(count, native, &mut ext).unwrap();
        let mut back = vec![0u8; native.len()];
        t.from_external(count, &ext, &mut back).unwrap();
        assert_eq!(back, native);
        ext
    }

    #[test]
    fn integers_and_floats_are_big_endian() {
        let t = Type::named(Named::Int);
        let ext = roundtrip(&t, &0x0102_0304i32.to_ne_bytes());
        assert_eq!(ext, [1, 2, 3, 4]);
        let d = Type::named(Named::Double);
        assert_eq!(roundtrip(&d, &1.5f64.to_ne_bytes()), 1.5f64.to_be_bytes());
        // A pair: value then index, each big-endian, padding already gone in packed form.
        let p = Type::named(Named::ShortInt);
        let mut native = vec![];
        native.extend_from_slice(&7i16.to_ne_bytes());
        native.extend_from_slice(&9i32.to_ne_bytes());
        assert_eq!(roundtrip(&p, &native), [0, 7, 0, 0, 0, 9]);
        let c = Type::named(Named::Char);
        assert_eq!(roundtrip(&c, b"ab"), b"ab");
    }

    #[test]
    fn long_is_four_bytes_and_refuses_what_does_not_fit() {
        let l = Type::named(Named::Long);
        let v: libc::c_long = -2;
        assert_eq!(roundtrip(&l, &v.to_ne_bytes()), [0xff, 0xff, 0xff, 0xfe]);
        let u = Type::named(Named::UnsignedLong);
        let w: libc::c_ulong = 0xfffe_fdfc;
        assert_eq!(roundtrip(&u, &w.to_ne_bytes()), [0xff, 0xfe, 0xfd, 0xfc]);
        if size_of::<libc::c_long>() == 8 {
            let big: libc::c_long = 1 << 40;
            let mut ext = [0u8; 4];
            let e = l.to_external(1, &big.to_ne_bytes(), &mut ext).unwrap_err();
            assert_eq!(e.class, Class::Arg);
        }
        let p = Type::named(Named::LongInt);
        assert_eq!(p.external_bytes(3).unwrap(), 24);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn long_double_is_quadruple() {
        // 1.5 in x87 extended: significand 0xC000.., exponent 16383.
        let mut ld = [0u8; 16];
        ld[0..8].copy_from_slice(&0xC000_0000_0000_0000u64.to_le_bytes());
        ld[8..10].copy_from_slice(&16383u16.to_le_bytes());
        let t = Type::named(Named::LongDouble);
        let ext = roundtrip(&t, &ld);
        // Quadruple 1.5: 0x3FFF 8000 0000 ...
        let mut want = [0u8; 16];
        want[0] = 0x3f;
        want[1] = 0xff;
        want[2] = 0x80;
        assert_eq!(ext, want);
    }
}
