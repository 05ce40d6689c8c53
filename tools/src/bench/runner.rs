//! Runs one test: an untimed call (whose outcome every rank learns), four probe iterations to
//! estimate its duration, a warm-up, then timed iterations sized to a time budget. Every rank
//! times each iteration; the sample of an iteration is the slowest rank's time (one
//! MAX-allreduce of all samples at the end, so it adds nothing to the timed calls). Each rank also
//! reads its process's CPU time, context switches and the clock before and after the timed
//! iterations; per iteration, the sums over ranks of the first two and the mean of the third go
//! with the summary.

use super::stats::{self, Summary};
use fmi::{BuiltinOp, Communicator, Datatype, Error, ErrorKind, ReduceOp, Result};
use std::time::Instant;

/// How long and how often to run each test.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Target time of the timed iterations of one test, microseconds.
    pub budget_us: f64,
    /// Scales the iteration bounds of [`stats::iteration_bounds`] (1 = as the MPI baseline).
    pub scale: f64,
}

/// Elementwise maximum over ranks of `samples` (every rank passes the same length).
fn max_over_ranks(c: &mut Communicator, samples: &[f64]) -> Result<Vec<f64>> {
    over_ranks(c, samples, BuiltinOp::Max)
}

/// Elementwise `op` over ranks of `values` (every rank passes the same length).
fn over_ranks(c: &mut Communicator, values: &[f64], op: BuiltinOp) -> Result<Vec<f64>> {
    let mut bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
    let op = ReduceOp::builtin(op);
    // The direct channel's default algorithms; this is bookkeeping, not a measured call.
    c.allreduce_in_place(&mut bytes, Datatype::Double, &op)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|b| f64::from_ne_bytes(b.try_into().expect("8 bytes")))
        .collect())
}

/// Runs the first, untimed iteration and tells every rank whether one of them failed, and with
/// which kind of error: an operation a channel does not support (e.g. non-blocking calls on a
/// store channel) then fails on every rank, also on those that take no part in a
/// point-to-point test, instead of leaving them waiting for the others.
fn first_call(
    c: &mut Communicator,
    iter: &mut impl FnMut(&mut Communicator) -> Result<f64>,
) -> Result<()> {
    let mine = iter(c);
    let code = mine.as_ref().err().map_or(0, |e| e.kind().code());
    let worst = max_over_ranks(c, &[f64::from(code)])?[0];
    mine?;
    if worst == 0.0 {
        return Ok(());
    }
    let kind = ErrorKind::from_code(worst as i32).unwrap_or(ErrorKind::Internal);
    Err(Error::new(
        kind,
        format!(
            "another rank failed the first call of this test: {}",
            kind.describe()
        ),
    ))
}

/// Measures `iter` (which returns this rank's sample of one iteration, µs) for a message size of
/// `bytes`. Every rank must call it with the same arguments; every rank gets the same summary,
/// or an error when a rank's first call failed.
pub fn measure(
    c: &mut Communicator,
    bytes: usize,
    budget: Budget,
    mut iter: impl FnMut(&mut Communicator) -> Result<f64>,
) -> Result<Summary> {
    first_call(c, &mut iter)?;
    let mut probe = [0.0f64; 4];
    for p in probe.iter_mut() {
        *p = iter(c)?;
    }
    let probe = max_over_ranks(c, &probe)?;
    let estimate = stats::median(&probe);
    let (warmup, iters) = stats::plan(estimate, budget.budget_us, bytes, budget.scale);
    for _ in 0..warmup {
        iter(c)?;
    }
    let mut samples = Vec::with_capacity(iters);
    let (before, start) = (usage(), Instant::now());
    for _ in 0..iters {
        samples.push(iter(c)?);
    }
    let (after, wall) = (usage(), start.elapsed().as_secs_f64() * 1e6);
    let samples = max_over_ranks(c, &samples)?;
    let mut summary = stats::summarize(&samples);
    let spent = [after[0] - before[0], after[1] - before[1], wall];
    let total = over_ranks(c, &spent, BuiltinOp::Sum)?;
    let n = samples.len().max(1) as f64;
    summary.cpu_us = Some(total[0] / n);
    summary.ctxsw = Some(total[1] / n);
    summary.wall_us = Some(total[2] / n / c.size().max(1) as f64);
    Ok(summary)
}

/// This process's CPU time (user and system, every thread; µs) and its context switches so far.
fn usage() -> [f64; 2] {
    // SAFETY: getrusage writes one rusage into the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF is always valid, so the call cannot fail.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    [
        us(u.ru_utime) + us(u.ru_stime),
        (u.ru_nvcsw + u.ru_nivcsw) as f64,
    ]
}
