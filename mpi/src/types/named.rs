//! The predefined datatypes of the standard ABI: their C layout (size, alignment, the bytes that
//! hold data), the MPI category that decides which predefined operators apply, and the machine
//! representation the reduction kernels work on.

use std::mem::size_of;

/// The machine representation of one value (or one pair) of a predefined datatype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prim {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    I128,
    /// IEEE half precision (`MPI_REAL2`).
    F16,
    F32,
    F64,
    /// C `long double` (x86-64: 80-bit extended precision in 16 bytes).
    LongDouble,
    /// IEEE quadruple precision (`MPI_REAL16`).
    F128,
    /// C `bool` / C++ `bool`: one byte, 0 or 1.
    Bool,
    /// A complex number: two values of the part's representation, real first.
    Complex(Part),
    /// A value-index pair for `MPI_MAXLOC`/`MPI_MINLOC`: the value, then the index at `index_at`.
    Pair(PairKind),
    /// Bytes without arithmetic (characters, `MPI_BYTE`, `MPI_PACKED`).
    Raw(usize),
}

/// The representation of each part of a complex number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    F16,
    F32,
    F64,
    LongDouble,
    F128,
}

/// The pair types: value representation and index representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairKind {
    FloatInt,
    DoubleInt,
    LongInt,
    TwoInt,
    ShortInt,
    LongDoubleInt,
    TwoReal,
    TwoDouble,
    TwoInteger,
}

impl PairKind {
    /// (value, index) representations.
    pub fn parts(self) -> (Prim, Prim) {
        use Prim::*;
        match self {
            PairKind::FloatInt => (F32, I32),
            PairKind::TwoReal => (F32, F32),
            PairKind::DoubleInt => (F64, I32),
            PairKind::LongInt => (long(), I32),
            PairKind::TwoInt | PairKind::TwoInteger => (I32, I32),
            PairKind::ShortInt => (I16, I32),
            PairKind::LongDoubleInt => (LongDouble, I32),
            PairKind::TwoDouble => (F64, F64),
        }
    }

    /// Offset of the index in the C struct `{ value; index; }`.
    pub fn index_at(self) -> usize {
        let (v, i) = self.parts();
        v.size().next_multiple_of(i.align())
    }

    /// Size of the C struct, padding included.
    pub fn c_size(self) -> usize {
        let (v, i) = self.parts();
        (self.index_at() + i.size()).next_multiple_of(v.align().max(i.align()))
    }
}

/// `long` of the C ABI as an integer representation.
fn long() -> Prim {
    if size_of::<libc::c_long>() == 8 {
        Prim::I64
    } else {
        Prim::I32
    }
}

fn ulong() -> Prim {
    if size_of::<libc::c_ulong>() == 8 {
        Prim::U64
    } else {
        Prim::U32
    }
}

impl Prim {
    /// Bytes of one value (C `sizeof`, padding of pairs excluded: see [`PairKind::c_size`]).
    pub fn size(self) -> usize {
        match self {
            Prim::I8 | Prim::U8 | Prim::Bool => 1,
            Prim::I16 | Prim::U16 | Prim::F16 => 2,
            Prim::I32 | Prim::U32 | Prim::F32 => 4,
            Prim::I64 | Prim::U64 | Prim::F64 => 8,
            Prim::I128 | Prim::F128 => 16,
            Prim::LongDouble => LONG_DOUBLE_SIZE,
            Prim::Complex(p) => 2 * p.prim().size(),
            Prim::Pair(k) => k.c_size(),
            Prim::Raw(n) => n,
        }
    }

    /// C alignment.
    pub fn align(self) -> usize {
        match self {
            Prim::I128 | Prim::F128 => 16,
            Prim::LongDouble => LONG_DOUBLE_ALIGN,
            Prim::Complex(p) => p.prim().align(),
            Prim::Pair(k) => {
                let (v, i) = k.parts();
                v.align().max(i.align())
            }
            Prim::Raw(_) => 1,
            other => other.size(),
        }
    }
}

impl Part {
    pub fn prim(self) -> Prim {
        match self {
            Part::F16 => Prim::F16,
            Part::F32 => Prim::F32,
            Part::F64 => Prim::F64,
            Part::LongDouble => Prim::LongDouble,
            Part::F128 => Prim::F128,
        }
    }
}

#[cfg(target_arch = "x86_64")]
const LONG_DOUBLE_SIZE: usize = 16;
#[cfg(target_arch = "x86_64")]
const LONG_DOUBLE_ALIGN: usize = 16;
#[cfg(not(target_arch = "x86_64"))]
const LONG_DOUBLE_SIZE: usize = 16;
#[cfg(not(target_arch = "x86_64"))]
const LONG_DOUBLE_ALIGN: usize = 16;

/// MPI's groups of predefined datatypes, which decide the predefined operators that apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    CInteger,
    FortranInteger,
    Floating,
    Logical,
    Complex,
    Byte,
    /// The pair types (only `MPI_MAXLOC`/`MPI_MINLOC` among the reductions).
    Pair,
    /// Characters and `MPI_PACKED`: no reduction.
    Other,
}

macro_rules! named {
    ($($v:ident = $name:literal, $prim:expr, $cat:ident;)*) => {
        /// A predefined datatype of the standard ABI.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Named { $($v),* }

        impl Named {
            pub const ALL: &'static [Named] = &[$(Named::$v),*];

            /// The name MPI gives it (`MPI_Type_get_name`'s default).
            pub fn name(self) -> &'static str {
                match self { $(Named::$v => $name),* }
            }

            /// The representation of one value.
            pub fn prim(self) -> Prim {
                use Prim::*;
                #[allow(unused_imports)]
                use {Part as P, PairKind as K};
                match self { $(Named::$v => $prim),* }
            }

            pub fn category(self) -> Category {
                match self { $(Named::$v => Category::$cat),* }
            }
        }
    };
}

named! {
    Aint = "MPI_AINT", I64, CInteger;
    Count = "MPI_COUNT", I64, CInteger;
    Offset = "MPI_OFFSET", I64, CInteger;
    Packed = "MPI_PACKED", Raw(1), Other;
    Short = "MPI_SHORT", I16, CInteger;
    Int = "MPI_INT", I32, CInteger;
    Long = "MPI_LONG", long(), CInteger;
    LongLong = "MPI_LONG_LONG", I64, CInteger;
    UnsignedShort = "MPI_UNSIGNED_SHORT", U16, CInteger;
    Unsigned = "MPI_UNSIGNED", U32, CInteger;
    UnsignedLong = "MPI_UNSIGNED_LONG", ulong(), CInteger;
    UnsignedLongLong = "MPI_UNSIGNED_LONG_LONG", U64, CInteger;
    Float = "MPI_FLOAT", F32, Floating;
    CFloatComplex = "MPI_C_FLOAT_COMPLEX", Complex(P::F32), Complex;
    CxxFloatComplex = "MPI_CXX_FLOAT_COMPLEX", Complex(P::F32), Complex;
    Double = "MPI_DOUBLE", F64, Floating;
    CDoubleComplex = "MPI_C_DOUBLE_COMPLEX", Complex(P::F64), Complex;
    CxxDoubleComplex = "MPI_CXX_DOUBLE_COMPLEX", Complex(P::F64), Complex;
    Logical = "MPI_LOGICAL", I32, Logical;
    Integer = "MPI_INTEGER", I32, FortranInteger;
    Real = "MPI_REAL", F32, Floating;
    FComplex = "MPI_COMPLEX", Complex(P::F32), Complex;
    DoublePrecision = "MPI_DOUBLE_PRECISION", F64, Floating;
    DoubleComplex = "MPI_DOUBLE_COMPLEX", Complex(P::F64), Complex;
    Character = "MPI_CHARACTER", Raw(1), Other;
    LongDouble = "MPI_LONG_DOUBLE", LongDouble, Floating;
    CLongDoubleComplex = "MPI_C_LONG_DOUBLE_COMPLEX", Complex(P::LongDouble), Complex;
    CxxLongDoubleComplex = "MPI_CXX_LONG_DOUBLE_COMPLEX", Complex(P::LongDouble), Complex;
    FloatInt = "MPI_FLOAT_INT", Pair(K::FloatInt), Pair;
    DoubleInt = "MPI_DOUBLE_INT", Pair(K::DoubleInt), Pair;
    LongInt = "MPI_LONG_INT", Pair(K::LongInt), Pair;
    TwoInt = "MPI_2INT", Pair(K::TwoInt), Pair;
    ShortInt = "MPI_SHORT_INT", Pair(K::ShortInt), Pair;
    LongDoubleInt = "MPI_LONG_DOUBLE_INT", Pair(K::LongDoubleInt), Pair;
    TwoReal = "MPI_2REAL", Pair(K::TwoReal), Pair;
    TwoDoublePrecision = "MPI_2DOUBLE_PRECISION", Pair(K::TwoDouble), Pair;
    TwoInteger = "MPI_2INTEGER", Pair(K::TwoInteger), Pair;
    CBool = "MPI_C_BOOL", Bool, Logical;
    CxxBool = "MPI_CXX_BOOL", Bool, Logical;
    Wchar = "MPI_WCHAR", Raw(size_of::<libc::wchar_t>()), Other;
    Int8 = "MPI_INT8_T", I8, CInteger;
    Uint8 = "MPI_UINT8_T", U8, CInteger;
    Char = "MPI_CHAR", Raw(1), Other;
    SignedChar = "MPI_SIGNED_CHAR", I8, CInteger;
    UnsignedChar = "MPI_UNSIGNED_CHAR", U8, CInteger;
    Byte = "MPI_BYTE", Raw(1), Byte;
    Int16 = "MPI_INT16_T", I16, CInteger;
    Uint16 = "MPI_UINT16_T", U16, CInteger;
    Int32 = "MPI_INT32_T", I32, CInteger;
    Uint32 = "MPI_UINT32_T", U32, CInteger;
    Int64 = "MPI_INT64_T", I64, CInteger;
    Uint64 = "MPI_UINT64_T", U64, CInteger;
    Logical1 = "MPI_LOGICAL1", I8, Logical;
    Integer1 = "MPI_INTEGER1", I8, FortranInteger;
    Logical2 = "MPI_LOGICAL2", I16, Logical;
    Integer2 = "MPI_INTEGER2", I16, FortranInteger;
    Real2 = "MPI_REAL2", F16, Floating;
    Logical4 = "MPI_LOGICAL4", I32, Logical;
    Integer4 = "MPI_INTEGER4", I32, FortranInteger;
    Real4 = "MPI_REAL4", F32, Floating;
    Complex4 = "MPI_COMPLEX4", Complex(P::F16), Complex;
    Logical8 = "MPI_LOGICAL8", I64, Logical;
    Integer8 = "MPI_INTEGER8", I64, FortranInteger;
    Real8 = "MPI_REAL8", F64, Floating;
    Complex8 = "MPI_COMPLEX8", Complex(P::F32), Complex;
    Logical16 = "MPI_LOGICAL16", I128, Logical;
    Integer16 = "MPI_INTEGER16", I128, FortranInteger;
    Real16 = "MPI_REAL16", F128, Floating;
    Complex16 = "MPI_COMPLEX16", Complex(P::F64), Complex;
    Complex32 = "MPI_COMPLEX32", Complex(P::F128), Complex;
}

impl Named {
    /// C `sizeof` of one value (the extent of the predefined datatype).
    pub fn extent(self) -> usize {
        self.prim().size()
    }

    pub fn align(self) -> usize {
        self.prim().align()
    }

    /// The bytes of one value that hold data, as (offset, length): everything but the padding
    /// of a pair struct.
    pub fn data_blocks(self) -> Vec<(usize, usize)> {
        match self.prim() {
            Prim::Pair(k) => {
                let (v, i) = k.parts();
                vec![(0, v.size()), (k.index_at(), i.size())]
            }
            p => vec![(0, p.size())],
        }
    }

    /// `MPI_Type_size`: the bytes of data in one value.
    pub fn size(self) -> usize {
        self.data_blocks().iter().map(|b| b.1).sum()
    }

    /// Basic elements in one value (`MPI_Get_elements`): two for a pair type, one otherwise.
    pub fn elements(self) -> u64 {
        if matches!(self.prim(), Prim::Pair(_)) {
            2
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_layouts_are_the_c_structs() {
        #[repr(C)]
        struct FloatInt(f32, i32);
        #[repr(C)]
        struct DoubleInt(f64, i32);
        #[repr(C)]
        struct LongInt(libc::c_long, i32);
        #[repr(C)]
        struct ShortInt(i16, i32);
        let k = |n: Named| match n.prim() {
            Prim::Pair(k) => k,
            _ => unreachable!(),
        };
        assert_eq!(Named::FloatInt.extent(), size_of::<FloatInt>());
        assert_eq!(Named::DoubleInt.extent(), size_of::<DoubleInt>());
        assert_eq!(Named::LongInt.extent(), size_of::<LongInt>());
        assert_eq!(Named::ShortInt.extent(), size_of::<ShortInt>());
        assert_eq!(k(Named::ShortInt).index_at(), 4);
        assert_eq!(k(Named::DoubleInt).index_at(), 8);
        assert_eq!(Named::DoubleInt.size(), 12);
        assert_eq!(Named::ShortInt.size(), 6);
        assert_eq!(Named::TwoInt.size(), 8);
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(Named::LongDoubleInt.extent(), 32);
            assert_eq!(Named::LongDoubleInt.size(), 20);
            assert_eq!(Named::LongDouble.size(), 16);
        }
    }

    #[test]
    fn names_are_unique_and_sizes_positive() {
        let mut names: Vec<_> = Named::ALL.iter().map(|n| n.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Named::ALL.len());
        for n in Named::ALL {
            assert!(n.size() > 0 && n.extent() >= n.size(), "{n:?}");
            assert_eq!(n.extent() % n.align(), 0, "{n:?}");
        }
        assert_eq!(Named::Wchar.size(), size_of::<libc::wchar_t>());
        assert_eq!(Named::Long.size(), size_of::<libc::c_long>());
        assert_eq!(Named::Complex4.size(), 4);
        assert_eq!(
            Named::CLongDoubleComplex.size(),
            2 * Named::LongDouble.size()
        );
    }
}
