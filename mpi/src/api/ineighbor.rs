//! The non-blocking (`MPI_Ineighbor_*`) and persistent (`MPI_Neighbor_*_init`) forms of the
//! neighbourhood collectives: the call described as the blocking one describes it
//! (`super::neighbor`), run on the communicator's collectives worker as a request
//! (`crate::objects::coll_request`) while the program goes on; a persistent one is described
//! again at each `MPI_Start`.

use super::neighbor::*;
use crate::entry::MpiError;
use crate::gen::abi::*;
use std::ffi::{c_int, c_void};

#[allow(clippy::too_many_arguments)]
pub fn ineighbor_allgather(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_allgather_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcount,
        rtype,
        c,
        Mode::Start(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_allgather_init(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    _info: MPI_Info,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_allgather_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcount,
        rtype,
        c,
        Mode::Init(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn ineighbor_allgather_c(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: MPI_Count,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_allgather_c_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcount,
        rtype,
        c,
        Mode::Start(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_allgather_init_c(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: MPI_Count,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    _info: MPI_Info,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_allgather_c_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcount,
        rtype,
        c,
        Mode::Init(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn ineighbor_allgatherv(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    displs: *const c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_allgatherv_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcounts,
        displs,
        rtype,
        c,
        Mode::Start(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_allgatherv_init(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    displs: *const c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    _info: MPI_Info,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_allgatherv_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcounts,
        displs,
        rtype,
        c,
        Mode::Init(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn ineighbor_allgatherv_c(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    displs: *const MPI_Aint,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_allgatherv_c_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcounts,
        displs,
        rtype,
        c,
        Mode::Start(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_allgatherv_init_c(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    displs: *const MPI_Aint,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    _info: MPI_Info,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_allgatherv_c_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcounts,
        displs,
        rtype,
        c,
        Mode::Init(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn ineighbor_alltoall(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoall_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcount,
        rtype,
        c,
        Mode::Start(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoall_init(
    sbuf: *const c_void,
    scount: c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    _info: MPI_Info,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoall_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcount,
        rtype,
        c,
        Mode::Init(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn ineighbor_alltoall_c(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: MPI_Count,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoall_c_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcount,
        rtype,
        c,
        Mode::Start(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoall_init_c(
    sbuf: *const c_void,
    scount: MPI_Count,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcount: MPI_Count,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    _info: MPI_Info,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoall_c_in(
        sbuf,
        scount,
        stype,
        rbuf,
        rcount,
        rtype,
        c,
        Mode::Init(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn ineighbor_alltoallv(
    sbuf: *const c_void,
    scounts: *const c_int,
    sdispls: *const c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    rdispls: *const c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoallv_in(
        sbuf,
        scounts,
        sdispls,
        stype,
        rbuf,
        rcounts,
        rdispls,
        rtype,
        c,
        Mode::Start(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoallv_init(
    sbuf: *const c_void,
    scounts: *const c_int,
    sdispls: *const c_int,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    rdispls: *const c_int,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    _info: MPI_Info,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoallv_in(
        sbuf,
        scounts,
        sdispls,
        stype,
        rbuf,
        rcounts,
        rdispls,
        rtype,
        c,
        Mode::Init(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn ineighbor_alltoallv_c(
    sbuf: *const c_void,
    scounts: *const MPI_Count,
    sdispls: *const MPI_Aint,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    rdispls: *const MPI_Aint,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoallv_c_in(
        sbuf,
        scounts,
        sdispls,
        stype,
        rbuf,
        rcounts,
        rdispls,
        rtype,
        c,
        Mode::Start(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoallv_init_c(
    sbuf: *const c_void,
    scounts: *const MPI_Count,
    sdispls: *const MPI_Aint,
    stype: MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    rdispls: *const MPI_Aint,
    rtype: MPI_Datatype,
    c: MPI_Comm,
    _info: MPI_Info,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoallv_c_in(
        sbuf,
        scounts,
        sdispls,
        stype,
        rbuf,
        rcounts,
        rdispls,
        rtype,
        c,
        Mode::Init(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn ineighbor_alltoallw(
    sbuf: *const c_void,
    scounts: *const c_int,
    sdispls: *const MPI_Aint,
    stypes: *const MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    rdispls: *const MPI_Aint,
    rtypes: *const MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoallw_in(
        sbuf,
        scounts,
        sdispls,
        stypes,
        rbuf,
        rcounts,
        rdispls,
        rtypes,
        c,
        Mode::Start(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoallw_init(
    sbuf: *const c_void,
    scounts: *const c_int,
    sdispls: *const MPI_Aint,
    stypes: *const MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const c_int,
    rdispls: *const MPI_Aint,
    rtypes: *const MPI_Datatype,
    c: MPI_Comm,
    _info: MPI_Info,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoallw_in(
        sbuf,
        scounts,
        sdispls,
        stypes,
        rbuf,
        rcounts,
        rdispls,
        rtypes,
        c,
        Mode::Init(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn ineighbor_alltoallw_c(
    sbuf: *const c_void,
    scounts: *const MPI_Count,
    sdispls: *const MPI_Aint,
    stypes: *const MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    rdispls: *const MPI_Aint,
    rtypes: *const MPI_Datatype,
    c: MPI_Comm,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoallw_c_in(
        sbuf,
        scounts,
        sdispls,
        stypes,
        rbuf,
        rcounts,
        rdispls,
        rtypes,
        c,
        Mode::Start(request),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn neighbor_alltoallw_init_c(
    sbuf: *const c_void,
    scounts: *const MPI_Count,
    sdispls: *const MPI_Aint,
    stypes: *const MPI_Datatype,
    rbuf: *mut c_void,
    rcounts: *const MPI_Count,
    rdispls: *const MPI_Aint,
    rtypes: *const MPI_Datatype,
    c: MPI_Comm,
    _info: MPI_Info,
    request: *mut MPI_Request,
) -> Result<(), MpiError> {
    neighbor_alltoallw_c_in(
        sbuf,
        scounts,
        sdispls,
        stypes,
        rbuf,
        rcounts,
        rdispls,
        rtypes,
        c,
        Mode::Init(request),
    )
}
