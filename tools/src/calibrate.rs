//! Calibration: a short measurement of send/recv and allreduce on every enabled channel of a
//! communicator (every peer calls it), a fit of each channel's overhead and bandwidth to the
//! send/recv times, and of the reduction bandwidth to a local fold; allreduce is measured to
//! check the fitted model against an operation it was not fitted to.
//!
//! Store channels: an alltoall of blocks of 1 MiB and more (every peer writes and reads at
//! once) also measures the aggregate bandwidth of the store (`bandwidth_multiple`): about
//! `bandwidth_single` for a single-threaded Redis, more for S3.

use crate::fit;
use fmi::channel::ChannelKind;
use fmi::config::{Config, ModelConfig};
use fmi::error::{Error, ErrorKind, Result};
use fmi::model::{Call, Model};
use fmi::tag::OpCode;
use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};
use std::time::Instant;

/// How long to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Message sizes, bytes (multiples of 4: allreduce folds float32).
    pub sizes: Vec<usize>,
    /// Target time of the timed iterations of one operation at one size, seconds.
    pub budget_s: f64,
    /// Sweeps over every channel, operation and size; each point keeps the lowest median of
    /// its sweeps (other load on the machine only ever adds time).
    pub rounds: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            sizes: vec![8, 1 << 10, 16 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20],
            budget_s: 0.1,
            rounds: 2,
        }
    }
}

/// One measured operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub channel: ChannelKind,
    /// "send" (one-way, half a ping-pong between ranks 0 and 1), "allreduce" (float32 sum, the
    /// slowest rank) or, on a store, "alltoall" (blocks of `bytes`, the slowest rank).
    pub op: &'static str,
    pub bytes: usize,
    pub peers: usize,
    pub iterations: usize,
    /// Median, seconds.
    pub measured_s: f64,
    /// The fitted model's prediction, seconds.
    pub predicted_s: f64,
    /// The algorithm the model expects.
    pub algorithm: &'static str,
}

impl Sample {
    /// measured / predicted
    pub fn ratio(&self) -> f64 {
        self.measured_s / self.predicted_s
    }
}

/// The result: the fitted `model` section and every sample with its prediction.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub model: ModelConfig,
    pub samples: Vec<Sample>,
    pub notes: Vec<String>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Elementwise maximum over the ranks (every rank passes the same length).
fn max_over_ranks(c: &mut Communicator, v: &[f64]) -> Result<Vec<f64>> {
    let mut bytes: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
    c.allreduce_in_place(
        &mut bytes,
        Datatype::Double,
        &ReduceOp::builtin(BuiltinOp::Max),
    )?;
    Ok(bytes
        .chunks_exact(8)
        .map(|b| f64::from_ne_bytes(b.try_into().expect("8 bytes")))
        .collect())
}

/// Runs `iter` (which returns this rank's seconds, or None when it takes no part) for a time
/// budget; returns the median over iterations of the slowest rank's time, and the iterations.
fn timed(
    c: &mut Communicator,
    budget_s: f64,
    mut iter: impl FnMut(&mut Communicator) -> Result<Option<f64>>,
) -> Result<(f64, usize)> {
    let mut probe = [0.0; 2];
    iter(c)?;
    for p in probe.iter_mut() {
        *p = iter(c)?.unwrap_or(0.0);
    }
    let probe = max_over_ranks(c, &probe)?;
    let each = probe[0].max(probe[1]).max(1e-7);
    // A warm-up of a fifth of the budget, then the timed iterations (as fmi-bench does).
    for _ in 0..((0.2 * budget_s / each) as usize).clamp(2, 4000) {
        iter(c)?;
    }
    let n = ((budget_s / each) as usize).clamp(5, 20000);
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        samples.push(iter(c)?.unwrap_or(0.0));
    }
    let mut all = max_over_ranks(c, &samples)?;
    Ok((median(&mut all), n))
}

/// Seconds to fold `bytes` of float32 into an accumulator (median of this rank's runs; the
/// maximum over the ranks, so every rank gets the same value).
fn reduce_seconds(c: &mut Communicator, bytes: usize) -> Result<f64> {
    let sum = ReduceOp::builtin(BuiltinOp::Sum);
    let mut acc = vec![0u8; bytes];
    let next: Vec<u8> = (0..bytes / 4)
        .flat_map(|i| (i as f32).to_ne_bytes())
        .collect();
    let mut times = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        sum.apply(&mut acc, &next, Datatype::Float);
        times.push(t.elapsed().as_secs_f64());
    }
    let mine = median(&mut times);
    Ok(max_over_ranks(c, &[mine])?[0])
}

/// Broadcasts one byte from rank 0 until rank 0 has spent `seconds`, so the scheduler has
/// placed the peers before anything is measured.
fn warm_up(c: &mut Communicator, seconds: f64) -> Result<()> {
    let start = Instant::now();
    loop {
        let mut go = [u8::from(start.elapsed().as_secs_f64() < seconds)];
        c.bcast(&mut go, 0)?;
        if go[0] == 0 {
            return Ok(());
        }
    }
}

/// Measures and fits every enabled channel of `c`. Collective: every peer calls it with the
/// same plan; every peer gets the same result. Needs at least 2 peers. The channel pin is
/// returned to the model's choice afterwards.
pub fn run(c: &mut Communicator, plan: &Plan) -> Result<Calibration> {
    let samples = measure(c, plan, None)?;
    fit(c, samples)
}

/// Measures send/recv and allreduce (and bcast on a store with 3 or more peers) at every size of
/// `plan` on every enabled channel (or on `only`), each channel pinned in turn; the pin is
/// returned to the model's choice afterwards. Collective; every peer gets the same samples
/// (without predictions).
pub fn measure(
    c: &mut Communicator,
    plan: &Plan,
    only: Option<ChannelKind>,
) -> Result<Vec<Sample>> {
    let n = c.size();
    if n < 2 {
        return Err(Error::invalid("calibration needs at least 2 peers"));
    }
    if plan.sizes.iter().any(|&s| s % 4 != 0 || s == 0) {
        return Err(Error::invalid(
            "calibration sizes must be positive multiples of 4",
        ));
    }
    let channels: Vec<ChannelKind> = c
        .channel_names()
        .iter()
        .filter_map(|n| ChannelKind::from_name(n))
        .filter(|&ch| only.is_none_or(|o| o == ch))
        .collect();
    let mut samples: Vec<Sample> = Vec::new();
    for _ in 0..plan.rounds.max(1) {
        for x in sweep(c, plan, &channels)? {
            match samples
                .iter_mut()
                .find(|y| (y.channel, y.op, y.bytes) == (x.channel, x.op, x.bytes))
            {
                Some(y) if x.measured_s < y.measured_s => *y = x,
                Some(_) => {}
                None => samples.push(x),
            }
        }
    }
    c.pin_channel("auto")?;
    Ok(samples)
}

/// One sweep of [`measure`].
fn sweep(c: &mut Communicator, plan: &Plan, channels: &[ChannelKind]) -> Result<Vec<Sample>> {
    let (rank, n) = (c.rank(), c.size());
    let mut samples = Vec::new();
    let sum = ReduceOp::builtin(BuiltinOp::Sum);
    for &ch in channels {
        c.pin_channel(ch.name())?;
        warm_up(c, 0.1)?;
        for &s in &plan.sizes {
            let mut buf = vec![0u8; s];
            let (t, iters) = timed(c, plan.budget_s, |c| {
                if rank > 1 {
                    return Ok(None);
                }
                let t0 = Instant::now();
                if rank == 0 {
                    c.send(&buf, 1)?;
                    c.recv(&mut buf, 1)?;
                } else {
                    c.recv(&mut buf, 0)?;
                    c.send(&buf, 0)?;
                }
                Ok(Some(t0.elapsed().as_secs_f64() / 2.0))
            })?;
            samples.push(sample(ch, "send", s, n, iters, t));
            let send: Vec<u8> = (0..s / 4).flat_map(|_| 1.0f32.to_ne_bytes()).collect();
            let mut recv = vec![0u8; s];
            let (t, iters) = timed(c, plan.budget_s, |c| {
                c.barrier()?;
                let t0 = Instant::now();
                c.allreduce(&send, &mut recv, Datatype::Float, &sum)?;
                Ok(Some(t0.elapsed().as_secs_f64()))
            })?;
            samples.push(sample(ch, "allreduce", s, n, iters, t));
            if ch.is_store() && s >= 1 << 20 {
                // Every peer writes and reads at once: what the store moves for all of them.
                let out = vec![1u8; s * n];
                let mut back = vec![0u8; s * n];
                let (t, iters) = timed(c, plan.budget_s, |c| {
                    c.barrier()?;
                    let t0 = Instant::now();
                    c.alltoall(&out, &mut back)?;
                    Ok(Some(t0.elapsed().as_secs_f64()))
                })?;
                samples.push(sample(ch, "alltoall", s, n, iters, t));
            }
        }
    }
    Ok(samples)
}

/// Fits the parameters of every channel in `samples` (and the reduction bandwidth, measured
/// here) and predicts every sample with the fitted model. Collective.
pub fn fit(c: &mut Communicator, mut samples: Vec<Sample>) -> Result<Calibration> {
    let mut channels: Vec<ChannelKind> = Vec::new();
    for x in &samples {
        if !channels.contains(&x.channel) {
            channels.push(x.channel);
        }
    }
    // The term matters for large reductions; their pieces of 1 MiB are folded while in cache.
    let fold_bytes = 1 << 20;
    let reduce_s = reduce_seconds(c, fold_bytes)?;
    let mut model = c.config().model.clone();
    model.reduce_bandwidth = fold_bytes as f64 / reduce_s / 1e6;
    let mut notes = Vec::new();
    for &ch in &channels {
        let pts: Vec<(f64, f64)> = samples
            .iter()
            .filter(|x| x.channel == ch && x.op == "send")
            .map(|x| (x.bytes as f64, x.measured_s))
            .collect();
        let f = fit::piecewise(&pts);
        let o = f.overhead_s;
        // A direct message crosses one connection; a store message two (written, then read).
        let crossings = if ch.is_store() { 2.0 } else { 1.0 };
        let mbps = |per_byte: f64| crossings / per_byte / 1e6;
        let (knee, large) = match f.knee {
            Some((k, x)) => (k, mbps(x)),
            None => (0.0, mbps(f.per_byte)),
        };
        if let Some(d) = model.p2p_mut(ch) {
            d.overhead_ms = o * 1e3;
            d.bandwidth = mbps(f.per_byte);
            d.large_message_bytes = knee;
            d.bandwidth_large = large;
        }
        if let Some(m) = model.store_mut(ch) {
            m.overhead_ms = o * 1e3;
            m.bandwidth = mbps(f.per_byte);
            m.large_message_bytes = knee;
            m.bandwidth_large = large;
            // One crossing of b bytes on the fitted curve (a message is two).
            let one = |b: f64| (f.predict(b) - o) / 2.0;
            // Alltoall of blocks of s: a peer writes and reads (n-1) s, all peers n (n-1) s
            // each way. Where the time exceeds what one peer's transfers take, the store's
            // aggregate was the limit: bandwidth_multiple = bandwidth_single x (the time
            // all the bytes take on one peer's curve) / (the time they took).
            let mut agg: Vec<f64> = samples
                .iter()
                .filter(|x| x.channel == ch && x.op == "alltoall")
                .map(|x| {
                    let (s, nf) = (x.bytes as f64, x.peers as f64);
                    let own = 2.0 * one((nf - 1.0) * s);
                    let all = 2.0 * one(nf * (nf - 1.0) * s);
                    m.bandwidth * all / (x.measured_s - o).max(own)
                })
                .collect();
            if agg.is_empty() {
                m.bandwidth_multiple = m.bandwidth;
                notes.push(format!(
                    "{}: bandwidth_multiple not measured (no size of 1 MiB or more); set to bandwidth_single",
                    ch.name()
                ));
            } else {
                m.bandwidth_multiple = median(&mut agg).max(m.bandwidth);
            }
        }
    }
    let mut cfg: Config = c.config().clone();
    cfg.model = model.clone();
    let fitted = Model::new(&cfg, f64::from(c.faas_memory_mib()))?;
    predict(&fitted, &mut samples);
    if samples.iter().any(|x| !x.measured_s.is_finite()) {
        return Err(Error::new(
            ErrorKind::Internal,
            "a measurement is not finite",
        ));
    }
    Ok(Calibration {
        model,
        samples,
        notes,
    })
}

/// The on-machine check of a fit: a second communicator of the same peers, with the fitted
/// model, measures `plan` again, and every sample gets that model's prediction. Collective.
/// This is a benchmark, not a test: how close the predictions come depends on the machine and
/// its load (see [`within`]).
pub fn check(c: &Communicator, cal: &Calibration, plan: &Plan) -> Result<Vec<Sample>> {
    let mut cfg = c.config().clone();
    cfg.model = cal.model.clone();
    let name = format!("{}-check", c.name());
    let mut v = Communicator::new(
        c.rank() as u32,
        c.size() as u32,
        cfg,
        &name,
        c.faas_memory_mib(),
    )?;
    let model = v.model().clone();
    let mut samples = measure(&mut v, plan, None)?;
    predict(&model, &mut samples);
    v.finalize()?;
    Ok(samples)
}

/// How many send and allreduce samples (alltoall feeds the fit of a store's aggregate bandwidth
/// and is not judged) are measured within `factor` of their prediction, of how many.
pub fn within(samples: &[Sample], factor: f64) -> (usize, usize) {
    let judged: Vec<&Sample> = samples.iter().filter(|x| x.op != "alltoall").collect();
    let ok = judged
        .iter()
        .filter(|x| (1.0 / factor..=factor).contains(&x.ratio()))
        .count();
    (ok, judged.len())
}

/// Fills in the prediction of `model` for every sample.
pub fn predict(model: &Model, samples: &mut [Sample]) {
    for x in samples.iter_mut() {
        let (op, bytes) = match x.op {
            "send" => (OpCode::SendRecv, x.bytes),
            "alltoall" => (OpCode::Alltoall, x.bytes * x.peers),
            _ => (OpCode::Allreduce, x.bytes),
        };
        let e = model.estimate(
            x.channel,
            &Call::new(op, bytes, x.peers).reduction(4, false),
        );
        x.predicted_s = e.seconds;
        x.algorithm = e.algorithm;
    }
}

fn sample(
    ch: ChannelKind,
    op: &'static str,
    bytes: usize,
    peers: usize,
    iters: usize,
    t: f64,
) -> Sample {
    Sample {
        channel: ch,
        op,
        bytes,
        peers,
        iterations: iters,
        measured_s: t,
        predicted_s: 0.0,
        algorithm: "",
    }
}

/// The samples as a Markdown table: channel, operation, size, algorithm, measured and
/// predicted microseconds, and their ratio.
pub fn table(samples: &[Sample]) -> String {
    let mut t = String::from(
        "| channel | op | bytes | peers | algorithm | measured µs | predicted µs | measured/predicted |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for x in samples {
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.2} |\n",
            x.channel.name(),
            x.op,
            x.bytes,
            x.peers,
            x.algorithm,
            x.measured_s * 1e6,
            x.predicted_s * 1e6,
            x.ratio()
        ));
    }
    t
}
