//! The measured operations: one timed iteration of each on a [`Communicator`], with the buffers
//! it needs, and how much memory a test takes per rank.

use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp, Result};
use std::time::Instant;

/// An operation of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Ranks 0 and 1: send, receive the echo; sample = round trip / 2.
    PingPong,
    /// Rank 0 streams a window of messages to rank 1, which answers with 4 bytes.
    Bw,
    Bcast,
    Barrier,
    Gather,
    Scatter,
    Reduce,
    Allreduce,
    Scan,
    Allgather,
    Alltoall,
}

impl Op {
    pub const ALL: [Op; 11] = [
        Op::PingPong,
        Op::Bw,
        Op::Bcast,
        Op::Barrier,
        Op::Gather,
        Op::Scatter,
        Op::Reduce,
        Op::Allreduce,
        Op::Scan,
        Op::Allgather,
        Op::Alltoall,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::PingPong => "pingpong",
            Op::Bw => "bw",
            Op::Bcast => "bcast",
            Op::Barrier => "barrier",
            Op::Gather => "gather",
            Op::Scatter => "scatter",
            Op::Reduce => "reduce",
            Op::Allreduce => "allreduce",
            Op::Scan => "scan",
            Op::Allgather => "allgather",
            Op::Alltoall => "alltoall",
        }
    }

    pub fn from_name(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.name() == s)
    }

    /// Point-to-point between ranks 0 and 1 (needs at least 2 peers).
    pub fn is_p2p(self) -> bool {
        matches!(self, Op::PingPong | Op::Bw)
    }

    /// Operations whose size does not matter (run once, reported with 0 bytes).
    pub fn sizeless(self) -> bool {
        self == Op::Barrier
    }

    /// Bytes of buffers one rank allocates for a test of `bytes` with `n` peers.
    pub fn memory(self, bytes: usize, n: usize) -> usize {
        match self {
            Op::Barrier => 0,
            Op::Bcast => bytes,
            Op::PingPong | Op::Bw => 2 * bytes,
            Op::Reduce | Op::Allreduce | Op::Scan => 3 * bytes,
            Op::Gather | Op::Scatter | Op::Allgather => bytes * (n + 1),
            Op::Alltoall => 2 * bytes * n,
        }
    }
}

/// Messages per window of the streaming test: 64, fewer for large messages (at most 64 MiB in
/// flight), at least 1. The MPI program uses the same rule.
pub fn window(bytes: usize) -> usize {
    (64usize << 20)
        .checked_div(bytes)
        .unwrap_or(64)
        .clamp(1, 64)
}

/// Element type of the reductions: float32 when the size is a multiple of 4, else int8.
pub fn reduce_type(bytes: usize) -> Datatype {
    if bytes % 4 == 0 {
        Datatype::Float
    } else {
        Datatype::Int8
    }
}

/// The buffers of one test, allocated once and reused by every iteration.
pub struct Buffers {
    pub bytes: usize,
    pub send: Vec<u8>,
    pub recv: Vec<u8>,
    pub ack: [u8; 4],
    pub sum: ReduceOp,
}

impl Buffers {
    pub fn new(op: Op, bytes: usize, n: usize) -> Buffers {
        let (s, r) = match op {
            Op::Barrier => (0, 0),
            Op::Bcast => (bytes, 0),
            Op::PingPong | Op::Bw | Op::Reduce | Op::Allreduce | Op::Scan => (bytes, bytes),
            Op::Gather | Op::Allgather => (bytes, bytes * n),
            Op::Scatter => (bytes * n, bytes),
            Op::Alltoall => (bytes * n, bytes * n),
        };
        let mut send = vec![0u8; s];
        if matches!(op, Op::Reduce | Op::Allreduce | Op::Scan) && bytes % 4 == 0 {
            for c in send.chunks_exact_mut(4) {
                c.copy_from_slice(&1.0f32.to_ne_bytes());
            }
        } else {
            for (i, b) in send.iter_mut().enumerate() {
                *b = (i % 251) as u8 % 4;
            }
        }
        Buffers {
            bytes,
            send,
            recv: vec![0u8; r],
            ack: [0; 4],
            sum: ReduceOp::builtin(BuiltinOp::Sum),
        }
    }
}

fn us_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e6
}

/// One iteration of `op` (allreduce with algorithm `algo`: "auto" or one of
/// [`Communicator::allreduce_with`]). Returns this rank's sample in microseconds; ranks that
/// take no part in a point-to-point test return 0. Collectives start with an untimed barrier.
pub fn iterate(c: &mut Communicator, op: Op, algo: &str, b: &mut Buffers) -> Result<f64> {
    let rank = c.rank();
    match op {
        Op::PingPong => match rank {
            0 => {
                let t = Instant::now();
                c.send(&b.send, 1)?;
                c.recv(&mut b.recv, 1)?;
                Ok(us_since(t) / 2.0)
            }
            1 => {
                c.recv(&mut b.recv, 0)?;
                c.send(&b.recv, 0)?;
                Ok(0.0)
            }
            _ => Ok(0.0),
        },
        Op::Bw => {
            let w = window(b.bytes);
            match rank {
                0 => {
                    let t = Instant::now();
                    for _ in 0..w {
                        c.send(&b.send, 1)?;
                    }
                    c.recv(&mut b.ack, 1)?;
                    Ok(us_since(t))
                }
                1 => {
                    for _ in 0..w {
                        c.recv(&mut b.recv, 0)?;
                    }
                    c.send(&b.ack, 0)?;
                    Ok(0.0)
                }
                _ => Ok(0.0),
            }
        }
        _ => {
            c.barrier()?;
            let t = Instant::now();
            collective(c, op, algo, b)?;
            Ok(us_since(t))
        }
    }
}

/// The collective call itself (root 0 where there is a root).
fn collective(c: &mut Communicator, op: Op, algo: &str, b: &mut Buffers) -> Result<()> {
    let root = c.rank() == 0;
    let t = reduce_type(b.bytes);
    match op {
        Op::Bcast => c.bcast(&mut b.send, 0),
        Op::Barrier => c.barrier(),
        Op::Gather => c.gather(&b.send, root.then_some(&mut b.recv[..]), 0),
        Op::Scatter => c.scatter(root.then_some(&b.send[..]), &mut b.recv, 0),
        Op::Reduce => c.reduce(&b.send, root.then_some(&mut b.recv[..]), t, &b.sum, 0),
        Op::Allreduce if algo.is_empty() || algo == "auto" => {
            c.allreduce(&b.send, &mut b.recv, t, &b.sum)
        }
        Op::Allreduce => {
            b.recv.copy_from_slice(&b.send);
            c.allreduce_with(algo, &mut b.recv, t, &b.sum)
        }
        Op::Scan => c.scan(&b.send, &mut b.recv, t, &b.sum),
        Op::Allgather => c.allgather(&b.send, &mut b.recv),
        Op::Alltoall => c.alltoall(&b.send, &mut b.recv),
        Op::PingPong | Op::Bw => unreachable!("point-to-point is not a collective"),
    }
}

/// Checks the result of the last iteration where it is cheap to know: echo of ping-pong,
/// float sums of reduce, allreduce and scan. Returns a description of the first mismatch.
pub fn check(c: &Communicator, op: Op, b: &Buffers) -> Option<String> {
    let (rank, n) = (c.rank(), c.size());
    let floats = |buf: &[u8], want: f32| -> Option<String> {
        let bad = buf
            .chunks_exact(4)
            .position(|x| f32::from_ne_bytes([x[0], x[1], x[2], x[3]]) != want)?;
        Some(format!("{} element {bad} is not {want}", op.name()))
    };
    match op {
        Op::PingPong if rank == 0 && b.recv != b.send => Some("ping-pong echo differs".into()),
        Op::Reduce if rank == 0 && b.bytes % 4 == 0 => floats(&b.recv, n as f32),
        Op::Allreduce if b.bytes % 4 == 0 => floats(&b.recv, n as f32),
        Op::Scan if b.bytes % 4 == 0 => floats(&b.recv, (rank + 1) as f32),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_roundtrip() {
        for o in Op::ALL {
            assert_eq!(Op::from_name(o.name()), Some(o));
        }
        assert_eq!(window(8), 64);
        assert_eq!(window(1 << 20), 64);
        assert_eq!(window(16 << 20), 4);
        assert_eq!(window(64 << 20), 1);
        assert_eq!(window(0), 64);
    }
}
