//! Element datatypes of message buffers and their sizes.

use crate::error::{Error, Result};

/// The element type of a buffer, as named in the C API (`FMI_INT8` ... `FMI_BYTE`).
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

    /// The C integer code.
    pub fn raw(self) -> u32 {
        self as u32
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            Datatype::Int8 | Datatype::UInt8 | Datatype::Byte => 1,
            Datatype::Int16 | Datatype::UInt16 => 2,
            Datatype::Int32 | Datatype::UInt32 | Datatype::Float => 4,
            Datatype::Int64 | Datatype::UInt64 | Datatype::Double => 8,
        }
    }

    pub fn is_integer(self) -> bool {
        !matches!(self, Datatype::Float | Datatype::Double | Datatype::Byte)
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
        }
    }

    /// Bytes of `count` elements, or an error when that overflows.
    pub fn bytes(self, count: usize) -> Result<usize> {
        count
            .checked_mul(self.size())
            .ok_or_else(|| Error::invalid(format!("count {count} of {} overflows", self.name())))
    }
}
