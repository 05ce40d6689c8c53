//! The committed form of a datatype: its data as a list of contiguous byte blocks in type-map
//! order (adjacent blocks merged, so a contiguous type is one block) and its type signature
//! (the sequence of predefined types, run-length encoded).

use super::{Named, Origin, Type};

/// `len` bytes of data at byte displacement `disp` from the start of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub disp: i64,
    pub len: u64,
}

/// The flattened type map of one element.
#[derive(Debug, Clone, Default)]
pub struct Flat {
    pub blocks: Vec<Block>,
    /// The type signature: runs of (predefined type, how many in a row).
    pub sig: Vec<(Named, u64)>,
}

impl Flat {
    fn push_block(&mut self, disp: i64, len: u64) {
        if len == 0 {
            return;
        }
        if let Some(last) = self.blocks.last_mut() {
            if last.disp + last.len as i64 == disp {
                last.len += len;
                return;
            }
        }
        self.blocks.push(Block { disp, len });
    }

    fn push_sig(&mut self, n: Named, k: u64) {
        if k == 0 {
            return;
        }
        match self.sig.last_mut() {
            Some((m, c)) if *m == n => *c += k,
            _ => self.sig.push((n, k)),
        }
    }

    /// Appends `k` copies of `inner` (whose elements are `extent` bytes apart), the first at `disp`.
    fn push_copies(&mut self, inner: &Flat, size: u64, extent: i64, disp: i64, k: u64) {
        if inner.blocks.is_empty() {
            return;
        }
        let dense = inner.blocks.len() == 1 && inner.blocks[0].len as i64 == extent;
        if dense {
            self.push_block(disp + inner.blocks[0].disp, k * size);
        } else {
            for j in 0..k as i64 {
                let at = disp + j * extent;
                for b in &inner.blocks {
                    self.push_block(at + b.disp, b.len);
                }
            }
        }
        if let [(n, c)] = inner.sig[..] {
            self.push_sig(n, c * k);
        } else {
            for _ in 0..k {
                for &(n, c) in &inner.sig {
                    self.push_sig(n, c);
                }
            }
        }
    }
}

impl Type {
    /// The flattened form (computed once; `commit` computes it eagerly).
    pub fn flat(&self) -> &Flat {
        self.flat.get_or_init(|| {
            let mut f = Flat::default();
            match &self.origin {
                Origin::Named(n) => {
                    for (off, len) in n.data_blocks() {
                        f.push_block(off as i64, len as u64);
                    }
                    f.push_sig(*n, 1);
                }
                Origin::Derived {
                    parts, placements, ..
                } => {
                    for p in placements {
                        let t = &parts[p.input];
                        f.push_copies(t.flat(), t.size, t.extent(), p.disp, p.k);
                    }
                }
            }
            f
        })
    }

    /// When `count` elements of this type are one contiguous run of bytes: its displacement
    /// from the buffer (the fast path: one copy).
    pub fn dense(&self) -> Option<i64> {
        let f = self.flat();
        match f.blocks[..] {
            [] => Some(0),
            [b] if b.len as i64 == self.extent() => Some(b.disp),
            _ => None,
        }
    }

    /// The one predefined type every basic element of this type is, if there is one (a
    /// predefined operator reduces such a type element-wise).
    pub fn uniform(&self) -> Option<Named> {
        match self.flat().sig[..] {
            [(n, _)] => Some(n),
            _ => self.as_named(),
        }
    }

    /// `MPI_Get_elements`: the basic elements in `bytes` bytes of data of this type, or None
    /// (`MPI_UNDEFINED`) when `bytes` ends inside a basic element.
    pub fn get_elements(&self, bytes: u64) -> Option<u64> {
        if self.size == 0 {
            return (bytes == 0).then_some(0);
        }
        let whole = bytes / self.size;
        let mut rest = bytes % self.size;
        let mut n = whole.checked_mul(self.elements)?;
        for &(t, c) in &self.flat().sig {
            if rest == 0 {
                break;
            }
            let s = t.size() as u64;
            let k = (rest / s).min(c);
            n += k * t.elements();
            rest -= k * s;
            if k < c && rest > 0 {
                // Inside one value: a pair counts its value part alone.
                let first = t.data_blocks()[0].1 as u64;
                if t.elements() == 2 && rest == first {
                    return Some(n + 1);
                }
                return None;
            }
        }
        (rest == 0).then_some(n)
    }
}
