//! Datatypes: constructors (and their `_c` large-count forms), dup, commit, free, pack/unpack,
//! addresses, handle conversion, and the MPI-1 names removed in MPI-3.0 (`MPI_Type_lb`, ...)
//! that MPICH's library still exports. The type maps are `crate::types`; the queries (size,
//! extents, envelope, contents, names) are in `typequery`, subarray/darray/Fortran 90 types in
//! `typearray`, external32 in `external`, attributes in `typeattr`.

use crate::cabi;
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::attr::{self, Kind};
use crate::objects::datatype::{self as dt, DATATYPES};
use crate::types::Type;
use std::ffi::{c_int, c_void};
use std::sync::Arc;

pub(crate) fn ints<T: Copy + Into<i64>>(
    p: *const T,
    n: usize,
    what: &str,
) -> Result<Vec<i64>, MpiError> {
    // SAFETY: the caller passes an array of `n` elements (the MPI contract).
    Ok(unsafe { cabi::slice(p, n, what)? }
        .iter()
        .map(|&v| v.into())
        .collect())
}

pub(crate) fn ncount<T: Copy + Into<i64>>(n: T, what: &str) -> Result<usize, MpiError> {
    let n: i64 = n.into();
    usize::try_from(n)
        .map_err(|_| MpiError::new(MPI_ERR_COUNT, format!("{what} = {n} is negative")))
}

pub(crate) fn new_type(
    t: crate::engine::Result<Arc<Type>>,
    out: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let h = dt::register(t?);
    // SAFETY: `out` is the caller's out-parameter.
    unsafe { cabi::out(out, h, "newtype") }.inspect_err(|_| {
        DATATYPES.remove(h.0);
    })
}

pub fn type_contiguous(
    count: c_int,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    new_type(
        Type::contiguous(count.into(), &dt::get(oldtype)?, false),
        newtype,
    )
}
pub fn type_contiguous_c(
    count: MPI_Count,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    new_type(Type::contiguous(count, &dt::get(oldtype)?, true), newtype)
}
pub fn type_vector(
    count: c_int,
    bl: c_int,
    stride: c_int,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    new_type(
        Type::vector(
            count.into(),
            bl.into(),
            stride.into(),
            &dt::get(oldtype)?,
            false,
        ),
        newtype,
    )
}
pub fn type_vector_c(
    count: MPI_Count,
    bl: MPI_Count,
    stride: MPI_Count,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    new_type(
        Type::vector(count, bl, stride, &dt::get(oldtype)?, true),
        newtype,
    )
}
pub fn type_create_hvector(
    count: c_int,
    bl: c_int,
    stride: MPI_Aint,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    new_type(
        Type::hvector(
            count.into(),
            bl.into(),
            stride as i64,
            &dt::get(oldtype)?,
            false,
        ),
        newtype,
    )
}
pub fn type_create_hvector_c(
    count: MPI_Count,
    bl: MPI_Count,
    stride: MPI_Count,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    new_type(
        Type::hvector(count, bl, stride, &dt::get(oldtype)?, true),
        newtype,
    )
}

pub unsafe fn type_indexed(
    count: c_int,
    bls: *const c_int,
    disps: *const c_int,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ncount(count, "count")?;
    let (b, d) = (
        ints(bls, n, "array_of_blocklengths")?,
        ints(disps, n, "array_of_displacements")?,
    );
    new_type(Type::indexed(&b, &d, &dt::get(oldtype)?, false), newtype)
}
pub unsafe fn type_indexed_c(
    count: MPI_Count,
    bls: *const MPI_Count,
    disps: *const MPI_Count,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ncount(count, "count")?;
    let (b, d) = (
        ints(bls, n, "array_of_blocklengths")?,
        ints(disps, n, "array_of_displacements")?,
    );
    new_type(Type::indexed(&b, &d, &dt::get(oldtype)?, true), newtype)
}
pub unsafe fn type_create_hindexed(
    count: c_int,
    bls: *const c_int,
    disps: *const MPI_Aint,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ncount(count, "count")?;
    let b = ints(bls, n, "array_of_blocklengths")?;
    let d: Vec<i64> = cabi::slice(disps, n, "array_of_displacements")?
        .iter()
        .map(|&v| v as i64)
        .collect();
    new_type(Type::hindexed(&b, &d, &dt::get(oldtype)?, false), newtype)
}
pub unsafe fn type_create_hindexed_c(
    count: MPI_Count,
    bls: *const MPI_Count,
    disps: *const MPI_Count,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ncount(count, "count")?;
    let (b, d) = (
        ints(bls, n, "array_of_blocklengths")?,
        ints(disps, n, "array_of_displacements")?,
    );
    new_type(Type::hindexed(&b, &d, &dt::get(oldtype)?, true), newtype)
}
pub unsafe fn type_create_indexed_block(
    count: c_int,
    bl: c_int,
    disps: *const c_int,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let d = ints(disps, ncount(count, "count")?, "array_of_displacements")?;
    new_type(
        Type::indexed_block(bl.into(), &d, &dt::get(oldtype)?, false),
        newtype,
    )
}
pub unsafe fn type_create_indexed_block_c(
    count: MPI_Count,
    bl: MPI_Count,
    disps: *const MPI_Count,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let d = ints(disps, ncount(count, "count")?, "array_of_displacements")?;
    new_type(
        Type::indexed_block(bl, &d, &dt::get(oldtype)?, true),
        newtype,
    )
}
pub unsafe fn type_create_hindexed_block(
    count: c_int,
    bl: c_int,
    disps: *const MPI_Aint,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ncount(count, "count")?;
    let d: Vec<i64> = cabi::slice(disps, n, "array_of_displacements")?
        .iter()
        .map(|&v| v as i64)
        .collect();
    new_type(
        Type::hindexed_block(bl.into(), &d, &dt::get(oldtype)?, false),
        newtype,
    )
}
pub unsafe fn type_create_hindexed_block_c(
    count: MPI_Count,
    bl: MPI_Count,
    disps: *const MPI_Count,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let d = ints(disps, ncount(count, "count")?, "array_of_displacements")?;
    new_type(
        Type::hindexed_block(bl, &d, &dt::get(oldtype)?, true),
        newtype,
    )
}

fn types_of(p: *const MPI_Datatype, n: usize) -> Result<Vec<Arc<Type>>, MpiError> {
    // SAFETY: an array of `n` handles (the MPI contract).
    unsafe { cabi::slice(p, n, "array_of_types")? }
        .iter()
        .map(|&h| dt::get(h))
        .collect()
}

pub unsafe fn type_create_struct(
    count: c_int,
    bls: *const c_int,
    disps: *const MPI_Aint,
    types: *const MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ncount(count, "count")?;
    let b = ints(bls, n, "array_of_blocklengths")?;
    let d: Vec<i64> = cabi::slice(disps, n, "array_of_displacements")?
        .iter()
        .map(|&v| v as i64)
        .collect();
    new_type(
        Type::create_struct(&b, &d, &types_of(types, n)?, false),
        newtype,
    )
}
pub unsafe fn type_create_struct_c(
    count: MPI_Count,
    bls: *const MPI_Count,
    disps: *const MPI_Count,
    types: *const MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    let n = ncount(count, "count")?;
    let (b, d) = (
        ints(bls, n, "array_of_blocklengths")?,
        ints(disps, n, "array_of_displacements")?,
    );
    new_type(
        Type::create_struct(&b, &d, &types_of(types, n)?, true),
        newtype,
    )
}

pub fn type_create_resized(
    oldtype: MPI_Datatype,
    lb: MPI_Aint,
    extent: MPI_Aint,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    new_type(
        Type::resized(&dt::get(oldtype)?, lb as i64, extent as i64, false),
        newtype,
    )
}
pub fn type_create_resized_c(
    oldtype: MPI_Datatype,
    lb: MPI_Count,
    extent: MPI_Count,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    new_type(Type::resized(&dt::get(oldtype)?, lb, extent, true), newtype)
}
pub unsafe fn type_dup(oldtype: MPI_Datatype, newtype: *mut MPI_Datatype) -> Result<(), MpiError> {
    let old = dt::object(oldtype)?;
    let h = dt::register(Type::dup(&old.t)?);
    let new = dt::object(h)?;
    // The attributes go to the duplicate as their keyvals' copy callbacks decide.
    let copied = attr::copy_all_in(Kind::Type, oldtype.0, &old.attrs, h.0, &new.attrs);
    match copied.and_then(|()| cabi::out(newtype, h, "newtype")) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = attr::delete_all_in(Kind::Type, h.0, &new.attrs);
            DATATYPES.remove(h.0);
            Err(e)
        }
    }
}

pub unsafe fn type_commit(datatype: *mut MPI_Datatype) -> Result<(), MpiError> {
    dt::get(cabi::read(datatype, "datatype")?)?.commit();
    Ok(())
}

pub unsafe fn type_free(datatype: *mut MPI_Datatype) -> Result<(), MpiError> {
    let h = cabi::read(datatype, "datatype")?;
    if dt::is_predefined(h) {
        return Err(MpiError::new(
            MPI_ERR_TYPE,
            "a predefined datatype (or a Fortran 90 parameterized one) cannot be freed",
        ));
    }
    let o = dt::object(h)?;
    // The attributes' delete callbacks run first; an error keeps the datatype.
    attr::delete_all_in(Kind::Type, h.0, &o.attrs)?;
    DATATYPES.remove(h.0);
    cabi::out(datatype, MPI_DATATYPE_NULL, "datatype")
}

pub(super) fn to_int(v: i64, what: &str) -> Result<c_int, MpiError> {
    c_int::try_from(v).map_err(|_| {
        MpiError::new(
            MPI_ERR_VALUE_TOO_LARGE,
            format!("{what} {v} does not fit in an int (use the _c form)"),
        )
    })
}

/// Packs `count` elements at `inbuf` into `outbuf[*position..outsize]`, advancing `*position`.
unsafe fn pack_at(
    inbuf: *const c_void,
    count: u64,
    datatype: MPI_Datatype,
    outbuf: *mut c_void,
    outsize: i64,
    position: &mut i64,
) -> Result<(), MpiError> {
    let t = dt::committed(datatype)?;
    let n = t.bytes(count)? as i64;
    let (pos, size) = (*position, outsize);
    if pos < 0 || size < 0 || pos > size || n > size - pos {
        return Err(MpiError::new(
            MPI_ERR_TRUNCATE,
            format!(
                "packing {n} bytes at position {pos} overflows the output buffer of {size} bytes"
            ),
        ));
    }
    let out = cabi::slice_mut(
        outbuf.cast::<u8>().wrapping_add(pos as usize),
        n as usize,
        "outbuf",
    )?;
    t.pack(inbuf.cast(), count, out)?;
    *position = pos + n;
    Ok(())
}

unsafe fn unpack_at(
    inbuf: *const c_void,
    insize: i64,
    position: &mut i64,
    outbuf: *mut c_void,
    count: u64,
    datatype: MPI_Datatype,
) -> Result<(), MpiError> {
    let t = dt::committed(datatype)?;
    let n = t.bytes(count)? as i64;
    let pos = *position;
    if pos < 0 || insize < 0 || pos > insize || n > insize - pos {
        return Err(MpiError::new(
            MPI_ERR_TRUNCATE,
            format!("unpacking {n} bytes at position {pos} reads past the input of {insize} bytes"),
        ));
    }
    let data = cabi::slice(
        inbuf.cast::<u8>().wrapping_add(pos as usize),
        n as usize,
        "inbuf",
    )?;
    t.unpack(data, outbuf.cast(), count)?;
    *position = pos + n;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn pack(
    inbuf: *const c_void,
    incount: c_int,
    datatype: MPI_Datatype,
    outbuf: *mut c_void,
    outsize: c_int,
    position: *mut c_int,
    _comm: MPI_Comm,
) -> Result<(), MpiError> {
    let mut pos = cabi::read(position, "position")? as i64;
    pack_at(
        inbuf,
        ncount(incount, "incount")? as u64,
        datatype,
        outbuf,
        outsize.into(),
        &mut pos,
    )?;
    cabi::out(position, to_int(pos, "position")?, "position")
}
#[allow(clippy::too_many_arguments)]
pub unsafe fn pack_c(
    inbuf: *const c_void,
    incount: MPI_Count,
    datatype: MPI_Datatype,
    outbuf: *mut c_void,
    outsize: MPI_Count,
    position: *mut MPI_Count,
    _comm: MPI_Comm,
) -> Result<(), MpiError> {
    let mut pos = cabi::read(position, "position")?;
    pack_at(
        inbuf,
        ncount(incount, "incount")? as u64,
        datatype,
        outbuf,
        outsize,
        &mut pos,
    )?;
    cabi::out(position, pos, "position")
}
#[allow(clippy::too_many_arguments)]
pub unsafe fn unpack(
    inbuf: *const c_void,
    insize: c_int,
    position: *mut c_int,
    outbuf: *mut c_void,
    outcount: c_int,
    datatype: MPI_Datatype,
    _comm: MPI_Comm,
) -> Result<(), MpiError> {
    let mut pos = cabi::read(position, "position")? as i64;
    unpack_at(
        inbuf,
        insize.into(),
        &mut pos,
        outbuf,
        ncount(outcount, "outcount")? as u64,
        datatype,
    )?;
    cabi::out(position, to_int(pos, "position")?, "position")
}
#[allow(clippy::too_many_arguments)]
pub unsafe fn unpack_c(
    inbuf: *const c_void,
    insize: MPI_Count,
    position: *mut MPI_Count,
    outbuf: *mut c_void,
    outcount: MPI_Count,
    datatype: MPI_Datatype,
    _comm: MPI_Comm,
) -> Result<(), MpiError> {
    let mut pos = cabi::read(position, "position")?;
    unpack_at(
        inbuf,
        insize,
        &mut pos,
        outbuf,
        ncount(outcount, "outcount")? as u64,
        datatype,
    )?;
    cabi::out(position, pos, "position")
}
pub unsafe fn pack_size(
    incount: c_int,
    datatype: MPI_Datatype,
    _comm: MPI_Comm,
    size: *mut c_int,
) -> Result<(), MpiError> {
    let n = dt::get(datatype)?.bytes(ncount(incount, "incount")? as u64)?;
    cabi::out(size, to_int(n as i64, "pack size")?, "size")
}
pub unsafe fn pack_size_c(
    incount: MPI_Count,
    datatype: MPI_Datatype,
    _comm: MPI_Comm,
    size: *mut MPI_Count,
) -> Result<(), MpiError> {
    let n = dt::get(datatype)?.bytes(ncount(incount, "incount")? as u64)?;
    cabi::out(size, n as MPI_Count, "size")
}

pub unsafe fn get_address(location: *const c_void, address: *mut MPI_Aint) -> Result<(), MpiError> {
    cabi::out(address, location as MPI_Aint, "address")
}
pub fn aint_add(base: MPI_Aint, disp: MPI_Aint) -> Result<MPI_Aint, MpiError> {
    Ok(base.wrapping_add(disp))
}
pub fn aint_diff(a: MPI_Aint, b: MPI_Aint) -> Result<MPI_Aint, MpiError> {
    Ok(a.wrapping_sub(b))
}

/// `MPI_Type_toint`: the handle's value as an int (handles of this library fit in one).
pub fn type_toint(datatype: MPI_Datatype) -> Result<c_int, MpiError> {
    c_int::try_from(datatype.0).map_err(|_| {
        MpiError::arg(format!(
            "the datatype handle {:#x} does not fit in an int",
            datatype.0
        ))
    })
}
/// `MPI_Type_fromint`: the handle of an int from `MPI_Type_toint`.
pub fn type_fromint(datatype: c_int) -> Result<MPI_Datatype, MpiError> {
    usize::try_from(datatype)
        .map(MPI_Datatype)
        .map_err(|_| MpiError::arg(format!("{datatype} is not a datatype handle (negative)")))
}

// MPI-1 names removed in MPI-3.0, exported as MPICH's library exports them.

pub unsafe fn address(location: *mut c_void, address: *mut MPI_Aint) -> Result<(), MpiError> {
    get_address(location, address)
}
pub unsafe fn type_extent(datatype: MPI_Datatype, extent: *mut MPI_Aint) -> Result<(), MpiError> {
    cabi::out(extent, dt::get(datatype)?.extent() as MPI_Aint, "extent")
}
pub unsafe fn type_lb(datatype: MPI_Datatype, lb: *mut MPI_Aint) -> Result<(), MpiError> {
    cabi::out(lb, dt::get(datatype)?.lb() as MPI_Aint, "displacement")
}
pub unsafe fn type_ub(datatype: MPI_Datatype, ub: *mut MPI_Aint) -> Result<(), MpiError> {
    cabi::out(ub, dt::get(datatype)?.ub() as MPI_Aint, "displacement")
}
pub fn type_hvector(
    count: c_int,
    bl: c_int,
    stride: MPI_Aint,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    type_create_hvector(count, bl, stride, oldtype, newtype)
}
pub unsafe fn type_hindexed(
    count: c_int,
    bls: *mut c_int,
    disps: *mut MPI_Aint,
    oldtype: MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    type_create_hindexed(count, bls, disps, oldtype, newtype)
}
pub unsafe fn type_struct(
    count: c_int,
    bls: *mut c_int,
    disps: *mut MPI_Aint,
    types: *mut MPI_Datatype,
    newtype: *mut MPI_Datatype,
) -> Result<(), MpiError> {
    type_create_struct(count, bls, disps, types, newtype)
}
