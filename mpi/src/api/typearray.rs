//! Datatypes for arrays and Fortran kinds: `MPI_Type_create_subarray`/`darray` (+`_c`), the
//! Fortran 90 parameterized types (`MPI_Type_create_f90_real/complex/integer`),
//! `MPI_Type_match_size` and `MPI_Type_get_value_index`.

use super::datatype::{ints, ncount, new_type};
use crate::cabi;
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::datatype as dt;
use crate::types::{self, Combiner, Contents, Dim, Distrib, Named, Type};
use std::ffi::c_int;

fn c_order(order: c_int) -> Result<bool, MpiError> {
    match order {
        MPI_ORDER_C => Ok(true),
        MPI_ORDER_FORTRAN => Ok(false),
        o => Err(MpiError::arg(format!(
            "order {o} is neither MPI_ORDER_C nor MPI_ORDER_FORTRAN"
        ))),
    }
}

fn ndims(n: c_int) -> Result<usize, MpiError> {
    let n = ncount(n, "ndims")?;
    if n == 0 {
        return Err(MpiError::arg("ndims must be positive"));
    }
    Ok(n)
}

/// Subarray from the arguments as 64-bit values; `large`: reported as `_c` arguments.
#[allow(clippy::too_many_arguments)]
fn subarray(
    n: usize,
    sizes: Vec<i64>,
    subsizes: Vec<i64>,
    starts: Vec<i64>,
    order: c_int,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
    large: bool,
) -> Result<(), MpiError> {
    let old = dt::get(oldtype)?;
    let c = c_order(order)?;
    let mut arrays = sizes.clone();
    arrays.extend(&subsizes);
    arrays.extend(&starts);
    let contents = if large {
        Contents::reported(
            Combiner::Subarray,
            vec![n as i64, order.into()],
            arrays,
            vec![old.clone()],
        )
    } else {
        let mut i = vec![n as i64];
        i.extend(arrays);
        i.push(order.into());
        Contents::reported(Combiner::Subarray, i, vec![], vec![old.clone()])
    };
    new_type(
        Type::subarray(&sizes, &subsizes, &starts, c, &old, contents),
        newtype,
    )
}

pub unsafe fn type_create_subarray(
    nd: c_int,
    sizes: *const c_int,
    subsizes: *const c_int,
    starts: *const c_int,
    order: c_int,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ndims(nd)?;
    subarray(
        n,
        ints(sizes, n, "array_of_sizes")?,
        ints(subsizes, n, "array_of_subsizes")?,
        ints(starts, n, "array_of_starts")?,
        order,
        oldtype,
        newtype,
        false,
    )
}
pub unsafe fn type_create_subarray_c(
    nd: c_int,
    sizes: *const MPI_Count,
    subsizes: *const MPI_Count,
    starts: *const MPI_Count,
    order: c_int,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ndims(nd)?;
    subarray(
        n,
        ints(sizes, n, "array_of_sizes")?,
        ints(subsizes, n, "array_of_subsizes")?,
        ints(starts, n, "array_of_starts")?,
        order,
        oldtype,
        newtype,
        true,
    )
}

#[allow(clippy::too_many_arguments)]
unsafe fn darray(
    size: c_int,
    rank: c_int,
    n: usize,
    gsizes: Vec<i64>,
    distribs: *const c_int,
    dargs: *const c_int,
    psizes: *const c_int,
    order: c_int,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
    large: bool,
) -> Result<(), MpiError> {
    let old = dt::get(oldtype)?;
    let c = c_order(order)?;
    let distribs = ints(distribs, n, "array_of_distribs")?;
    let dargs = ints(dargs, n, "array_of_dargs")?;
    let psizes = ints(psizes, n, "array_of_psizes")?;
    let dims = (0..n)
        .map(|i| {
            let distrib = match distribs[i] as c_int {
                MPI_DISTRIBUTE_NONE => Distrib::None,
                MPI_DISTRIBUTE_BLOCK => Distrib::Block,
                MPI_DISTRIBUTE_CYCLIC => Distrib::Cyclic,
                d => {
                    return Err(MpiError::arg(format!(
                        "array_of_distribs[{i}] = {d} is not an MPI_DISTRIBUTE_* value"
                    )))
                }
            };
            let darg = (dargs[i] != i64::from(MPI_DISTRIBUTE_DFLT_DARG)).then_some(dargs[i]);
            Ok(Dim {
                gsize: gsizes[i],
                distrib,
                darg,
                psize: psizes[i],
            })
        })
        .collect::<Result<Vec<_>, MpiError>>()?;
    let mut rest = distribs.clone();
    rest.extend(&dargs);
    rest.extend(&psizes);
    rest.push(order.into());
    let head = vec![size.into(), rank.into(), n as i64];
    let contents = if large {
        let mut i = head;
        i.extend(rest);
        Contents::reported(Combiner::Darray, i, gsizes.clone(), vec![old.clone()])
    } else {
        let mut i = head;
        i.extend(&gsizes);
        i.extend(rest);
        Contents::reported(Combiner::Darray, i, vec![], vec![old.clone()])
    };
    new_type(
        Type::darray(size.into(), rank.into(), &dims, c, &old, contents),
        newtype,
    )
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn type_create_darray(
    size: c_int,
    rank: c_int,
    nd: c_int,
    gsizes: *const c_int,
    distribs: *const c_int,
    dargs: *const c_int,
    psizes: *const c_int,
    order: c_int,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ndims(nd)?;
    let g = ints(gsizes, n, "array_of_gsizes")?;
    darray(
        size, rank, n, g, distribs, dargs, psizes, order, oldtype, newtype, false,
    )
}
#[allow(clippy::too_many_arguments)]
pub unsafe fn type_create_darray_c(
    size: c_int,
    rank: c_int,
    nd: c_int,
    gsizes: *const MPI_Count,
    distribs: *const c_int,
    dargs: *const c_int,
    psizes: *const c_int,
    order: c_int,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ndims(nd)?;
    let g = ints(gsizes, n, "array_of_gsizes")?;
    darray(
        size, rank, n, g, distribs, dargs, psizes, order, oldtype, newtype, true,
    )
}

/// `MPI_UNDEFINED` as "any".
fn any(v: c_int) -> Option<i64> {
    (v != MPI_UNDEFINED).then_some(v.into())
}

fn no_kind(what: &str) -> MpiError {
    MpiError::arg(format!("no Fortran kind has {what}"))
}

pub unsafe fn type_create_f90_real(
    p: c_int,
    r: c_int,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = types::f90_real(any(p), any(r))
        .ok_or_else(|| no_kind(&format!("precision {p} and range {r}")))?;
    let h = dt::f90((MPI_COMBINER_F90_REAL, p.into(), r.into()), || {
        Type::f90(Combiner::F90Real, vec![p.into(), r.into()], n)
    })?;
    cabi::out(newtype, h, "newtype")
}
pub unsafe fn type_create_f90_complex(
    p: c_int,
    r: c_int,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = types::f90_complex(any(p), any(r))
        .ok_or_else(|| no_kind(&format!("precision {p} and range {r}")))?;
    let h = dt::f90((MPI_COMBINER_F90_COMPLEX, p.into(), r.into()), || {
        Type::f90(Combiner::F90Complex, vec![p.into(), r.into()], n)
    })?;
    cabi::out(newtype, h, "newtype")
}
pub unsafe fn type_create_f90_integer(
    r: c_int,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = types::f90_integer(any(r)).ok_or_else(|| no_kind(&format!("range {r}")))?;
    let h = dt::f90((MPI_COMBINER_F90_INTEGER, 0, r.into()), || {
        Type::f90(Combiner::F90Integer, vec![r.into()], n)
    })?;
    cabi::out(newtype, h, "newtype")
}

/// `MPI_Type_match_size`: the predefined Fortran type of a class and a size in bytes.
pub unsafe fn type_match_size(
    typeclass: c_int,
    size: c_int,
    datatype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let table: &[(c_int, Named)] = match typeclass {
        MPI_TYPECLASS_INTEGER => &[
            (1, Named::Integer1),
            (2, Named::Integer2),
            (4, Named::Integer4),
            (8, Named::Integer8),
            (16, Named::Integer16),
        ],
        MPI_TYPECLASS_REAL => &[
            (2, Named::Real2),
            (4, Named::Real4),
            (8, Named::Real8),
            (16, Named::Real16),
        ],
        MPI_TYPECLASS_COMPLEX => &[
            (4, Named::Complex4),
            (8, Named::Complex8),
            (16, Named::Complex16),
            (32, Named::Complex32),
        ],
        MPIX_TYPECLASS_LOGICAL => &[
            (1, Named::Logical1),
            (2, Named::Logical2),
            (4, Named::Logical4),
            (8, Named::Logical8),
            (16, Named::Logical16),
        ],
        c => {
            return Err(MpiError::arg(format!(
                "typeclass {c} is not an MPI_TYPECLASS_* value"
            )))
        }
    };
    let n = table
        .iter()
        .find(|(s, _)| *s == size)
        .map(|x| x.1)
        .ok_or_else(|| {
            MpiError::arg(format!(
                "no predefined type of typeclass {typeclass} has {size} bytes"
            ))
        })?;
    cabi::out(datatype, dt::handle_of(n), "datatype")
}

/// `MPI_Type_get_value_index`: the predefined pair type of a value type with an `MPI_INT`
/// index (the pair types MAXLOC/MINLOC know), or `MPI_DATATYPE_NULL` when there is none.
pub unsafe fn type_get_value_index(
    value_type: MPI_Datatype,
    index_type: MPI_Datatype,
    pair_type: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let v = dt::get(value_type)?.as_named();
    let i = dt::get(index_type)?.as_named();
    let pair = match (v, i) {
        (Some(v), Some(Named::Int)) => match v {
            Named::Float => Some(Named::FloatInt),
            Named::Double => Some(Named::DoubleInt),
            Named::Long => Some(Named::LongInt),
            Named::Int => Some(Named::TwoInt),
            Named::Short => Some(Named::ShortInt),
            Named::LongDouble => Some(Named::LongDoubleInt),
            _ => None,
        },
        _ => None,
    };
    cabi::out(
        pair_type,
        pair.map_or(MPI_DATATYPE_NULL, dt::handle_of),
        "pair_type",
    )
}
