//! Info objects: ordered (key, value) lists; `MPI_INFO_ENV` describes how the process was
//! started. The libfmi hints on communicators (`fmi_hint`, `fmi_channel`) are read here.

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::handles::Table;
use parking_lot::Mutex;

/// One info object.
#[derive(Debug, Default)]
pub struct InfoObj {
    pub entries: Mutex<Vec<(String, String)>>,
}

impl InfoObj {
    pub fn from(entries: Vec<(String, String)>) -> InfoObj {
        InfoObj {
            entries: Mutex::new(entries),
        }
    }
    pub fn get(&self, key: &str) -> Option<String> {
        self.entries
            .lock()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
    /// Sets `key` (replacing its value, keeping its place).
    pub fn set(&self, key: &str, value: &str) {
        let mut e = self.entries.lock();
        match e.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.to_string(),
            None => e.push((key.to_string(), value.to_string())),
        }
    }
    pub fn snapshot(&self) -> Vec<(String, String)> {
        self.entries.lock().clone()
    }
}

/// The info objects by handle.
pub static INFOS: Table<InfoObj> = Table::new("info");

/// The info object behind `h` (MPI_INFO_ENV included).
pub fn get(h: MPI_Info) -> Result<std::sync::Arc<InfoObj>, MpiError> {
    if h == MPI_INFO_ENV && !INFOS.contains(h.0) {
        INFOS.insert_at(h.0, InfoObj::from(env_entries()));
    }
    INFOS.get(h.0).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_INFO,
            if h == MPI_INFO_NULL {
                "the info object is MPI_INFO_NULL".to_string()
            } else {
                format!("{:#x} is not a live info object", h.0)
            },
        )
    })
}

/// The entries of `h`, or none for MPI_INFO_NULL.
pub fn entries_or_null(h: MPI_Info) -> Result<Vec<(String, String)>, MpiError> {
    if h == MPI_INFO_NULL {
        return Ok(Vec::new());
    }
    Ok(get(h)?.snapshot())
}

/// MPI_INFO_ENV's keys (those the standard lists that this launch knows).
fn env_entries() -> Vec<(String, String)> {
    let args: Vec<String> = std::env::args().collect();
    let mut e = Vec::new();
    if let Some(cmd) = args.first() {
        e.push(("command".to_string(), cmd.clone()));
    }
    if args.len() > 1 {
        e.push(("argv".to_string(), args[1..].join(" ")));
    }
    let procs = std::env::var("FMI_NUM_PEERS").unwrap_or_else(|_| "1".into());
    e.push(("maxprocs".to_string(), procs));
    if let Ok(d) = std::env::current_dir() {
        e.push(("wdir".to_string(), d.display().to_string()));
    }
    e.push(("host".to_string(), crate::objects::host::name()));
    e.push(("arch".to_string(), std::env::consts::ARCH.to_string()));
    e.push((
        "thread_level".to_string(),
        match crate::objects::world::thread_level() {
            MPI_THREAD_FUNNELED => "MPI_THREAD_FUNNELED",
            MPI_THREAD_SERIALIZED => "MPI_THREAD_SERIALIZED",
            MPI_THREAD_MULTIPLE => "MPI_THREAD_MULTIPLE",
            _ => "MPI_THREAD_SINGLE",
        }
        .to_string(),
    ));
    e
}

/// The `fmi_hint` value: "fast" or "cheap".
pub fn parse_hint(v: &str) -> Result<fmi::Hint, MpiError> {
    match v.trim() {
        "fast" => Ok(fmi::Hint::Fast),
        "cheap" => Ok(fmi::Hint::Cheap),
        other => Err(MpiError::new(
            MPI_ERR_INFO_VALUE,
            format!("fmi_hint {other:?}: expected \"fast\" or \"cheap\""),
        )),
    }
}
