//! Wire format of one message on a direct connection: a 24-byte header, then the payload.
//!
//! Two kinds of message share a connection: collective messages (the call's tag: operation and
//! call number, checked by the receiving call) and point-to-point messages (a context id and the
//! user's tag, matched by [`super::matching`]). A collective message never matches a
//! point-to-point receive, whatever its tag.

/// "FMI" + format version 2 (version 1 had a 16-byte header without kind and context).
pub const MAGIC: u32 = 0x464D_4902;
pub const HEADER_LEN: usize = 24;

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A message of a collective call; `tag` is the call's tag (`crate::tag::make_tag`).
    Collective = 0,
    /// A point-to-point message; `tag` is the user's tag (non-negative), `ctx` its context.
    P2p = 1,
}

/// One message's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: Kind,
    /// Collective: the call's tag. Point-to-point: the user's tag.
    pub tag: u32,
    /// The communicator's context id (0: the communicator made by init).
    pub ctx: u32,
    /// Payload length in bytes.
    pub len: u64,
}

impl Header {
    /// The header of a collective message with the call's `tag` in the communicator context
    /// `ctx`.
    pub fn collective(ctx: u32, tag: u32, len: u64) -> Header {
        Header {
            kind: Kind::Collective,
            tag,
            ctx,
            len,
        }
    }
    /// The header of a point-to-point message.
    pub fn p2p(ctx: u32, tag: u32, len: u64) -> Header {
        Header {
            kind: Kind::P2p,
            tag,
            ctx,
            len,
        }
    }
}

/// Header: magic (u32 LE), kind (u8), 3 zero bytes, tag (u32 LE), context (u32 LE), payload
/// length (u64 LE).
pub fn encode(h: &Header) -> [u8; HEADER_LEN] {
    let mut b = [0u8; HEADER_LEN];
    b[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    b[4] = h.kind as u8;
    b[8..12].copy_from_slice(&h.tag.to_le_bytes());
    b[12..16].copy_from_slice(&h.ctx.to_le_bytes());
    b[16..24].copy_from_slice(&h.len.to_le_bytes());
    b
}

/// The header, or None when the magic, the kind or the reserved bytes are wrong (a corrupt or
/// foreign stream).
pub fn decode(b: &[u8; HEADER_LEN]) -> Option<Header> {
    let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    if u32_at(0) != MAGIC || b[5..8] != [0, 0, 0] {
        return None;
    }
    let kind = match b[4] {
        0 => Kind::Collective,
        1 => Kind::P2p,
        _ => return None,
    };
    let len = u64::from_le_bytes(b[16..24].try_into().ok()?);
    Some(Header {
        kind,
        tag: u32_at(8),
        ctx: u32_at(12),
        len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        for h in [
            Header::collective(9, 7 << 24 | 5, 1 << 40),
            Header::p2p(0, (1 << 30) - 1, 0),
            Header::p2p(3, 0, 12),
        ] {
            assert_eq!(decode(&encode(&h)), Some(h));
        }
        let h = encode(&Header::collective(0, 7, 1));
        for i in [0, 4, 5, 7] {
            let mut bad = h;
            bad[i] ^= 2;
            assert_eq!(decode(&bad), None, "byte {i}");
        }
    }
}
