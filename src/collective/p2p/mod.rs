//! Collective algorithms over a peer-to-peer transport (one algorithm family per file).

pub mod allgather;
pub mod allreduce;
pub mod alltoall;
pub mod barrier;
pub mod bcast;
pub mod gather;
pub mod reduce;
pub mod scan;
pub mod scatter;

use crate::channel::{P2pTransport, Xfer};
use crate::error::Result;
use std::time::Instant;

/// One collective call in progress: the transport, the call's tag and its deadline.
pub struct Ctx<'a> {
    t: &'a mut dyn P2pTransport,
    tag: u32,
    deadline: Instant,
    pub rank: usize,
    pub size: usize,
}

impl<'a> Ctx<'a> {
    pub fn new(t: &'a mut dyn P2pTransport, tag: u32, deadline: Instant) -> Self {
        let (rank, size) = (t.rank(), t.size());
        Ctx {
            t,
            tag,
            deadline,
            rank,
            size,
        }
    }

    pub fn exchange(&mut self, xfers: &mut [Xfer<'_>]) -> Result<()> {
        if xfers.is_empty() {
            return Ok(());
        }
        self.t.exchange(self.tag, xfers, self.deadline)
    }

    pub fn send(&mut self, peer: usize, data: &[u8]) -> Result<()> {
        self.exchange(&mut [Xfer::Send { peer, data }])
    }

    pub fn recv(&mut self, peer: usize, buf: &mut [u8]) -> Result<()> {
        self.exchange(&mut [Xfer::Recv { peer, buf }])
    }

    /// Sends to one peer and receives from another (or the same) concurrently.
    pub fn sendrecv(&mut self, to: usize, data: &[u8], from: usize, buf: &mut [u8]) -> Result<()> {
        self.exchange(&mut [
            Xfer::Send { peer: to, data },
            Xfer::Recv { peer: from, buf },
        ])
    }

    /// Rank relative to `root` (the root becomes 0).
    pub fn rel(&self, root: usize) -> usize {
        (self.rank + self.size - root) % self.size
    }

    /// Absolute rank of relative rank `t`.
    pub fn abs(&self, t: usize, root: usize) -> usize {
        (t + root) % self.size
    }
}

/// From this many bytes per rank on, reduce and scan are pipelined in pieces and gather and
/// scatter go straight between the root and every rank (see each algorithm); below it the
/// latency-optimal trees stay. Measured on 2 vCPUs (4 and 8 peers oversubscribed): at 16 MiB
/// the unpipelined trees took 2.5-4x longer (gather 8 peers 87 -> 21 ms, reduce 69 -> 26 ms,
/// scan 68 -> 25 ms); at 1 MiB with 8 peers flat gather and scatter halve the time (gather
/// 2.5-3.0 -> 1.1-1.2 ms, scatter 3.4-3.7 -> 1.8 ms), the scan chain gains 20-30%, and the
/// pipelined reduce is on par with the tree.
pub const LARGE: usize = 1 << 20;

/// Piece size of the pipelined reduce and scan: each rank works on one piece while the next
/// is on its way, and only a few pieces of scratch are needed instead of whole buffers
/// (freshly allocated whole buffers cost a page fault per 4 KiB on every call).
const PIECE: usize = 512 << 10;

/// Byte ranges of the pieces of a buffer of `len` bytes (whole elements of `esize` bytes each).
pub fn pieces(len: usize, esize: usize) -> impl Iterator<Item = std::ops::Range<usize>> + Clone {
    let piece = (PIECE / esize).max(1) * esize;
    (0..len.div_ceil(piece)).map(move |i| i * piece..((i + 1) * piece).min(len))
}

/// Lowest set bit of `t`, or the smallest power of two >= n for the root (t == 0).
pub fn lowbit(t: usize, n: usize) -> usize {
    if t == 0 {
        n.next_power_of_two()
    } else {
        t & t.wrapping_neg()
    }
}

/// Number of ranks in the binomial subtree rooted at relative rank `t`.
pub fn subtree(t: usize, n: usize) -> usize {
    lowbit(t, n).min(n - t)
}

/// Children of relative rank `t` in the binomial tree: (distance, relative child), nearest first.
pub fn children(t: usize, n: usize) -> impl Iterator<Item = (usize, usize)> {
    let top = lowbit(t, n);
    std::iter::successors(Some(1usize), |m| m.checked_mul(2))
        .take_while(move |&m| m < top && t + m < n)
        .map(move |m| (m, t + m))
}

/// Parent of relative rank `t` (t > 0).
pub fn parent(t: usize) -> usize {
    t - (t & t.wrapping_neg())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover() {
        for (len, esize) in [
            (0, 4),
            (1, 1),
            (PIECE, 4),
            (PIECE + 8, 8),
            (3 * PIECE - 12, 12),
        ] {
            let mut next = 0;
            for r in pieces(len, esize) {
                assert_eq!(r.start, next);
                assert!(!r.is_empty() && r.len() <= PIECE && r.start % esize == 0);
                next = r.end;
            }
            assert_eq!(next, len);
        }
    }

    #[test]
    fn tree_shape() {
        assert_eq!(
            children(0, 8).collect::<Vec<_>>(),
            vec![(1, 1), (2, 2), (4, 4)]
        );
        assert_eq!(children(4, 6).collect::<Vec<_>>(), vec![(1, 5)]);
        assert_eq!(
            children(0, 5).collect::<Vec<_>>(),
            vec![(1, 1), (2, 2), (4, 4)]
        );
        assert_eq!(subtree(4, 6), 2);
        assert_eq!(subtree(0, 6), 6);
        assert_eq!(parent(6), 4);
        // Every non-root rank has exactly one parent, and subtrees partition the ranks.
        for n in 1..40 {
            let total: usize = children(0, n).map(|(_, c)| subtree(c, n)).sum::<usize>() + 1;
            assert_eq!(total, n);
        }
    }
}
