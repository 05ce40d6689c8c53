//! MPI-4 sessions: `MPI_Session_init`/`finalize`, the process sets `mpi://WORLD` and
//! `mpi://SELF` (`MPI_Session_get_num_psets`, `_get_nth_pset`, `_get_pset_info`,
//! `MPI_Group_from_session_pset`), `MPI_Comm_create_from_group`, and the session's info and
//! error handler.
//!
//! A session lives inside the process's MPI world: `MPI_Session_init` needs `MPI_Init` (or
//! `MPI_Init_thread`) first and fails with `MPI_ERR_UNSUPPORTED_OPERATION` saying so otherwise
//! (the core joins the job once, at `MPI_Init`). Groups from a session are groups of world
//! processes, and `MPI_Comm_create_from_group` makes its communicator from `MPI_COMM_WORLD`'s
//! connections, collectively over the group's members.

use crate::cabi::{out, read, string, write_string};
use crate::entry::{self, MpiError, Raise};
use crate::gen::abi::*;
use crate::objects::comm::{self, CommObj, COMMS};
use crate::objects::errhandler;
use crate::objects::info::{self, InfoObj, INFOS};
use crate::objects::session::{self, SessionObj, PSETS, SESSIONS};
use crate::objects::{group, world};
use std::ffi::{c_char, c_int};

fn thread_level_name(level: c_int) -> &'static str {
    match level {
        MPI_THREAD_FUNNELED => "MPI_THREAD_FUNNELED",
        MPI_THREAD_SERIALIZED => "MPI_THREAD_SERIALIZED",
        MPI_THREAD_MULTIPLE => "MPI_THREAD_MULTIPLE",
        _ => "MPI_THREAD_SINGLE",
    }
}

pub unsafe fn session_init(
    i: MPI_Info,
    eh: MPI_Errhandler,
    s: *mut MPI_Session,
) -> Result<(), MpiError> {
    if s.is_null() {
        return Err(MpiError::arg("session is NULL"));
    }
    if !world::initialized() || world::finalized() {
        return Err(MpiError::unsupported(
            "MPI_Session_init before MPI_Init or after MPI_Finalize: libfmi's MPI library joins \
             the job at MPI_Init, sessions live inside it (call MPI_Init first)",
        ));
    }
    errhandler::install_predefined();
    let handler = session::errhandler_for_session(eh)?;
    let info = info::entries_or_null(i)?;
    let h = SESSIONS.insert(SessionObj {
        errhandler: parking_lot::Mutex::new(handler),
        info,
    });
    out(s, MPI_Session(h), "session")
}

pub unsafe fn session_finalize(s: *mut MPI_Session) -> Result<(), MpiError> {
    let h = read(s, "session")?;
    session::get(h)?;
    // A buffer still attached to the session is detached (its buffered messages sent first).
    crate::p2p::bsend::detach_from(crate::p2p::bsend::Owner::Session(h.0))?;
    SESSIONS.remove(h.0);
    out(s, MPI_SESSION_NULL, "session")
}

/// The session's info: what it was given, and the thread level it supports.
pub unsafe fn session_get_info(s: MPI_Session, used: *mut MPI_Info) -> Result<(), MpiError> {
    let obj = session::get(s)?;
    if used.is_null() {
        return Err(MpiError::arg("info_used is NULL"));
    }
    let new = InfoObj::from(obj.info.clone());
    new.set("thread_level", thread_level_name(world::thread_level()));
    out(used, MPI_Info(INFOS.insert(new)), "info_used")
}

pub unsafe fn session_get_num_psets(
    s: MPI_Session,
    _i: MPI_Info,
    npset_names: *mut c_int,
) -> Result<(), MpiError> {
    session::get(s)?;
    out(npset_names, PSETS.len() as c_int, "npset_names")
}

/// The `n`-th process set's name: with `*pset_len` 0, only its length with the terminating NUL;
/// otherwise the name, cut to `*pset_len - 1` bytes and NUL-terminated.
pub unsafe fn session_get_nth_pset(
    s: MPI_Session,
    _i: MPI_Info,
    n: c_int,
    pset_len: *mut c_int,
    pset_name: *mut c_char,
) -> Result<(), MpiError> {
    session::get(s)?;
    let name = usize::try_from(n)
        .ok()
        .and_then(|n| PSETS.get(n))
        .ok_or_else(|| {
            MpiError::arg(format!(
                "n = {n}: there are {} process sets (0..{})",
                PSETS.len(),
                PSETS.len()
            ))
        })?;
    let cap = crate::cabi::count(read(pset_len, "pset_len")?, "*pset_len")?;
    if cap == 0 {
        return out(pset_len, name.len() as c_int + 1, "pset_len");
    }
    write_string(pset_name, cap, name, std::ptr::null_mut(), "pset_name")
}

fn world_position() -> Result<(usize, usize), MpiError> {
    let w = comm::get(MPI_COMM_WORLD)?;
    Ok((w.members[w.rank], w.size))
}

unsafe fn pset_arg(p: *const c_char) -> Result<Vec<usize>, MpiError> {
    let name = string(p, MPI_MAX_PSET_NAME_LEN as usize, "pset_name")?;
    let (me, size) = world_position()?;
    session::pset_members(&name, me, size)
}

/// The info of a process set: `mpi_size`, its number of processes.
pub unsafe fn session_get_pset_info(
    s: MPI_Session,
    pset_name: *const c_char,
    i: *mut MPI_Info,
) -> Result<(), MpiError> {
    session::get(s)?;
    let members = pset_arg(pset_name)?;
    if i.is_null() {
        return Err(MpiError::arg("info is NULL"));
    }
    let new = InfoObj::from(vec![("mpi_size".to_string(), members.len().to_string())]);
    out(i, MPI_Info(INFOS.insert(new)), "info")
}

pub unsafe fn group_from_session_pset(
    s: MPI_Session,
    pset_name: *const c_char,
    newgroup: *mut MPI_Group,
) -> Result<(), MpiError> {
    session::get(s)?;
    let members = pset_arg(pset_name)?;
    if newgroup.is_null() {
        return Err(MpiError::arg("newgroup is NULL"));
    }
    let g = group::new(members);
    session::note_group(g, s);
    out(newgroup, g, "newgroup")
}

/// The tag of the core's create_group for a string tag (FNV-1a, in the core's tag range); the
/// core's agreement checks that every member passed the same tag.
fn core_tag(stringtag: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in stringtag.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h & 0x7fff_ffff
}

/// Collective over the members of `g`: a communicator of exactly them, with the error handler
/// `eh` (no parent communicator).
pub unsafe fn comm_create_from_group(
    g: MPI_Group,
    stringtag: *const c_char,
    i: MPI_Info,
    eh: MPI_Errhandler,
    newcomm: *mut MPI_Comm,
) -> Result<(), MpiError> {
    if newcomm.is_null() {
        return Err(MpiError::arg("newcomm is NULL"));
    }
    let tag = string(stringtag, MPI_MAX_STRINGTAG_LEN as usize, "stringtag")?;
    let hints = info::entries_or_null(i)?;
    errhandler::install_predefined();
    let handler = comm::errhandler_for_comm(eh)?;
    let grp = group::get(g)?;
    let world = comm::get(MPI_COMM_WORLD)?;
    let me = world.members[world.rank];
    if grp.rank_of(me).is_none() {
        return Err(MpiError::new(
            MPI_ERR_GROUP,
            "this process is not a member of the group (only members call \
             MPI_Comm_create_from_group)",
        ));
    }
    let fg = comm::core_group(&grp.members)?;
    let core = world.with(|k| k.create_group(&fg, core_tag(&tag)))?;
    let members = comm::world_ranks(&core)?;
    let obj = CommObj::new(core, members, handler, "");
    if let Some(sk) = session::session_of_group(g) {
        obj.ep.set_session_key(sk);
    }
    *obj.info.lock() = hints;
    out(newcomm, MPI_Comm(COMMS.insert(obj)), "newcomm")
}

pub fn session_set_errhandler(s: MPI_Session, eh: MPI_Errhandler) -> Result<(), MpiError> {
    let obj = session::get(s)?;
    *obj.errhandler.lock() = session::errhandler_for_session(eh)?;
    Ok(())
}

pub unsafe fn session_get_errhandler(
    s: MPI_Session,
    eh: *mut MPI_Errhandler,
) -> Result<(), MpiError> {
    let obj = session::get(s)?;
    let (h, handler) = obj.errhandler.lock().clone();
    errhandler::add_ref(h, handler);
    out(eh, h, "errhandler")
}

/// Runs `s`'s error handler for `errorcode` (returns when the handler returns).
pub fn session_call_errhandler(s: MPI_Session, errorcode: c_int) -> Result<(), MpiError> {
    let obj = session::get(s)?;
    let (_, h) = obj.errhandler.lock().clone();
    let msg = entry::error_string(errorcode).unwrap_or_else(|| format!("error code {errorcode}"));
    errhandler::invoke(&h, Raise::Session(s), errorcode, &msg);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_tags_map_into_the_core_tag_range() {
        assert!(core_tag("") <= 0x7fff_ffff);
        assert_eq!(core_tag("org.mpi4py"), core_tag("org.mpi4py"));
        assert_ne!(core_tag("a"), core_tag("b"));
    }
}
