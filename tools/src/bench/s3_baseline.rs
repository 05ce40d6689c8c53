//! The S3 baseline of the ping-pong test: one bare PutObject followed by one GetObject of the
//! same object (the least any message through S3 costs), timed on rank 0 with the communicator's
//! S3 configuration, next to libfmi's one-way latency over the S3 channel.

use super::runner::{self, Budget};
use super::stats::Summary;
use bytes::Bytes;
use fmi::channel::s3::admin::Admin;
use fmi::{Communicator, Error, ErrorKind, Result};
use std::time::Instant;

/// Measures PUT + GET of `data` (every rank calls it; only rank 0 talks to S3).
pub fn measure(c: &mut Communicator, data: &[u8], budget: Budget) -> Result<Summary> {
    let admin = if c.rank() == 0 {
        let cfg = c.config().s3.clone().ok_or_else(|| {
            Error::new(ErrorKind::Unsupported, "the S3 baseline needs backends.S3")
        })?;
        Some(Admin::new(&cfg, c.timeout())?)
    } else {
        None
    };
    let key = format!(
        "fmi-bench-bare/{}-{}-{}",
        std::process::id(),
        c.name(),
        data.len()
    );
    let body = Bytes::copy_from_slice(data);
    let s = runner::measure(c, data.len(), budget, |_| match &admin {
        Some(a) => {
            let t = Instant::now();
            a.put(&key, body.clone())?;
            let got = a.get(&key)?;
            let us = t.elapsed().as_secs_f64() * 1e6;
            if got.len() != body.len() {
                return Err(Error::channel(format!(
                    "GetObject returned {} of {} bytes",
                    got.len(),
                    body.len()
                )));
            }
            Ok(us)
        }
        None => Ok(0.0),
    })?;
    if let Some(a) = &admin {
        a.delete_prefix(&key)?;
    }
    Ok(s)
}
