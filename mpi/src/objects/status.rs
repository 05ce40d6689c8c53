//! What this library keeps in the implementation part of `MPI_Status` (`MPI_internal[5]`):
//! the bytes of data received (`[0]` low and `[1]` high 32 bits) and whether the operation was
//! cancelled (`[2]`). `MPI_Get_count`, `MPI_Get_elements`, `MPI_Test_cancelled` and the
//! `MPI_Status_set_*` procedures read and write these; nothing else does.

use crate::gen::abi::*;
use crate::p2p;
use std::ffi::c_int;

/// The status of a completed point-to-point operation.
pub fn of(st: &p2p::Status) -> MPI_Status {
    let mut s = MPI_Status {
        MPI_SOURCE: st.source as c_int,
        MPI_TAG: st.tag,
        MPI_ERROR: MPI_SUCCESS,
        MPI_internal: [0; 5],
    };
    set_bytes(&mut s, st.bytes);
    set_cancelled(&mut s, st.cancelled);
    s
}

/// The empty status: of an inactive or null request (`MPI_ANY_SOURCE`, `MPI_ANY_TAG`, no
/// data), and of a receive from `MPI_PROC_NULL` (source `MPI_PROC_NULL`).
pub fn empty(source: c_int) -> MPI_Status {
    MPI_Status {
        MPI_SOURCE: source,
        MPI_TAG: MPI_ANY_TAG,
        MPI_ERROR: MPI_SUCCESS,
        MPI_internal: [0; 5],
    }
}

pub fn bytes(s: &MPI_Status) -> u64 {
    (s.MPI_internal[0] as u32 as u64) | ((s.MPI_internal[1] as u32 as u64) << 32)
}

pub fn set_bytes(s: &mut MPI_Status, b: u64) {
    s.MPI_internal[0] = b as u32 as c_int;
    s.MPI_internal[1] = (b >> 32) as u32 as c_int;
}

pub fn cancelled(s: &MPI_Status) -> bool {
    s.MPI_internal[2] != 0
}

pub fn set_cancelled(s: &mut MPI_Status, c: bool) {
    s.MPI_internal[2] = c as c_int;
}

/// Writes `s` to the caller's status unless it is `MPI_STATUS_IGNORE` (NULL). The `MPI_ERROR`
/// field is left as it was (only the multiple-completion calls set it).
///
/// # Safety
/// `p` is NULL or valid for a read and a write of an `MPI_Status`.
pub unsafe fn write(p: *mut MPI_Status, s: MPI_Status) {
    if let Some(d) = p.as_mut() {
        let err = d.MPI_ERROR;
        *d = s;
        d.MPI_ERROR = err;
    }
}

/// Writes the empty status (MPI-4.1 §3.7.3: source `MPI_ANY_SOURCE`, tag `MPI_ANY_TAG`, error
/// `MPI_SUCCESS`, no data) to the caller's status unless it is `MPI_STATUS_IGNORE`: what the
/// any-completion calls report when no request is active.
///
/// # Safety
/// `p` is NULL or valid for a write of an `MPI_Status`.
pub unsafe fn write_empty(p: *mut MPI_Status) {
    if let Some(d) = p.as_mut() {
        *d = empty(MPI_ANY_SOURCE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_above_32_bits_and_the_cancelled_flag_survive() {
        let mut s = empty(MPI_ANY_SOURCE);
        set_bytes(&mut s, (5u64 << 32) | 0xffff_fff0);
        set_cancelled(&mut s, true);
        assert_eq!(bytes(&s), (5u64 << 32) | 0xffff_fff0);
        assert!(cancelled(&s));
        set_cancelled(&mut s, false);
        assert!(!cancelled(&s));
    }
}
