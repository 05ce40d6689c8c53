//! An SVG chart of one operation: latency (median µs) and bandwidth (MB/s) against message size,
//! log-log, one line per series (libfmi per channel and algorithm, and each baseline).

use super::report::combine_rounds;
use super::{human_size, Record};
use std::fmt::Write as _;

const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];
const W: f64 = 460.0;
const H: f64 = 320.0;
const ML: f64 = 70.0;
const MR: f64 = 20.0;
const MT: f64 = 40.0;
const MB: f64 = 50.0;

/// A chart line: its name and points (bytes, median µs, MB/s).
type Series = (String, Vec<(f64, f64, f64)>);

/// Series of `op` at `peers`: (name, points (bytes, median µs, MB/s) sorted by size).
fn series(records: &[Record], op: &str, peers: u32) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for (r, _) in combine_rounds(records) {
        if r.op != op || r.peers != peers || r.bytes == 0 || r.median_us <= 0.0 {
            continue;
        }
        let name = r.series();
        let i = match out.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                out.push((name, Vec::new()));
                out.len() - 1
            }
        };
        out[i]
            .1
            .push((r.bytes as f64, r.median_us, r.mbps.max(1e-3)));
    }
    for (_, pts) in out.iter_mut() {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// log10 range covering `vals`, widened to whole decades.
fn decades(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| *v > 0.0) {
        lo = lo.min(v.log10());
        hi = hi.max(v.log10());
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let (lo, hi) = (lo.floor(), hi.ceil());
    (lo, if hi > lo { hi } else { lo + 1.0 })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One panel at horizontal offset `x0`: y = `pick` of each point.
fn panel(
    svg: &mut String,
    x0: f64,
    title: &str,
    ylabel: &str,
    data: &[Series],
    pick: fn(&(f64, f64, f64)) -> f64,
) {
    let (xl, xh) = {
        let (lo, hi) = (
            data.iter()
                .flat_map(|(_, p)| p.iter().map(|q| q.0))
                .fold(f64::INFINITY, f64::min),
            data.iter()
                .flat_map(|(_, p)| p.iter().map(|q| q.0))
                .fold(0.0, f64::max),
        );
        let lo = lo.max(1.0).log2().floor();
        let hi = hi.max(2.0).log2().ceil();
        (lo, if hi > lo { hi } else { lo + 1.0 })
    };
    let (yl, yh) = decades(data.iter().flat_map(|(_, p)| p.iter().map(pick)));
    let pw = W - ML - MR;
    let ph = H - MT - MB;
    let px = |b: f64| x0 + ML + (b.max(1.0).log2() - xl) / (xh - xl) * pw;
    let py = |v: f64| MT + ph - (v.max(1e-9).log10() - yl) / (yh - yl) * ph;
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="22" font-size="14" text-anchor="middle">{}</text>"#,
        x0 + ML + pw / 2.0,
        esc(title)
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{:.1}" y="{MT}" width="{pw:.1}" height="{ph:.1}" fill="none" stroke="#444"/>"##,
        x0 + ML
    );
    // x ticks: every power of 4 (or of 2 when the range is short).
    let step = if xh - xl > 10.0 { 2.0 } else { 1.0 };
    let mut e = (xl / step).ceil() * step;
    while e <= xh + 1e-9 {
        let x = px(2f64.powf(e));
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{MT}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"##,
            MT + ph,
            MT + ph + 14.0,
            human_size(2f64.powf(e) as u64)
        );
        e += step;
    }
    let mut d = yl;
    while d <= yh + 1e-9 {
        let y = py(10f64.powf(d));
        let _ = writeln!(
            svg,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
            x0 + ML,
            x0 + ML + pw,
            x0 + ML - 4.0,
            y + 3.0,
            10f64.powf(d)
        );
        d += 1.0;
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">message size (bytes)</text>"#,
        x0 + ML + pw / 2.0,
        H - 14.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" transform="rotate(-90 {:.1} {:.1})">{}</text>"#,
        x0 + 16.0,
        MT + ph / 2.0,
        x0 + 16.0,
        MT + ph / 2.0,
        esc(ylabel)
    );
    for (i, (name, pts)) in data.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|p| format!("{:.1},{:.1}", px(p.0), py(pick(p))))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{}"><title>{}</title></polyline>"#,
            path.join(" "),
            esc(name)
        );
        for p in pts {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{color}"/>"#,
                px(p.0),
                py(pick(p))
            );
        }
    }
}

/// The chart of `op` at `peers` (None: the smallest peer count that has `op`), or None when
/// there is nothing to draw.
pub fn svg(records: &[Record], op: &str, peers: Option<u32>) -> Option<String> {
    let peers = peers.or_else(|| {
        records
            .iter()
            .filter(|r| r.op == op && r.bytes > 0)
            .map(|r| r.peers)
            .min()
    })?;
    let data = series(records, op, peers);
    if data.is_empty() {
        return None;
    }
    let legend_h = 18.0 * data.len() as f64 + 10.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{:.0}" height="{:.0}" font-family="sans-serif">"#,
        2.0 * W,
        H + legend_h
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    panel(
        &mut s,
        0.0,
        &format!("{op} latency, {peers} peers (median)"),
        "time (µs)",
        &data,
        |p| p.1,
    );
    panel(
        &mut s,
        W,
        &format!("{op} bandwidth, {peers} peers"),
        "MB/s (10^6 B/s)",
        &data,
        |p| p.2,
    );
    for (i, (name, _)) in data.iter().enumerate() {
        let y = H + 12.0 + 18.0 * i as f64;
        let color = COLORS[i % COLORS.len()];
        let _ = writeln!(
            s,
            r#"<line x1="{ML}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{color}" stroke-width="3"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            ML + 24.0,
            ML + 30.0,
            y + 4.0,
            esc(name)
        );
    }
    s.push_str("</svg>\n");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_series() {
        let mk = |imp: &str, bytes: u64, med: f64| Record {
            implementation: imp.into(),
            channel: "x".into(),
            op: "pingpong".into(),
            algo: String::new(),
            bytes,
            peers: 2,
            window: 0,
            iters: 1,
            median_us: med,
            p90_us: med,
            min_us: med,
            mbps: bytes as f64 / med,
            round: 0,
            cpu_us: None,
            ctxsw: None,
            wall_us: None,
        };
        let recs = vec![
            mk("libfmi", 8, 5.0),
            mk("libfmi", 1 << 20, 200.0),
            mk("tcp-block", 8, 7.0),
        ];
        let s = svg(&recs, "pingpong", None).unwrap();
        assert_eq!(s.matches("<polyline").count(), 4);
        assert!(s.contains("libfmi x") && s.contains("tcp-block"));
        assert!(svg(&recs, "bcast", None).is_none());
    }
}
