//! Per-job authentication: HMAC-SHA256 over the fields of each request with a fresh nonce, and
//! the server's replay cache.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{HashSet, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

type HmacSha256 = Hmac<Sha256>;

/// How far a request's timestamp may be from the server's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(300);

/// `len` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).expect("the OS random number generator works");
    b
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A fresh nonce: "<unix seconds>-<128 random bits in hex>".
pub fn nonce() -> String {
    format!("{}-{}", now_secs(), hex(&random_bytes::<16>()))
}

/// HMAC-SHA256 of the fields, each terminated by a newline (fields never contain newlines).
pub fn mac(key: &[u8], fields: &[&str]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for f in fields {
        m.update(f.as_bytes());
        m.update(b"\n");
    }
    m.finalize().into_bytes().into()
}

/// Constant-time check of a hex MAC.
pub fn verify(key: &[u8], fields: &[&str], mac_hex: &str) -> bool {
    let Some(tag) = unhex(mac_hex) else {
        return false;
    };
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for f in fields {
        m.update(f.as_bytes());
        m.update(b"\n");
    }
    m.verify_slice(&tag).is_ok()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Nonces seen recently; a nonce is accepted once, and only with a timestamp near the server's clock.
pub struct ReplayCache {
    seen: HashSet<String>,
    order: VecDeque<(u64, String)>,
    capacity: usize,
}

impl ReplayCache {
    pub fn new(capacity: usize) -> Self {
        ReplayCache {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// Records `nonce`; false when it is malformed, too old or new, or was seen before.
    pub fn accept(&mut self, nonce: &str) -> bool {
        let now = now_secs();
        while let Some((t, _)) = self.order.front() {
            if *t + MAX_SKEW.as_secs() * 2 < now || self.order.len() > self.capacity {
                let (_, n) = self.order.pop_front().expect("front exists");
                self.seen.remove(&n);
            } else {
                break;
            }
        }
        let Some(ts) = nonce
            .split_once('-')
            .and_then(|(t, _)| t.parse::<u64>().ok())
        else {
            return false;
        };
        if ts.abs_diff(now) > MAX_SKEW.as_secs() || nonce.len() > 64 {
            return false;
        }
        if !self.seen.insert(nonce.to_string()) {
            return false;
        }
        self.order.push_back((now, nonce.to_string()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_roundtrip_and_tamper() {
        let t = mac(b"secret", &["hello", "job", "1"]);
        assert!(verify(b"secret", &["hello", "job", "1"], &hex(&t)));
        assert!(!verify(b"secret", &["hello", "job", "2"], &hex(&t)));
        assert!(!verify(b"other", &["hello", "job", "1"], &hex(&t)));
        assert!(!verify(b"secret", &["hello", "job", "1"], "zz"));
    }

    #[test]
    fn replays_are_refused() {
        let mut c = ReplayCache::new(100);
        let n = nonce();
        assert!(c.accept(&n));
        assert!(!c.accept(&n));
        assert!(!c.accept("12-abc"));
        assert!(!c.accept("garbage"));
    }
}
