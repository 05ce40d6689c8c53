//! The bytes of one connection read from its stream ahead of the message being taken apart: a
//! read of a header brings whatever else has arrived (up to [`READ_AHEAD`] bytes), so that one
//! system call takes several small frames; the readers are served from here before the stream.

use std::io::{IoSliceMut, Read};

/// Most bytes one read ahead asks for: 30 frames of 1 KiB with their headers, 1,000 of 8 bytes.
/// A larger message has its first bytes copied once from here and the rest read straight into
/// its buffer. (The buffer stays with its connection: this much memory per peer read from.)
pub(super) const READ_AHEAD: usize = 32 << 10;

/// Bytes read from a stream and not taken yet: `buf[start..end]`, oldest first. The buffer is
/// allocated with the first read ahead and kept for the connection's life.
#[derive(Default)]
pub struct Ahead {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Ahead {
    /// How many bytes are waiting.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The bytes waiting, oldest first.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Drops the first `n` waiting bytes (at most [`Ahead::len`]).
    pub fn consume(&mut self, n: usize) {
        assert!(n <= self.len(), "consumed more bytes than were read ahead");
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Moves the first waiting bytes into `a`, then `b`. Returns how many moved.
    pub fn take_into(&mut self, a: &mut [u8], b: &mut [u8]) -> usize {
        let have = self.bytes();
        let na = a.len().min(have.len());
        a[..na].copy_from_slice(&have[..na]);
        let nb = b.len().min(have.len() - na);
        b[..nb].copy_from_slice(&have[na..na + nb]);
        self.consume(na + nb);
        na + nb
    }

    /// Puts `bytes` back in front of the waiting ones (bytes read past a message's end into a
    /// receive buffer that belong to the next messages).
    pub fn unread(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if bytes.len() <= self.start {
            self.start -= bytes.len();
            self.buf[self.start..self.start + bytes.len()].copy_from_slice(bytes);
            return;
        }
        let (n, len) = (bytes.len(), self.len());
        if self.buf.len() >= n + len {
            self.buf.copy_within(self.start..self.end, n);
        } else {
            let mut v = vec![0u8; (n + len).max(READ_AHEAD)];
            v[n..n + len].copy_from_slice(self.bytes());
            self.buf = v;
        }
        self.buf[..n].copy_from_slice(bytes);
        self.start = 0;
        self.end = n + len;
    }

    /// One read from `stream` of at most [`READ_AHEAD`] bytes (at least half of it), appended to
    /// the waiting bytes. The result is the stream's:
    /// the bytes read (0 at its end), WouldBlock when nothing has arrived.
    pub fn fill(&mut self, stream: &mut impl Read) -> std::io::Result<usize> {
        if self.buf.len() - self.end < READ_AHEAD / 2 {
            // Room first: what waits moves to the front (little: this is called for a header),
            // into a buffer of at least READ_AHEAD bytes.
            let len = self.len();
            if self.buf.len() < len + READ_AHEAD {
                let mut v = vec![0u8; len + READ_AHEAD];
                v[..len].copy_from_slice(self.bytes());
                self.buf = v;
            } else {
                self.buf.copy_within(self.start..self.end, 0);
            }
            self.start = 0;
            self.end = len;
        }
        let cap = self.buf.len().min(self.end + READ_AHEAD);
        let n = stream.read(&mut self.buf[self.end..cap])?;
        self.end += n;
        Ok(n)
    }
}

/// Reads into `a` then `b`: first from `ahead` (bytes read earlier), else with one vectored read
/// from the stream.
pub(super) fn read_vec(
    stream: &mut impl Read,
    ahead: &mut Ahead,
    a: &mut [u8],
    b: &mut [u8],
) -> std::io::Result<usize> {
    if ahead.is_empty() {
        return stream.read_vectored(&mut [IoSliceMut::new(a), IoSliceMut::new(b)]);
    }
    Ok(ahead.take_into(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A stream that hands out its bytes in the given pieces, WouldBlock between them.
    struct Pieces(VecDeque<Option<Vec<u8>>>);

    impl Read for Pieces {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            match self.0.pop_front() {
                None => Ok(0),
                Some(None) => Err(std::io::ErrorKind::WouldBlock.into()),
                Some(Some(mut p)) => {
                    let n = p.len().min(out.len());
                    out[..n].copy_from_slice(&p[..n]);
                    if n < p.len() {
                        self.0.push_front(Some(p.split_off(n)));
                    }
                    Ok(n)
                }
            }
        }
    }

    #[test]
    fn bytes_come_out_once_in_order_through_reads_takes_and_unreads() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut pieces = VecDeque::new();
        let mut at = 0;
        for (k, len) in [3usize, 21, 1, 70_000, 5, 24, 100_000, 29_946]
            .iter()
            .enumerate()
        {
            pieces.push_back(Some(data[at..at + len].to_vec()));
            if k % 2 == 0 {
                pieces.push_back(None);
            }
            at += len;
        }
        assert_eq!(at, data.len());
        let mut s = Pieces(pieces);
        let mut a = Ahead::default();
        let mut out = Vec::new();
        let mut round = 0usize;
        loop {
            match a.fill(&mut s) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock),
            }
            // Take a few bytes in two slices, give some back, take them again.
            let mut x = vec![0u8; 1 + round % 13];
            let mut y = vec![0u8; round % 7];
            let n = a.take_into(&mut x, &mut y);
            let mut got: Vec<u8> = x.iter().chain(y.iter()).copied().take(n).collect();
            let back = n / 2;
            a.unread(&got[n - back..]);
            got.truncate(n - back);
            out.extend_from_slice(&got);
            round += 1;
        }
        while !a.is_empty() {
            let mut x = vec![0u8; 4000];
            let n = a.take_into(&mut x, &mut []);
            out.extend_from_slice(&x[..n]);
        }
        assert_eq!(out.len(), data.len());
        assert!(out == data, "bytes reordered or changed");
    }

    #[test]
    fn a_read_ahead_is_bounded_and_served_before_the_stream() {
        let mut s = Pieces(VecDeque::from([Some(vec![9u8; 3 * READ_AHEAD])]));
        let mut a = Ahead::default();
        assert_eq!(a.fill(&mut s).unwrap(), READ_AHEAD);
        let mut x = [0u8; 10];
        assert_eq!(read_vec(&mut s, &mut a, &mut x, &mut []).unwrap(), 10);
        assert_eq!(a.len(), READ_AHEAD - 10);
        a.unread(&[1, 2, 3]);
        assert_eq!(&a.bytes()[..4], &[1, 2, 3, 9]);
    }
}
