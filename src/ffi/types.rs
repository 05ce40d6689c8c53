//! Datatype, hint and built-in op codes of the C API. They are plain integers so that C may pass
//! any value; the library validates each one.

use super::guard;
use crate::datatype::Datatype;
use crate::error::{Error, Result};
use crate::Hint;

/// Element type of a buffer: one of the `FMI_INT8` ... `FMI_BYTE` constants.
pub type fmi_datatype = u32;
/// Signed 8-bit integer.
pub const FMI_INT8: fmi_datatype = 0;
/// Unsigned 8-bit integer.
pub const FMI_UINT8: fmi_datatype = 1;
/// Signed 16-bit integer.
pub const FMI_INT16: fmi_datatype = 2;
/// Unsigned 16-bit integer.
pub const FMI_UINT16: fmi_datatype = 3;
/// Signed 32-bit integer.
pub const FMI_INT32: fmi_datatype = 4;
/// Unsigned 32-bit integer.
pub const FMI_UINT32: fmi_datatype = 5;
/// Signed 64-bit integer.
pub const FMI_INT64: fmi_datatype = 6;
/// Unsigned 64-bit integer.
pub const FMI_UINT64: fmi_datatype = 7;
/// IEEE-754 single precision (C float).
pub const FMI_FLOAT: fmi_datatype = 8;
/// IEEE-754 double precision (C double).
pub const FMI_DOUBLE: fmi_datatype = 9;
/// Raw byte: only bitwise ops (BAND, BOR, BXOR) are defined on it.
pub const FMI_BYTE: fmi_datatype = 10;

/// Channel-selection hint: `FMI_HINT_FAST` or `FMI_HINT_CHEAP`.
pub type fmi_hint = u32;
/// Pick the channel with the lowest modelled latency.
pub const FMI_HINT_FAST: fmi_hint = 0;
/// Pick the channel with the lowest modelled cost (the default).
pub const FMI_HINT_CHEAP: fmi_hint = 1;

pub(crate) fn datatype(t: fmi_datatype) -> Result<Datatype> {
    Datatype::from_raw(t)
}

pub(crate) fn hint(h: fmi_hint) -> Result<Hint> {
    match h {
        FMI_HINT_FAST => Ok(Hint::Fast),
        FMI_HINT_CHEAP => Ok(Hint::Cheap),
        other => Err(Error::invalid(format!(
            "invalid hint {other} (valid: FMI_HINT_FAST, FMI_HINT_CHEAP)"
        ))),
    }
}

/// Size in bytes of one element of `t`, or 0 when `t` is not a valid datatype.
#[no_mangle]
pub extern "C" fn fmi_datatype_size(t: fmi_datatype) -> usize {
    let mut size = 0;
    guard("fmi_datatype_size", || {
        size = datatype(t).map(|d| d.size()).unwrap_or(0);
        Ok(())
    });
    size
}
