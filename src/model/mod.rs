//! The channel-selection model: per channel and operation, the modelled latency (seconds) and
//! cost (US dollars) of the algorithm that runs for the size, and the policy that picks a channel
//! under a hint.
//!
//! - [`params`]: the parameters in SI units, from the `model` section of the configuration;
//! - [`pattern`]: the rounds, bytes and requests of the algorithm the plan ([`crate::plan`])
//!   chose for a call;
//! - [`latency`] and [`cost`]: seconds and dollars of a pattern on a channel;
//! - [`policy`]: the choice under `fast` or `cheap`;
//! - calibration (measurement and fitting) lives in the tools crate (`fmi_tools::calibrate`);
//! - [`counters`] and [`trace`]: what the communicator did (per channel counters, JSON lines).

pub mod cost;
pub mod counters;
pub mod latency;
pub mod params;
pub mod pattern;
pub mod policy;
pub mod trace;

pub use crate::plan::Call;
pub use cost::Cost;
pub use params::Params;

use crate::channel::{ChannelKind, KINDS};
use crate::config::Config;
use crate::error::Result;
use crate::plan::{plan, Tuning};

/// The model of one communicator (or of a hypothetical one, for `fmi-bench --explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub params: Params,
}

/// What the model predicts for one call on one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub algorithm: &'static str,
    /// Modelled latency, seconds.
    pub seconds: f64,
    /// Modelled cost, US dollars.
    pub cost: Cost,
    /// Rounds on the critical path.
    pub rounds: f64,
    /// Messages sent (p2p) or objects written (store) by all peers.
    pub messages: f64,
}

impl Model {
    /// The model of `cfg` for functions of `memory_mib` MiB (the mean over the peers; 0 = 128).
    pub fn new(cfg: &Config, memory_mib: f64) -> Result<Model> {
        Ok(Model {
            params: Params::from_config(cfg, memory_mib)?,
        })
    }

    /// The settings of the plan in this model (the configuration's).
    pub fn tuning(&self) -> Tuning {
        Tuning {
            ring_threshold: self.params.ring_threshold,
        }
    }

    /// Latency and cost of `call` on `channel`: of the algorithm the plan runs for it there. A
    /// forced algorithm the channel does not have (which fails there) is priced as the plan's
    /// own choice.
    pub fn estimate(&self, channel: ChannelKind, call: &Call) -> Estimate {
        let family = channel.family();
        let alg = plan(call, family, &self.tuning()).unwrap_or_else(|_| {
            let own = call.forced(None);
            plan(&own, family, &self.tuning()).expect("the plan's own choice is valid")
        });
        let p = pattern::pattern(alg, call);
        let link = self.params.link(channel);
        let store = channel.is_store();
        let seconds = latency::seconds(&self.params, link, store, &p);
        Estimate {
            algorithm: p.algorithm,
            seconds,
            cost: cost::dollars(&self.params, link, store, &p, seconds),
            rounds: p.round_count(),
            messages: p.messages,
        }
    }

    /// A digest of everything that decides a pick: the parameters and `enabled` channels, with
    /// the library version (whose plan and patterns it prices). Peers exchange it
    /// at init; a difference is an error there rather than different picks later.
    pub fn digest(&self, enabled: &[ChannelKind]) -> u64 {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION"));
        for c in enabled {
            h.update(c.name());
            h.update([0]);
        }
        let p = &self.params;
        // The memory of a function is not part of it: peers exchange theirs and use the mean.
        let mut nums = vec![p.gib_second_usd, p.reduce_bps, p.ring_threshold as f64];
        for c in KINDS {
            let l = p.link(c);
            nums.extend([
                l.overhead_s,
                l.bandwidth_bps,
                l.aggregate_bps,
                l.transfer_usd_per_byte,
                l.put_usd,
                l.get_usd,
                l.infra_usd_per_op,
                l.poll_s,
            ]);
        }
        for x in nums {
            h.update(x.to_bits().to_le_bytes());
        }
        u64::from_le_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
    }
}

#[cfg(test)]
mod tests;
