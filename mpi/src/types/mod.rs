//! MPI datatypes as type maps: the predefined ones and the constructors (contiguous, vector,
//! hvector, indexed, hindexed, indexed_block, hindexed_block, struct, resized, dup), their
//! size, extent, bounds and true bounds, the contents `MPI_Type_get_contents` reports, and the
//! committed form (`flat`) that packs and unpacks buffers (`pack`).
//!
//! A type is immutable once built and shared (`Arc<Type>`): a constructor keeps its inputs, so
//! freeing an input handle does not affect the types built from it. No C-ABI code here.

mod array;
mod external;
mod flat;
pub mod named;
mod pack;

pub use array::{f90_complex, f90_integer, f90_real, Dim, Distrib};
pub use flat::{Block, Flat};
pub use named::{Category, Named, PairKind, Part, Prim};

use crate::engine::{Class, Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The constructor a derived datatype came from (`MPI_COMBINER_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Combiner {
    Dup,
    Contiguous,
    Vector,
    Hvector,
    Indexed,
    Hindexed,
    IndexedBlock,
    HindexedBlock,
    Struct,
    Resized,
    Subarray,
    Darray,
    F90Real,
    F90Complex,
    F90Integer,
}

/// What `MPI_Type_get_envelope`/`MPI_Type_get_contents` report for a derived datatype: the
/// constructor's arguments in the standard's order. A type built by a `_c` constructor has
/// every integer and address argument in `counts` (in the order integers, then addresses).
#[derive(Debug, Clone)]
pub struct Contents {
    pub combiner: Combiner,
    pub ints: Vec<i64>,
    pub aints: Vec<i64>,
    pub counts: Vec<i64>,
    pub types: Vec<Arc<Type>>,
}

/// `k` consecutive copies of input type `input` (index into the contents' types), the first at
/// byte displacement `disp`, each next one an extent of the input further.
#[derive(Debug, Clone, Copy)]
struct Placement {
    input: usize,
    disp: i64,
    k: u64,
}

#[derive(Debug)]
enum Origin {
    Named(Named),
    Derived {
        contents: Contents,
        /// The types the placements copy (the contents' types, except for the constructors
        /// built from others: subarray, darray, the Fortran 90 types).
        parts: Vec<Arc<Type>>,
        placements: Vec<Placement>,
    },
}

/// A datatype: a predefined one or one built by a constructor.
#[derive(Debug)]
pub struct Type {
    origin: Origin,
    size: u64,
    lb: i64,
    ub: i64,
    true_lb: i64,
    true_ub: i64,
    align: u64,
    elements: u64,
    flat: OnceLock<Flat>,
    committed: AtomicBool,
}

fn count_err(what: &str, v: i64) -> Error {
    Error::new(Class::Count, format!("{what} {v} is negative"))
}

fn overflow(what: &str) -> Error {
    Error::new(
        Class::Count,
        format!("{what}: the datatype's size or extent overflows 64 bits"),
    )
}

fn nonneg(what: &str, v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| count_err(what, v))
}

fn blocklen(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::new(Class::Arg, format!("block length {v} is negative")))
}

impl Type {
    /// The predefined datatype `n` (committed).
    pub fn named(n: Named) -> Arc<Type> {
        let extent = n.extent() as i64;
        let blocks = n.data_blocks();
        let true_lb = blocks.first().map_or(0, |b| b.0 as i64);
        let true_ub = blocks.last().map_or(0, |b| (b.0 + b.1) as i64);
        Arc::new(Type {
            origin: Origin::Named(n),
            size: n.size() as u64,
            lb: 0,
            ub: extent,
            true_lb,
            true_ub,
            align: n.align() as u64,
            elements: n.elements(),
            flat: OnceLock::new(),
            committed: AtomicBool::new(true),
        })
    }

    /// The predefined datatype behind this one, if it is predefined.
    pub fn as_named(&self) -> Option<Named> {
        match self.origin {
            Origin::Named(n) => Some(n),
            Origin::Derived { .. } => None,
        }
    }

    /// The constructor and its arguments; None for a predefined datatype (`MPI_COMBINER_NAMED`).
    pub fn contents(&self) -> Option<&Contents> {
        match &self.origin {
            Origin::Named(_) => None,
            Origin::Derived { contents, .. } => Some(contents),
        }
    }

    /// `MPI_Type_size`: bytes of data in one element.
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn lb(&self) -> i64 {
        self.lb
    }
    pub fn ub(&self) -> i64 {
        self.ub
    }
    pub fn extent(&self) -> i64 {
        self.ub - self.lb
    }
    pub fn true_lb(&self) -> i64 {
        self.true_lb
    }
    pub fn true_extent(&self) -> i64 {
        self.true_ub - self.true_lb
    }
    /// Basic elements in one element of this type (what `MPI_Get_elements` counts).
    pub fn elements(&self) -> u64 {
        self.elements
    }

    pub fn is_committed(&self) -> bool {
        self.committed.load(Ordering::Acquire)
    }

    /// `MPI_Type_commit`: flattens the type map so communication can use it.
    pub fn commit(&self) {
        self.flat();
        self.committed.store(true, Ordering::Release);
    }

    /// Fails with `MPI_ERR_TYPE` unless the type is committed.
    pub fn check_committed(&self) -> Result<()> {
        if self.is_committed() {
            Ok(())
        } else {
            Err(Error::new(
                Class::Type,
                "the datatype is not committed (call MPI_Type_commit first)",
            ))
        }
    }

    /// Bytes of `count` elements' data, or an error when that overflows.
    pub fn bytes(&self, count: u64) -> Result<u64> {
        count
            .checked_mul(self.size)
            .ok_or_else(|| overflow("count times datatype size"))
    }

    /// `MPI_Type_dup`.
    pub fn dup(t: &Arc<Type>) -> Result<Arc<Type>> {
        let contents = Contents::new(Combiner::Dup, vec![], vec![], vec![t.clone()], false);
        let mut d = Self::derive(contents, vec![one(0, 0)], false)?;
        // A duplicate is committed when its input is (MPI-4.0 §5.1.10).
        let d_mut = Arc::get_mut(&mut d).expect("new type");
        if t.is_committed() {
            d_mut.committed = AtomicBool::new(true);
        }
        Ok(d)
    }

    /// `MPI_Type_contiguous`.
    pub fn contiguous(count: i64, t: &Arc<Type>, large: bool) -> Result<Arc<Type>> {
        let k = nonneg("count", count)?;
        let contents = Contents::new(
            Combiner::Contiguous,
            vec![count],
            vec![],
            vec![t.clone()],
            large,
        );
        Self::derive(
            contents,
            vec![Placement {
                input: 0,
                disp: 0,
                k,
            }],
            false,
        )
    }

    /// `MPI_Type_vector`: `count` blocks of `blocklength` elements, `stride` elements apart.
    pub fn vector(
        count: i64,
        blocklength: i64,
        stride: i64,
        t: &Arc<Type>,
        large: bool,
    ) -> Result<Arc<Type>> {
        let stride_bytes = stride
            .checked_mul(t.extent())
            .ok_or_else(|| overflow("stride"))?;
        let contents = Contents::new(
            Combiner::Vector,
            vec![count, blocklength, stride],
            vec![],
            vec![t.clone()],
            large,
        );
        Self::strided(contents, count, blocklength, stride_bytes)
    }

    /// `MPI_Type_create_hvector`: like vector with the stride in bytes.
    pub fn hvector(
        count: i64,
        blocklength: i64,
        stride: i64,
        t: &Arc<Type>,
        large: bool,
    ) -> Result<Arc<Type>> {
        let contents = Contents::new(
            Combiner::Hvector,
            vec![count, blocklength],
            vec![stride],
            vec![t.clone()],
            large,
        );
        Self::strided(contents, count, blocklength, stride)
    }

    fn strided(contents: Contents, count: i64, blocklength: i64, stride: i64) -> Result<Arc<Type>> {
        let n = nonneg("count", count)?;
        let k = blocklen(blocklength)?;
        let placements = (0..n as i64)
            .map(|i| {
                i.checked_mul(stride)
                    .map(|disp| Placement { input: 0, disp, k })
                    .ok_or_else(|| overflow("vector"))
            })
            .collect::<Result<Vec<_>>>()?;
        Self::derive(contents, placements, false)
    }

    /// `MPI_Type_indexed`: blocks of `blocklengths[i]` elements at `displacements[i]` elements.
    pub fn indexed(
        blocklengths: &[i64],
        displacements: &[i64],
        t: &Arc<Type>,
        large: bool,
    ) -> Result<Arc<Type>> {
        let n = same_len(blocklengths, displacements)?;
        let mut ints = vec![n as i64];
        ints.extend_from_slice(blocklengths);
        ints.extend_from_slice(displacements);
        let contents = Contents::new(Combiner::Indexed, ints, vec![], vec![t.clone()], large);
        let disps = scaled(displacements, t.extent())?;
        Self::blocks_at(contents, blocklengths, &disps)
    }

    /// `MPI_Type_create_hindexed`: like indexed with displacements in bytes.
    pub fn hindexed(
        blocklengths: &[i64],
        displacements: &[i64],
        t: &Arc<Type>,
        large: bool,
    ) -> Result<Arc<Type>> {
        let n = same_len(blocklengths, displacements)?;
        let mut ints = vec![n as i64];
        ints.extend_from_slice(blocklengths);
        let contents = Contents::new(
            Combiner::Hindexed,
            ints,
            displacements.to_vec(),
            vec![t.clone()],
            large,
        );
        Self::blocks_at(contents, blocklengths, displacements)
    }

    /// `MPI_Type_create_indexed_block`: blocks of one length at displacements in elements.
    pub fn indexed_block(
        blocklength: i64,
        displacements: &[i64],
        t: &Arc<Type>,
        large: bool,
    ) -> Result<Arc<Type>> {
        let mut ints = vec![displacements.len() as i64, blocklength];
        ints.extend_from_slice(displacements);
        let contents = Contents::new(Combiner::IndexedBlock, ints, vec![], vec![t.clone()], large);
        let disps = scaled(displacements, t.extent())?;
        Self::blocks_at(contents, &vec![blocklength; disps.len()], &disps)
    }

    /// `MPI_Type_create_hindexed_block`: blocks of one length at displacements in bytes.
    pub fn hindexed_block(
        blocklength: i64,
        displacements: &[i64],
        t: &Arc<Type>,
        large: bool,
    ) -> Result<Arc<Type>> {
        let ints = vec![displacements.len() as i64, blocklength];
        let contents = Contents::new(
            Combiner::HindexedBlock,
            ints,
            displacements.to_vec(),
            vec![t.clone()],
            large,
        );
        Self::blocks_at(
            contents,
            &vec![blocklength; displacements.len()],
            displacements,
        )
    }

    fn blocks_at(contents: Contents, blocklengths: &[i64], disps: &[i64]) -> Result<Arc<Type>> {
        let placements = blocklengths
            .iter()
            .zip(disps)
            .map(|(&b, &disp)| {
                Ok(Placement {
                    input: 0,
                    disp,
                    k: blocklen(b)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Self::derive(contents, placements, false)
    }

    /// `MPI_Type_create_struct`: block i is `blocklengths[i]` elements of `types[i]` at byte
    /// displacement `displacements[i]`; the extent is padded to the types' largest alignment.
    pub fn create_struct(
        blocklengths: &[i64],
        displacements: &[i64],
        types: &[Arc<Type>],
        large: bool,
    ) -> Result<Arc<Type>> {
        let n = same_len(blocklengths, displacements)?;
        if types.len() != n {
            return Err(Error::new(
                Class::Arg,
                "struct: as many datatypes as blocks needed",
            ));
        }
        let mut ints = vec![n as i64];
        ints.extend_from_slice(blocklengths);
        let contents = Contents::new(
            Combiner::Struct,
            ints,
            displacements.to_vec(),
            types.to_vec(),
            large,
        );
        let placements = blocklengths
            .iter()
            .zip(displacements)
            .enumerate()
            .map(|(input, (&b, &disp))| {
                Ok(Placement {
                    input,
                    disp,
                    k: blocklen(b)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Self::derive(contents, placements, true)
    }

    /// `MPI_Type_create_resized`: the same type map with lower bound `lb` and extent `extent`.
    pub fn resized(t: &Arc<Type>, lb: i64, extent: i64, large: bool) -> Result<Arc<Type>> {
        let ub = lb.checked_add(extent).ok_or_else(|| overflow("resized"))?;
        let contents = Contents::new(
            Combiner::Resized,
            vec![],
            vec![lb, extent],
            vec![t.clone()],
            large,
        );
        let mut r = Self::derive(contents, vec![one(0, 0)], false)?;
        let r_mut = Arc::get_mut(&mut r).expect("new type");
        r_mut.lb = lb;
        r_mut.ub = ub;
        Ok(r)
    }

    /// Builds a derived type from its placements: size, bounds, alignment, element count.
    fn derive(contents: Contents, placements: Vec<Placement>, pad: bool) -> Result<Arc<Type>> {
        let parts = contents.types.clone();
        Self::derive_from(contents, parts, placements, pad)
    }

    /// A type whose contents report `contents` and whose type map is `built`'s, with bounds
    /// `lb`..`ub` (subarray, darray, the Fortran 90 types).
    fn reported_as(contents: Contents, built: Arc<Type>, lb: i64, ub: i64) -> Result<Arc<Type>> {
        let mut t = Self::derive_from(contents, vec![built], vec![one(0, 0)], false)?;
        let t_mut = Arc::get_mut(&mut t).expect("new type");
        t_mut.lb = lb;
        t_mut.ub = ub;
        Ok(t)
    }

    fn derive_from(
        contents: Contents,
        parts: Vec<Arc<Type>>,
        placements: Vec<Placement>,
        pad: bool,
    ) -> Result<Arc<Type>> {
        let mut size = 0u64;
        let mut elements = 0u64;
        let mut align = 1u64;
        let mut bounds: Option<(i64, i64)> = None;
        let mut true_bounds: Option<(i64, i64)> = None;
        for p in &placements {
            let t = &parts[p.input];
            align = align.max(t.align);
            if p.k == 0 {
                continue;
            }
            size =
                p.k.checked_mul(t.size)
                    .and_then(|s| s.checked_add(size))
                    .ok_or_else(|| overflow("size"))?;
            elements = elements.saturating_add(p.k.saturating_mul(t.elements));
            let last = i64::try_from(p.k - 1)
                .ok()
                .and_then(|j| j.checked_mul(t.extent()))
                .and_then(|o| o.checked_add(p.disp))
                .ok_or_else(|| overflow("displacement"))?;
            let widen = |b: &mut Option<(i64, i64)>, lo: i64, hi: i64| -> Result<()> {
                let ends = [
                    p.disp.checked_add(lo),
                    p.disp.checked_add(hi),
                    last.checked_add(lo),
                    last.checked_add(hi),
                ];
                let [a, b2, c, d] = ends.map(|e| e.ok_or_else(|| overflow("bounds")));
                let (a, b2, c, d) = (a?, b2?, c?, d?);
                let (l, u) = (a.min(c), b2.max(d));
                *b = Some(b.map_or((l, u), |(x, y)| (x.min(l), y.max(u))));
                Ok(())
            };
            widen(&mut bounds, t.lb, t.ub)?;
            if t.size > 0 {
                widen(&mut true_bounds, t.true_lb, t.true_ub)?;
            }
        }
        let (lb, mut ub) = bounds.unwrap_or((0, 0));
        let (true_lb, true_ub) = true_bounds.unwrap_or((0, 0));
        if pad {
            let ext = (ub - lb) as u64;
            let rem = ext % align;
            if rem != 0 {
                ub += (align - rem) as i64;
            }
        }
        ub.checked_sub(lb).ok_or_else(|| overflow("extent"))?;
        Ok(Arc::new(Type {
            origin: Origin::Derived {
                contents,
                parts,
                placements,
            },
            size,
            lb,
            ub,
            true_lb,
            true_ub,
            align,
            elements,
            flat: OnceLock::new(),
            committed: AtomicBool::new(false),
        }))
    }
}

fn one(input: usize, disp: i64) -> Placement {
    Placement { input, disp, k: 1 }
}

fn same_len(a: &[i64], b: &[i64]) -> Result<usize> {
    if a.len() != b.len() {
        return Err(Error::new(
            Class::Arg,
            "as many block lengths as displacements needed",
        ));
    }
    Ok(a.len())
}

fn scaled(displacements: &[i64], extent: i64) -> Result<Vec<i64>> {
    displacements
        .iter()
        .map(|&d| {
            d.checked_mul(extent)
                .ok_or_else(|| overflow("displacement"))
        })
        .collect()
}

impl Contents {
    /// The contents of a constructor call; `large` (a `_c` constructor) moves the integer and
    /// address arguments into `counts`, as the standard's large-count envelope has them.
    fn new(
        combiner: Combiner,
        ints: Vec<i64>,
        aints: Vec<i64>,
        types: Vec<Arc<Type>>,
        large: bool,
    ) -> Self {
        if large {
            let mut counts = ints;
            counts.extend(aints);
            Contents {
                combiner,
                ints: vec![],
                aints: vec![],
                counts,
                types,
            }
        } else {
            Contents {
                combiner,
                ints,
                aints,
                counts: vec![],
                types,
            }
        }
    }
}

#[cfg(test)]
mod tests;
