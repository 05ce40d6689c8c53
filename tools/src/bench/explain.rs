//! `fmi-bench --explain`: for each operation and size, every channel's modelled latency and cost
//! (and the algorithm the model expects), and the channel picked under each hint. Nothing is
//! measured; the model is the one a communicator with this configuration would use.

use super::ops::Op;
use fmi::channel::{ChannelKind, KINDS};
use fmi::config::Config;
use fmi::error::Result;
use fmi::model::policy::Hint;
use fmi::model::{policy, Call, Model};
use fmi::tag::OpCode;

/// The operation of the model that a benchmark operation runs.
fn opcode(op: Op) -> OpCode {
    match op {
        Op::PingPong | Op::Bw | Op::Bibw => OpCode::SendRecv,
        Op::Bcast => OpCode::Bcast,
        Op::Barrier => OpCode::Barrier,
        Op::Gather => OpCode::Gather,
        Op::Scatter => OpCode::Scatter,
        Op::Reduce => OpCode::Reduce,
        // Started and waited for at once: the blocking call's algorithm and price.
        Op::Allreduce | Op::Iallreduce => OpCode::Allreduce,
        Op::Scan => OpCode::Scan,
        Op::Allgather => OpCode::Allgather,
        Op::Alltoall => OpCode::Alltoall,
    }
}

/// The channels explained: those enabled in `cfg` when `from_file`, else all of them.
pub fn channels(cfg: &Config, from_file: bool) -> Vec<ChannelKind> {
    if !from_file {
        return KINDS.to_vec();
    }
    KINDS.into_iter().filter(|&k| cfg.enabled(k)).collect()
}

/// The table for `ops` at `sizes` (bytes per peer, as fmi-bench reports them) with `peers`
/// functions of `memory_mib` MiB each, over `channels`.
pub fn table(
    cfg: &Config,
    channels: &[ChannelKind],
    ops: &[Op],
    sizes: &[usize],
    peers: usize,
    memory_mib: u32,
) -> Result<String> {
    let model = Model::new(cfg, f64::from(memory_mib))?;
    let mut head = vec!["op".to_string(), "bytes".to_string(), "peers".to_string()];
    for c in channels {
        head.push(format!("{} us", c.name()));
        head.push(format!("{} $", c.name()));
        head.push(format!("{} algorithm", c.name()));
    }
    head.push("fast".into());
    head.push("cheap".into());
    let mut rows = vec![head];
    for &op in ops {
        // The model prices one message, not a window of them.
        if matches!(op, Op::Bw | Op::Bibw) {
            continue;
        }
        let sizes: Vec<usize> = if op.sizeless() {
            vec![0]
        } else {
            sizes.to_vec()
        };
        for &s in &sizes {
            // fmi-bench sizes are per peer; alltoall's call describes the whole send buffer.
            let bytes = if op == Op::Alltoall { s * peers } else { s };
            let n = if op.is_p2p() { 2 } else { peers };
            let call = Call::new(opcode(op), bytes, n).reduction(4, false);
            let mut row = vec![op.name().to_string(), s.to_string(), n.to_string()];
            for &c in channels {
                let e = model.estimate(c, &call);
                row.push(format!("{:.1}", e.seconds * 1e6));
                row.push(format!("{:.3e}", e.cost.total()));
                row.push(e.algorithm.to_string());
            }
            for hint in [Hint::Fast, Hint::Cheap] {
                row.push(
                    policy::choose(&model, &call, hint, channels)
                        .0
                        .name()
                        .to_string(),
                );
            }
            rows.push(row);
        }
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "# channel-selection model: {} MiB per function; latency in microseconds, cost in US$ per operation\n",
        memory_mib
    );
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i < 1 || c.chars().all(|x| x.is_ascii_alphabetic() || x == '_') {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_every_channel_and_both_hints() {
        let cfg = Config::default();
        let t = table(
            &cfg,
            &KINDS,
            &[Op::PingPong, Op::Allreduce, Op::Barrier],
            &[8, 1 << 30],
            4,
            128,
        )
        .unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 1 + 1 + 5, "{t}");
        assert!(lines[1].contains("direct us") && lines[1].contains("s3 algorithm"));
        // A small send: fast direct, cheap redis; 1 GiB: direct for both (see model::tests).
        let small = lines
            .iter()
            .find(|l| l.starts_with("pingpong") && l.contains(" 8 "))
            .unwrap();
        assert!(small.ends_with("direct  redis"), "{small}");
        let big = lines
            .iter()
            .find(|l| l.starts_with("pingpong") && l.contains("1073741824"))
            .unwrap();
        assert!(big.ends_with("direct  direct"), "{big}");
        assert!(t.contains("ring") && t.contains("segmented"), "{t}");
    }
}
