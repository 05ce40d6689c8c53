//! Model parameters in SI units (seconds, bytes, bytes per second, US dollars), converted from
//! the `model` section of the configuration, whose units are those of the original FMI:
//! milliseconds, MB/s (10^6 B/s), $ per GB (10^9 B), $ per request, $ per hour, $ per GiB-second.

use crate::channel::{ChannelKind, KINDS};
use crate::config::{Config, DirectModel, StorageModel};
use crate::error::{Error, Result};

/// The parameters of one channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Fixed time of one round (p2p: one message between two peers; store: one write and the
    /// read that takes it), seconds.
    pub overhead_s: f64,
    /// Bytes per second of one peer's transfers (p2p: a link, full duplex; store: one
    /// function's writes and reads to the store together).
    pub bandwidth_bps: f64,
    /// Bytes of one transfer (a peer's sends, or receives, in a round) from which the rest
    /// moves at `bandwidth_large_bps` (caches and socket buffers no longer hold it); infinite
    /// when the channel has one bandwidth.
    pub knee_bytes: f64,
    pub bandwidth_large_bps: f64,
    /// Store only: bytes per second the store moves for all peers together (writes + reads).
    /// Infinite for p2p links.
    pub aggregate_bps: f64,
    /// $ per byte moved through the channel (sent over the network; store: written + read).
    pub transfer_usd_per_byte: f64,
    /// $ per object written (S3 PUT).
    pub put_usd: f64,
    /// $ per object read or polled (S3 GET).
    pub get_usd: f64,
    /// Amortised infrastructure per operation: $/h of the Redis instance or rendezvous VM divided
    /// by the operations per hour it serves (0 when infrastructure costs are excluded).
    pub infra_usd_per_op: f64,
    /// Store only: interval at which a reader polls for an object that is not there yet
    /// (S3: `backends.S3.timeout`), seconds; 0 when the reader blocks in the store (Redis).
    pub poll_s: f64,
}

/// Everything the model needs, in SI units.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// The parameters of each channel, in [`KINDS`] order.
    pub links: [Link; KINDS.len()],
    /// $ per GiB-second of function time.
    pub gib_second_usd: f64,
    /// Bytes per second at which a function folds a reduction operand into its accumulator.
    pub reduce_bps: f64,
    /// Memory of one function, GiB (the mean over the peers of a communicator).
    pub memory_gib: f64,
    /// `communicator.ring_threshold_bytes`: where the direct allreduce leaves recursive doubling.
    pub ring_threshold: usize,
}

const MS: f64 = 1e-3;
const MB: f64 = 1e6;
const GB: f64 = 1e9;
/// 1 GiB in MiB.
const MIB_PER_GIB: f64 = 1024.0;

fn infra(price_per_hour: f64, ops_per_hour: f64, include: bool) -> f64 {
    if include && ops_per_hour > 0.0 {
        price_per_hour / ops_per_hour
    } else {
        0.0
    }
}

fn positive(v: f64, key: &str) -> Result<f64> {
    if v > 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(Error::config(format!("{key}: must be greater than 0")))
    }
}

/// (knee bytes, bytes per second beyond it) of `large_message_bytes` and `bandwidth_large`.
fn knee(bytes: f64, large_mbps: f64, key: &str) -> Result<(f64, f64)> {
    if bytes > 0.0 {
        Ok((bytes, positive(large_mbps, key)? * MB))
    } else {
        Ok((f64::INFINITY, f64::INFINITY))
    }
}

fn store_link(m: &StorageModel, name: &str, poll_s: f64) -> Result<Link> {
    let (knee_bytes, bandwidth_large_bps) = knee(
        m.large_message_bytes,
        m.bandwidth_large,
        &format!("model.{name}.bandwidth_large"),
    )?;
    Ok(Link {
        overhead_s: m.overhead_ms * MS,
        bandwidth_bps: positive(m.bandwidth, &format!("model.{name}.bandwidth"))? * MB,
        knee_bytes,
        bandwidth_large_bps,
        aggregate_bps: positive(
            m.bandwidth_multiple,
            &format!("model.{name}.bandwidth_multiple"),
        )? * MB,
        transfer_usd_per_byte: m.transfer_price / GB,
        put_usd: m.upload_price,
        get_usd: m.download_price,
        infra_usd_per_op: infra(
            m.instance_price,
            m.requests_per_hour,
            m.include_infrastructure_costs,
        ),
        poll_s,
    })
}

impl Link {
    /// Seconds to move `bytes` in one transfer at this link's bandwidth(s).
    pub fn transfer_s(&self, bytes: f64) -> f64 {
        if bytes <= self.knee_bytes {
            bytes / self.bandwidth_bps
        } else {
            self.knee_bytes / self.bandwidth_bps
                + (bytes - self.knee_bytes) / self.bandwidth_large_bps
        }
    }
}

/// The link of a peer-to-peer channel from its `model` section (`model.{key}`).
fn p2p_link(d: &DirectModel, key: &str) -> Result<Link> {
    let (knee_bytes, bandwidth_large_bps) = knee(
        d.large_message_bytes,
        d.bandwidth_large,
        &format!("model.{key}.bandwidth_large"),
    )?;
    Ok(Link {
        overhead_s: d.overhead_ms * MS,
        bandwidth_bps: positive(d.bandwidth, &format!("model.{key}.bandwidth"))? * MB,
        knee_bytes,
        bandwidth_large_bps,
        aggregate_bps: f64::INFINITY,
        transfer_usd_per_byte: d.transfer_price / GB,
        put_usd: 0.0,
        get_usd: 0.0,
        infra_usd_per_op: infra(
            d.vm_price,
            d.requests_per_hour,
            d.include_infrastructure_costs,
        ),
        poll_s: 0.0,
    })
}

impl Params {
    pub fn from_config(cfg: &Config, memory_mib: f64) -> Result<Params> {
        let m = &cfg.model;
        let mut links = Vec::with_capacity(KINDS.len());
        for kind in KINDS {
            let key = kind.config_key();
            links.push(match (m.p2p(kind), m.store(kind)) {
                (Some(d), _) => p2p_link(d, key)?,
                (None, Some(s)) => store_link(s, key, cfg.poll_s(kind))?,
                (None, None) => unreachable!("{key} has a model section"),
            });
        }
        Ok(Params {
            links: links.try_into().expect("one link per channel"),
            gib_second_usd: m.gib_second_price,
            reduce_bps: positive(m.reduce_bandwidth, "model.FaaS.reduce_bandwidth")? * MB,
            memory_gib: if memory_mib > 0.0 { memory_mib } else { 128.0 } / MIB_PER_GIB,
            ring_threshold: cfg.comm.ring_threshold,
        })
    }

    pub fn link(&self, c: ChannelKind) -> &Link {
        &self.links[c.index()]
    }

    pub fn link_mut(&mut self, c: ChannelKind) -> &mut Link {
        &mut self.links[c.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_converted() {
        let p = Params::from_config(&Config::default(), 0.0).unwrap();
        // 0.34 ms, 400 MB/s
        assert!((p.link(ChannelKind::Direct).overhead_s - 0.34e-3).abs() < 1e-12);
        assert_eq!(p.link(ChannelKind::Direct).bandwidth_bps, 400e6);
        // $0.0134 per hour over 1000 operations per hour
        assert!((p.link(ChannelKind::Direct).infra_usd_per_op - 1.34e-5).abs() < 1e-15);
        assert!((p.link(ChannelKind::Redis).infra_usd_per_op - 3.8e-6).abs() < 1e-15);
        // S3 infrastructure is excluded by default; PUT and GET are priced per request
        assert_eq!(p.link(ChannelKind::S3).infra_usd_per_op, 0.0);
        assert_eq!(
            (
                p.link(ChannelKind::S3).put_usd,
                p.link(ChannelKind::S3).get_usd
            ),
            (5.4e-6, 4.3e-7)
        );
        assert_eq!(p.memory_gib, 0.125);
        assert_eq!(p.link(ChannelKind::S3).poll_s, 0.1);
    }

    #[test]
    fn zero_bandwidth_is_a_config_error() {
        let mut c = Config::default();
        c.model.redis.bandwidth = 0.0;
        let e = Params::from_config(&c, 512.0).unwrap_err();
        assert!(e.message().contains("model.Redis.bandwidth"), "{e}");
    }
}
