//! Runs one test: an untimed call (whose outcome every rank learns), four probe iterations to
//! estimate its duration, a warm-up, then timed iterations sized to a time budget. Every rank
//! times each iteration; the sample of an iteration is the slowest rank's time (one
//! MAX-allreduce of all samples at the end, so it adds nothing to the timed calls).

use super::stats::{self, Summary};
use fmi::{BuiltinOp, Communicator, Datatype, Error, ErrorKind, ReduceOp, Result};

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
    for _ in 0..iters {
        samples.push(iter(c)?);
    }
    let samples = max_over_ranks(c, &samples)?;
    Ok(stats::summarize(&samples))
}
