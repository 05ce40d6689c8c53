//! The constructors built from others: subarray and darray (distributed array) types, whose
//! type map is a nest of hvector/hindexed types and whose bounds are those of the whole array,
//! and the Fortran 90 parameterized types (a predefined type reported with its `p`, `r`).

use super::{Combiner, Contents, Named, Type};
use crate::engine::{Class, Error, Result};
use std::sync::Arc;

/// How one dimension of a distributed array is spread over the process grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distrib {
    /// Not distributed (the grid's size in this dimension must be 1).
    None,
    /// Blocks of `darg` elements (default: the dimension's size over the grid's, rounded up).
    Block,
    /// Round-robin blocks of `darg` elements (default 1).
    Cyclic,
}

/// One dimension of a distributed array.
#[derive(Debug, Clone, Copy)]
pub struct Dim {
    pub gsize: i64,
    pub distrib: Distrib,
    /// None: `MPI_DISTRIBUTE_DFLT_DARG`.
    pub darg: Option<i64>,
    pub psize: i64,
}

fn arg(msg: String) -> Error {
    Error::new(Class::Arg, msg)
}

fn mul(a: i64, b: i64) -> Result<i64> {
    a.checked_mul(b).ok_or_else(|| {
        Error::new(
            Class::Count,
            "the array's size in bytes overflows 64 bits".to_string(),
        )
    })
}

/// Byte strides of the dimensions (outermost first) of an array of `sizes` elements of
/// extent `ext`.
fn strides(sizes: &[i64], ext: i64) -> Result<Vec<i64>> {
    let mut s = vec![ext; sizes.len()];
    for i in (0..sizes.len().saturating_sub(1)).rev() {
        s[i] = mul(s[i + 1], sizes[i + 1])?;
    }
    Ok(s)
}

/// In C order (outermost dimension first): the dimensions as given, or reversed for Fortran.
fn c_ordered<T: Clone>(v: &[T], c_order: bool) -> Vec<T> {
    let mut v = v.to_vec();
    if !c_order {
        v.reverse();
    }
    v
}

impl Contents {
    /// Contents reported as given (integers, large counts), for constructors whose large-count
    /// form keeps some arguments as integers.
    pub fn reported(
        combiner: Combiner,
        ints: Vec<i64>,
        counts: Vec<i64>,
        types: Vec<Arc<Type>>,
    ) -> Contents {
        Contents {
            combiner,
            ints,
            aints: vec![],
            counts,
            types,
        }
    }
}

impl Type {
    /// `MPI_Type_create_subarray`: the `subsizes` block at `starts` of an array of `sizes`
    /// elements of `old` (C order: last dimension fastest); extent the whole array's, lower
    /// bound 0. `contents` is what `MPI_Type_get_contents` reports.
    pub fn subarray(
        sizes: &[i64],
        subsizes: &[i64],
        starts: &[i64],
        c_order: bool,
        old: &Arc<Type>,
        contents: Contents,
    ) -> Result<Arc<Type>> {
        let n = sizes.len();
        if n == 0 || subsizes.len() != n || starts.len() != n {
            return Err(arg(format!(
                "subarray: ndims must be positive with one size, subsize and start per dimension (ndims {n})"
            )));
        }
        for i in 0..n {
            let (s, b, st) = (sizes[i], subsizes[i], starts[i]);
            if s < 1 || b < 1 || b > s || st < 0 || st > s - b {
                return Err(arg(format!(
                    "subarray dimension {i}: size {s}, subsize {b}, start {st} (need size >= 1, \
                     1 <= subsize <= size, 0 <= start <= size - subsize)"
                )));
            }
        }
        let (sizes, subsizes, starts) = (
            c_ordered(sizes, c_order),
            c_ordered(subsizes, c_order),
            c_ordered(starts, c_order),
        );
        let ext = old.extent();
        let stride = strides(&sizes, ext)?;
        let mut t = Type::contiguous(subsizes[n - 1], old, false)?;
        for i in (0..n - 1).rev() {
            t = Type::hvector(subsizes[i], 1, stride[i], &t, false)?;
        }
        let mut disp = 0i64;
        for i in 0..n {
            disp = disp
                .checked_add(mul(starts[i], stride[i])?)
                .ok_or_else(|| arg("subarray: displacement overflows".into()))?;
        }
        let t = Type::hindexed(&[1], &[disp], &t, false)?;
        let whole = mul(stride[0], sizes[0])?;
        Type::reported_as(contents, t, 0, whole)
    }

    /// `MPI_Type_create_darray`: the part of a `dims` array of `old` that process `rank` of a
    /// row-major grid of `size` processes holds; extent the whole array's, lower bound 0.
    pub fn darray(
        size: i64,
        rank: i64,
        dims: &[Dim],
        c_order: bool,
        old: &Arc<Type>,
        contents: Contents,
    ) -> Result<Arc<Type>> {
        let n = dims.len();
        if n == 0 {
            return Err(arg("darray: ndims must be positive".into()));
        }
        if size < 1 || rank < 0 || rank >= size {
            return Err(arg(format!("darray: rank {rank} of {size} processes")));
        }
        let mut procs = 1i64;
        for (i, d) in dims.iter().enumerate() {
            if d.gsize < 1 || d.psize < 1 {
                return Err(arg(format!(
                    "darray dimension {i}: size {} over {} processes (both must be positive)",
                    d.gsize, d.psize
                )));
            }
            if d.distrib == Distrib::None && d.psize != 1 {
                return Err(arg(format!(
                    "darray dimension {i}: MPI_DISTRIBUTE_NONE needs 1 process in the dimension, not {}",
                    d.psize
                )));
            }
            if let Some(k) = d.darg {
                if k < 1 {
                    return Err(arg(format!(
                        "darray dimension {i}: darg {k} is not positive"
                    )));
                }
                if d.distrib == Distrib::Block && mul(k, d.psize)? < d.gsize {
                    return Err(arg(format!(
                        "darray dimension {i}: blocks of {k} on {} processes do not cover {} elements",
                        d.psize, d.gsize
                    )));
                }
            }
            procs = mul(procs, d.psize)?;
        }
        if procs != size {
            return Err(arg(format!(
                "darray: the process grid has {procs} processes, not size = {size}"
            )));
        }
        // The grid is row-major whatever the array's order.
        let mut coords = vec![0i64; n];
        let mut r = rank;
        for i in (0..n).rev() {
            coords[i] = r % dims[i].psize;
            r /= dims[i].psize;
        }
        // Each dimension's runs of owned global indices (start, length), in increasing order.
        let runs: Vec<Vec<(i64, i64)>> = dims
            .iter()
            .zip(&coords)
            .map(|(d, &c)| match d.distrib {
                Distrib::None => vec![(0, d.gsize)],
                Distrib::Block => {
                    let b = d.darg.unwrap_or((d.gsize + d.psize - 1) / d.psize);
                    let start = c * b;
                    if start >= d.gsize {
                        vec![]
                    } else {
                        vec![(start, b.min(d.gsize - start))]
                    }
                }
                Distrib::Cyclic => {
                    let k = d.darg.unwrap_or(1);
                    let step = k * d.psize;
                    let mut v = vec![];
                    let mut s = c * k;
                    while s < d.gsize {
                        v.push((s, k.min(d.gsize - s)));
                        s += step;
                    }
                    v
                }
            })
            .collect();
        let gsizes: Vec<i64> = dims.iter().map(|d| d.gsize).collect();
        let (gsizes, runs) = (c_ordered(&gsizes, c_order), c_ordered(&runs, c_order));
        let ext = old.extent();
        let stride = strides(&gsizes, ext)?;
        let mut t = old.clone();
        for i in (0..n).rev() {
            if i < n - 1 {
                t = Type::resized(&t, 0, stride[i], false)?;
            }
            let lens: Vec<i64> = runs[i].iter().map(|r| r.1).collect();
            let disps = runs[i]
                .iter()
                .map(|r| mul(r.0, stride[i]))
                .collect::<Result<Vec<_>>>()?;
            t = Type::hindexed(&lens, &disps, &t, false)?;
        }
        let whole = mul(stride[0], gsizes[0])?;
        Type::reported_as(contents, t, 0, whole)
    }

    /// A Fortran 90 parameterized type (`MPI_Type_create_f90_*`): the predefined type `n`,
    /// reported with `combiner` and `ints` (`p`, `r` or `r`); committed, never freed.
    pub fn f90(combiner: Combiner, ints: Vec<i64>, n: Named) -> Result<Arc<Type>> {
        let base = Type::named(n);
        let ub = base.extent();
        let t = Type::reported_as(
            Contents::reported(combiner, ints, vec![], vec![]),
            base,
            0,
            ub,
        )?;
        t.commit();
        Ok(t)
    }
}

/// The predefined type a Fortran 90 `SELECTED_REAL_KIND(p, r)` gives (None: none is precise
/// enough). `None` arguments are `MPI_UNDEFINED` (any).
pub fn f90_real(p: Option<i64>, r: Option<i64>) -> Option<Named> {
    let (p, r) = (p.unwrap_or(0), r.unwrap_or(0));
    [
        (3, 4, Named::Real2),
        (6, 37, Named::Real4),
        (15, 307, Named::Real8),
        (33, 4931, Named::Real16),
    ]
    .iter()
    .find(|&&(mp, mr, _)| p <= mp && r <= mr)
    .map(|x| x.2)
}

/// The complex type of the real kind [`f90_real`] picks.
pub fn f90_complex(p: Option<i64>, r: Option<i64>) -> Option<Named> {
    f90_real(p, r).map(|n| match n {
        Named::Real2 => Named::Complex4,
        Named::Real4 => Named::Complex8,
        Named::Real8 => Named::Complex16,
        _ => Named::Complex32,
    })
}

/// The integer type of `SELECTED_INT_KIND(r)`: decimal range 10^r.
pub fn f90_integer(r: Option<i64>) -> Option<Named> {
    let r = r.unwrap_or(0);
    [
        (2, Named::Integer1),
        (4, Named::Integer2),
        (9, Named::Integer4),
        (18, Named::Integer8),
        (38, Named::Integer16),
    ]
    .iter()
    .find(|&&(mr, _)| r <= mr)
    .map(|x| x.1)
}
