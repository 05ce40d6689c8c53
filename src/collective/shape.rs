//! The shapes the algorithms and the model share: binomial trees over ranks relative to a root,
//! the pieces of a pipelined buffer, the segments of a split buffer, the blocks of a
//! v-collective's buffer, and logarithms.

use std::ops::Range;

/// Where the per-peer blocks of a v-collective (gatherv, scatterv, allgatherv, alltoallv) lie in
/// a buffer: block i is `counts[i]` bytes at byte offset `displs[i]`. The communicator checks it
/// against the buffer and the peer count before any algorithm sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocks<'a> {
    pub counts: &'a [usize],
    pub displs: &'a [usize],
}

impl<'a> Blocks<'a> {
    pub fn new(counts: &'a [usize], displs: &'a [usize]) -> Self {
        Blocks { counts, displs }
    }

    /// Byte range of block `i` (checked: within the buffer).
    pub fn range(&self, i: usize) -> Range<usize> {
        self.displs[i]..self.displs[i] + self.counts[i]
    }

    /// Bytes of all blocks together.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }
}

/// Byte offsets of consecutive blocks of `counts` bytes (the displacements of a packed buffer).
pub fn packed(counts: &[usize]) -> Vec<usize> {
    counts
        .iter()
        .scan(0usize, |at, &c| {
            let d = *at;
            *at += c;
            Some(d)
        })
        .collect()
}

/// Piece size of the pipelined reduce and scan: each rank works on one piece while the next
/// is on its way, and only a few pieces of scratch are needed instead of whole buffers
/// (freshly allocated whole buffers cost a page fault per 4 KiB on every call).
pub const PIECE: usize = 512 << 10;

/// Byte ranges of the pieces of a buffer of `len` bytes (whole elements of `esize` bytes each).
pub fn pieces(len: usize, esize: usize) -> impl Iterator<Item = Range<usize>> + Clone {
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

/// Byte range of segment `i` when `elems` elements of `esize` bytes are split into `n`
/// near-equal segments.
pub fn segment(i: usize, n: usize, elems: usize, esize: usize) -> Range<usize> {
    let base = elems / n;
    let extra = elems % n;
    let start = i * base + i.min(extra);
    let len = base + usize::from(i < extra);
    start * esize..(start + len) * esize
}

/// ceil(log2 n)
pub fn clog2(n: usize) -> usize {
    if n <= 1 {
        0
    } else {
        (usize::BITS - (n - 1).leading_zeros()) as usize
    }
}

/// floor(log2 n)
pub fn flog2(n: usize) -> usize {
    (usize::BITS - 1 - n.max(1).leading_zeros()) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs() {
        assert_eq!((clog2(1), clog2(2), clog2(5), clog2(8)), (0, 1, 3, 3));
        assert_eq!((flog2(1), flog2(2), flog2(5), flog2(8)), (0, 1, 2, 3));
    }

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
    fn segments_cover_everything() {
        for n in 1..10 {
            for elems in 0..30 {
                let mut next = 0;
                for i in 0..n {
                    let s = segment(i, n, elems, 4);
                    assert_eq!(s.start, next);
                    next = s.end;
                }
                assert_eq!(next, elems * 4);
            }
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
