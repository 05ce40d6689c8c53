//! The MPI objects behind handles and the process's MPI state; no C-ABI code here (the
//! procedures in `crate::api` translate to these).

pub mod attr;
pub mod coll_request;
pub mod comm;
pub mod datatype;
pub mod errclass;
pub mod errhandler;
pub mod file;
pub mod grequest;
pub mod group;
pub mod host;
pub mod idup_request;
pub mod info;
pub mod intercomm;
pub mod message;
pub mod op;
pub mod request;
pub mod session;
pub mod status;
pub mod topo;
pub mod win;
pub mod world;

/// Frees every object left at MPI_Finalize (communicators are closed by the caller).
pub fn release_all() {
    group::GROUPS.clear();
    info::INFOS.clear();
    session::SESSIONS.clear();
    for (h, _) in errhandler::ERRHANDLERS.all() {
        if !crate::handles::is_predefined(h) {
            errhandler::ERRHANDLERS.remove(h);
        }
    }
}
