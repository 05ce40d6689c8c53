//! The process's MPI lifetime: `MPI_Init` makes `MPI_COMM_WORLD` from the same environment as
//! libfmi programs under `fmirun` (`fmi::Communicator::from_env`: `FMI_PEER_ID`,
//! `FMI_NUM_PEERS`, `FMI_COMM_NAME`, `FMI_CONFIG`, ...), or a world of one process when the
//! program was started alone; `MPI_COMM_SELF` is this process alone. `MPI_Finalize` closes
//! them.
//!
//! Environment read here (documented in docs/mpi.md):
//! - `FMI_MPI_TIMEOUT`: the bound of every blocking MPI call, seconds (default 900, Lambda's
//!   limit); when it fires the call fails through the error handler, naming the peer and call;
//! - `FMI_MPI_HINT` (`fast`/`cheap`) and `FMI_MPI_CHANNEL` (`direct`/`redis`/`s3`/`auto`):
//!   the channel choice of every communicator, for programs that do not set the `fmi_hint` /
//!   `fmi_channel` info keys themselves.

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::objects::comm::{CommObj, COMMS};
use crate::objects::errhandler::{self, ERRHANDLERS};
use parking_lot::Mutex;
use std::ffi::c_int;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Before,
    Running,
    Finalized,
}

struct State {
    phase: Phase,
    level: c_int,
    main: Option<std::thread::ThreadId>,
}

static STATE: Mutex<State> = Mutex::new(State {
    phase: Phase::Before,
    level: MPI_THREAD_SINGLE,
    main: None,
});

/// The highest thread level the library provides: calls from any thread, one at a time. The
/// core runs one call at a time per communicator, and the communicators of one init share
/// their connections behind a lock per call, so a blocking call in one thread would hold up
/// calls in others: `MPI_THREAD_MULTIPLE` would not be truthful.
pub const MAX_THREAD_LEVEL: c_int = MPI_THREAD_SERIALIZED;

/// Default bound of a blocking call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(900);

/// The tag of the create_group that makes MPI_COMM_SELF at init (no user call runs then).
const SELF_TAG: u32 = 0;

pub fn initialized() -> bool {
    STATE.lock().phase != Phase::Before
}

pub fn finalized() -> bool {
    STATE.lock().phase == Phase::Finalized
}

pub fn running() -> Result<(), MpiError> {
    match STATE.lock().phase {
        Phase::Running => Ok(()),
        Phase::Before => Err(MpiError::other(
            "MPI is not initialized (call MPI_Init first)",
        )),
        Phase::Finalized => Err(MpiError::other("MPI is finalized")),
    }
}

pub fn thread_level() -> c_int {
    STATE.lock().level
}

pub fn is_main_thread() -> bool {
    STATE.lock().main == Some(std::thread::current().id())
}

/// The bound of blocking calls (`FMI_MPI_TIMEOUT`, seconds).
pub fn timeout() -> Result<Duration, MpiError> {
    match std::env::var("FMI_MPI_TIMEOUT") {
        Err(_) => Ok(DEFAULT_TIMEOUT),
        Ok(v) => match v.trim().parse::<f64>() {
            Ok(s) if s > 0.0 && s.is_finite() && s < 1e9 => Ok(Duration::from_secs_f64(s)),
            _ => Err(MpiError::arg(format!(
                "FMI_MPI_TIMEOUT: expected a number of seconds > 0, got {v:?}"
            ))),
        },
    }
}

/// Applies the environment's hint and pin to a new communicator (collective).
pub fn apply_env_channel(core: &mut fmi::Communicator) -> Result<(), MpiError> {
    if let Ok(h) = std::env::var("FMI_MPI_HINT") {
        let hint = crate::objects::info::parse_hint(&h)
            .map_err(|e| MpiError::arg(format!("FMI_MPI_HINT: {}", e.msg)))?;
        core.set_hint(hint)?;
    }
    if let Ok(c) = std::env::var("FMI_MPI_CHANNEL") {
        core.pin_channel(c.trim())?;
    }
    Ok(())
}

fn connect_world() -> Result<fmi::Communicator, MpiError> {
    let launched =
        std::env::var_os("FMI_PEER_ID").is_some() || std::env::var_os("FMI_NUM_PEERS").is_some();
    let core = if launched {
        fmi::Communicator::from_env()
    } else {
        // Started alone (no fmirun): a world of one process.
        let path = std::env::var_os("FMI_CONFIG").filter(|s| !s.is_empty());
        fmi::Config::load(path.as_deref().map(std::path::Path::new)).and_then(|cfg| {
            let name = format!("mpi-single-{}", std::process::id());
            fmi::Communicator::new(0, 1, cfg, &name, 0)
        })
    };
    core.map_err(|e| MpiError::other(format!("cannot join the MPI world: {e}")))
}

/// MPI_Init / MPI_Init_thread: returns the provided thread level.
pub fn init(required: c_int) -> Result<c_int, MpiError> {
    let mut st = STATE.lock();
    match st.phase {
        Phase::Running => return Err(MpiError::other("MPI is already initialized")),
        Phase::Finalized => {
            return Err(MpiError::other(
                "MPI was finalized: it cannot be initialized again",
            ))
        }
        Phase::Before => {}
    }
    if ![
        MPI_THREAD_SINGLE,
        MPI_THREAD_FUNNELED,
        MPI_THREAD_SERIALIZED,
        MPI_THREAD_MULTIPLE,
    ]
    .contains(&required)
    {
        return Err(MpiError::arg(format!(
            "required thread level {required} is none of MPI_THREAD_SINGLE, _FUNNELED, \
             _SERIALIZED, _MULTIPLE"
        )));
    }
    errhandler::install_predefined();
    let mut world = connect_world()?;
    world.set_timeout(timeout()?)?;
    apply_env_channel(&mut world)?;
    let rank = world.rank();
    let size = world.size();
    crate::objects::comm::set_world_group(Some(world.group()));
    let me = world.group().incl(&[rank])?;
    let mut own = world.create_group(&me, SELF_TAG)?;
    own.set_timeout(timeout()?)?;
    let fatal = ERRHANDLERS
        .get(MPI_ERRORS_ARE_FATAL.0)
        .expect("predefined handlers installed");
    COMMS.insert_at(
        MPI_COMM_WORLD.0,
        CommObj::new(
            world,
            (0..size).collect(),
            (MPI_ERRORS_ARE_FATAL, fatal.clone()),
            "MPI_COMM_WORLD",
        ),
    );
    COMMS.insert_at(
        MPI_COMM_SELF.0,
        CommObj::new(
            own,
            vec![rank],
            (MPI_ERRORS_ARE_FATAL, fatal),
            "MPI_COMM_SELF",
        ),
    );
    for h in [MPI_COMM_WORLD.0, MPI_COMM_SELF.0] {
        if let Some(o) = COMMS.get(h) {
            o.ep.set_buffer_key(h);
        }
    }
    let provided = required.min(MAX_THREAD_LEVEL);
    st.phase = Phase::Running;
    st.level = provided;
    st.main = Some(std::thread::current().id());
    Ok(provided)
}

/// MPI_Finalize: deletes MPI_COMM_SELF's attributes (their delete callbacks run first, as the
/// standard says), closes every communicator (world last: its close is collective, so no
/// process leaves while another still sends) and frees the objects.
pub fn finalize() -> Result<(), MpiError> {
    running()?;
    crate::objects::attr::delete_all(MPI_COMM_SELF)?;
    // Requests freed while active, and any the program left, finish before the communicators
    // they use close.
    crate::objects::request::finish_orphans();
    // Windows left open stop serving before the connections close.
    crate::objects::win::release_all();
    // Files the program left open are closed (their groups' cores dropped) before the world.
    crate::objects::file::close_all();
    let comms = COMMS.clear();
    let mut world = None;
    let mut result = Ok(());
    for (h, obj) in comms {
        let Ok(obj) = std::sync::Arc::try_unwrap(obj) else {
            result = Err(MpiError::other(format!(
                "communicator {h:#x} is in use by another thread"
            )));
            continue;
        };
        let core = match obj.into_core() {
            Ok(c) => c,
            Err(e) => {
                result = result.and(Err(e));
                continue;
            }
        };
        if h == MPI_COMM_WORLD.0 {
            world = Some(core);
        } else if h == MPI_COMM_SELF.0 {
            // One member: its close is local.
            if let Err(e) = core.free() {
                result = result.and(Err(MpiError::from(e)));
            }
        } else {
            // Not freed by the program: dropped (local), its connections stay with the world's.
            drop(core);
        }
    }
    if let Some(w) = world {
        if let Err(e) = w.finalize() {
            result = result.and(Err(MpiError::from(e)));
        }
    }
    crate::objects::release_all();
    crate::objects::comm::set_world_group(None);
    STATE.lock().phase = Phase::Finalized;
    result
}
