//! Operator objects: the predefined operators at their ABI handle values and the user
//! operators the program creates (`crate::reduce` holds the kernels).

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::handles::Table;
use crate::reduce::{Op, Operator};

/// The user operators, by handle.
pub static OPS: Table<Operator> = Table::new("op");

/// Every predefined operator handle of the ABI and its operator.
pub const PREDEFINED: &[(MPI_Op, Op)] = &[
    (MPI_SUM, Op::Sum),
    (MPI_MIN, Op::Min),
    (MPI_MAX, Op::Max),
    (MPI_PROD, Op::Prod),
    (MPI_BAND, Op::Band),
    (MPI_BOR, Op::Bor),
    (MPI_BXOR, Op::Bxor),
    (MPI_LAND, Op::Land),
    (MPI_LOR, Op::Lor),
    (MPI_LXOR, Op::Lxor),
    (MPI_MINLOC, Op::Minloc),
    (MPI_MAXLOC, Op::Maxloc),
    (MPI_REPLACE, Op::Replace),
    (MPI_NO_OP, Op::NoOp),
];

/// Whether `h` is a predefined operator (which cannot be freed).
pub fn is_predefined(h: MPI_Op) -> bool {
    PREDEFINED.iter().any(|(p, _)| *p == h)
}

/// The operator behind `h`.
pub fn get(h: MPI_Op) -> Result<Operator, MpiError> {
    if h == MPI_OP_NULL {
        return Err(MpiError::new(MPI_ERR_OP, "the operator is MPI_OP_NULL"));
    }
    if let Some((_, op)) = PREDEFINED.iter().find(|(p, _)| *p == h) {
        return Ok(Operator::Predefined(*op));
    }
    OPS.get(h.0).map(|o| (*o).clone()).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_OP,
            format!(
                "{:#x} is not a live operator (freed, or not an operator)",
                h.0
            ),
        )
    })
}
