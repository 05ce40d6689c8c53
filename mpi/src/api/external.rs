//! The external32 representation: `MPI_Pack_external`, `MPI_Unpack_external`,
//! `MPI_Pack_external_size` (+`_c`). Data is packed natively (`crate::types` pack/unpack) and
//! converted value by value (sizes may differ: `long` is 4 bytes in external32).

use super::datatype::ncount;
use crate::cabi;
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::datatype as dt;
use std::ffi::{c_char, c_int, c_void};

unsafe fn datarep(p: *const c_char) -> Result<(), MpiError> {
    let s = cabi::string(p, 64, "datarep")?;
    if s == "external32" {
        Ok(())
    } else {
        Err(MpiError::arg(format!(
            "data representation \"{s}\": only \"external32\" is defined for packing"
        )))
    }
}

unsafe fn pack_ext(
    rep: *const c_char,
    inbuf: *const c_void,
    count: u64,
    datatype: MPI_Datatype,
    outbuf: *mut c_void,
    outsize: i64,
    position: &mut i64,
) -> Result<(), MpiError> {
    datarep(rep)?;
    let t = dt::committed(datatype)?;
    let n = t.external_bytes(count)? as i64;
    let pos = *position;
    if pos < 0 || outsize < 0 || pos > outsize || n > outsize - pos {
        return Err(MpiError::new(
            MPI_ERR_TRUNCATE,
            format!(
                "packing {n} bytes at position {pos} overflows the output buffer of {outsize} bytes"
            ),
        ));
    }
    let out = cabi::slice_mut(
        outbuf.cast::<u8>().wrapping_add(pos as usize),
        n as usize,
        "outbuf",
    )?;
    let mut native = vec![0u8; t.bytes(count)? as usize];
    t.pack(inbuf.cast(), count, &mut native)?;
    t.to_external(count, &native, out)?;
    *position = pos + n;
    Ok(())
}

unsafe fn unpack_ext(
    rep: *const c_char,
    inbuf: *const c_void,
    insize: i64,
    position: &mut i64,
    outbuf: *mut c_void,
    count: u64,
    datatype: MPI_Datatype,
) -> Result<(), MpiError> {
    datarep(rep)?;
    let t = dt::committed(datatype)?;
    let n = t.external_bytes(count)? as i64;
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
    let mut native = vec![0u8; t.bytes(count)? as usize];
    t.from_external(count, data, &mut native)?;
    t.unpack(&native, outbuf.cast(), count)?;
    *position = pos + n;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn pack_external(
    rep: *const c_char,
    inbuf: *const c_void,
    incount: c_int,
    datatype: MPI_Datatype,
    outbuf: *mut c_void,
    outsize: MPI_Aint,
    position: *mut MPI_Aint,
) -> Result<(), MpiError> {
    let mut pos = cabi::read(position, "position")? as i64;
    let n = ncount(incount, "incount")? as u64;
    pack_ext(rep, inbuf, n, datatype, outbuf, outsize as i64, &mut pos)?;
    cabi::out(position, pos as MPI_Aint, "position")
}
#[allow(clippy::too_many_arguments)]
pub unsafe fn pack_external_c(
    rep: *const c_char,
    inbuf: *const c_void,
    incount: MPI_Count,
    datatype: MPI_Datatype,
    outbuf: *mut c_void,
    outsize: MPI_Count,
    position: *mut MPI_Count,
) -> Result<(), MpiError> {
    let mut pos = cabi::read(position, "position")?;
    let n = ncount(incount, "incount")? as u64;
    pack_ext(rep, inbuf, n, datatype, outbuf, outsize, &mut pos)?;
    cabi::out(position, pos, "position")
}
#[allow(clippy::too_many_arguments)]
pub unsafe fn unpack_external(
    rep: *const c_char,
    inbuf: *const c_void,
    insize: MPI_Aint,
    position: *mut MPI_Aint,
    outbuf: *mut c_void,
    outcount: c_int,
    datatype: MPI_Datatype,
) -> Result<(), MpiError> {
    let mut pos = cabi::read(position, "position")? as i64;
    let n = ncount(outcount, "outcount")? as u64;
    unpack_ext(rep, inbuf, insize as i64, &mut pos, outbuf, n, datatype)?;
    cabi::out(position, pos as MPI_Aint, "position")
}
#[allow(clippy::too_many_arguments)]
pub unsafe fn unpack_external_c(
    rep: *const c_char,
    inbuf: *const c_void,
    insize: MPI_Count,
    position: *mut MPI_Count,
    outbuf: *mut c_void,
    outcount: MPI_Count,
    datatype: MPI_Datatype,
) -> Result<(), MpiError> {
    let mut pos = cabi::read(position, "position")?;
    let n = ncount(outcount, "outcount")? as u64;
    unpack_ext(rep, inbuf, insize, &mut pos, outbuf, n, datatype)?;
    cabi::out(position, pos, "position")
}
pub unsafe fn pack_external_size(
    rep: *const c_char,
    incount: c_int,
    datatype: MPI_Datatype,
    size: *mut MPI_Aint,
) -> Result<(), MpiError> {
    datarep(rep)?;
    let n = dt::get(datatype)?.external_bytes(ncount(incount, "incount")? as u64)?;
    cabi::out(size, n as MPI_Aint, "size")
}
pub unsafe fn pack_external_size_c(
    rep: *const c_char,
    incount: MPI_Count,
    datatype: MPI_Datatype,
    size: *mut MPI_Count,
) -> Result<(), MpiError> {
    datarep(rep)?;
    let n = dt::get(datatype)?.external_bytes(ncount(incount, "incount")? as u64)?;
    cabi::out(size, n as MPI_Count, "size")
}
