//! Init and finalize, the thread level, abort, clocks, versions and the ABI queries.

use crate::cabi::{out, slice_mut, write_string};
use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::{comm, errhandler, host, info, world};
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use std::ffi::{c_char, c_int, c_void};
use std::time::Instant;

pub unsafe fn init(_argc: *mut c_int, _argv: *mut *mut *mut c_char) -> Result<(), MpiError> {
    world::init(MPI_THREAD_SINGLE).map(|_| ())
}

pub unsafe fn init_thread(
    _argc: *mut c_int,
    _argv: *mut *mut *mut c_char,
    required: c_int,
    provided: *mut c_int,
) -> Result<(), MpiError> {
    if provided.is_null() {
        return Err(MpiError::arg("provided is NULL"));
    }
    let level = world::init(required)?;
    out(provided, level, "provided")
}

pub unsafe fn initialized(flag: *mut c_int) -> Result<(), MpiError> {
    out(flag, world::initialized() as c_int, "flag")
}

pub unsafe fn finalized(flag: *mut c_int) -> Result<(), MpiError> {
    out(flag, world::finalized() as c_int, "flag")
}

pub fn finalize() -> Result<(), MpiError> {
    world::finalize()
}

pub unsafe fn query_thread(provided: *mut c_int) -> Result<(), MpiError> {
    world::running()?;
    out(provided, world::thread_level(), "provided")
}

pub unsafe fn is_thread_main(flag: *mut c_int) -> Result<(), MpiError> {
    world::running()?;
    out(flag, world::is_main_thread() as c_int, "flag")
}

/// Ends this process with `errorcode` as its exit status (1 when that is 0 modulo 256);
/// `fmirun` and `mpiexec` stop the other processes of the job.
pub fn abort(c: MPI_Comm, errorcode: c_int) -> Result<(), MpiError> {
    let on = if c == MPI_COMM_WORLD {
        "MPI_COMM_WORLD".to_string()
    } else {
        comm::get(c)
            .map(|o| format!("a communicator of {} processes", o.size))
            .unwrap_or_else(|_| "an invalid communicator".into())
    };
    errhandler::abort_process(
        &format!("MPI_Abort called on {on} with error code {errorcode}: aborting the job"),
        errorcode,
    )
}

static EPOCH: Lazy<Instant> = Lazy::new(Instant::now);

/// Seconds on this process's monotonic clock (not synchronised: MPI_WTIME_IS_GLOBAL is 0).
pub fn wtime() -> Result<f64, MpiError> {
    Ok(EPOCH.elapsed().as_secs_f64())
}

/// The resolution of [`wtime`]: the monotonic clock counts nanoseconds.
pub fn wtick() -> Result<f64, MpiError> {
    Ok(1e-9)
}

pub unsafe fn get_processor_name(name: *mut c_char, resultlen: *mut c_int) -> Result<(), MpiError> {
    if resultlen.is_null() {
        return Err(MpiError::arg("resultlen is NULL"));
    }
    write_string(
        name,
        MPI_MAX_PROCESSOR_NAME as usize,
        &host::name(),
        resultlen,
        "name",
    )
}

pub unsafe fn get_version(version: *mut c_int, subversion: *mut c_int) -> Result<(), MpiError> {
    out(version, MPI_VERSION, "version")?;
    out(subversion, MPI_SUBVERSION, "subversion")
}

/// The text of `MPI_Get_library_version`.
pub fn library_version() -> String {
    format!(
        "libfmi MPI {} (MPI {MPI_VERSION}.{MPI_SUBVERSION} standard ABI {MPI_ABI_VERSION}.{MPI_ABI_SUBVERSION}) \
         on the libfmi core: direct TCP, Redis and S3 channels",
        env!("CARGO_PKG_VERSION")
    )
}

pub unsafe fn get_library_version(
    version: *mut c_char,
    resultlen: *mut c_int,
) -> Result<(), MpiError> {
    if resultlen.is_null() {
        return Err(MpiError::arg("resultlen is NULL"));
    }
    write_string(
        version,
        MPI_MAX_LIBRARY_VERSION_STRING as usize,
        &library_version(),
        resultlen,
        "version",
    )
}

pub unsafe fn abi_get_version(
    abi_major: *mut c_int,
    abi_minor: *mut c_int,
) -> Result<(), MpiError> {
    out(abi_major, MPI_ABI_VERSION, "abi_major")?;
    out(abi_minor, MPI_ABI_SUBVERSION, "abi_minor")
}

fn new_info(entries: &[(&str, String)]) -> MPI_Info {
    let obj = info::InfoObj::from(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    );
    MPI_Info(info::INFOS.insert(obj))
}

/// The sizes of the ABI's integer types.
pub unsafe fn abi_get_info(out_info: *mut MPI_Info) -> Result<(), MpiError> {
    if out_info.is_null() {
        return Err(MpiError::arg("info is NULL"));
    }
    let h = new_info(&[
        ("mpi_aint_size", std::mem::size_of::<MPI_Aint>().to_string()),
        (
            "mpi_count_size",
            std::mem::size_of::<MPI_Count>().to_string(),
        ),
        (
            "mpi_offset_size",
            std::mem::size_of::<MPI_Offset>().to_string(),
        ),
    ]);
    out(out_info, h, "info")
}

/// What a Fortran layer told the library (`MPI_Abi_set_fortran_info`,
/// `MPI_Abi_set_fortran_booleans`); before that, the sizes of gfortran's default kinds.
struct Fortran {
    info: Option<Vec<(String, String)>>,
    booleans: Vec<(c_int, Vec<u8>, Vec<u8>)>,
}

static FORTRAN: Mutex<Fortran> = Mutex::new(Fortran {
    info: None,
    booleans: Vec::new(),
});

pub unsafe fn abi_get_fortran_info(out_info: *mut MPI_Info) -> Result<(), MpiError> {
    if out_info.is_null() {
        return Err(MpiError::arg("info is NULL"));
    }
    let entries = FORTRAN.lock().info.clone().unwrap_or_else(|| {
        let mut e: Vec<(String, String)> = [
            ("mpi_logical_size", "4"),
            ("mpi_integer_size", "4"),
            ("mpi_real_size", "4"),
            ("mpi_double_precision_size", "8"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        // The fixed-size Fortran types: supported when the datatype layer knows the type.
        for (name, h) in [
            ("logical1", MPI_LOGICAL1),
            ("logical2", MPI_LOGICAL2),
            ("logical4", MPI_LOGICAL4),
            ("logical8", MPI_LOGICAL8),
            ("logical16", MPI_LOGICAL16),
            ("integer1", MPI_INTEGER1),
            ("integer2", MPI_INTEGER2),
            ("integer4", MPI_INTEGER4),
            ("integer8", MPI_INTEGER8),
            ("integer16", MPI_INTEGER16),
            ("real2", MPI_REAL2),
            ("real4", MPI_REAL4),
            ("real8", MPI_REAL8),
            ("real16", MPI_REAL16),
            ("complex4", MPI_COMPLEX4),
            ("complex8", MPI_COMPLEX8),
            ("complex16", MPI_COMPLEX16),
            ("complex32", MPI_COMPLEX32),
            ("double_complex", MPI_DOUBLE_COMPLEX),
        ] {
            let supported = crate::objects::datatype::get(h).is_ok_and(|t| t.size() > 0);
            e.push((format!("mpi_{name}_supported"), supported.to_string()));
        }
        e
    });
    let h = MPI_Info(info::INFOS.insert(info::InfoObj::from(entries)));
    out(out_info, h, "info")
}

pub unsafe fn abi_set_fortran_info(i: MPI_Info) -> Result<(), MpiError> {
    let entries = info::get(i)?.snapshot();
    FORTRAN.lock().info = Some(entries);
    Ok(())
}

fn logical_size(n: c_int) -> Result<usize, MpiError> {
    match n {
        1 | 2 | 4 | 8 | 16 => Ok(n as usize),
        _ => Err(MpiError::arg(format!(
            "logical_size {n}: expected 1, 2, 4, 8 or 16"
        ))),
    }
}

pub unsafe fn abi_set_fortran_booleans(
    size: c_int,
    logical_true: *mut c_void,
    logical_false: *mut c_void,
) -> Result<(), MpiError> {
    let n = logical_size(size)?;
    let t = crate::cabi::slice(logical_true.cast::<u8>(), n, "logical_true")?.to_vec();
    let f = crate::cabi::slice(logical_false.cast::<u8>(), n, "logical_false")?.to_vec();
    let mut fo = FORTRAN.lock();
    fo.booleans.retain(|b| b.0 != size);
    fo.booleans.push((size, t, f));
    Ok(())
}

/// The values of .TRUE. and .FALSE. of a LOGICAL of `size` bytes: as set, else gfortran's
/// (1 and 0).
pub unsafe fn abi_get_fortran_booleans(
    size: c_int,
    logical_true: *mut c_void,
    logical_false: *mut c_void,
    is_set: *mut c_int,
) -> Result<(), MpiError> {
    let n = logical_size(size)?;
    let t = slice_mut(logical_true.cast::<u8>(), n, "logical_true")?;
    let f = slice_mut(logical_false.cast::<u8>(), n, "logical_false")?;
    let fo = FORTRAN.lock();
    match fo.booleans.iter().find(|b| b.0 == size) {
        Some((_, bt, bf)) => {
            t.copy_from_slice(bt);
            f.copy_from_slice(bf);
        }
        None => {
            let one = 1u128.to_ne_bytes();
            let start = if cfg!(target_endian = "little") {
                0
            } else {
                16 - n
            };
            t.copy_from_slice(&one[start..start + n]);
            f.fill(0);
        }
    }
    out(is_set, 1, "is_set")
}

/// The profiling control: no profiler is built in, so every level is accepted and changes
/// nothing (a profiling library interposing `MPI_Pcontrol` sees the call).
pub fn pcontrol(level: c_int) -> Result<(), MpiError> {
    let _ = level;
    Ok(())
}

/// The hardware this library tells apart: the host (its processes share memory), as used by
/// `MPI_Comm_split_type` with `MPI_COMM_TYPE_HW_GUIDED`/`_HW_UNGUIDED`.
pub unsafe fn get_hw_resource_info(hw_info: *mut MPI_Info) -> Result<(), MpiError> {
    if hw_info.is_null() {
        return Err(MpiError::arg("hw_info is NULL"));
    }
    let entries = vec![(
        "mpi_hw_resource_type".to_string(),
        "mpi_shared_memory".to_string(),
    )];
    let h = MPI_Info(info::INFOS.insert(info::InfoObj::from(entries)));
    out(hw_info, h, "hw_info")
}
