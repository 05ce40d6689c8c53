//! Rank claims on S3 ([`crate::channel::store::StoreTransport::claim`]): an object created with
//! `If-None-Match: *` (of racing creators exactly one succeeds) holding its owner and when its
//! lease ends. S3 has no expiry of its own at this scale, so a claimant that finds a claim whose
//! lease ended (its run crashed without releasing it) takes it over by replacing that version
//! of the object (If-Match on its ETag): of takeovers racing on one stale claim exactly one
//! succeeds, as of racing first claims.

use super::client::{Fail, S3};
use super::object;
use crate::channel::store::RANK_LEASE;
use crate::error::Result;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The claim's body: owner, when claimed, when its lease ends (unix ms).
pub fn body(owner: u64, claimed_ms: u64) -> Bytes {
    let until = now_ms() + RANK_LEASE.as_millis() as u64;
    Bytes::from(format!("{owner:016x} {claimed_ms} {until}"))
}

fn parse(b: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(b).ok()?;
    let mut it = text.split(' ').skip(1);
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// Claims object `key` for `owner`: None when claimed, else a description of the live claim.
pub async fn claim(s3: &Arc<S3>, key: &str, owner: u64) -> Result<Option<String>> {
    let since = now_ms();
    for _ in 0..2 {
        match object::put(s3, key.to_string(), body(owner, since), true).await {
            Ok(()) => return Ok(None),
            Err(Fail::Exists) => {}
            Err(f) => return Err(s3.final_error(f, "claiming a rank")),
        }
        let held = object::get_versioned(s3, key)
            .await
            .map_err(|f| s3.final_error(f, "reading a rank claim"))?;
        let Some((held, etag)) = held else {
            continue; // released meanwhile: claim again
        };
        // A retried request whose first attempt landed finds its own claim.
        if held.starts_with(format!("{owner:016x} ").as_bytes()) {
            return Ok(None);
        }
        let now = now_ms();
        match parse(&held) {
            Some((claimed, until)) if until > now => {
                return Ok(Some(format!(
                    "claimed {:.1} s ago, its lease runs {:.1} s more unless renewed",
                    now.saturating_sub(claimed) as f64 / 1e3,
                    (until - now) as f64 / 1e3
                )))
            }
            // Lapsed (or unreadable): its run ended without releasing it.
            _ => {
                tracing::info!("rank claim {key}: the lease of its holder ended; taking it over");
                match object::replace(s3, key, body(owner, since), &etag).await {
                    Ok(()) => return Ok(None),
                    // Another claimant replaced or released that version first: look again.
                    Err(Fail::Exists) | Err(Fail::NotFound) => {}
                    Err(f) => return Err(s3.final_error(f, "taking over a lapsed rank claim")),
                }
            }
        }
    }
    Ok(Some("claimed by another process meanwhile".into()))
}
