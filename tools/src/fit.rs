//! Fitting model parameters to measurements, and writing them back as a `model` section in the
//! original FMI's keys and units.

use fmi::channel::KINDS;
use fmi::config::ModelConfig;
use serde_json::{json, Value};

/// `t = overhead + slope * bytes`, fitted by least squares on relative errors (every size
/// counts alike, 8 B as much as 16 MiB), with `overhead >= 0` and `slope > 0`.
/// Points are (bytes, seconds). Returns (overhead seconds, seconds per byte).
pub fn line(points: &[(f64, f64)]) -> (f64, f64) {
    let (mut sw, mut sws, mut swss, mut swt, mut swst) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(s, t) in points {
        if t <= 0.0 {
            continue;
        }
        let w = 1.0 / (t * t);
        sw += w;
        sws += w * s;
        swss += w * s * s;
        swt += w * t;
        swst += w * s * t;
    }
    let det = sw * swss - sws * sws;
    let (mut o, mut x) = if det.abs() > 0.0 {
        (
            (swt * swss - sws * swst) / det,
            (sw * swst - sws * swt) / det,
        )
    } else {
        (0.0, 0.0)
    };
    if o < 0.0 {
        o = 0.0;
        x = if swss > 0.0 { swst / swss } else { 0.0 };
    }
    if x <= 0.0 {
        // No size dependence measurable: the overhead alone, and a bandwidth of 1 TB/s.
        x = 1e-12;
        o = if sw > 0.0 { swt / sw } else { 0.0 };
    }
    (o, x)
}

/// `t = overhead + per_byte * min(s, knee) + per_byte_large * max(s - knee, 0)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piecewise {
    pub overhead_s: f64,
    pub per_byte: f64,
    /// (knee bytes, seconds per byte beyond it); None: one line.
    pub knee: Option<(f64, f64)>,
}

impl Piecewise {
    pub fn predict(&self, s: f64) -> f64 {
        match self.knee {
            Some((k, large)) if s > k => self.overhead_s + self.per_byte * k + large * (s - k),
            _ => self.overhead_s + self.per_byte * s,
        }
    }

    /// The largest |ln(predicted / measured)| over `points`.
    pub fn worst(&self, points: &[(f64, f64)]) -> f64 {
        points
            .iter()
            .map(|&(s, t)| (self.predict(s) / t).ln().abs())
            .fold(0.0, f64::max)
    }
}

/// The best of one [`line`] through all points and, for every measured size as the knee, a
/// line through the points up to it continued by a second slope (least squares on relative
/// errors) beyond it: the one whose worst relative error is smallest. A knee needs 2 points up
/// to it and 1 beyond.
pub fn piecewise(points: &[(f64, f64)]) -> Piecewise {
    let (o, x) = line(points);
    let mut best = Piecewise {
        overhead_s: o,
        per_byte: x,
        knee: None,
    };
    let mut score = best.worst(points);
    for &(k, _) in points {
        let below: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0 <= k).collect();
        let above: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0 > k).collect();
        if below.len() < 2 || above.is_empty() {
            continue;
        }
        let (o, x) = line(&below);
        let (mut num, mut den) = (0.0, 0.0);
        for &(s, t) in &above {
            let w = 1.0 / (t * t);
            let y = t - o - x * k;
            num += w * y * (s - k);
            den += w * (s - k) * (s - k);
        }
        let large = if den > 0.0 { num / den } else { 0.0 };
        if large <= 0.0 {
            continue;
        }
        let cand = Piecewise {
            overhead_s: o,
            per_byte: x,
            knee: Some((k, large)),
        };
        let sc = cand.worst(points);
        if sc < score {
            best = cand;
            score = sc;
        }
    }
    best
}

/// The `model` section of a configuration file for `m` (original keys and units: ms, MB/s, $),
/// with a section per channel named by its configuration key.
pub fn model_section(m: &ModelConfig) -> Value {
    let mut section = json!({
        "FaaS": {
            "gib_second_price": m.gib_second_price,
            "reduce_bandwidth": m.reduce_bandwidth,
        },
    });
    for kind in KINDS {
        let v = match (m.p2p(kind), m.store(kind)) {
            (Some(d), _) => json!({
                "bandwidth": d.bandwidth,
                "large_message_bytes": d.large_message_bytes,
                "bandwidth_large": d.bandwidth_large,
                "overhead": d.overhead_ms,
                "transfer_price": d.transfer_price,
                "vm_price": d.vm_price,
                "requests_per_hour": d.requests_per_hour,
                "include_infrastructure_costs": d.include_infrastructure_costs,
            }),
            (None, Some(s)) => json!({
                "bandwidth": s.bandwidth,
                "bandwidth_multiple": s.bandwidth_multiple,
                "large_message_bytes": s.large_message_bytes,
                "bandwidth_large": s.bandwidth_large,
                "overhead": s.overhead_ms,
                "transfer_price": s.transfer_price,
                "download_price": s.download_price,
                "upload_price": s.upload_price,
                "instance_price": s.instance_price,
                "requests_per_hour": s.requests_per_hour,
                "include_infrastructure_costs": s.include_infrastructure_costs,
            }),
            (None, None) => continue,
        };
        section[kind.config_key()] = v;
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;
    use fmi::config::Config;

    #[test]
    fn recovers_a_line() {
        // 20 us + 1 ns per byte (1000 MB/s)
        let pts: Vec<(f64, f64)> = [8.0, 1024.0, 65536.0, 1048576.0, 16777216.0]
            .iter()
            .map(|&s| (s, 20e-6 + s * 1e-9))
            .collect();
        let (o, x) = line(&pts);
        assert!(
            (o - 20e-6).abs() < 1e-12 && (x - 1e-9).abs() < 1e-18,
            "{o} {x}"
        );
    }

    #[test]
    fn finds_a_knee() {
        // 10 us + 0.2 ns/B up to 1 MiB, then 1 ns/B.
        let k = 1048576.0;
        let f = |s: f64| 10e-6 + 0.2e-9 * s.min(k) + 1e-9 * (s - k).max(0.0);
        let pts: Vec<(f64, f64)> = [8.0, 1024.0, 262144.0, k, 4.0 * k, 16.0 * k]
            .iter()
            .map(|&s| (s, f(s)))
            .collect();
        let p = piecewise(&pts);
        assert!(p.worst(&pts) < 1e-9, "{p:?}");
        assert_eq!(p.knee.map(|k| k.0), Some(k));
        // A straight line stays one.
        let pts: Vec<(f64, f64)> = pts.iter().map(|&(s, _)| (s, 5e-6 + 1e-9 * s)).collect();
        assert_eq!(piecewise(&pts).knee, None);
    }

    /// A fixed-seed generator (xorshift64*), so that the noisy tests are deterministic.
    struct Rng(u64);
    impl Rng {
        /// Uniform in [-1, 1).
        fn unit(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
            (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }
    }

    /// Samples of `f` at the calibration's default sizes, `per_size` each, with multiplicative
    /// noise of up to `noise` (0.05: +-5%) and, in one sample of 4, a slow outlier of up to
    /// +`outlier` (other load only ever adds time).
    fn noisy(f: impl Fn(f64) -> f64, seed: u64, noise: f64, outlier: f64) -> Vec<(f64, f64)> {
        let mut rng = Rng(seed);
        let sizes = [
            8.0, 1024.0, 16384.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
        ];
        let mut pts = Vec::new();
        for &s in &sizes {
            for i in 0..5 {
                let mut t = f(s) * (1.0 + noise * rng.unit());
                if i % 4 == 3 {
                    t *= 1.0 + outlier * (rng.unit() + 1.0) / 2.0;
                }
                pts.push((s, t));
            }
        }
        pts
    }

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got / want - 1.0).abs() <= rel
    }

    #[test]
    fn recovers_known_parameters_from_noisy_samples() {
        // 20 us + 0.25 ns per byte (4000 MB/s), +-5% noise, outliers up to +20%.
        let f = |s: f64| 20e-6 + 0.25e-9 * s;
        for seed in 1..=50 {
            let pts = noisy(f, seed, 0.05, 0.2);
            let (o, x) = line(&pts);
            assert!(close(o, 20e-6, 0.15), "seed {seed}: overhead {o}");
            assert!(close(x, 0.25e-9, 0.15), "seed {seed}: per byte {x}");
            // The piecewise fit may pick a knee inside the noise; its predictions stay close.
            let p = piecewise(&pts);
            for s in [8.0, 65536.0, 1048576.0, 16777216.0] {
                assert!(close(p.predict(s), f(s), 0.15), "seed {seed}: {s} B: {p:?}");
            }
        }
    }

    #[test]
    fn recovers_a_knee_from_noisy_samples() {
        // 10 us + 0.2 ns/B up to 1 MiB, then 1 ns/B (5x slower beyond the knee); +-3% noise.
        let k = 1048576.0;
        let f = |s: f64| 10e-6 + 0.2e-9 * s.min(k) + 1e-9 * (s - k).max(0.0);
        for seed in 1..=50 {
            let pts = noisy(f, seed, 0.03, 0.0);
            let p = piecewise(&pts);
            let (knee, large) = p
                .knee
                .unwrap_or_else(|| panic!("seed {seed}: no knee: {p:?}"));
            assert_eq!(knee, k, "seed {seed}: {p:?}");
            assert!(close(p.overhead_s, 10e-6, 0.15), "seed {seed}: {p:?}");
            assert!(close(p.per_byte, 0.2e-9, 0.15), "seed {seed}: {p:?}");
            assert!(close(large, 1e-9, 0.15), "seed {seed}: {p:?}");
        }
    }

    #[test]
    fn never_negative() {
        let (o, x) = line(&[(8.0, 5e-6), (1e6, 1e-6)]);
        assert!(o >= 0.0 && x > 0.0);
    }

    #[test]
    fn section_round_trips_through_the_parser() {
        let mut m = ModelConfig::default();
        m.redis.overhead_ms = 0.061;
        m.direct.bandwidth = 3456.5;
        let text = json!({"backends": {"Direct": {"enabled": true}}, "model": model_section(&m)});
        let c = Config::from_json(&text.to_string()).unwrap();
        assert_eq!(c.model, m);
    }
}
