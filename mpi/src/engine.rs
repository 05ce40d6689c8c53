//! Errors of the engines (`types`, `reduce`): a message and the MPI error class the API layer
//! reports it as. The engines contain no C-ABI code; `api/` turns these into MPI error codes.

use std::fmt;

/// The kind of failure, named after the MPI error class it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `MPI_ERR_TYPE`: a datatype that cannot be used this way (uncommitted, no contents, ...).
    Type,
    /// `MPI_ERR_COUNT`: a negative count or one whose byte size overflows.
    Count,
    /// `MPI_ERR_ARG`: any other invalid argument.
    Arg,
    /// `MPI_ERR_OP`: an operator not defined for the datatype.
    Op,
    /// `MPI_ERR_TRUNCATE`: the data does not fit the buffer.
    Truncate,
    /// `MPI_ERR_UNSUPPORTED_OPERATION`: a valid request this library does not implement.
    Unsupported,
    /// `MPI_ERR_TAG`: a tag out of range.
    Tag,
    /// `MPI_ERR_RANK`: a rank out of range.
    Rank,
    /// `MPI_ERR_REQUEST`: a request that cannot be used this way.
    Request,
    /// `MPI_ERR_BUFFER`: no attached buffer, or not enough room in it.
    Buffer,
    /// `MPI_ERR_OTHER`: a failure of the transport (its message says which), a timeout, or a
    /// call that could never complete.
    Other,
}

/// An engine failure: the class and a readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub class: Class,
    pub message: String,
}

impl Error {
    pub fn new(class: Class, message: impl Into<String>) -> Self {
        Error {
            class,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// The MPI error class of each engine failure (the message is kept whole).
impl From<Error> for crate::entry::MpiError {
    fn from(e: Error) -> Self {
        use crate::gen::abi::*;
        let class = match e.class {
            Class::Type => MPI_ERR_TYPE,
            Class::Count => MPI_ERR_COUNT,
            Class::Arg => MPI_ERR_ARG,
            Class::Op => MPI_ERR_OP,
            Class::Truncate => MPI_ERR_TRUNCATE,
            Class::Unsupported => MPI_ERR_UNSUPPORTED_OPERATION,
            Class::Tag => MPI_ERR_TAG,
            Class::Rank => MPI_ERR_RANK,
            Class::Request => MPI_ERR_REQUEST,
            Class::Buffer => MPI_ERR_BUFFER,
            Class::Other => MPI_ERR_OTHER,
        };
        crate::entry::MpiError::new(class, e.message)
    }
}
