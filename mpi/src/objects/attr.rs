//! Attribute keys (keyvals) and the attributes of communicators and datatypes (one mechanism
//! for every kind of object: `set_in`, `get_in`, ... on the object's [`Attrs`]):
//! `MPI_Comm_create_keyval`, set/get/delete, the copy callbacks run by `MPI_Comm_dup` /
//! `MPI_Type_dup` and the delete callbacks run by `MPI_Comm_free` / `MPI_Type_free`,
//! `MPI_*_delete_attr` and `MPI_Finalize` (MPI_COMM_SELF's, first).
//!
//! Callbacks are kept as addresses: `MPI_*_NULL_COPY_FN`/`MPI_*_NULL_DELETE_FN` are 0 and
//! `MPI_*_DUP_FN` is 1 in the ABI; every kind's callback takes its object's handle (a
//! pointer-sized value) first, so one calling convention serves communicators, datatypes and
//! windows.

use crate::entry::{self, MpiError};
use crate::gen::abi::*;
use crate::objects::comm::{self, CommObj};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::ffi::{c_int, c_void};

/// The kind of object a keyval is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Comm,
    Type,
    Win,
}

#[derive(Debug)]
struct Keyval {
    kind: Kind,
    copy: usize,
    delete: usize,
    extra: usize,
    freed: bool,
    /// Attributes that still use it (a freed keyval lives until they are deleted).
    uses: usize,
}

struct Keyvals {
    next: c_int,
    map: BTreeMap<c_int, Keyval>,
}

static KEYVALS: Mutex<Keyvals> = Mutex::new(Keyvals {
    next: 1000,
    map: BTreeMap::new(),
});

type CopyFn =
    unsafe extern "C" fn(usize, c_int, *mut c_void, *mut c_void, *mut c_void, *mut c_int) -> c_int;
type DeleteFn = unsafe extern "C" fn(usize, c_int, *mut c_void, *mut c_void) -> c_int;

/// A new keyval of `kind` with callbacks at addresses `copy` and `delete` (0: none; copy 1:
/// copy the value).
pub fn create(kind: Kind, copy: usize, delete: usize, extra: usize) -> c_int {
    let mut k = KEYVALS.lock();
    let kv = k.next;
    k.next += 1;
    k.map.insert(
        kv,
        Keyval {
            kind,
            copy,
            delete,
            extra,
            freed: false,
            uses: 0,
        },
    );
    kv
}

/// Marks `kv` freed (it is gone once no attribute uses it).
pub fn free(kind: Kind, kv: c_int) -> Result<(), MpiError> {
    let mut k = KEYVALS.lock();
    let entry = k
        .map
        .get_mut(&kv)
        .filter(|e| e.kind == kind && !e.freed)
        .ok_or_else(|| bad_keyval(kv))?;
    entry.freed = true;
    if entry.uses == 0 {
        k.map.remove(&kv);
    }
    Ok(())
}

fn bad_keyval(kv: c_int) -> MpiError {
    if (MPI_TAG_UB..=MPI_UNIVERSE_SIZE).contains(&kv) {
        MpiError::new(
            MPI_ERR_KEYVAL,
            format!("keyval {kv} is predefined: it cannot be set, deleted or freed"),
        )
    } else {
        MpiError::new(MPI_ERR_KEYVAL, format!("keyval {kv} is not a live keyval"))
    }
}

fn check(kind: Kind, kv: c_int) -> Result<(), MpiError> {
    let k = KEYVALS.lock();
    match k.map.get(&kv) {
        Some(e) if e.kind == kind && !e.freed => Ok(()),
        Some(e) if e.kind != kind => Err(MpiError::new(
            MPI_ERR_KEYVAL,
            format!("keyval {kv} was made for another kind of object"),
        )),
        _ => Err(bad_keyval(kv)),
    }
}

fn callback_error(what: &str, kv: c_int, rc: c_int) -> MpiError {
    let class = entry::class_of(rc).unwrap_or(MPI_ERR_OTHER);
    MpiError::new(
        class,
        format!("the {what} callback of keyval {kv} returned error {rc}"),
    )
}

/// Runs the delete callback of `kv` for value `val` of the object `handle`.
fn run_delete(handle: usize, kv: c_int, val: usize) -> Result<(), MpiError> {
    let (f, extra) = {
        let k = KEYVALS.lock();
        let e = k.map.get(&kv).ok_or_else(|| bad_keyval(kv))?;
        (e.delete, e.extra)
    };
    if f > 1 {
        // SAFETY: the program's delete callback, as it registered it.
        let f: DeleteFn = unsafe { std::mem::transmute::<usize, DeleteFn>(f) };
        let rc = unsafe { f(handle, kv, val as *mut c_void, extra as *mut c_void) };
        if rc != MPI_SUCCESS {
            return Err(callback_error("delete", kv, rc));
        }
    }
    Ok(())
}

fn release_use(kv: c_int) {
    let mut k = KEYVALS.lock();
    if let Some(e) = k.map.get_mut(&kv) {
        e.uses = e.uses.saturating_sub(1);
        if e.freed && e.uses == 0 {
            k.map.remove(&kv);
        }
    }
}

/// The attribute values of one object (`void *` as an integer) by keyval, in the order set.
pub type Attrs = Mutex<Vec<(c_int, usize)>>;

/// Sets attribute `kv` of communicator `c` (the old value's delete callback runs first).
pub fn set(c: MPI_Comm, obj: &CommObj, kv: c_int, val: usize) -> Result<(), MpiError> {
    set_in(Kind::Comm, c.0, &obj.attrs, kv, val)
}

/// Sets attribute `kv` of the object `handle` of `kind` whose attributes are `attrs`.
pub fn set_in(
    kind: Kind,
    handle: usize,
    attrs: &Attrs,
    kv: c_int,
    val: usize,
) -> Result<(), MpiError> {
    check(kind, kv)?;
    let old = attrs.lock().iter().find(|(k, _)| *k == kv).map(|x| x.1);
    if let Some(old) = old {
        run_delete(handle, kv, old)?;
        let mut a = attrs.lock();
        if let Some(slot) = a.iter_mut().find(|(k, _)| *k == kv) {
            slot.1 = val;
        }
    } else {
        attrs.lock().push((kv, val));
        if let Some(e) = KEYVALS.lock().map.get_mut(&kv) {
            e.uses += 1;
        }
    }
    Ok(())
}

/// The value of attribute `kv` of `obj`, if set.
pub fn get(obj: &CommObj, kv: c_int) -> Result<Option<usize>, MpiError> {
    get_in(Kind::Comm, &obj.attrs, kv)
}

/// The value of attribute `kv` (a keyval of `kind`) in `attrs`, if set.
pub fn get_in(kind: Kind, attrs: &Attrs, kv: c_int) -> Result<Option<usize>, MpiError> {
    {
        let k = KEYVALS.lock();
        match k.map.get(&kv) {
            Some(e) if e.kind == kind => {}
            Some(_) => {
                return Err(MpiError::new(
                    MPI_ERR_KEYVAL,
                    format!("keyval {kv} was made for another kind of object"),
                ))
            }
            None => return Err(bad_keyval(kv)),
        }
    }
    Ok(attrs.lock().iter().find(|(k, _)| *k == kv).map(|x| x.1))
}

/// Deletes attribute `kv` of `c` (its delete callback runs; an error keeps the attribute).
pub fn delete(c: MPI_Comm, obj: &CommObj, kv: c_int) -> Result<(), MpiError> {
    delete_in(Kind::Comm, c.0, &obj.attrs, kv)
}

/// Deletes attribute `kv` of the object `handle` of `kind`.
pub fn delete_in(kind: Kind, handle: usize, attrs: &Attrs, kv: c_int) -> Result<(), MpiError> {
    check(kind, kv).or_else(|e| {
        // A freed keyval's attributes can still be deleted.
        if KEYVALS.lock().map.contains_key(&kv) {
            Ok(())
        } else {
            Err(e)
        }
    })?;
    let val = attrs
        .lock()
        .iter()
        .find(|(k, _)| *k == kv)
        .map(|x| x.1)
        .ok_or_else(|| {
            MpiError::new(
                MPI_ERR_KEYVAL,
                format!("the object has no attribute for keyval {kv}"),
            )
        })?;
    run_delete(handle, kv, val)?;
    attrs.lock().retain(|(k, _)| *k != kv);
    release_use(kv);
    Ok(())
}

/// Deletes every attribute of `c`, last set first (MPI_Comm_free, MPI_Finalize on
/// MPI_COMM_SELF).
pub fn delete_all(c: MPI_Comm) -> Result<(), MpiError> {
    let Ok(obj) = comm::get(c) else {
        return Ok(());
    };
    delete_all_in(Kind::Comm, c.0, &obj.attrs)
}

/// Deletes every attribute of the object `handle` of `kind`, last set first.
pub fn delete_all_in(kind: Kind, handle: usize, attrs: &Attrs) -> Result<(), MpiError> {
    let kvs: Vec<c_int> = attrs.lock().iter().rev().map(|x| x.0).collect();
    for kv in kvs {
        delete_in(kind, handle, attrs, kv)?;
    }
    Ok(())
}

/// Copies the attributes of `old` to the new communicator `new` (MPI_Comm_dup): each keyval's
/// copy callback decides.
pub fn copy_all(
    old: MPI_Comm,
    from: &CommObj,
    new: MPI_Comm,
    to: &CommObj,
) -> Result<(), MpiError> {
    copy_all_in(Kind::Comm, old.0, &from.attrs, new.0, &to.attrs)
}

/// Copies the attributes of object `old` to the new object `new` of `kind` (dup): each
/// keyval's copy callback decides.
pub fn copy_all_in(
    kind: Kind,
    old: usize,
    from: &Attrs,
    new: usize,
    to: &Attrs,
) -> Result<(), MpiError> {
    let attrs = from.lock().clone();
    for (kv, val) in attrs {
        let (f, extra) = {
            let k = KEYVALS.lock();
            match k.map.get(&kv) {
                Some(e) => (e.copy, e.extra),
                None => continue,
            }
        };
        let copied = match f {
            0 => None,
            1 => Some(val),
            f => {
                // SAFETY: the program's copy callback, as it registered it.
                let f: CopyFn = unsafe { std::mem::transmute::<usize, CopyFn>(f) };
                let mut out: *mut c_void = std::ptr::null_mut();
                let mut flag: c_int = 0;
                let rc = unsafe {
                    f(
                        old,
                        kv,
                        extra as *mut c_void,
                        val as *mut c_void,
                        (&mut out as *mut *mut c_void).cast(),
                        &mut flag,
                    )
                };
                if rc != MPI_SUCCESS {
                    return Err(callback_error("copy", kv, rc));
                }
                (flag != 0).then_some(out as usize)
            }
        };
        if let Some(v) = copied {
            set_in(kind, new, to, kv, v)?;
        }
    }
    Ok(())
}
