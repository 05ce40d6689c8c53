//! Scratch buffers aligned for every datatype (user reduction functions cast them to typed
//! pointers), and disjoint views of one buffer's blocks.

use std::ops::{Deref, DerefMut, Range};

/// A zero-initialised byte buffer aligned to 8 bytes.
pub struct AlignedBuf {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBuf {
    pub fn new(len: usize) -> Self {
        AlignedBuf {
            words: vec![0u64; len.div_ceil(8)],
            len,
        }
    }

    pub fn from_slice(data: &[u8]) -> Self {
        let mut b = AlignedBuf::new(data.len());
        b.copy_from_slice(data);
        b
    }
}

impl Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the Vec<u64> owns at least `len` initialised bytes.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr() as *const u8, self.len) }
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and we hold the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr() as *mut u8, self.len) }
    }
}

/// Borrows two disjoint ranges of one buffer: the first to read, the second to write.
pub fn split2(buf: &mut [u8], read: Range<usize>, write: Range<usize>) -> (&[u8], &mut [u8]) {
    assert!(
        read.end <= write.start || write.end <= read.start,
        "ranges overlap"
    );
    if read.start < write.start {
        let (lo, hi) = buf.split_at_mut(write.start);
        (&lo[read], &mut hi[..write.end - write.start])
    } else {
        let (lo, hi) = buf.split_at_mut(read.start);
        (&hi[..read.end - read.start], &mut lo[write])
    }
}

/// `buf` as `n` consecutive blocks of `s` bytes (n empty blocks when `s` is 0).
pub fn blocks_mut(buf: &mut [u8], s: usize, n: usize) -> Vec<&mut [u8]> {
    if s == 0 {
        (0..n).map(|_| <&mut [u8]>::default()).collect()
    } else {
        buf.chunks_mut(s).take(n).collect()
    }
}

/// Disjoint writable views of `buf` at `ranges`, in the order of `ranges`. Non-empty ranges must
/// not overlap (the communicator checks receive layouts); empty ones may lie anywhere.
pub fn split_many<'b>(buf: &'b mut [u8], ranges: &[Range<usize>]) -> Vec<&'b mut [u8]> {
    let mut order: Vec<usize> = (0..ranges.len())
        .filter(|&i| !ranges[i].is_empty())
        .collect();
    order.sort_by_key(|&i| ranges[i].start);
    let mut out: Vec<&mut [u8]> = (0..ranges.len()).map(|_| <&mut [u8]>::default()).collect();
    let mut rest = buf;
    let mut at = 0;
    for i in order {
        let r = &ranges[i];
        assert!(r.start >= at, "blocks overlap");
        let tail = std::mem::take(&mut rest).split_at_mut(r.start - at).1;
        let (mine, tail) = tail.split_at_mut(r.len());
        out[i] = mine;
        rest = tail;
        at = r.end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_many_gives_each_range_in_order() {
        let mut b: Vec<u8> = (0..10).collect();
        let v = split_many(&mut b, &[6..9, 0..2, 4..4, 2..3]);
        let got: Vec<Vec<u8>> = v.into_iter().map(|s| s.to_vec()).collect();
        assert_eq!(got, vec![vec![6, 7, 8], vec![0, 1], vec![], vec![2]]);
    }
}
