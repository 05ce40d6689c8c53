//! Sample statistics and iteration sizing: nearest-rank percentiles, and how many warm-up and
//! timed iterations fit a time budget.

/// Summary of the timed samples of one test (microseconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub iters: usize,
    pub median_us: f64,
    pub p90_us: f64,
    pub min_us: f64,
    /// CPU time of all ranks per timed iteration, µs, and their context switches per timed
    /// iteration, when measured.
    pub cpu_us: Option<f64>,
    pub ctxsw: Option<f64>,
    /// Wall time per timed iteration (untimed parts included), mean over ranks, µs.
    pub wall_us: Option<f64>,
}

/// Nearest-rank percentile `p` (0..=100) of sorted samples (0 when empty).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Median (nearest rank), p90 and minimum of `samples`.
pub fn summarize(samples: &[f64]) -> Summary {
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    Summary {
        iters: s.len(),
        median_us: percentile(&s, 50.0),
        p90_us: percentile(&s, 90.0),
        min_us: s.first().copied().unwrap_or(0.0),
        cpu_us: None,
        ctxsw: None,
        wall_us: None,
    }
}

/// Median of unsorted values (nearest rank, as for samples), 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    summarize(values).median_us
}

/// Median of unsorted values, the mean of the two middle ones for an even count (used to
/// combine the rounds of a test: two rounds give their mean), 0 when empty.
pub fn middle(values: &[f64]) -> f64 {
    let mut s = values.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Bounds on the number of timed iterations, by message size (as the baseline's MPI benchmark:
/// up to 64 KiB 50..=20000, up to 1 MiB 20..=2000, up to 16 MiB 10..=300, above 10..=60).
pub fn iteration_bounds(bytes: usize) -> (usize, usize) {
    match bytes {
        0..=65_536 => (50, 20_000),
        65_537..=1_048_576 => (20, 2_000),
        1_048_577..=16_777_216 => (10, 300),
        _ => (10, 60),
    }
}

/// Timed and warm-up iterations for a test whose one call takes `estimate_us`, so that the timed
/// part takes about `budget_us` and the warm-up about a fifth of it. `scale` (0 < scale <= 1)
/// shrinks both bounds (for smoke runs); the timed count is never below 1.
pub fn plan(estimate_us: f64, budget_us: f64, bytes: usize, scale: f64) -> (usize, usize) {
    let (lo, hi) = iteration_bounds(bytes);
    let lo = ((lo as f64 * scale).round() as usize).max(1);
    let hi = ((hi as f64 * scale).round() as usize).max(lo);
    let est = estimate_us.max(0.05);
    let iters = ((budget_us / est) as usize).clamp(lo, hi);
    let warmup = ((0.2 * budget_us / est) as usize).clamp(1, iters.div_ceil(5).max(1));
    (warmup, iters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let s: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&s, 50.0), 5.0);
        assert_eq!(percentile(&s, 90.0), 9.0);
        assert_eq!(percentile(&s, 100.0), 10.0);
        assert_eq!(percentile(&s, 0.0), 1.0);
        let sm = summarize(&[3.0, 1.0, 2.0]);
        assert_eq!((sm.median_us, sm.min_us, sm.iters), (2.0, 1.0, 3));
        assert_eq!(median(&[]), 0.0);
        assert_eq!(middle(&[4.0, 2.0]), 3.0);
        assert_eq!(middle(&[4.0, 2.0, 9.0]), 4.0);
        assert_eq!(middle(&[]), 0.0);
    }

    #[test]
    fn plan_respects_bounds() {
        assert_eq!(plan(10.0, 1e6, 8, 1.0).1, 20_000);
        assert_eq!(plan(1e6, 1e6, 8, 1.0).1, 50);
        assert_eq!(plan(1e3, 1e6, 16 << 20, 1.0).1, 300);
        let (w, i) = plan(1e3, 1e5, 64 << 20, 0.1);
        assert_eq!(i, 6);
        assert!((1..=2).contains(&w));
        assert_eq!(plan(1e9, 1.0, 8, 0.01).1, 1);
    }
}
