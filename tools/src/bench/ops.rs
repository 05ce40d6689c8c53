//! The measured operations: one timed iteration of each on a [`Communicator`], with the buffers
//! it needs, and how much memory a test takes per rank.

use fmi::channel::request::{RecvBuf, SendBuf};
use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp, Request, Result, Source, TagSel};
use std::time::Instant;

/// An operation of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Ranks 0 and 1: send, receive the echo; sample = round trip / 2.
    PingPong,
    /// Rank 0 streams a window of messages to rank 1, which answers with 4 bytes.
    Bw,
    /// Ranks 0 and 1 each post a window of irecvs and isends to the other, then wait for all;
    /// sample = the slower rank's window, bandwidth = both directions' bytes.
    Bibw,
    Bcast,
    Barrier,
    Gather,
    Scatter,
    Reduce,
    Allreduce,
    /// Non-blocking allreduce started and waited for at once (its latency; overlap with
    /// computation is not measured).
    Iallreduce,
    Scan,
    Allgather,
    Alltoall,
}

impl Op {
    pub const ALL: [Op; 13] = [
        Op::PingPong,
        Op::Bw,
        Op::Bibw,
        Op::Bcast,
        Op::Barrier,
        Op::Gather,
        Op::Scatter,
        Op::Reduce,
        Op::Allreduce,
        Op::Iallreduce,
        Op::Scan,
        Op::Allgather,
        Op::Alltoall,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::PingPong => "pingpong",
            Op::Bw => "bw",
            Op::Bibw => "bibw",
            Op::Bcast => "bcast",
            Op::Barrier => "barrier",
            Op::Gather => "gather",
            Op::Scatter => "scatter",
            Op::Reduce => "reduce",
            Op::Allreduce => "allreduce",
            Op::Iallreduce => "iallreduce",
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
        matches!(self, Op::PingPong | Op::Bw | Op::Bibw)
    }

    /// Messages of `bytes` per timed sample (per direction) of the streaming tests, bw and bibw;
    /// 0 for the others (as a [`super::Record`]'s `window`).
    pub fn window(self, bytes: usize) -> usize {
        match self {
            Op::Bw | Op::Bibw => window(bytes),
            _ => 0,
        }
    }

    /// Directions a sample's messages travel in (bibw: both), which its bandwidth counts.
    pub fn directions(self) -> usize {
        if self == Op::Bibw {
            2
        } else {
            1
        }
    }

    /// Reductions of float32 (int8) elements, checked against the sum.
    fn is_reduction(self) -> bool {
        matches!(self, Op::Reduce | Op::Allreduce | Op::Iallreduce | Op::Scan)
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
            Op::Bibw => bytes * (window(bytes) + 1),
            Op::Reduce | Op::Allreduce | Op::Iallreduce | Op::Scan => 3 * bytes,
            Op::Gather | Op::Scatter | Op::Allgather => bytes * (n + 1),
            Op::Alltoall => 2 * bytes * n,
        }
    }
}

/// Messages per window of the streaming tests (per direction for bibw): 64, fewer for large
/// messages (at most 64 MiB in flight), at least 1. The MPI program uses the same rule.
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
            Op::PingPong | Op::Bw => (bytes, bytes),
            // One receive buffer per message of the window: they are written concurrently.
            Op::Bibw => (bytes, bytes * window(bytes)),
            Op::Reduce | Op::Allreduce | Op::Iallreduce | Op::Scan => (bytes, bytes),
            Op::Gather | Op::Allgather => (bytes, bytes * n),
            Op::Scatter => (bytes * n, bytes),
            Op::Alltoall => (bytes * n, bytes * n),
        };
        let mut send = vec![0u8; s];
        if op.is_reduction() && bytes % 4 == 0 {
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
        Op::Bibw if rank < 2 => {
            let t = Instant::now();
            bibw_window(c, 1 - rank, b)?;
            Ok(us_since(t))
        }
        Op::Bibw => Ok(0.0),
        _ => {
            c.barrier()?;
            let t = Instant::now();
            collective(c, op, algo, b)?;
            Ok(us_since(t))
        }
    }
}

/// Tag of bibw's messages.
const BIBW_TAG: u32 = 1;

/// One window of bibw with `peer`: a receive into each block of `b.recv`, then as many sends of
/// `b.send`, then a wait for all of them.
fn bibw_window(c: &mut Communicator, peer: usize, b: &mut Buffers) -> Result<()> {
    let w = window(b.bytes);
    let mut reqs: Vec<Request> = Vec::with_capacity(2 * w);
    // An early return drops the requests, which cancels the active ones before `b` is touched
    // again.
    for i in 0..w {
        let block = &mut b.recv[i * b.bytes..(i + 1) * b.bytes];
        // SAFETY: the block is a distinct part of `b.recv`, which outlives the request (`reqs`
        // is dropped before this function returns) and is not accessed until it completes.
        let r = unsafe { RecvBuf::new(block.as_mut_ptr(), block.len()) };
        reqs.push(c.irecv_buf(r, Source::Rank(peer), TagSel::Tag(BIBW_TAG))?);
    }
    for _ in 0..w {
        // SAFETY: `b.send` is only read, and outlives the request (as above).
        let s = unsafe { SendBuf::new(b.send.as_ptr(), b.bytes) };
        reqs.push(c.isend_buf(s, peer, BIBW_TAG)?);
    }
    for r in fmi::request::wait_all(&mut reqs) {
        r?;
    }
    Ok(())
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
        Op::Iallreduce => {
            // SAFETY: both buffers outlive the request, which is waited for (or, on an error,
            // dropped and so cancelled) before this function returns; `recv` is not touched
            // meanwhile.
            let (s, r) = unsafe {
                (
                    SendBuf::new(b.send.as_ptr(), b.send.len()),
                    RecvBuf::new(b.recv.as_mut_ptr(), b.recv.len()),
                )
            };
            c.iallreduce(Some(s), r, t, &b.sum)?.wait().map(drop)
        }
        Op::Scan => c.scan(&b.send, &mut b.recv, t, &b.sum),
        Op::Allgather => c.allgather(&b.send, &mut b.recv),
        Op::Alltoall => c.alltoall(&b.send, &mut b.recv),
        Op::PingPong | Op::Bw | Op::Bibw => unreachable!("point-to-point is not a collective"),
    }
}

/// Checks the result of the last iteration where it is cheap to know: echo of ping-pong, every
/// block of bibw's window, float sums of reduce, allreduce, iallreduce and scan. Returns a
/// description of the first mismatch.
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
        Op::Bibw if rank < 2 => b
            .recv
            .chunks_exact(b.bytes.max(1))
            .position(|x| x != &b.send[..])
            .map(|i| format!("bibw message {i} of the window differs from the peer's")),
        Op::Allreduce | Op::Iallreduce if b.bytes % 4 == 0 => floats(&b.recv, n as f32),
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

    #[test]
    fn nonblocking_ops() {
        assert!(Op::Bibw.is_p2p() && !Op::Iallreduce.is_p2p());
        assert_eq!(Op::Bibw.window(1 << 20), 64);
        assert_eq!(Op::Bw.window(16 << 20), 4);
        assert_eq!(Op::Iallreduce.window(8), 0);
        assert_eq!((Op::Bibw.directions(), Op::Bw.directions()), (2, 1));
        // One receive buffer per message of the window; the sends share one.
        let b = Buffers::new(Op::Bibw, 1000, 2);
        assert_eq!((b.send.len(), b.recv.len()), (1000, 64_000));
        assert_eq!(Op::Bibw.memory(1000, 2), b.send.len() + b.recv.len());
        // iallreduce has allreduce's float32 ones.
        let b = Buffers::new(Op::Iallreduce, 8, 3);
        assert_eq!(
            b.send,
            [1.0f32.to_ne_bytes(), 1.0f32.to_ne_bytes()].concat()
        );
        assert_eq!(Op::Iallreduce.memory(8, 3), Op::Allreduce.memory(8, 3));
    }
}
