//! The MPI tool information interface (`MPI_T_*`): libfmi exposes no control variables, no
//! performance variables, no categories, no events and no event sources, so a tool that asks
//! finds zero of each and every index, name or handle it might pass is invalid. The interface
//! itself works: `MPI_T_init_thread`/`MPI_T_finalize` nest (also before `MPI_Init` and after
//! `MPI_Finalize`), performance-variable sessions can be created and freed, and every other
//! call answers with the `MPI_T_ERR_*` class the standard names for its case.
//!
//! These procedures return their error class directly and never call an error handler (the
//! generated exports call them through `entry::tool`).

use crate::cabi::out;
use crate::entry::MpiError;
use crate::gen::abi::*;
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::ffi::{c_char, c_int, c_void};

struct State {
    /// Nesting depth of `MPI_T_init_thread` calls not yet matched by `MPI_T_finalize`.
    depth: usize,
    /// The live performance-variable sessions.
    sessions: BTreeSet<usize>,
    next_session: usize,
}

static STATE: Mutex<State> = Mutex::new(State {
    depth: 0,
    sessions: BTreeSet::new(),
    next_session: 1,
});

fn err(class: c_int, msg: impl Into<String>) -> MpiError {
    MpiError::new(class, msg)
}

/// Every call but `MPI_T_init_thread` needs the interface initialized.
fn initialized() -> Result<(), MpiError> {
    if STATE.lock().depth == 0 {
        return Err(err(
            MPI_T_ERR_NOT_INITIALIZED,
            "the tool interface is not initialized (call MPI_T_init_thread first)",
        ));
    }
    Ok(())
}

fn no_index(what: &str, index: c_int) -> MpiError {
    err(
        MPI_T_ERR_INVALID_INDEX,
        format!("{what} index {index} is invalid: libfmi exposes no {what}s"),
    )
}

fn no_name(what: &str) -> MpiError {
    err(
        MPI_T_ERR_INVALID_NAME,
        format!("no {what} has that name: libfmi exposes no {what}s"),
    )
}

fn no_handle(what: &str) -> MpiError {
    err(
        MPI_T_ERR_INVALID_HANDLE,
        format!("invalid {what} handle: libfmi exposes no variables or events to make one for"),
    )
}

/// A zero count, after the initialization check.
unsafe fn zero(p: *mut c_int, what: &str) -> Result<(), MpiError> {
    initialized()?;
    out(p, 0, what)
}

// ---- initialization ----

pub unsafe fn t_init_thread(required: c_int, provided: *mut c_int) -> Result<(), MpiError> {
    let level = match required {
        MPI_THREAD_SINGLE | MPI_THREAD_FUNNELED | MPI_THREAD_SERIALIZED | MPI_THREAD_MULTIPLE => {
            required
        }
        _ => {
            return Err(err(
                MPI_T_ERR_INVALID,
                format!("required thread level {required} is not an MPI_THREAD_* value"),
            ))
        }
    };
    // The interface's state is behind one lock: any level the caller asks for is safe.
    out(provided, level, "provided")?;
    STATE.lock().depth += 1;
    Ok(())
}

pub fn t_finalize() -> Result<(), MpiError> {
    let mut s = STATE.lock();
    if s.depth == 0 {
        return Err(err(
            MPI_T_ERR_NOT_INITIALIZED,
            "MPI_T_finalize without a matching MPI_T_init_thread",
        ));
    }
    s.depth -= 1;
    if s.depth == 0 {
        s.sessions.clear();
    }
    Ok(())
}

// ---- control variables ----

pub unsafe fn t_cvar_get_num(num_cvar: *mut c_int) -> Result<(), MpiError> {
    zero(num_cvar, "num_cvar")
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn t_cvar_get_info(
    cvar_index: c_int,
    _name: *mut c_char,
    _name_len: *mut c_int,
    _verbosity: *mut c_int,
    _datatype: *mut MPI_Datatype,
    _enumtype: *mut MPI_T_enum,
    _desc: *mut c_char,
    _desc_len: *mut c_int,
    _bind: *mut c_int,
    _scope: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("control variable", cvar_index))
}

pub unsafe fn t_cvar_get_index(_name: *const c_char, _index: *mut c_int) -> Result<(), MpiError> {
    initialized()?;
    Err(no_name("control variable"))
}

pub unsafe fn t_cvar_handle_alloc(
    cvar_index: c_int,
    _obj_handle: *mut c_void,
    _handle: *mut MPI_T_cvar_handle,
    _count: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("control variable", cvar_index))
}

pub unsafe fn t_cvar_handle_free(_handle: *mut MPI_T_cvar_handle) -> Result<(), MpiError> {
    initialized()?;
    Err(no_handle("control variable"))
}

pub unsafe fn t_cvar_read(_handle: MPI_T_cvar_handle, _buf: *mut c_void) -> Result<(), MpiError> {
    initialized()?;
    Err(no_handle("control variable"))
}

pub unsafe fn t_cvar_write(
    _handle: MPI_T_cvar_handle,
    _buf: *const c_void,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_handle("control variable"))
}

// ---- enumerations (only variables have them) ----

pub unsafe fn t_enum_get_info(
    _enumtype: MPI_T_enum,
    _num: *mut c_int,
    _name: *mut c_char,
    _name_len: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_handle("enumeration"))
}

pub unsafe fn t_enum_get_item(
    _enumtype: MPI_T_enum,
    _indx: c_int,
    _value: *mut c_int,
    _name: *mut c_char,
    _name_len: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_handle("enumeration"))
}

// ---- performance variables and their sessions ----

pub unsafe fn t_pvar_get_num(num_pvar: *mut c_int) -> Result<(), MpiError> {
    zero(num_pvar, "num_pvar")
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn t_pvar_get_info(
    pvar_index: c_int,
    _name: *mut c_char,
    _name_len: *mut c_int,
    _verbosity: *mut c_int,
    _var_class: *mut c_int,
    _datatype: *mut MPI_Datatype,
    _enumtype: *mut MPI_T_enum,
    _desc: *mut c_char,
    _desc_len: *mut c_int,
    _bind: *mut c_int,
    _readonly: *mut c_int,
    _continuous: *mut c_int,
    _atomic: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("performance variable", pvar_index))
}

pub unsafe fn t_pvar_get_index(
    _name: *const c_char,
    _var_class: c_int,
    _pvar_index: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_name("performance variable"))
}

pub unsafe fn t_pvar_session_create(session: *mut MPI_T_pvar_session) -> Result<(), MpiError> {
    initialized()?;
    if session.is_null() {
        return Err(err(MPI_T_ERR_INVALID, "session is NULL"));
    }
    let mut s = STATE.lock();
    let id = s.next_session;
    s.next_session += 1;
    s.sessions.insert(id);
    session.write(MPI_T_pvar_session(id));
    Ok(())
}

pub unsafe fn t_pvar_session_free(session: *mut MPI_T_pvar_session) -> Result<(), MpiError> {
    initialized()?;
    let Some(&MPI_T_pvar_session(id)) = session.as_ref() else {
        return Err(err(MPI_T_ERR_INVALID, "session is NULL"));
    };
    if !STATE.lock().sessions.remove(&id) {
        return Err(bad_session());
    }
    session.write(MPI_T_PVAR_SESSION_NULL);
    Ok(())
}

fn bad_session() -> MpiError {
    err(
        MPI_T_ERR_INVALID_SESSION,
        "not a live performance-variable session (MPI_T_pvar_session_create makes one)",
    )
}

/// The session must be live; then only `MPI_T_PVAR_ALL_HANDLES` names something (no handle
/// can exist), and only where the standard accepts it.
fn session_and_handle(
    session: MPI_T_pvar_session,
    handle: MPI_T_pvar_handle,
    all_handles_ok: bool,
) -> Result<(), MpiError> {
    initialized()?;
    if !STATE.lock().sessions.contains(&session.0) {
        return Err(bad_session());
    }
    if all_handles_ok && handle == MPI_T_PVAR_ALL_HANDLES {
        return Ok(());
    }
    Err(no_handle("performance variable"))
}

pub unsafe fn t_pvar_handle_alloc(
    session: MPI_T_pvar_session,
    pvar_index: c_int,
    _obj_handle: *mut c_void,
    _handle: *mut MPI_T_pvar_handle,
    _count: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    if !STATE.lock().sessions.contains(&session.0) {
        return Err(bad_session());
    }
    Err(no_index("performance variable", pvar_index))
}

pub unsafe fn t_pvar_handle_free(
    session: MPI_T_pvar_session,
    handle: *mut MPI_T_pvar_handle,
) -> Result<(), MpiError> {
    let h = handle.as_ref().copied().unwrap_or(MPI_T_PVAR_HANDLE_NULL);
    session_and_handle(session, h, false)
}

/// Starting, stopping and resetting all handles of a session that has none does nothing.
pub fn t_pvar_start(session: MPI_T_pvar_session, h: MPI_T_pvar_handle) -> Result<(), MpiError> {
    session_and_handle(session, h, true)
}

pub fn t_pvar_stop(session: MPI_T_pvar_session, h: MPI_T_pvar_handle) -> Result<(), MpiError> {
    session_and_handle(session, h, true)
}

pub fn t_pvar_reset(session: MPI_T_pvar_session, h: MPI_T_pvar_handle) -> Result<(), MpiError> {
    session_and_handle(session, h, true)
}

pub unsafe fn t_pvar_read(
    session: MPI_T_pvar_session,
    h: MPI_T_pvar_handle,
    _buf: *mut c_void,
) -> Result<(), MpiError> {
    session_and_handle(session, h, false)
}

pub unsafe fn t_pvar_readreset(
    session: MPI_T_pvar_session,
    h: MPI_T_pvar_handle,
    _buf: *mut c_void,
) -> Result<(), MpiError> {
    session_and_handle(session, h, false)
}

pub unsafe fn t_pvar_write(
    session: MPI_T_pvar_session,
    h: MPI_T_pvar_handle,
    _buf: *const c_void,
) -> Result<(), MpiError> {
    session_and_handle(session, h, false)
}

// ---- categories ----

pub unsafe fn t_category_get_num(num_cat: *mut c_int) -> Result<(), MpiError> {
    zero(num_cat, "num_cat")
}

/// The categories never change: the update number stays 0.
pub unsafe fn t_category_changed(update_number: *mut c_int) -> Result<(), MpiError> {
    zero(update_number, "update_number")
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn t_category_get_info(
    cat_index: c_int,
    _name: *mut c_char,
    _name_len: *mut c_int,
    _desc: *mut c_char,
    _desc_len: *mut c_int,
    _num_cvars: *mut c_int,
    _num_pvars: *mut c_int,
    _num_categories: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("category", cat_index))
}

pub unsafe fn t_category_get_index(
    _name: *const c_char,
    _cat_index: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_name("category"))
}

pub unsafe fn t_category_get_num_events(
    cat_index: c_int,
    _num_events: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("category", cat_index))
}

pub unsafe fn t_category_get_cvars(
    cat_index: c_int,
    _len: c_int,
    _indices: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("category", cat_index))
}

pub unsafe fn t_category_get_pvars(
    cat_index: c_int,
    _len: c_int,
    _indices: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("category", cat_index))
}

pub unsafe fn t_category_get_categories(
    cat_index: c_int,
    _len: c_int,
    _indices: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("category", cat_index))
}

pub unsafe fn t_category_get_events(
    cat_index: c_int,
    _len: c_int,
    _indices: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("category", cat_index))
}

// ---- events and their sources ----

pub unsafe fn t_event_get_num(num_events: *mut c_int) -> Result<(), MpiError> {
    zero(num_events, "num_events")
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn t_event_get_info(
    event_index: c_int,
    _name: *mut c_char,
    _name_len: *mut c_int,
    _verbosity: *mut c_int,
    _array_of_datatypes: *mut MPI_Datatype,
    _array_of_displacements: *mut MPI_Aint,
    _num_elements: *mut c_int,
    _enumtype: *mut MPI_T_enum,
    _info: *mut MPI_Info,
    _desc: *mut c_char,
    _desc_len: *mut c_int,
    _bind: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("event type", event_index))
}

pub unsafe fn t_event_get_index(
    _name: *const c_char,
    _event_index: *mut c_int,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_name("event type"))
}

pub unsafe fn t_event_handle_alloc(
    event_index: c_int,
    _obj_handle: *mut c_void,
    _info: MPI_Info,
    _event_registration: *mut MPI_T_event_registration,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("event type", event_index))
}

/// Every call on a registration or an event instance: none can exist.
fn no_registration() -> Result<(), MpiError> {
    initialized()?;
    Err(no_handle("event registration or event instance"))
}

pub unsafe fn t_event_handle_free(
    _event_registration: MPI_T_event_registration,
    _user_data: *mut c_void,
    _free_cb_function: Option<MPI_T_event_free_cb_function>,
) -> Result<(), MpiError> {
    no_registration()
}

pub unsafe fn t_event_handle_get_info(
    _event_registration: MPI_T_event_registration,
    _info_used: *mut MPI_Info,
) -> Result<(), MpiError> {
    no_registration()
}

pub fn t_event_handle_set_info(
    _event_registration: MPI_T_event_registration,
    _info: MPI_Info,
) -> Result<(), MpiError> {
    no_registration()
}

pub unsafe fn t_event_register_callback(
    _event_registration: MPI_T_event_registration,
    _cb_safety: MPI_T_cb_safety,
    _info: MPI_Info,
    _user_data: *mut c_void,
    _event_cb_function: Option<MPI_T_event_cb_function>,
) -> Result<(), MpiError> {
    no_registration()
}

pub unsafe fn t_event_callback_get_info(
    _event_registration: MPI_T_event_registration,
    _cb_safety: MPI_T_cb_safety,
    _info_used: *mut MPI_Info,
) -> Result<(), MpiError> {
    no_registration()
}

pub fn t_event_callback_set_info(
    _event_registration: MPI_T_event_registration,
    _cb_safety: MPI_T_cb_safety,
    _info: MPI_Info,
) -> Result<(), MpiError> {
    no_registration()
}

pub fn t_event_set_dropped_handler(
    _event_registration: MPI_T_event_registration,
    _dropped_cb_function: Option<MPI_T_event_dropped_cb_function>,
) -> Result<(), MpiError> {
    no_registration()
}

pub unsafe fn t_event_read(
    _event_instance: MPI_T_event_instance,
    _element_index: c_int,
    _buffer: *mut c_void,
) -> Result<(), MpiError> {
    no_registration()
}

pub unsafe fn t_event_copy(
    _event_instance: MPI_T_event_instance,
    _buffer: *mut c_void,
) -> Result<(), MpiError> {
    no_registration()
}

pub unsafe fn t_event_get_timestamp(
    _event_instance: MPI_T_event_instance,
    _event_timestamp: *mut MPI_Count,
) -> Result<(), MpiError> {
    no_registration()
}

pub unsafe fn t_event_get_source(
    _event_instance: MPI_T_event_instance,
    _source_index: *mut c_int,
) -> Result<(), MpiError> {
    no_registration()
}

pub unsafe fn t_source_get_num(num_sources: *mut c_int) -> Result<(), MpiError> {
    zero(num_sources, "num_sources")
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn t_source_get_info(
    source_index: c_int,
    _name: *mut c_char,
    _name_len: *mut c_int,
    _desc: *mut c_char,
    _desc_len: *mut c_int,
    _ordering: *mut MPI_T_source_order,
    _ticks_per_second: *mut MPI_Count,
    _max_ticks: *mut MPI_Count,
    _info: *mut MPI_Info,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("event source", source_index))
}

pub unsafe fn t_source_get_timestamp(
    source_index: c_int,
    _timestamp: *mut MPI_Count,
) -> Result<(), MpiError> {
    initialized()?;
    Err(no_index("event source", source_index))
}
