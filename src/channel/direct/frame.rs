//! Wire format of one message on a direct connection: a 16-byte header, then the payload.

/// "FMI" + format version 1.
pub const MAGIC: u32 = 0x464D_4901;
pub const HEADER_LEN: usize = 16;

/// Header: magic (u32 LE), tag (u32 LE), payload length (u64 LE).
pub fn encode(tag: u32, len: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    h[4..8].copy_from_slice(&tag.to_le_bytes());
    h[8..16].copy_from_slice(&len.to_le_bytes());
    h
}

/// Returns (tag, length), or None when the magic is wrong (a corrupt or foreign stream).
pub fn decode(h: &[u8; HEADER_LEN]) -> Option<(u32, u64)> {
    let magic = u32::from_le_bytes(h[0..4].try_into().ok()?);
    if magic != MAGIC {
        return None;
    }
    let tag = u32::from_le_bytes(h[4..8].try_into().ok()?);
    let len = u64::from_le_bytes(h[8..16].try_into().ok()?);
    Some((tag, len))
}

#[cfg(test)]
mod tests {
    #[test]
    fn roundtrip() {
        let h = super::encode(7, 1 << 40);
        assert_eq!(super::decode(&h), Some((7, 1 << 40)));
        let mut bad = h;
        bad[0] ^= 1;
        assert_eq!(super::decode(&bad), None);
    }
}
