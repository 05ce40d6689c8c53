//! Element datatypes of message buffers and their sizes.

use crate::error::{Error, Result};
use std::num::NonZeroU32;

/// The element type of a buffer, as named in the C API (`FMI_INT8` ... `FMI_BYTE`), or an opaque
/// element of a fixed size that only user operators reduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Datatype {
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float,
    Double,
    Byte,
    /// An element of this many bytes whose contents the library does not interpret: no built-in
    /// operator applies to it, a user operator reduces it, and the algorithms split buffers only
    /// at whole elements (e.g. the MPI layer's pair types, `long double`, complex numbers).
    /// It has no C code: the C API's datatypes are the eleven above.
    Opaque(NonZeroU32),
}

impl Datatype {
    pub const ALL: [Datatype; 11] = [
        Datatype::Int8,
        Datatype::UInt8,
        Datatype::Int16,
        Datatype::UInt16,
        Datatype::Int32,
        Datatype::UInt32,
        Datatype::Int64,
        Datatype::UInt64,
        Datatype::Float,
        Datatype::Double,
        Datatype::Byte,
    ];

    /// Converts the C integer code; any other value is an error, never a Rust enum built from junk.
    pub fn from_raw(code: u32) -> Result<Self> {
        Self::ALL
            .get(code as usize)
            .copied()
            .ok_or_else(|| Error::invalid(format!("invalid datatype {code} (valid: 0..=10)")))
    }

    /// The code `raw` gives an opaque element; `from_raw` rejects it.
    pub const OPAQUE_CODE: u32 = u32::MAX;

    /// An opaque element of `size` bytes (see [`Datatype::Opaque`]); fails when `size` is 0.
    pub fn opaque(size: usize) -> Result<Self> {
        u32::try_from(size)
            .ok()
            .and_then(NonZeroU32::new)
            .map(Datatype::Opaque)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "opaque element size {size} (valid: 1..={})",
                    u32::MAX
                ))
            })
    }

    /// The C integer code (`OPAQUE_CODE` for an opaque element, which has none).
    pub fn raw(self) -> u32 {
        Self::ALL
            .iter()
            .position(|&t| t == self)
            .map_or(Self::OPAQUE_CODE, |i| i as u32)
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            Datatype::Int8 | Datatype::UInt8 | Datatype::Byte => 1,
            Datatype::Int16 | Datatype::UInt16 => 2,
            Datatype::Int32 | Datatype::UInt32 | Datatype::Float => 4,
            Datatype::Int64 | Datatype::UInt64 | Datatype::Double => 8,
            Datatype::Opaque(n) => n.get() as usize,
        }
    }

    pub fn is_integer(self) -> bool {
        !matches!(
            self,
            Datatype::Float | Datatype::Double | Datatype::Byte | Datatype::Opaque(_)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Datatype::Int8 => "int8",
            Datatype::UInt8 => "uint8",
            Datatype::Int16 => "int16",
            Datatype::UInt16 => "uint16",
            Datatype::Int32 => "int32",
            Datatype::UInt32 => "uint32",
            Datatype::Int64 => "int64",
            Datatype::UInt64 => "uint64",
            Datatype::Float => "float",
            Datatype::Double => "double",
            Datatype::Byte => "byte",
            Datatype::Opaque(_) => "opaque",
        }
    }

    /// Bytes of `count` elements, or an error when that overflows.
    pub fn bytes(self, count: usize) -> Result<usize> {
        count
            .checked_mul(self.size())
            .ok_or_else(|| Error::invalid(format!("count {count} of {} overflows", self.name())))
    }
}
