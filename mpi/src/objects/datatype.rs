//! Datatype objects: the predefined datatypes at their ABI handle values, the Fortran 90
//! parameterized ones (made once per parameters, never freed) and the ones the program builds
//! (`crate::types` holds the type maps), with their names and attributes.

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::handles::Table;
use crate::objects::attr::Attrs;
use crate::types::{Named, Type};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

/// A datatype handle's object: the type map, the name (`MPI_Type_set_name`) and the
/// attributes (`MPI_Type_set_attr`).
pub struct DtypeObj {
    pub t: Arc<Type>,
    pub name: Mutex<String>,
    pub attrs: Attrs,
}

impl DtypeObj {
    fn new(t: Arc<Type>, name: &str) -> DtypeObj {
        DtypeObj {
            t,
            name: Mutex::new(name.to_string()),
            attrs: Mutex::new(Vec::new()),
        }
    }
}

/// The datatypes the program built, by handle.
pub static DATATYPES: Table<DtypeObj> = Table::new("datatype");

/// Every predefined datatype handle of the ABI and the type it names.
pub const PREDEFINED: &[(MPI_Datatype, Named)] = &[
    (MPI_AINT, Named::Aint),
    (MPI_COUNT, Named::Count),
    (MPI_OFFSET, Named::Offset),
    (MPI_PACKED, Named::Packed),
    (MPI_SHORT, Named::Short),
    (MPI_INT, Named::Int),
    (MPI_LONG, Named::Long),
    (MPI_LONG_LONG, Named::LongLong),
    (MPI_UNSIGNED_SHORT, Named::UnsignedShort),
    (MPI_UNSIGNED, Named::Unsigned),
    (MPI_UNSIGNED_LONG, Named::UnsignedLong),
    (MPI_UNSIGNED_LONG_LONG, Named::UnsignedLongLong),
    (MPI_FLOAT, Named::Float),
    (MPI_C_FLOAT_COMPLEX, Named::CFloatComplex),
    (MPI_CXX_FLOAT_COMPLEX, Named::CxxFloatComplex),
    (MPI_DOUBLE, Named::Double),
    (MPI_C_DOUBLE_COMPLEX, Named::CDoubleComplex),
    (MPI_CXX_DOUBLE_COMPLEX, Named::CxxDoubleComplex),
    (MPI_LOGICAL, Named::Logical),
    (MPI_INTEGER, Named::Integer),
    (MPI_REAL, Named::Real),
    (MPI_COMPLEX, Named::FComplex),
    (MPI_DOUBLE_PRECISION, Named::DoublePrecision),
    (MPI_DOUBLE_COMPLEX, Named::DoubleComplex),
    (MPI_CHARACTER, Named::Character),
    (MPI_LONG_DOUBLE, Named::LongDouble),
    (MPI_C_LONG_DOUBLE_COMPLEX, Named::CLongDoubleComplex),
    (MPI_CXX_LONG_DOUBLE_COMPLEX, Named::CxxLongDoubleComplex),
    (MPI_FLOAT_INT, Named::FloatInt),
    (MPI_DOUBLE_INT, Named::DoubleInt),
    (MPI_LONG_INT, Named::LongInt),
    (MPI_2INT, Named::TwoInt),
    (MPI_SHORT_INT, Named::ShortInt),
    (MPI_LONG_DOUBLE_INT, Named::LongDoubleInt),
    (MPI_2REAL, Named::TwoReal),
    (MPI_2DOUBLE_PRECISION, Named::TwoDoublePrecision),
    (MPI_2INTEGER, Named::TwoInteger),
    (MPI_C_BOOL, Named::CBool),
    (MPI_CXX_BOOL, Named::CxxBool),
    (MPI_WCHAR, Named::Wchar),
    (MPI_INT8_T, Named::Int8),
    (MPI_UINT8_T, Named::Uint8),
    (MPI_CHAR, Named::Char),
    (MPI_SIGNED_CHAR, Named::SignedChar),
    (MPI_UNSIGNED_CHAR, Named::UnsignedChar),
    (MPI_BYTE, Named::Byte),
    (MPI_INT16_T, Named::Int16),
    (MPI_UINT16_T, Named::Uint16),
    (MPI_INT32_T, Named::Int32),
    (MPI_UINT32_T, Named::Uint32),
    (MPI_INT64_T, Named::Int64),
    (MPI_UINT64_T, Named::Uint64),
    (MPI_LOGICAL1, Named::Logical1),
    (MPI_INTEGER1, Named::Integer1),
    (MPI_LOGICAL2, Named::Logical2),
    (MPI_INTEGER2, Named::Integer2),
    (MPI_REAL2, Named::Real2),
    (MPI_LOGICAL4, Named::Logical4),
    (MPI_INTEGER4, Named::Integer4),
    (MPI_REAL4, Named::Real4),
    (MPI_COMPLEX4, Named::Complex4),
    (MPI_LOGICAL8, Named::Logical8),
    (MPI_INTEGER8, Named::Integer8),
    (MPI_REAL8, Named::Real8),
    (MPI_COMPLEX8, Named::Complex8),
    (MPI_LOGICAL16, Named::Logical16),
    (MPI_INTEGER16, Named::Integer16),
    (MPI_REAL16, Named::Real16),
    (MPI_COMPLEX16, Named::Complex16),
    (MPI_COMPLEX32, Named::Complex32),
];

fn predefined() -> &'static HashMap<usize, Arc<DtypeObj>> {
    static P: OnceLock<HashMap<usize, Arc<DtypeObj>>> = OnceLock::new();
    P.get_or_init(|| {
        PREDEFINED
            .iter()
            .map(|&(h, n)| (h.0, Arc::new(DtypeObj::new(Type::named(n), n.name()))))
            .collect()
    })
}

/// The object behind `h`.
pub fn object(h: MPI_Datatype) -> Result<Arc<DtypeObj>, MpiError> {
    if h == MPI_DATATYPE_NULL {
        return Err(MpiError::new(
            MPI_ERR_TYPE,
            "the datatype is MPI_DATATYPE_NULL",
        ));
    }
    if let Some(o) = predefined().get(&h.0) {
        return Ok(o.clone());
    }
    DATATYPES.get(h.0).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_TYPE,
            format!(
                "{:#x} is not a live datatype (freed, or not a datatype)",
                h.0
            ),
        )
    })
}

/// The type map behind `h`.
pub fn get(h: MPI_Datatype) -> Result<Arc<Type>, MpiError> {
    Ok(object(h)?.t.clone())
}

/// The type map behind `h`, which must be committed (for communication).
pub fn committed(h: MPI_Datatype) -> Result<Arc<Type>, MpiError> {
    let t = get(h)?;
    t.check_committed()?;
    Ok(t)
}

/// Whether `h` is a predefined datatype, or a Fortran 90 parameterized one (which cannot be
/// freed).
pub fn is_predefined(h: MPI_Datatype) -> bool {
    predefined().contains_key(&h.0) || F90.lock().values().any(|&v| v == h)
}

/// The Fortran 90 parameterized datatypes made so far, by (combiner, p, r).
static F90: Mutex<BTreeMap<(i32, i64, i64), MPI_Datatype>> = Mutex::new(BTreeMap::new());

/// The handle of the Fortran 90 datatype with these parameters: the same handle for the same
/// parameters (MPI-4.0 §19.1.9), made by `make` the first time.
pub fn f90(
    key: (i32, i64, i64),
    make: impl FnOnce() -> crate::engine::Result<Arc<Type>>,
) -> Result<MPI_Datatype, MpiError> {
    let mut m = F90.lock();
    if let Some(&h) = m.get(&key) {
        return Ok(h);
    }
    let h = register(make()?);
    m.insert(key, h);
    Ok(h)
}

/// The handle of a predefined type.
pub fn handle_of(n: Named) -> MPI_Datatype {
    PREDEFINED
        .iter()
        .find(|(_, m)| *m == n)
        .map(|(h, _)| *h)
        .expect("every predefined type has a handle")
}

/// Registers a type the program built and returns its handle.
pub fn register(t: Arc<Type>) -> MPI_Datatype {
    MPI_Datatype(DATATYPES.insert(DtypeObj::new(t, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_predefined_type_has_one_handle() {
        assert_eq!(PREDEFINED.len(), Named::ALL.len());
        for &n in Named::ALL {
            assert_eq!(get(handle_of(n)).unwrap().as_named(), Some(n));
        }
    }
}
