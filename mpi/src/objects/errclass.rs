//! Error classes, codes and strings the program adds (`MPI_Add_error_class`,
//! `MPI_Add_error_code`, `MPI_Add_error_string`) and removes (`MPI_Remove_error_*`).
//!
//! Added classes and codes take values above `MPI_ERR_LASTCODE` from one counter (as MPICH
//! does, and as mpi4py's tests expect: a new class is `>= MPI_ERR_LASTCODE` and becomes
//! `MPI_LASTUSEDCODE`), so they never collide with a standard class or with a code
//! [`crate::entry`] records for an error (those are at most `MPI_ERR_LASTCODE`). A value is
//! never given out twice.

use crate::gen::abi::MPI_ERR_LASTCODE;
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::c_int;

struct Added {
    classes: BTreeSet<c_int>,
    /// Added code -> its class.
    codes: BTreeMap<c_int, c_int>,
    strings: BTreeMap<c_int, String>,
    /// The last value given out (MPI_ERR_LASTCODE before any).
    last: c_int,
}

static ADDED: Mutex<Added> = Mutex::new(Added {
    classes: BTreeSet::new(),
    codes: BTreeMap::new(),
    strings: BTreeMap::new(),
    last: MPI_ERR_LASTCODE,
});

fn next(a: &mut Added) -> Option<c_int> {
    let v = a.last.checked_add(1)?;
    a.last = v;
    Some(v)
}

/// A new error class, or None when the values are exhausted.
pub fn add_class() -> Option<c_int> {
    let mut a = ADDED.lock();
    let c = next(&mut a)?;
    a.classes.insert(c);
    Some(c)
}

/// A new error code of `class` (a standard or added class), or None when exhausted.
pub fn add_code(class: c_int) -> Option<c_int> {
    let mut a = ADDED.lock();
    let code = next(&mut a)?;
    a.codes.insert(code, class);
    Some(code)
}

/// Sets the string of an added class or code; false for other values.
pub fn set_string(code: c_int, s: &str) -> bool {
    let mut a = ADDED.lock();
    let ok = a.codes.contains_key(&code) || a.classes.contains(&code);
    if ok {
        a.strings.insert(code, s.to_string());
    }
    ok
}

/// Why an added class, code or string cannot be removed.
#[derive(Debug, PartialEq, Eq)]
pub enum RemoveError {
    NotAdded,
    HasCodes,
    HasString,
    NoString,
}

/// Removes an added class (MPI-4.1: erroneous while it has codes or a string).
pub fn remove_class(class: c_int) -> Result<(), RemoveError> {
    let mut a = ADDED.lock();
    if !a.classes.contains(&class) {
        return Err(RemoveError::NotAdded);
    }
    if a.codes.values().any(|&c| c == class) {
        return Err(RemoveError::HasCodes);
    }
    if a.strings.contains_key(&class) {
        return Err(RemoveError::HasString);
    }
    a.classes.remove(&class);
    Ok(())
}

/// Removes an added code (erroneous while it has a string).
pub fn remove_code(code: c_int) -> Result<(), RemoveError> {
    let mut a = ADDED.lock();
    if !a.codes.contains_key(&code) {
        return Err(RemoveError::NotAdded);
    }
    if a.strings.contains_key(&code) {
        return Err(RemoveError::HasString);
    }
    a.codes.remove(&code);
    Ok(())
}

/// Removes the string of an added class or code.
pub fn remove_string(code: c_int) -> Result<(), RemoveError> {
    let mut a = ADDED.lock();
    if !a.codes.contains_key(&code) && !a.classes.contains(&code) {
        return Err(RemoveError::NotAdded);
    }
    a.strings
        .remove(&code)
        .map(|_| ())
        .ok_or(RemoveError::NoString)
}

pub fn is_user_class(c: c_int) -> bool {
    ADDED.lock().classes.contains(&c)
}

/// The class of an added code.
pub fn user_code_class(code: c_int) -> Option<c_int> {
    ADDED.lock().codes.get(&code).copied()
}

/// The string of an added class or code ("" until one is set).
pub fn user_string(code: c_int) -> Option<String> {
    let a = ADDED.lock();
    if a.codes.contains_key(&code) || a.classes.contains(&code) {
        return Some(a.strings.get(&code).cloned().unwrap_or_default());
    }
    None
}

/// The largest class or code given out (the `MPI_LASTUSEDCODE` attribute).
pub fn last_used_code() -> c_int {
    ADDED.lock().last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_values_are_above_lastcode_and_removable_in_order() {
        let c = add_class().unwrap();
        assert!(c > MPI_ERR_LASTCODE);
        assert_eq!(last_used_code(), c);
        assert!(is_user_class(c));
        let k = add_code(c).unwrap();
        assert!(k > c && last_used_code() == k);
        assert_eq!(user_code_class(k), Some(c));
        assert_eq!(user_string(c).as_deref(), Some(""));
        assert!(set_string(k, "mine"));
        assert_eq!(user_string(k).as_deref(), Some("mine"));
        assert_eq!(remove_class(c), Err(RemoveError::HasCodes));
        assert_eq!(remove_code(k), Err(RemoveError::HasString));
        assert_eq!(remove_string(k), Ok(()));
        assert_eq!(remove_string(k), Err(RemoveError::NoString));
        assert_eq!(remove_code(k), Ok(()));
        assert!(set_string(c, "class"));
        assert_eq!(remove_class(c), Err(RemoveError::HasString));
        assert_eq!(remove_string(c), Ok(()));
        assert_eq!(remove_class(c), Ok(()));
        assert_eq!(remove_class(c), Err(RemoveError::NotAdded));
        assert!(!set_string(7, "standard classes keep their strings"));
    }
}
