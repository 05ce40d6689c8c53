//! Generalized requests: `MPI_Grequest_start` and `MPI_Grequest_complete` (the operation:
//! [`crate::objects::grequest`]); waits, tests, cancel and free are the request family's.

use crate::cabi::out;
use crate::entry::{MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::grequest::{self, Grequest};
use crate::objects::request;
use std::ffi::c_void;

pub unsafe fn grequest_start(
    query_fn: Option<MPI_Grequest_query_function>,
    free_fn: Option<MPI_Grequest_free_function>,
    cancel_fn: Option<MPI_Grequest_cancel_function>,
    extra_state: *mut c_void,
    req: *mut MPI_Request,
) -> Result<(), MpiError> {
    let need = |what: &str| MpiError::arg(format!("{what} is NULL"));
    let q = query_fn.ok_or_else(|| need("query_fn"))?;
    let f = free_fn.ok_or_else(|| need("free_fn"))?;
    let c = cancel_fn.ok_or_else(|| need("cancel_fn"))?;
    if req.is_null() {
        return Err(need("request"));
    }
    let op = Grequest::new(q, f, c, extra_state as usize);
    let done = op.done.clone();
    let h = request::register(Box::new(op), Raise::Default);
    grequest::track(h, done);
    out(req, h, "request")
}

pub fn grequest_complete(req: MPI_Request) -> Result<(), MpiError> {
    grequest::complete(req)
}
