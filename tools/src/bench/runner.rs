//! Runs one test: an untimed call, four probe iterations to estimate its duration, a warm-up,
//! then timed iterations sized to a time budget. Every rank times each iteration; the sample of
//! an iteration is the slowest rank's time (one MAX-allreduce of all samples at the end, so it
//! adds nothing to the timed calls).

use super::stats::{self, Summary};
use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp, Result};

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
    let mut bytes: Vec<u8> = samples.iter().flat_map(|v| v.to_ne_bytes()).collect();
    let max = ReduceOp::builtin(BuiltinOp::Max);
    // The direct channel's default algorithms; this is bookkeeping, not a measured call.
    c.allreduce_in_place(&mut bytes, Datatype::Double, &max)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|b| f64::from_ne_bytes(b.try_into().expect("8 bytes")))
        .collect())
}

/// Measures `iter` (which returns this rank's sample of one iteration, µs) for a message size of
/// `bytes`. Every rank must call it with the same arguments; every rank gets the same summary.
pub fn measure(
    c: &mut Communicator,
    bytes: usize,
    budget: Budget,
    mut iter: impl FnMut(&mut Communicator) -> Result<f64>,
) -> Result<Summary> {
    iter(c)?;
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
    for _ in 0..iters {
        samples.push(iter(c)?);
    }
    let samples = max_over_ranks(c, &samples)?;
    Ok(stats::summarize(&samples))
}
