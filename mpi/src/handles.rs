//! The handle table: every kind of MPI object (communicator, group, info, error handler,
//! datatype, op, request, ...) lives in a [`Table`] of its kind, keyed by its handle value.
//!
//! Predefined objects sit at the values the standard ABI fixes (all below
//! [`FIRST_USER_HANDLE`]); objects the program creates get values from one process-wide
//! counter, so a handle of one kind is never a valid handle of another kind, and a freed
//! handle is never reused (use after free is detected, never aliased).

use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The first handle value given to a user object (predefined handles are below 0x400).
pub const FIRST_USER_HANDLE: usize = 0x1_0000;
const STEP: usize = 0x10;

static NEXT: AtomicUsize = AtomicUsize::new(FIRST_USER_HANDLE);

/// The objects of one kind, by handle value.
pub struct Table<T> {
    /// The kind's name in messages ("communicator", "datatype").
    pub kind: &'static str,
    objs: RwLock<BTreeMap<usize, Arc<T>>>,
}

impl<T> Table<T> {
    pub const fn new(kind: &'static str) -> Self {
        Table {
            kind,
            objs: RwLock::new(BTreeMap::new()),
        }
    }

    /// Stores a user object under a fresh handle value and returns it.
    pub fn insert(&self, obj: T) -> usize {
        let h = NEXT.fetch_add(STEP, Ordering::Relaxed);
        self.objs.write().insert(h, Arc::new(obj));
        h
    }

    /// Stores a predefined object at its fixed value (replacing what was there).
    pub fn insert_at(&self, h: usize, obj: T) {
        self.objs.write().insert(h, Arc::new(obj));
    }

    /// Makes `h` live again for an object still in use (a freed handle the library hands out
    /// again, e.g. the error handler of a communicator).
    pub fn insert_arc_at(&self, h: usize, obj: Arc<T>) {
        self.objs.write().insert(h, obj);
    }

    /// The object behind `h`, if `h` is a live handle of this kind.
    pub fn get(&self, h: usize) -> Option<Arc<T>> {
        self.objs.read().get(&h).cloned()
    }

    /// Removes `h` and returns its object.
    pub fn remove(&self, h: usize) -> Option<Arc<T>> {
        self.objs.write().remove(&h)
    }

    /// Whether `h` is a live handle of this kind.
    pub fn contains(&self, h: usize) -> bool {
        self.objs.read().contains_key(&h)
    }

    /// Every live handle with its object, in handle order.
    pub fn all(&self) -> Vec<(usize, Arc<T>)> {
        self.objs
            .read()
            .iter()
            .map(|(&h, o)| (h, o.clone()))
            .collect()
    }

    /// Removes every object (MPI_Finalize).
    pub fn clear(&self) -> Vec<(usize, Arc<T>)> {
        std::mem::take(&mut *self.objs.write())
            .into_iter()
            .collect()
    }
}

/// Whether `h` is one of the values the ABI reserves for predefined handles.
pub fn is_predefined(h: usize) -> bool {
    h < FIRST_USER_HANDLE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_distinct_across_kinds_and_never_reused() {
        let a: Table<u32> = Table::new("a");
        let b: Table<u32> = Table::new("b");
        let ha = a.insert(1);
        let hb = b.insert(2);
        assert_ne!(ha, hb);
        assert!(a.get(hb).is_none() && b.get(ha).is_none());
        assert_eq!(*a.remove(ha).unwrap(), 1);
        let ha2 = a.insert(3);
        assert_ne!(ha, ha2);
        assert!(a.get(ha).is_none());
        assert!(!is_predefined(ha2));
        a.insert_at(0x101, 7);
        assert_eq!(*a.get(0x101).unwrap(), 7);
        assert!(is_predefined(0x101));
    }
}
