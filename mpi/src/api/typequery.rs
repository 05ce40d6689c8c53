//! Datatype queries: size, extent and true extent (with their `_c` and `_x` forms), envelope
//! and contents (how a type was made), and names.

use super::datatype::{ncount, to_int};
use crate::cabi;
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::datatype::{self as dt, DATATYPES};
use crate::types::{Combiner, Type};
use std::ffi::{c_char, c_int};
use std::sync::Arc;

pub unsafe fn type_size(datatype: MPI_Datatype, size: *mut c_int) -> Result<(), MpiError> {
    let t = dt::get(datatype)?;
    match c_int::try_from(t.size()) {
        Ok(s) => cabi::out(size, s, "size"),
        // MPI: MPI_UNDEFINED when the size does not fit.
        Err(_) => cabi::out(size, MPI_UNDEFINED, "size"),
    }
}
pub unsafe fn type_size_c(datatype: MPI_Datatype, size: *mut MPI_Count) -> Result<(), MpiError> {
    cabi::out(size, dt::get(datatype)?.size() as MPI_Count, "size")
}
pub unsafe fn type_size_x(datatype: MPI_Datatype, size: *mut MPI_Count) -> Result<(), MpiError> {
    type_size_c(datatype, size)
}

pub unsafe fn type_get_extent(
    datatype: MPI_Datatype,
    lb: *mut MPI_Aint,
    extent: *mut MPI_Aint,
) -> Result<(), MpiError> {
    let t = dt::get(datatype)?;
    cabi::out(lb, t.lb() as MPI_Aint, "lb")?;
    cabi::out(extent, t.extent() as MPI_Aint, "extent")
}
pub unsafe fn type_get_extent_c(
    datatype: MPI_Datatype,
    lb: *mut MPI_Count,
    extent: *mut MPI_Count,
) -> Result<(), MpiError> {
    let t = dt::get(datatype)?;
    cabi::out(lb, t.lb(), "lb")?;
    cabi::out(extent, t.extent(), "extent")
}
pub unsafe fn type_get_extent_x(
    datatype: MPI_Datatype,
    lb: *mut MPI_Count,
    extent: *mut MPI_Count,
) -> Result<(), MpiError> {
    type_get_extent_c(datatype, lb, extent)
}
pub unsafe fn type_get_true_extent(
    datatype: MPI_Datatype,
    lb: *mut MPI_Aint,
    extent: *mut MPI_Aint,
) -> Result<(), MpiError> {
    let t = dt::get(datatype)?;
    cabi::out(lb, t.true_lb() as MPI_Aint, "true_lb")?;
    cabi::out(extent, t.true_extent() as MPI_Aint, "true_extent")
}
pub unsafe fn type_get_true_extent_c(
    datatype: MPI_Datatype,
    lb: *mut MPI_Count,
    extent: *mut MPI_Count,
) -> Result<(), MpiError> {
    let t = dt::get(datatype)?;
    cabi::out(lb, t.true_lb(), "true_lb")?;
    cabi::out(extent, t.true_extent(), "true_extent")
}
pub unsafe fn type_get_true_extent_x(
    datatype: MPI_Datatype,
    lb: *mut MPI_Count,
    extent: *mut MPI_Count,
) -> Result<(), MpiError> {
    type_get_true_extent_c(datatype, lb, extent)
}

fn combiner_code(c: Option<Combiner>) -> c_int {
    match c {
        None => MPI_COMBINER_NAMED,
        Some(Combiner::Dup) => MPI_COMBINER_DUP,
        Some(Combiner::Contiguous) => MPI_COMBINER_CONTIGUOUS,
        Some(Combiner::Vector) => MPI_COMBINER_VECTOR,
        Some(Combiner::Hvector) => MPI_COMBINER_HVECTOR,
        Some(Combiner::Indexed) => MPI_COMBINER_INDEXED,
        Some(Combiner::Hindexed) => MPI_COMBINER_HINDEXED,
        Some(Combiner::IndexedBlock) => MPI_COMBINER_INDEXED_BLOCK,
        Some(Combiner::HindexedBlock) => MPI_COMBINER_HINDEXED_BLOCK,
        Some(Combiner::Struct) => MPI_COMBINER_STRUCT,
        Some(Combiner::Resized) => MPI_COMBINER_RESIZED,
        Some(Combiner::Subarray) => MPI_COMBINER_SUBARRAY,
        Some(Combiner::Darray) => MPI_COMBINER_DARRAY,
        Some(Combiner::F90Real) => MPI_COMBINER_F90_REAL,
        Some(Combiner::F90Complex) => MPI_COMBINER_F90_COMPLEX,
        Some(Combiner::F90Integer) => MPI_COMBINER_F90_INTEGER,
    }
}

/// (integers, addresses, large counts, datatypes, combiner) of `h`.
fn envelope(h: MPI_Datatype) -> Result<(usize, usize, usize, usize, c_int), MpiError> {
    let t = dt::get(h)?;
    Ok(match t.contents() {
        None => (0, 0, 0, 0, MPI_COMBINER_NAMED),
        Some(c) => (
            c.ints.len(),
            c.aints.len(),
            c.counts.len(),
            c.types.len(),
            combiner_code(Some(c.combiner)),
        ),
    })
}

pub unsafe fn type_get_envelope(
    datatype: MPI_Datatype,
    ni: *mut c_int,
    na: *mut c_int,
    nd: *mut c_int,
    combiner: *mut c_int,
) -> Result<(), MpiError> {
    let (i, a, c, d, k) = envelope(datatype)?;
    if c > 0 {
        return Err(MpiError::new(
            MPI_ERR_TYPE,
            "the datatype was built by a large-count constructor: use MPI_Type_get_envelope_c",
        ));
    }
    cabi::out(ni, i as c_int, "num_integers")?;
    cabi::out(na, a as c_int, "num_addresses")?;
    cabi::out(nd, d as c_int, "num_datatypes")?;
    cabi::out(combiner, k, "combiner")
}
pub unsafe fn type_get_envelope_c(
    datatype: MPI_Datatype,
    ni: *mut MPI_Count,
    na: *mut MPI_Count,
    nc: *mut MPI_Count,
    nd: *mut MPI_Count,
    combiner: *mut c_int,
) -> Result<(), MpiError> {
    let (i, a, c, d, k) = envelope(datatype)?;
    cabi::out(ni, i as MPI_Count, "num_integers")?;
    cabi::out(na, a as MPI_Count, "num_addresses")?;
    cabi::out(nc, c as MPI_Count, "num_large_counts")?;
    cabi::out(nd, d as MPI_Count, "num_datatypes")?;
    cabi::out(combiner, k, "combiner")
}

/// Handles for the input types of a contents query: predefined ones as themselves, derived
/// ones as new handles the caller frees (MPI-4.0 §5.1.13).
fn content_types(types: &[Arc<Type>]) -> Vec<MPI_Datatype> {
    types
        .iter()
        .map(|t| match t.as_named() {
            Some(n) => dt::handle_of(n),
            None => dt::register(t.clone()),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
unsafe fn contents(
    datatype: MPI_Datatype,
    max: [usize; 4],
    ints_out: *mut c_int,
    aints_out: *mut MPI_Aint,
    counts_out: *mut MPI_Count,
    types_out: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let t = dt::get(datatype)?;
    let c = t.contents().ok_or_else(|| {
        MpiError::new(
            MPI_ERR_TYPE,
            "a predefined datatype has no contents (MPI_COMBINER_NAMED)",
        )
    })?;
    let have = [c.ints.len(), c.aints.len(), c.counts.len(), c.types.len()];
    for (k, what) in ["integers", "addresses", "large counts", "datatypes"]
        .iter()
        .enumerate()
    {
        if have[k] > max[k] {
            return Err(MpiError::arg(format!(
                "max_{what} is {} but the datatype has {} {what}",
                max[k], have[k]
            )));
        }
    }
    for (dst, v) in cabi::slice_mut(ints_out, have[0], "array_of_integers")?
        .iter_mut()
        .zip(&c.ints)
    {
        *dst = to_int(*v, "integer argument")?;
    }
    for (dst, v) in cabi::slice_mut(aints_out, have[1], "array_of_addresses")?
        .iter_mut()
        .zip(&c.aints)
    {
        *dst = *v as MPI_Aint;
    }
    if have[2] > 0 {
        cabi::slice_mut(counts_out, have[2], "array_of_large_counts")?.copy_from_slice(&c.counts);
    }
    let hs = content_types(&c.types);
    match cabi::slice_mut(types_out, have[3], "array_of_datatypes") {
        Ok(dst) => {
            dst.copy_from_slice(&hs);
            Ok(())
        }
        Err(e) => {
            for h in hs {
                if !dt::is_predefined(h) {
                    DATATYPES.remove(h.0);
                }
            }
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn type_get_contents(
    datatype: MPI_Datatype,
    mi: c_int,
    ma: c_int,
    md: c_int,
    ints_out: *mut c_int,
    aints_out: *mut MPI_Aint,
    types_out: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let max = [
        ncount(mi, "max_integers")?,
        ncount(ma, "max_addresses")?,
        0,
        ncount(md, "max_datatypes")?,
    ];
    contents(
        datatype,
        max,
        ints_out,
        aints_out,
        std::ptr::null_mut(),
        types_out,
    )
}
#[allow(clippy::too_many_arguments)]
pub unsafe fn type_get_contents_c(
    datatype: MPI_Datatype,
    mi: MPI_Count,
    ma: MPI_Count,
    mc: MPI_Count,
    md: MPI_Count,
    ints_out: *mut c_int,
    aints_out: *mut MPI_Aint,
    counts_out: *mut MPI_Count,
    types_out: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let max = [
        ncount(mi, "max_integers")?,
        ncount(ma, "max_addresses")?,
        ncount(mc, "max_large_counts")?,
        ncount(md, "max_datatypes")?,
    ];
    contents(datatype, max, ints_out, aints_out, counts_out, types_out)
}

pub unsafe fn type_set_name(datatype: MPI_Datatype, name: *const c_char) -> Result<(), MpiError> {
    let o = dt::object(datatype)?;
    let s = cabi::string(name, MPI_MAX_OBJECT_NAME as usize - 1, "type_name")?;
    *o.name.lock() = s;
    Ok(())
}
pub unsafe fn type_get_name(
    datatype: MPI_Datatype,
    name: *mut c_char,
    len: *mut c_int,
) -> Result<(), MpiError> {
    // The null handle has a name too (as MPICH gives it; mpi4py checks it).
    let s = if datatype == MPI_DATATYPE_NULL {
        "MPI_DATATYPE_NULL".to_string()
    } else {
        dt::object(datatype)?.name.lock().clone()
    };
    cabi::write_string(name, MPI_MAX_OBJECT_NAME as usize, &s, len, "type_name")
}
