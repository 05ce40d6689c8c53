//! C `long double` arithmetic for the reduction kernels. On x86-64 it is the x87 80-bit
//! extended format (stored in 16 bytes): addition and multiplication run on the x87 unit itself
//! (exact C semantics), comparison decodes the format. Elsewhere it is not supported.

/// Whether this build can reduce `long double` values.
pub const SUPPORTED: bool = cfg!(target_arch = "x86_64");

/// The 10 data bytes of an x87 extended value.
#[derive(Clone, Copy)]
pub struct Ld(pub [u8; 10]);

impl Ld {
    pub fn read(b: &[u8]) -> Ld {
        Ld(b[..10].try_into().expect("10 bytes"))
    }

    /// Writes the value and zeroes the padding of the 16-byte slot.
    pub fn write(self, b: &mut [u8]) {
        b[..10].copy_from_slice(&self.0);
        b[10..16].fill(0);
    }

    fn sign(self) -> bool {
        self.0[9] & 0x80 != 0
    }

    fn magnitude(self) -> u128 {
        let exp = (u16::from_le_bytes([self.0[8], self.0[9]]) & 0x7fff) as u128;
        let mant = u64::from_le_bytes(self.0[..8].try_into().expect("8 bytes")) as u128;
        (exp << 64) | mant
    }

    fn is_nan(self) -> bool {
        let exp = u16::from_le_bytes([self.0[8], self.0[9]]) & 0x7fff;
        let mant = u64::from_le_bytes(self.0[..8].try_into().expect("8 bytes"));
        exp == 0x7fff && mant << 1 != 0
    }

    /// `self < o` as C compares them (false when either is a NaN; -0 == +0).
    pub fn lt(self, o: Ld) -> bool {
        if self.is_nan() || o.is_nan() {
            return false;
        }
        let (a, b) = (self.magnitude(), o.magnitude());
        if a == 0 && b == 0 {
            return false;
        }
        match (self.sign(), o.sign()) {
            (true, false) => true,
            (false, true) => false,
            (false, false) => a < b,
            (true, true) => a > b,
        }
    }

    #[cfg(test)]
    pub fn from_f64(v: f64) -> Ld {
        // Exact: every double is an extended value (1 + 52 bits of mantissa, 11 bits of exponent).
        let bits = v.to_bits();
        let sign = (bits >> 63) as u16;
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1 << 52) - 1);
        if exp == 0 && frac == 0 {
            let mut b = [0u8; 10];
            b[9] = (sign << 7) as u8;
            return Ld(b);
        }
        assert!(exp != 0 && exp != 0x7ff, "normal doubles only in tests");
        let e = (exp - 1023 + 16383) as u16 | (sign << 15);
        let m = (1u64 << 63) | (frac << 11);
        let mut b = [0u8; 10];
        b[..8].copy_from_slice(&m.to_le_bytes());
        b[8..].copy_from_slice(&e.to_le_bytes());
        Ld(b)
    }
}

impl std::ops::Neg for Ld {
    type Output = Ld;
    fn neg(self) -> Ld {
        let mut v = self;
        v.0[9] ^= 0x80;
        v
    }
}

impl std::ops::Add for Ld {
    type Output = Ld;
    fn add(self, o: Ld) -> Ld {
        x87(self, o, Bin::Add)
    }
}

impl std::ops::Mul for Ld {
    type Output = Ld;
    fn mul(self, o: Ld) -> Ld {
        x87(self, o, Bin::Mul)
    }
}

impl std::ops::Sub for Ld {
    type Output = Ld;
    fn sub(self, o: Ld) -> Ld {
        self + -o
    }
}

enum Bin {
    Add,
    Mul,
}

#[cfg(target_arch = "x86_64")]
fn x87(a: Ld, b: Ld, op: Bin) -> Ld {
    let mut out = [0u8; 10];
    // SAFETY: the three pointers are valid 10-byte locations; the x87 stack is left as found
    // (two loads, one pop by the arithmetic, one by the store) and its registers are declared
    // clobbered.
    unsafe {
        match op {
            Bin::Add => std::arch::asm!(
                "fld tbyte ptr [{a}]",
                "fld tbyte ptr [{b}]",
                "faddp st(1), st",
                "fstp tbyte ptr [{o}]",
                a = in(reg) a.0.as_ptr(),
                b = in(reg) b.0.as_ptr(),
                o = in(reg) out.as_mut_ptr(),
                out("st(0)") _, out("st(1)") _,
            ),
            Bin::Mul => std::arch::asm!(
                "fld tbyte ptr [{a}]",
                "fld tbyte ptr [{b}]",
                "fmulp st(1), st",
                "fstp tbyte ptr [{o}]",
                a = in(reg) a.0.as_ptr(),
                b = in(reg) b.0.as_ptr(),
                o = in(reg) out.as_mut_ptr(),
                out("st(0)") _, out("st(1)") _,
            ),
        }
    }
    Ld(out)
}

#[cfg(not(target_arch = "x86_64"))]
fn x87(_: Ld, _: Ld, _: Bin) -> Ld {
    unreachable!("long double reductions are refused on this architecture (SUPPORTED is false)")
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_order() {
        let (a, b) = (Ld::from_f64(1.5), Ld::from_f64(-4.25));
        assert_eq!((a + b).0, Ld::from_f64(-2.75).0);
        assert_eq!((a * b).0, Ld::from_f64(-6.375).0);
        assert_eq!((a - b).0, Ld::from_f64(5.75).0);
        assert!(b.lt(a) && !a.lt(b) && !a.lt(a));
        assert!(Ld::from_f64(-0.0).lt(Ld::from_f64(1.0)));
        assert!(!Ld::from_f64(-0.0).lt(Ld::from_f64(0.0)));
        assert!(Ld::from_f64(-8.0).lt(Ld::from_f64(-2.0)));
        // 1 + 2^-60 is representable in 64 bits of mantissa, not in a double.
        let tiny = Ld::from_f64(2f64.powi(-60));
        let one = Ld::from_f64(1.0);
        assert!(one.lt(one + tiny));
    }
}
