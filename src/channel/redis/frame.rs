//! The head of a message in a Redis list: a fixed 32-byte header, followed by the data when the
//! message is small enough to travel inline.
//!
//! ```text
//! 0..2  magic "FM"      2  kind (Inline, Stream, Shared)   3  zero
//! 4..8  tag (u32 LE)    8..16  length of the data (u64 LE)
//! 16..24  message id (u64 LE, names the chunk keys of a Shared message)
//! 24..28  number of chunks (u32 LE)   28..32  zero
//! ```

use crate::error::{Error, Result};

pub(crate) const HEADER: usize = 32;
const MAGIC: &[u8; 2] = b"FM";

/// How the data of a message is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The data follows the header in the same list element.
    Inline,
    /// The data follows as `chunks` further elements of the same list (one reader).
    Stream,
    /// The data is in `chunks` string keys `{key}#{id}:{i}`, with a reader count at
    /// `{key}#{id}:refs` (several readers).
    Shared,
}

/// A decoded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub kind: Kind,
    pub tag: u32,
    pub len: u64,
    pub id: u64,
    pub chunks: u32,
}

impl Head {
    /// The header bytes, with room reserved for `inline` bytes of data after it.
    pub fn encode(&self, inline: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(HEADER + inline.len());
        v.extend_from_slice(MAGIC);
        v.push(match self.kind {
            Kind::Inline => 0,
            Kind::Stream => 1,
            Kind::Shared => 2,
        });
        v.push(0);
        v.extend_from_slice(&self.tag.to_le_bytes());
        v.extend_from_slice(&self.len.to_le_bytes());
        v.extend_from_slice(&self.id.to_le_bytes());
        v.extend_from_slice(&self.chunks.to_le_bytes());
        v.extend_from_slice(&[0u8; 4]);
        v.extend_from_slice(inline);
        v
    }

    /// Decodes a list element; returns the header and the inline data.
    pub fn decode(elem: &[u8]) -> Result<(Head, &[u8])> {
        if elem.len() < HEADER || &elem[..2] != MAGIC {
            return Err(Error::channel(format!(
                "found a {}-byte value that is not an FMI message (another program uses these keys?)",
                elem.len()
            )));
        }
        if elem[3] != 0 || elem[28..32] != [0; 4] {
            return Err(Error::channel(
                "damaged message head: reserved bytes are not zero".to_string(),
            ));
        }
        let kind = match elem[2] {
            0 => Kind::Inline,
            1 => Kind::Stream,
            2 => Kind::Shared,
            k => return Err(Error::channel(format!("unknown message kind {k}"))),
        };
        let u32_at = |at: usize| u32::from_le_bytes(elem[at..at + 4].try_into().unwrap());
        let u64_at = |at: usize| u64::from_le_bytes(elem[at..at + 8].try_into().unwrap());
        let head = Head {
            kind,
            tag: u32_at(4),
            len: u64_at(8),
            id: u64_at(16),
            chunks: u32_at(24),
        };
        let data = &elem[HEADER..];
        // The chunk count follows from the length (as `push` writes it); a reader trusts it for
        // how many elements or keys to fetch, so a damaged count must not get that far.
        let chunks = head.len.div_ceil(super::CHUNK as u64);
        let expected = match kind {
            Kind::Inline => 0,
            Kind::Stream => chunks,
            Kind::Shared => chunks.max(1),
        };
        if u64::from(head.chunks) != expected || (kind != Kind::Inline && !data.is_empty()) {
            return Err(Error::channel(format!(
                "damaged message head: {:?} of {} bytes in {} chunks{}",
                kind,
                head.len,
                head.chunks,
                if data.is_empty() {
                    ""
                } else {
                    " with inline data"
                }
            )));
        }
        if kind == Kind::Inline && data.len() as u64 != head.len {
            return Err(Error::channel(format!(
                "message says {} bytes but carries {}",
                head.len,
                data.len()
            )));
        }
        Ok((head, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = Head {
            kind: Kind::Shared,
            tag: 0x0600_0007,
            len: 1 << 33,
            id: 42,
            chunks: 2048,
        };
        let e = h.encode(&[]);
        assert_eq!(e.len(), HEADER);
        assert_eq!(Head::decode(&e).unwrap(), (h, &[][..]));
        let i = Head {
            kind: Kind::Inline,
            tag: 0,
            len: 3,
            id: 0,
            chunks: 0,
        };
        let e = i.encode(b"abc");
        assert_eq!(Head::decode(&e).unwrap(), (i, &b"abc"[..]));
        assert!(Head::decode(b"FM").is_err());
        assert!(Head::decode(&[0u8; 40]).is_err());
        let mut bad = i.encode(b"ab");
        bad[8] = 3;
        assert!(Head::decode(&bad).is_err());
    }

    /// Found by the fuzz target `redis_message`: the reserved bytes were not checked, so a
    /// damaged head could pass as another message.
    #[test]
    fn reserved_bytes_must_be_zero() {
        let h = Head {
            kind: Kind::Shared,
            tag: 5,
            len: 10 << 20,
            id: 9,
            chunks: 3,
        };
        let good = h.encode(&[]);
        assert!(Head::decode(&good).is_ok());
        for i in [3, 28, 31] {
            let mut bad = good.clone();
            bad[i] = 0xa8;
            assert!(Head::decode(&bad).is_err(), "byte {i}");
        }
    }

    /// A chunk count that does not follow from the length (a reader would fetch that many
    /// elements or keys: up to 2^32 of them) is refused.
    #[test]
    fn damaged_chunk_counts_are_refused() {
        let len = 3 * super::super::CHUNK as u64 + 1;
        for (kind, good) in [(Kind::Stream, 4), (Kind::Shared, 4)] {
            let h = Head {
                kind,
                tag: 1,
                len,
                id: 5,
                chunks: good,
            };
            assert!(Head::decode(&h.encode(&[])).is_ok());
            for chunks in [0, good - 1, good + 1, u32::MAX] {
                let bad = Head { chunks, ..h };
                assert!(Head::decode(&bad.encode(&[])).is_err(), "{kind:?} {chunks}");
            }
            assert!(
                Head::decode(&h.encode(b"x")).is_err(),
                "inline data after a {kind:?} head"
            );
        }
        let empty_shared = Head {
            kind: Kind::Shared,
            tag: 1,
            len: 0,
            id: 5,
            chunks: 1,
        };
        assert!(Head::decode(&empty_shared.encode(&[])).is_ok());
        let inline = Head {
            kind: Kind::Inline,
            tag: 1,
            len: 1,
            id: 0,
            chunks: 7,
        };
        assert!(Head::decode(&inline.encode(b"x")).is_err());
    }
}
