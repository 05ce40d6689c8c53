//! Output of fmi-bench: the JSON document, CSV, and the aligned table in which every libfmi
//! figure stands next to its baselines and its ratio to each. Also reads records back (JSON
//! documents or JSON lines, e.g. the MPI program's) and combines the rounds of interleaved runs.

use super::{human_size, stats, Record, LIBFMI};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What fmi-bench writes as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Document {
    pub tool: String,
    pub version: String,
    /// The command line that produced the records.
    #[serde(default)]
    pub command: String,
    /// `/proc/loadavg` at the start and the end of the run.
    #[serde(default)]
    pub load_before: String,
    #[serde(default)]
    pub load_after: String,
    #[serde(default)]
    pub records: Vec<Record>,
    /// Tests that were not run, with the reason.
    #[serde(default)]
    pub skipped: Vec<String>,
}

/// Reads records from text holding one JSON document (`{"records": [...]}`), a JSON array of
/// records, or JSON lines (one record per line; other lines are ignored, so MPI output with
/// banners can be read as it is).
pub fn parse_records(text: &str) -> Result<Vec<Record>, String> {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        if let Ok(d) = serde_json::from_str::<Document>(t) {
            return Ok(d.records);
        }
        if let Ok(v) = serde_json::from_str::<Vec<Record>>(t) {
            return Ok(v);
        }
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        // fmirun prefixes lines with "[rank] ".
        let l = line.trim();
        let l = match l.find('{') {
            Some(p) => &l[p..],
            None => continue,
        };
        let r: Record = serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1))?;
        out.push(r);
    }
    if out.is_empty() {
        return Err("no records found".into());
    }
    Ok(out)
}

/// Records that differ only by round are combined: median of the rounds' medians and p90s (the
/// mean of the middle two for an even number of rounds), MB/s of that median, minimum of the
/// minima, sum of the iterations. Order of first appearance is kept.
pub fn combine_rounds(records: &[Record]) -> Vec<(Record, usize)> {
    let mut groups: Vec<(Record, Vec<&Record>)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for r in records {
        let key = key_of(r, true);
        match index.get(&key) {
            Some(&i) => groups[i].1.push(r),
            None => {
                index.insert(key, groups.len());
                groups.push((r.clone(), vec![r]));
            }
        }
    }
    groups
        .into_iter()
        .map(|(mut first, rs)| {
            let med =
                |f: fn(&Record) -> f64| stats::middle(&rs.iter().map(|r| f(r)).collect::<Vec<_>>());
            first.median_us = med(|r| r.median_us);
            first.p90_us = med(|r| r.p90_us);
            first.mbps = first.mbps_of(first.median_us);
            first.min_us = rs.iter().map(|r| r.min_us).fold(f64::INFINITY, f64::min);
            first.iters = rs.iter().map(|r| r.iters).sum();
            let opt = |f: fn(&Record) -> Option<f64>| {
                let v: Option<Vec<f64>> = rs.iter().map(|r| f(r)).collect();
                v.map(|v| stats::middle(&v))
            };
            first.cpu_us = opt(|r| r.cpu_us);
            first.ctxsw = opt(|r| r.ctxsw);
            first.wall_us = opt(|r| r.wall_us);
            first.round = 0;
            (first, rs.len())
        })
        .collect()
}

/// Identity of a test: implementation, channel, op, algorithm, size, peers (and window).
fn key_of(r: &Record, with_impl: bool) -> String {
    let imp = if with_impl {
        format!("{}/{}/", r.implementation, r.channel)
    } else {
        String::new()
    };
    format!(
        "{imp}{}/{}/{}/{}/{}",
        r.op, r.algo, r.bytes, r.peers, r.window
    )
}

/// A baseline column: the series it shows and which ops it applies to.
struct Baseline {
    series: String,
    by_test: BTreeMap<(String, u64, u32), Record>,
}

/// Baseline series of the records: every non-libfmi (implementation, channel).
fn baselines(combined: &[(Record, usize)]) -> Vec<Baseline> {
    let mut out: Vec<Baseline> = Vec::new();
    for (r, _) in combined.iter().filter(|(r, _)| !r.is_libfmi()) {
        let series = r.implementation.clone();
        let b = match out.iter_mut().position(|b| b.series == series) {
            Some(i) => &mut out[i],
            None => {
                out.push(Baseline {
                    series,
                    by_test: BTreeMap::new(),
                });
                out.last_mut().expect("pushed")
            }
        };
        b.by_test
            .insert((r.op.clone(), r.bytes, r.peers), r.clone());
    }
    out
}

fn fmt_us(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{v:.0}")
    } else if v >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn fmt_mbps(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// One row of the comparison: a libfmi test and, per baseline, its median and the ratio.
pub struct Row {
    pub rec: Record,
    pub rounds: usize,
    /// Per baseline column: (baseline median µs, libfmi median / baseline median).
    pub cmp: Vec<Option<(f64, f64)>>,
}

/// The comparison: baseline series names and one row per libfmi test. A libfmi test is
/// compared with each baseline's record of the same op, size and peers.
pub fn compare(records: &[Record]) -> (Vec<String>, Vec<Row>) {
    let combined = combine_rounds(records);
    let bases = baselines(&combined);
    let names = bases.iter().map(|b| b.series.clone()).collect();
    let rows = combined
        .iter()
        .filter(|(r, _)| r.is_libfmi())
        .map(|(r, n)| Row {
            rec: r.clone(),
            rounds: *n,
            cmp: bases
                .iter()
                .map(|b| {
                    b.by_test
                        .get(&(r.op.clone(), r.bytes, r.peers))
                        .filter(|x| x.median_us > 0.0)
                        .map(|x| (x.median_us, r.median_us / x.median_us))
                })
                .collect(),
        })
        .collect();
    (names, rows)
}

/// The aligned table: libfmi figures, then each baseline's median and the ratio
/// libfmi / baseline ("x", lower is better for libfmi). Baselines without libfmi rows
/// (e.g. MPI alone) are listed afterwards.
pub fn table(records: &[Record]) -> String {
    let (names, rows) = compare(records);
    let mut head: Vec<String> = [
        "op",
        "algo",
        "channel",
        "peers",
        "bytes",
        "iters",
        "median_us",
        "p90_us",
        "min_us",
        "MB/s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let multi = rows.iter().any(|r| r.rounds > 1);
    if multi {
        head.push("rounds".into());
    }
    let mut used = vec![false; names.len()];
    for r in &rows {
        for (i, c) in r.cmp.iter().enumerate() {
            used[i] |= c.is_some();
        }
    }
    for (i, n) in names.iter().enumerate() {
        if used[i] {
            head.push(format!("{n}_us"));
            head.push(format!("x {n}"));
        }
    }
    let mut cells: Vec<Vec<String>> = vec![head];
    for r in &rows {
        let x = &r.rec;
        let mut row = vec![
            x.op.clone(),
            if x.algo.is_empty() {
                "-".into()
            } else {
                x.algo.clone()
            },
            x.channel.clone(),
            x.peers.to_string(),
            if x.window > 0 {
                format!("{}x{}", x.window, human_size(x.bytes))
            } else {
                human_size(x.bytes)
            },
            x.iters.to_string(),
            fmt_us(x.median_us),
            fmt_us(x.p90_us),
            fmt_us(x.min_us),
            fmt_mbps(x.mbps),
        ];
        if multi {
            row.push(r.rounds.to_string());
        }
        for (i, c) in r.cmp.iter().enumerate() {
            if !used[i] {
                continue;
            }
            match c {
                Some((m, ratio)) => {
                    row.push(fmt_us(*m));
                    row.push(format!("{ratio:.2}"));
                }
                None => {
                    row.push("-".into());
                    row.push("-".into());
                }
            }
        }
        cells.push(row);
    }
    let mut out = align(&cells);
    // Baseline figures with no libfmi counterpart are still shown, in a table of their own.
    let combined = combine_rounds(records);
    let libfmi_tests: std::collections::BTreeSet<(String, u64, u32)> = combined
        .iter()
        .filter(|(r, _)| r.is_libfmi())
        .map(|(r, _)| (r.op.clone(), r.bytes, r.peers))
        .collect();
    let orphans: Vec<&(Record, usize)> = combined
        .iter()
        .filter(|(r, _)| {
            !r.is_libfmi() && !libfmi_tests.contains(&(r.op.clone(), r.bytes, r.peers))
        })
        .collect();
    if !orphans.is_empty() {
        let mut cells = vec![[
            "series",
            "op",
            "peers",
            "bytes",
            "iters",
            "median_us",
            "p90_us",
            "min_us",
            "MB/s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
        for (r, _) in orphans {
            cells.push(vec![
                r.series(),
                r.op.clone(),
                r.peers.to_string(),
                human_size(r.bytes),
                r.iters.to_string(),
                fmt_us(r.median_us),
                fmt_us(r.p90_us),
                fmt_us(r.min_us),
                fmt_mbps(r.mbps),
            ]);
        }
        out.push_str("\nbaselines without a libfmi figure:\n");
        out.push_str(&align(&cells));
    }
    out
}

/// The A/B table of two builds of libfmi measured in alternating rounds: records labelled
/// `a_label` (A, e.g. "libfmi@1301141") against libfmi's own (B), test by test (same channel,
/// op, algorithm, size, peers). Per test: each build's median per round, the ratio B/A of the
/// medians of the rounds (below 1: B is faster), the ratio of each round (B of round r / A of
/// round r) and their spread (lowest to highest). Tests measured by only one build are left out.
pub fn ab_table(records: &[Record], a_label: &str) -> String {
    type Key = (String, String, String, u64, u32, u32);
    let key = |r: &Record| -> Key {
        (
            r.channel.clone(),
            r.op.clone(),
            r.algo.clone(),
            r.bytes,
            r.peers,
            r.window,
        )
    };
    // Per test, per build: round -> median.
    let mut tests: Vec<(Key, [BTreeMap<u32, f64>; 2])> = Vec::new();
    for r in records {
        let side = if r.implementation == a_label {
            0
        } else if r.is_libfmi() {
            1
        } else {
            continue;
        };
        let k = key(r);
        let i = match tests.iter().position(|(t, _)| *t == k) {
            Some(i) => i,
            None => {
                tests.push((k, Default::default()));
                tests.len() - 1
            }
        };
        tests[i].1[side].insert(r.round, r.median_us);
    }
    let rounds_of = |m: &BTreeMap<u32, f64>| {
        m.values()
            .map(|&v| fmt_us(v))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let mut cells = vec![[
        "op".to_string(),
        "algo".into(),
        "channel".into(),
        "peers".into(),
        "bytes".into(),
        format!("A {a_label} us (per round)"),
        format!("B {LIBFMI} us (per round)"),
        "B/A".into(),
        "B/A per round".into(),
        "spread".into(),
    ]
    .to_vec()];
    for ((channel, op, algo, bytes, peers, window), [a, b]) in &tests {
        if a.is_empty() || b.is_empty() {
            continue;
        }
        let med = |m: &BTreeMap<u32, f64>| stats::middle(&m.values().copied().collect::<Vec<_>>());
        let (ma, mb) = (med(a), med(b));
        let per: Vec<f64> = a
            .iter()
            .filter_map(|(r, &va)| b.get(r).filter(|_| va > 0.0).map(|&vb| vb / va))
            .collect();
        let lo = per.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = per.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        cells.push(vec![
            op.clone(),
            if algo.is_empty() {
                "-".into()
            } else {
                algo.clone()
            },
            channel.clone(),
            peers.to_string(),
            if *window > 0 {
                format!("{window}x{}", human_size(*bytes))
            } else {
                human_size(*bytes)
            },
            rounds_of(a),
            rounds_of(b),
            if ma > 0.0 {
                format!("{:.2}", mb / ma)
            } else {
                "-".into()
            },
            per.iter()
                .map(|x| format!("{x:.2}"))
                .collect::<Vec<_>>()
                .join(" / "),
            if per.is_empty() {
                "-".into()
            } else {
                format!("{lo:.2}-{hi:.2}")
            },
        ]);
    }
    align(&cells)
}

/// Left-aligns text columns, right-aligns numeric ones (two spaces apart).
fn align(cells: &[Vec<String>]) -> String {
    let cols = cells.iter().map(Vec::len).max().unwrap_or(0);
    let mut width = vec![0; cols];
    for row in cells {
        for (i, c) in row.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let numeric: Vec<bool> = (0..cols)
        .map(|i| {
            cells.iter().skip(1).all(|r| {
                r.get(i).is_none_or(|c| {
                    c == "-" || c.chars().next().is_some_and(|ch| ch.is_ascii_digit())
                })
            })
        })
        .collect();
    let mut out = String::new();
    for row in cells {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = width[i] - c.chars().count();
            if numeric[i] {
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// CSV of the comparison: one line per libfmi test with every baseline's median and ratio, then
/// one line per baseline record (with empty comparison columns).
pub fn csv(records: &[Record]) -> String {
    let (names, rows) = compare(records);
    let mut out = String::from(
        "impl,channel,op,algo,bytes,peers,window,iters,median_us,p90_us,min_us,mbps,rounds",
    );
    for n in &names {
        let _ = write!(out, ",{n}_us,ratio_{n}");
    }
    out.push('\n');
    let line = |out: &mut String, r: &Record, rounds: usize| {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{:.3},{:.3},{:.3},{:.3},{}",
            r.implementation,
            r.channel,
            r.op,
            r.algo,
            r.bytes,
            r.peers,
            r.window,
            r.iters,
            r.median_us,
            r.p90_us,
            r.min_us,
            r.mbps,
            rounds
        );
    };
    for r in &rows {
        line(&mut out, &r.rec, r.rounds);
        for c in &r.cmp {
            match c {
                Some((m, x)) => {
                    let _ = write!(out, ",{m:.3},{x:.4}");
                }
                None => out.push_str(",,"),
            }
        }
        out.push('\n');
    }
    for (r, n) in combine_rounds(records)
        .iter()
        .filter(|(r, _)| !r.is_libfmi())
    {
        line(&mut out, r, *n);
        out.push_str(&",,".repeat(names.len()));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(imp: &str, op: &str, bytes: u64, med: f64, round: u32) -> Record {
        Record {
            implementation: imp.into(),
            channel: if imp == "libfmi" { "direct" } else { "tcp" }.into(),
            op: op.into(),
            algo: String::new(),
            bytes,
            peers: 2,
            window: 0,
            iters: 10,
            median_us: med,
            p90_us: med * 1.1,
            min_us: med * 0.9,
            mbps: bytes as f64 / med,
            round,
            cpu_us: None,
            ctxsw: None,
            wall_us: None,
        }
    }

    /// bibw and iallreduce get their Open MPI ratio like the others; bibw's MB/s after
    /// combining rounds counts both directions of its window.
    #[test]
    fn nonblocking_ops_have_ratios() {
        let mut recs = Vec::new();
        for (imp, med) in [("libfmi", 300.0), ("openmpi", 200.0)] {
            let mut b = rec(imp, "bibw", 1 << 20, med, 1);
            b.window = 64;
            recs.push(b);
            recs.push(rec(imp, "iallreduce", 8, med / 10.0, 1));
        }
        let (names, rows) = compare(&recs);
        assert_eq!(names, vec!["openmpi".to_string()]);
        assert_eq!(rows.len(), 2);
        let bibw = rows.iter().find(|r| r.rec.op == "bibw").unwrap();
        assert_eq!(bibw.cmp[0], Some((200.0, 1.5)));
        assert_eq!(bibw.rec.mbps, 2.0 * 64.0 * f64::from(1 << 20) / 300.0);
        let ia = rows.iter().find(|r| r.rec.op == "iallreduce").unwrap();
        assert_eq!(ia.cmp[0], Some((20.0, 1.5)));
        let t = table(&recs);
        let line = t.lines().find(|l| l.starts_with("bibw")).unwrap();
        assert!(line.contains("64x1M") && line.ends_with("1.50"), "{t}");
        assert!(!t.contains("baselines without a libfmi figure"), "{t}");
    }

    /// CPU time, context switches and wall time per iteration combine like the medians when
    /// every round measured them, and stay unknown when one did not.
    #[test]
    fn rounds_combine_cpu_figures() {
        let mut recs = Vec::new();
        for (round, cpu) in [(1, 10.0), (2, 30.0), (3, 20.0)] {
            let mut r = rec("libfmi", "bcast", 8, 5.0, round);
            (r.cpu_us, r.ctxsw, r.wall_us) = (Some(cpu), Some(cpu / 10.0), Some(cpu * 2.0));
            recs.push(r);
        }
        let (r, n) = combine_rounds(&recs).remove(0);
        assert_eq!(n, 3);
        assert_eq!(
            (r.cpu_us, r.ctxsw, r.wall_us),
            (Some(20.0), Some(2.0), Some(40.0))
        );
        recs.push(rec("libfmi", "bcast", 8, 5.0, 4));
        let (r, _) = combine_rounds(&recs).remove(0);
        assert_eq!((r.cpu_us, r.ctxsw, r.wall_us), (None, None, None));
    }

    #[test]
    fn ab_table_pairs_rounds() {
        let mut recs = vec![
            rec("libfmi", "pingpong", 8, 5.0, 1),
            rec("libfmi", "pingpong", 8, 6.0, 2),
            rec("libfmi", "pingpong", 8, 7.0, 3),
            rec("libfmi", "allreduce", 8, 9.0, 1),
        ];
        for (med, round) in [(10.0, 1), (6.0, 2), (7.0, 3)] {
            let mut a = rec("libfmi", "pingpong", 8, med, round);
            a.implementation = "libfmi@abc".into();
            recs.push(a);
        }
        let t = ab_table(&recs, "libfmi@abc");
        let lines: Vec<&str> = t.lines().collect();
        // The header and one row: allreduce was measured by B only.
        assert_eq!(lines.len(), 2, "{t}");
        assert!(lines[0].contains("A libfmi@abc us (per round)"), "{t}");
        let row = lines[1];
        assert!(row.starts_with("pingpong"), "{t}");
        assert!(row.contains("10.00 / 6.00 / 7.00"), "{t}");
        assert!(row.contains("5.00 / 6.00 / 7.00"), "{t}");
        // medians 6 / 7; rounds 0.5, 1, 1
        assert!(row.contains(" 0.86 "), "{t}");
        assert!(row.contains("0.50 / 1.00 / 1.00"), "{t}");
        assert!(row.ends_with("0.50-1.00"), "{t}");
    }

    #[test]
    fn ratios_and_rounds() {
        let recs = vec![
            rec("libfmi", "pingpong", 8, 5.0, 0),
            rec("libfmi", "pingpong", 8, 7.0, 1),
            rec("libfmi", "pingpong", 8, 6.0, 2),
            rec("openmpi", "pingpong", 8, 4.0, 0),
            rec("openmpi", "allreduce", 8, 4.0, 0),
        ];
        let (names, rows) = compare(&recs);
        assert_eq!(names, vec!["openmpi".to_string()]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].rounds, 3);
        assert_eq!(rows[0].rec.median_us, 6.0);
        assert_eq!(rows[0].cmp[0], Some((4.0, 1.5)));
        let t = table(&recs);
        assert!(t.contains("x openmpi"), "{t}");
        assert!(t.contains("baselines without a libfmi figure"), "{t}");
        let c = csv(&recs);
        assert!(c.lines().nth(1).unwrap().ends_with(",4.000,1.5000"), "{c}");
        let lines: String = recs
            .iter()
            .map(|r| format!("[0] {}\n", serde_json::to_string(r).unwrap()))
            .collect();
        assert_eq!(parse_records(&lines).unwrap(), recs);
        let doc = Document {
            records: recs.clone(),
            ..Default::default()
        };
        assert_eq!(
            parse_records(&serde_json::to_string(&doc).unwrap()).unwrap(),
            recs
        );
    }
}
