//! Session objects (MPI-4 sessions): an error handler and the info given at `MPI_Session_init`.
//! The process sets are the two the standard names: `mpi://WORLD` (the processes of the job,
//! as MPI_COMM_WORLD) and `mpi://SELF` (this process).

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::handles::Table;
use crate::objects::errhandler::{self, Handler};
use parking_lot::Mutex;
use std::sync::Arc;

/// One session.
pub struct SessionObj {
    pub errhandler: Mutex<(MPI_Errhandler, Arc<Handler>)>,
    /// The info given at init (MPI_Session_get_info reports it with the thread level).
    pub info: Vec<(String, String)>,
}

/// The sessions by handle.
pub static SESSIONS: Table<SessionObj> = Table::new("session");

/// The session each group made by `MPI_Group_from_session_pset` came from (group handle ->
/// session handle): a communicator made from such a group derives from that session.
static PSET_GROUPS: Mutex<std::collections::BTreeMap<usize, usize>> =
    Mutex::new(std::collections::BTreeMap::new());

/// Records that group `g` came from session `s`.
pub fn note_group(g: MPI_Group, s: MPI_Session) {
    PSET_GROUPS.lock().insert(g.0, s.0);
}

/// The session group `g` came from, if it was made by `MPI_Group_from_session_pset`.
pub fn session_of_group(g: MPI_Group) -> Option<usize> {
    PSET_GROUPS.lock().get(&g.0).copied()
}

/// The process sets, in the order MPI_Session_get_nth_pset numbers them.
pub const PSETS: [&str; 2] = ["mpi://WORLD", "mpi://SELF"];

/// The session behind `s`.
pub fn get(s: MPI_Session) -> Result<Arc<SessionObj>, MpiError> {
    SESSIONS.get(s.0).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_SESSION,
            if s == MPI_SESSION_NULL {
                "the session is MPI_SESSION_NULL".to_string()
            } else {
                format!("{:#x} is not a live session", s.0)
            },
        )
    })
}

/// The error handler of `s`, if it is a live session.
pub fn errhandler_of(s: MPI_Session) -> Option<(MPI_Errhandler, Arc<Handler>)> {
    SESSIONS.get(s.0).map(|o| o.errhandler.lock().clone())
}

/// The error handler `h` for attaching to a session (a predefined one or one made by
/// MPI_Session_create_errhandler).
pub fn errhandler_for_session(
    h: MPI_Errhandler,
) -> Result<(MPI_Errhandler, Arc<Handler>), MpiError> {
    errhandler::for_kind(h, errhandler::Kind::Session)
}

/// The world ranks of the process set `name` (`self_rank`, `size`: this process in the world).
pub fn pset_members(name: &str, self_rank: usize, size: usize) -> Result<Vec<usize>, MpiError> {
    match name {
        "mpi://WORLD" => Ok((0..size).collect()),
        "mpi://SELF" => Ok(vec![self_rank]),
        other => Err(MpiError::arg(format!(
            "no process set {other:?} (this library has mpi://WORLD and mpi://SELF)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psets_are_world_and_self() {
        assert_eq!(pset_members("mpi://WORLD", 2, 4).unwrap(), [0, 1, 2, 3]);
        assert_eq!(pset_members("mpi://SELF", 2, 4).unwrap(), [2]);
        let e = pset_members("mpi://world", 0, 1).unwrap_err();
        assert!(e.msg.contains("mpi://WORLD"), "{}", e.msg);
    }
}
