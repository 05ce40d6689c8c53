//! Error classes, codes and strings the program adds (`MPI_Add_error_class`,
//! `MPI_Add_error_code`, `MPI_Add_error_string`).
//!
//! User classes are 63..=127 (above the standard's last class, within the 7 class bits of
//! [`crate::entry`]'s codes); a user code is `n << 7 | class` with n >= 128, above
//! `MPI_ERR_LASTCODE` as the standard allows, so it never collides with a recorded error.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::ffi::c_int;

const FIRST_CLASS: c_int = 63;
const LAST_CLASS: c_int = 127;
const FIRST_CODE_SLOT: c_int = 128;

struct Added {
    classes: c_int,
    codes: BTreeMap<c_int, c_int>,
    strings: BTreeMap<c_int, String>,
    next_slot: c_int,
}

static ADDED: Mutex<Added> = Mutex::new(Added {
    classes: 0,
    codes: BTreeMap::new(),
    strings: BTreeMap::new(),
    next_slot: FIRST_CODE_SLOT,
});

/// A new error class, or None when all are taken.
pub fn add_class() -> Option<c_int> {
    let mut a = ADDED.lock();
    let c = FIRST_CLASS + a.classes;
    (c <= LAST_CLASS).then(|| {
        a.classes += 1;
        c
    })
}

/// A new error code of `class` (a standard or added class).
pub fn add_code(class: c_int) -> Option<c_int> {
    let mut a = ADDED.lock();
    let slot = a.next_slot;
    if slot > (c_int::MAX >> 7) - 1 {
        return None;
    }
    a.next_slot += 1;
    let code = (slot << 7) | class;
    a.codes.insert(code, class);
    Some(code)
}

/// Sets the string of an added class or code; false for other values.
pub fn set_string(code: c_int, s: &str) -> bool {
    let mut a = ADDED.lock();
    let ok = a.codes.contains_key(&code) || (FIRST_CLASS..FIRST_CLASS + a.classes).contains(&code);
    if ok {
        a.strings.insert(code, s.to_string());
    }
    ok
}

pub fn is_user_class(c: c_int) -> bool {
    (FIRST_CLASS..FIRST_CLASS + ADDED.lock().classes).contains(&c)
}

/// The class of an added code.
pub fn user_code_class(code: c_int) -> Option<c_int> {
    ADDED.lock().codes.get(&code).copied()
}

/// The string of an added class or code ("" until one is set).
pub fn user_string(code: c_int) -> Option<String> {
    let a = ADDED.lock();
    if a.codes.contains_key(&code) || (FIRST_CLASS..FIRST_CLASS + a.classes).contains(&code) {
        return Some(a.strings.get(&code).cloned().unwrap_or_default());
    }
    None
}

/// The largest class or code in use (the `MPI_LASTUSEDCODE` attribute).
pub fn last_used_code() -> c_int {
    let a = ADDED.lock();
    let class = FIRST_CLASS + a.classes - 1;
    let code = a.codes.keys().next_back().copied().unwrap_or(0);
    crate::gen::abi::MPI_ERR_LASTCODE.max(class).max(code)
}
