//! The names and small bodies of the S3 channel's objects: message objects `{key}#{i}` (ten
//! digits), counter slots `{key}#c{i}` with their running sum and the writer's nonce.

use super::client::S3;
use bytes::Bytes;

/// The index of a message object key (`...#0000000012`); None for counter slots.
pub(super) fn index_of(object_key: &str) -> Option<u64> {
    let (_, tail) = object_key.rsplit_once('#')?;
    if tail.len() == 10 && tail.bytes().all(|b| b.is_ascii_digit()) {
        tail.parse().ok()
    } else {
        None
    }
}

/// The slot of a counter object key (`...#c0000000003`).
pub(super) fn slot_of(object_key: &str) -> Option<u64> {
    let (_, tail) = object_key.rsplit_once('#')?;
    let digits = tail.strip_prefix('c')?;
    if digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

/// A counter slot: the running sum and the writer's nonce.
pub(super) fn slot_body(value: u64, nonce: u32) -> Bytes {
    let mut b = Vec::with_capacity(12);
    b.extend_from_slice(&value.to_le_bytes());
    b.extend_from_slice(&nonce.to_le_bytes());
    Bytes::from(b)
}

pub(super) fn parse_slot(b: &[u8]) -> Option<(u64, u32)> {
    (b.len() == 12).then(|| {
        (
            u64::from_le_bytes(b[..8].try_into().unwrap()),
            u32::from_le_bytes(b[8..].try_into().unwrap()),
        )
    })
}

pub(super) fn msg_key(s3: &S3, key: &str, i: u64) -> String {
    format!("{}{key}#{i:010}", s3.prefix)
}

pub(super) fn slot_key(s3: &S3, key: &str, i: u64) -> String {
    format!("{}{key}#c{i:010}", s3.prefix)
}

/// The longest common prefix of `keys` (at a char boundary).
pub(super) fn common_prefix<'a>(keys: impl Iterator<Item = &'a str>) -> String {
    let mut it = keys;
    let Some(first) = it.next() else {
        return String::new();
    };
    let mut len = first.len();
    for k in it {
        len = first
            .bytes()
            .zip(k.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    first[..len].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefixes() {
        let keys = [
            "fmi:a:1:gather:gather:1#0000000000",
            "fmi:a:1:gather:gather:12#0000000000",
        ];
        assert_eq!(common_prefix(keys.into_iter()), "fmi:a:1:gather:gather:1");
        assert_eq!(common_prefix(["x"].into_iter()), "x");
        assert_eq!(common_prefix(["é1", "é2"].into_iter()), "é");
    }

    #[test]
    fn object_names_parse() {
        assert_eq!(index_of("p/fmi:a:0f:p2p:1:2#0000000012"), Some(12));
        assert_eq!(index_of("p/fmi:a:0f:3:barrier:count#c0000000002"), None);
        assert_eq!(slot_of("p/fmi:a:0f:3:barrier:count#c0000000002"), Some(2));
        assert_eq!(slot_of("p/fmi:a:0f:p2p:1:2#0000000012"), None);
        assert_eq!(index_of("no-hash"), None);
    }
}
