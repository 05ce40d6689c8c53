//! `FMI_TRACE=path.jsonl`: one JSON line per operation, appended to `path` (every peer and
//! communicator of every process may share one file: each line is written with one `write` on a
//! file opened for appending).
//!
//! Fields: `time` (Unix seconds at the end), `comm`, `rank`, `peers`, `seq` (collective call
//! number), `op`, `bytes`, `channel`, `algorithm` (the one that ran, as the plan chose it;
//! "none" when none could run), `hint`, `pinned`, `predicted_s`, `measured_s` (this peer's
//! time in the call), `predicted_cost_usd`, `ok`.

use crate::error::{Error, Result};
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// One line of the trace.
#[derive(Debug, Serialize)]
pub struct Line<'a> {
    pub time: f64,
    pub comm: &'a str,
    pub rank: usize,
    pub peers: usize,
    pub seq: u64,
    pub op: &'a str,
    pub bytes: usize,
    pub channel: &'a str,
    pub algorithm: &'a str,
    pub hint: &'a str,
    pub pinned: bool,
    pub predicted_s: f64,
    pub measured_s: f64,
    pub predicted_cost_usd: f64,
    pub ok: bool,
}

/// An open trace file.
#[derive(Debug)]
pub struct Trace {
    file: File,
    path: String,
}

impl Trace {
    /// The trace named by `FMI_TRACE`, if set and not empty.
    pub fn from_env() -> Result<Option<Trace>> {
        match std::env::var_os("FMI_TRACE").filter(|s| !s.is_empty()) {
            Some(p) => Trace::open(Path::new(&p)).map(Some),
            None => Ok(None),
        }
    }

    pub fn open(path: &Path) -> Result<Trace> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                Error::config(format!("FMI_TRACE: cannot open {}: {e}", path.display()))
            })?;
        Ok(Trace {
            file,
            path: path.display().to_string(),
        })
    }

    /// The same file opened again (for a communicator derived from this one's).
    pub fn reopen(&self) -> Result<Trace> {
        Trace::open(Path::new(&self.path))
    }

    /// Appends one line. A failing write is logged once per communicator and never fails the
    /// operation that was traced.
    pub fn write(&mut self, line: &Line) {
        let mut text = match serde_json::to_string(line) {
            Ok(t) => t,
            Err(_) => return,
        };
        text.push('\n');
        if let Err(e) = self.file.write_all(text.as_bytes()) {
            tracing::warn!("FMI_TRACE {}: {e}", self.path);
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
