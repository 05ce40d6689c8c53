//! fmi-bench: OSU-style measurements of libfmi next to baselines measured in the same run.
//!
//! [`ops`] runs one iteration of each operation, [`runner`] sizes warm-up and timed iterations to
//! a time budget and turns samples into [`Record`]s, [`tcp_baseline`] ping-pongs over a plain TCP
//! connection between the same peers, `s3_baseline` times one bare PUT + GET on S3, [`launch`] starts N local peers when the program is not
//! run by `fmirun`, [`report`] prints tables, CSV and JSON (and merges the records of several
//! runs, e.g. with an MPI program's), and [`plot`] draws an SVG chart.

pub mod explain;
pub mod launch;
pub mod ops;
pub mod plot;
pub mod report;
pub mod runner;
#[cfg(feature = "s3")]
pub mod s3_baseline;
pub mod stats;
pub mod tcp_baseline;

use serde::{Deserialize, Serialize};

/// Implementation name of libfmi's own figures; the others are baselines.
pub const LIBFMI: &str = "libfmi";

/// One measured test: an operation at one size on one implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// "libfmi", "tcp-block", "tcp-spin", "openmpi", ...
    #[serde(rename = "impl")]
    pub implementation: String,
    /// libfmi: the channel ("direct", "redis"); baselines: their transport ("tcp").
    pub channel: String,
    /// An [`ops::Op`] name: "pingpong", "bw", "bibw", "bcast", "barrier", "gather", "scatter",
    /// "reduce", "allreduce", "iallreduce", "scan", "allgather", "alltoall".
    pub op: String,
    /// Algorithm where several exist ("auto", "ring", "recursive_doubling"), else "".
    #[serde(default)]
    pub algo: String,
    /// Message size: per message (pingpong, bw, bibw), per rank (collectives), per pair
    /// (alltoall).
    pub bytes: u64,
    pub peers: u32,
    /// Messages per timed sample (bw, and bibw in each direction; 0 otherwise).
    #[serde(default)]
    pub window: u32,
    pub iters: u64,
    /// Per sample: one-way time (pingpong), one window (bw; bibw: the slower of ranks 0 and 1),
    /// the slowest rank's call (collectives).
    pub median_us: f64,
    pub p90_us: f64,
    pub min_us: f64,
    /// 10^6 bytes per second: [`Record::moved`] / median.
    pub mbps: f64,
    /// Round of an interleaved series of runs (0 when there is one).
    #[serde(default)]
    pub round: u32,
    /// CPU time (user and system, every thread) of all ranks together per timed iteration, µs,
    /// when the benchmark measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_us: Option<f64>,
    /// Context switches (voluntary and involuntary) of all ranks together per timed iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctxsw: Option<f64>,
    /// Wall time per timed iteration, µs, including the untimed parts of an iteration (a
    /// collective's barrier before each call), mean over ranks: with `cpu_us`, the share of the
    /// ranks' time spent on a CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_us: Option<f64>,
}

impl Record {
    /// The series a record belongs to, e.g. "libfmi direct", "libfmi direct ring", "openmpi tcp",
    /// "tcp-block".
    pub fn series(&self) -> String {
        let mut s = if self.implementation.starts_with("tcp-") {
            self.implementation.clone()
        } else {
            format!("{} {}", self.implementation, self.channel)
        };
        if !self.algo.is_empty() && self.algo != "auto" {
            s.push(' ');
            s.push_str(&self.algo);
        }
        s
    }

    /// Bytes a sample moves: the size, times the window (bw, bibw), times 2 for bibw (both
    /// directions).
    pub fn moved(&self) -> f64 {
        let directions = ops::Op::from_name(&self.op).map_or(1, ops::Op::directions);
        self.bytes as f64 * f64::from(self.window.max(1)) * directions as f64
    }

    /// MB/s of a median: [`Record::moved`] / `median_us` (0 for no time).
    pub fn mbps_of(&self, median_us: f64) -> f64 {
        if median_us > 0.0 {
            self.moved() / median_us
        } else {
            0.0
        }
    }

    /// True for libfmi's figures (the others are baselines).
    pub fn is_libfmi(&self) -> bool {
        self.implementation == LIBFMI
    }
}

/// Parses a size: a number with an optional K, M or G suffix (binary: 1K = 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("bad size {s:?} (use e.g. 8, 64K, 16M)");
    let mut t = s.trim().to_ascii_uppercase();
    if t.len() > 1 && t.ends_with('B') {
        t.pop();
    }
    let mul = match t.chars().last() {
        Some('K') => 1u64 << 10,
        Some('M') => 1 << 20,
        Some('G') => 1 << 30,
        _ => 1,
    };
    if mul > 1 {
        t.pop();
    }
    let n: u64 = t.trim().parse().map_err(|_| bad())?;
    n.checked_mul(mul)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

/// Short human form of a size: 8, 1K, 64K, 1M, 16M (exact binary multiples only).
pub fn human_size(b: u64) -> String {
    if b >= 1 << 30 && b % (1 << 30) == 0 {
        format!("{}G", b >> 30)
    } else if b >= 1 << 20 && b % (1 << 20) == 0 {
        format!("{}M", b >> 20)
    } else if b >= 1 << 10 && b % (1 << 10) == 0 {
        format!("{}K", b >> 10)
    } else {
        b.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8"), Ok(8));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("16MB"), Ok(16 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("x").is_err());
        assert_eq!(human_size(16 << 20), "16M");
        assert_eq!(human_size(1536), "1536");
        assert_eq!(human_size(0), "0");
    }

    #[test]
    fn moved_bytes() {
        let mut r = Record {
            implementation: LIBFMI.into(),
            channel: "direct".into(),
            op: "bw".into(),
            algo: String::new(),
            bytes: 1000,
            peers: 2,
            window: 64,
            iters: 1,
            median_us: 10.0,
            p90_us: 10.0,
            min_us: 10.0,
            mbps: 0.0,
            round: 0,
            cpu_us: None,
            ctxsw: None,
            wall_us: None,
        };
        assert_eq!(r.mbps_of(10.0), 6400.0);
        r.op = "bibw".into();
        assert_eq!(r.mbps_of(10.0), 12800.0);
        r.op = "iallreduce".into();
        r.window = 0;
        assert_eq!(r.mbps_of(10.0), 100.0);
        assert_eq!(r.mbps_of(0.0), 0.0);
    }
}
