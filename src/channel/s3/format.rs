//! The bytes of a message object and their reading, without the SDK: the 16-byte head (magic,
//! tag, reader count, writer nonce) before the data, the object size from a GET's headers, and
//! the assembly of a large object from its ranged GETs, which checks every answer's length so
//! that a short or long answer is an error, never a gap of zeros or a panic.
//!
//! Compiled without the `s3` feature too (declared in `channel/mod.rs`), so the fuzz targets
//! (`fuzz/`) build without the AWS SDK.

use crate::error::{Error, Result};

/// Size of one multipart part and of one ranged GET (S3 parts must be at least 5 MiB).
pub const PART: usize = 16 << 20;
/// Length of the head before the data.
pub const HEAD: usize = 16;
const MAGIC: u32 = 0x464D_4933; // "FMI3"

/// The head of a message object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub tag: u32,
    pub readers: u32,
    /// Random per write: tells a writer whose retried conditional write was refused whether the
    /// object there is its own first attempt.
    pub nonce: u32,
}

impl Head {
    pub fn encode(&self) -> [u8; HEAD] {
        let mut b = [0u8; HEAD];
        b[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&self.tag.to_le_bytes());
        b[8..12].copy_from_slice(&self.readers.to_le_bytes());
        b[12..16].copy_from_slice(&self.nonce.to_le_bytes());
        b
    }

    /// The head at the start of `b` (the object `key`, for the error).
    pub fn decode(b: &[u8], key: &str) -> Result<Head> {
        let word = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        if b.len() < HEAD || word(0) != MAGIC {
            return Err(Error::channel(format!(
                "object {key} is not a libfmi message (another program writes under this prefix?)"
            )));
        }
        Ok(Head {
            tag: word(4),
            readers: word(8),
            nonce: word(12),
        })
    }
}

/// A message read back: its head and data.
#[derive(Debug)]
pub struct Message {
    pub head: Head,
    pub data: Vec<u8>,
}

/// The object's total size from a GET's `Content-Range` (`bytes a-b/total`, ranged GETs) or
/// `Content-Length` (whole-object GETs).
pub fn total_size(
    key: &str,
    content_range: Option<&str>,
    content_length: Option<i64>,
) -> Result<usize> {
    match content_range {
        Some(cr) => cr
            .rsplit('/')
            .next()
            .and_then(|t| t.parse::<usize>().ok())
            .ok_or_else(|| {
                Error::channel(format!(
                    "S3 returned an unreadable Content-Range {cr:?} for {key}"
                ))
            }),
        None => Ok(content_length.unwrap_or(0).max(0) as usize),
    }
}

/// The byte range (inclusive) of the first GET of a message of `want` data bytes: the first
/// part when the object needs several requests, else None (the whole object).
pub fn first_range(want: Option<usize>) -> Option<(usize, usize)> {
    first_range_in(PART, want)
}

fn first_range_in(part: usize, want: Option<usize>) -> Option<(usize, usize)> {
    match want {
        Some(w) if HEAD.saturating_add(w) > part => Some((0, part - 1)),
        _ => None,
    }
}

/// What the first GET of a message gave.
#[derive(Debug)]
pub enum First {
    /// The whole message (or, when its size is not the one wanted, its head and the data the
    /// first answer had: none when more requests would be needed; the caller reports it).
    Done(Message),
    /// A large message: the other parts are still to be read.
    More(Assembly),
}

/// A large message being read with ranged GETs.
#[derive(Debug)]
pub struct Assembly {
    key: String,
    /// Bytes per GET ([`PART`]; smaller in the fuzz target).
    part: usize,
    head: Head,
    total: usize,
    data: Vec<u8>,
    /// Parts placed so far (beyond the first).
    placed: Vec<bool>,
}

/// Reads the first answer for `key`: `bytes` as returned for [`first_range`]`(want)`, `total`
/// the object's size ([`total_size`]).
pub fn first(key: &str, want: Option<usize>, bytes: &[u8], total: usize) -> Result<First> {
    first_in(PART, key, want, bytes, total)
}

/// [`first`] with `part` bytes per GET (`part` > [`HEAD`]).
pub(crate) fn first_in(
    part: usize,
    key: &str,
    want: Option<usize>,
    bytes: &[u8],
    total: usize,
) -> Result<First> {
    let head = Head::decode(bytes, key)?;
    let ranged = first_range_in(part, want).is_some();
    if !ranged || Some(total) != want.map(|w| w + HEAD) {
        let data = if bytes.len() == total {
            bytes[HEAD..].to_vec()
        } else {
            Vec::new()
        };
        return Ok(First::Done(Message { head, data }));
    }
    if bytes.len() != part {
        return Err(Error::channel(format!(
            "S3 answered {} bytes for the first {part} bytes of {key} ({total} bytes)",
            bytes.len()
        )));
    }
    let mut data = vec![0u8; total - HEAD];
    data[..part - HEAD].copy_from_slice(&bytes[HEAD..]);
    let parts = (total - part).div_ceil(part);
    Ok(First::More(Assembly {
        key: key.to_string(),
        part,
        head,
        total,
        data,
        placed: vec![false; parts],
    }))
}

impl Assembly {
    /// The byte ranges (inclusive) still to read, one GET each.
    pub fn ranges(&self) -> Vec<(usize, usize)> {
        (self.part..self.total)
            .step_by(self.part)
            .map(|at| (at, (at + self.part).min(self.total) - 1))
            .collect()
    }

    /// Places the answer for the range starting at `at` (one of [`Assembly::ranges`]).
    pub fn place(&mut self, at: usize, part: &[u8]) -> Result<()> {
        let p = self.part;
        let i = match at.checked_sub(p) {
            Some(d) if d % p == 0 && d / p < self.placed.len() => d / p,
            _ => {
                return Err(Error::channel(format!(
                    "no part of {} starts at byte {at}",
                    self.key
                )))
            }
        };
        let end = (at + p).min(self.total);
        if part.len() != end - at {
            return Err(Error::channel(format!(
                "S3 answered {} bytes for bytes {at}..{end} of {} ({} bytes)",
                part.len(),
                self.key,
                self.total
            )));
        }
        if std::mem::replace(&mut self.placed[i], true) {
            return Err(Error::channel(format!(
                "bytes {at}..{end} of {} read twice",
                self.key
            )));
        }
        self.data[at - HEAD..end - HEAD].copy_from_slice(part);
        Ok(())
    }

    /// The message, once every part is placed.
    pub fn finish(self) -> Result<Message> {
        if let Some(i) = self.placed.iter().position(|p| !p) {
            return Err(Error::channel(format!(
                "part at byte {} of {} was never read",
                self.part * (i + 1),
                self.key
            )));
        }
        Ok(Message {
            head: self.head,
            data: self.data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        Head {
            tag: 7,
            readers: 2,
            nonce: 9,
        }
    }

    #[test]
    fn head_round_trip_and_foreign_objects() {
        let h = head();
        assert_eq!(Head::decode(&h.encode(), "k").unwrap(), h);
        assert!(Head::decode(&h.encode()[..HEAD - 1], "k").is_err());
        assert!(Head::decode(b"", "k").is_err());
        assert!(Head::decode(&[0u8; 32], "k").is_err());
    }

    #[test]
    fn sizes_from_headers() {
        assert_eq!(
            total_size("k", Some("bytes 0-15/1234"), None).unwrap(),
            1234
        );
        assert_eq!(total_size("k", None, Some(40)).unwrap(), 40);
        assert_eq!(total_size("k", None, Some(-1)).unwrap(), 0);
        assert!(total_size("k", Some("bytes 0-15/*"), None).is_err());
    }

    #[test]
    fn small_messages_of_any_size_are_returned_whole_or_empty() {
        let mut obj = head().encode().to_vec();
        obj.extend_from_slice(b"abc");
        let First::Done(m) = first("k", Some(3), &obj, obj.len()).unwrap() else {
            panic!("a small message needs one request");
        };
        assert_eq!(m.data, b"abc");
        // A size the server's headers contradict: no data, for the caller to report.
        let First::Done(m) = first("k", None, &obj, obj.len() + 1).unwrap() else {
            panic!()
        };
        assert!(m.data.is_empty());
    }

    #[test]
    fn large_messages_check_every_part() {
        let want = PART + 10;
        let total = want + HEAD;
        let mut part0 = head().encode().to_vec();
        part0.resize(PART, 1);
        // A short first answer is refused (it used to leave zeros in the data).
        assert!(first("k", Some(want), &part0[..PART - 1], total).is_err());
        // A first answer longer than the object is refused (it used to panic).
        let mut long = part0.clone();
        long.resize(total + 1, 1);
        assert!(first("k", Some(want), &long, total).is_err());
        let First::More(mut a) = first("k", Some(want), &part0, total).unwrap() else {
            panic!("a large message needs more requests");
        };
        assert_eq!(a.ranges(), vec![(PART, total - 1)]);
        assert!(a.place(PART, &[2; 25]).is_err(), "short part");
        assert!(a.place(PART, &[2; 27]).is_err(), "long part");
        assert!(a.place(PART + 1, &[2; 26]).is_err(), "no such part");
        a.place(PART, &[2; 26]).unwrap();
        assert!(a.place(PART, &[2; 26]).is_err(), "twice");
        let m = a.finish().unwrap();
        assert_eq!(m.data.len(), want);
        assert!(m.data[..PART - HEAD].iter().all(|&b| b == 1));
        assert!(m.data[PART - HEAD..].iter().all(|&b| b == 2));
    }

    #[test]
    fn unread_parts_are_an_error() {
        let want = 2 * PART;
        let mut part0 = head().encode().to_vec();
        part0.resize(PART, 1);
        let First::More(a) = first("k", Some(want), &part0, want + HEAD).unwrap() else {
            panic!()
        };
        assert_eq!(a.ranges().len(), 2);
        assert!(a.finish().is_err());
    }
}
