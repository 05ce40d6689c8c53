//! Cost of a communication pattern on a channel, in US dollars, as four parts:
//!
//! - function time: `gib_second_price x memory (GiB) x participants x latency (s)` (every
//!   function that waits for the operation is billed for it; the original billed one function
//!   and multiplied milliseconds by a per-second price, 1000x too much);
//! - requests: `objects written x upload_price + objects read x (1 + polls) x download_price`,
//!   where a reader polling every `poll` seconds for an object that arrives on average half a
//!   round after it started polls `round latency / (2 poll)` times in vain (S3);
//! - transfer: `bytes moved x transfer_price` (sent over the network; written + read for a store);
//! - infrastructure: `price per hour / operations per hour` of the Redis instance or the
//!   rendezvous VM, charged once per operation that uses the channel (the original charged the
//!   VM once per message).

use super::algorithm::Pattern;
use super::params::{Link, Params};

/// The parts of the cost of one operation, US dollars.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cost {
    pub function_time: f64,
    pub requests: f64,
    pub transfer: f64,
    pub infrastructure: f64,
}

impl Cost {
    pub fn total(&self) -> f64 {
        self.function_time + self.requests + self.transfer + self.infrastructure
    }
}

/// The cost of `p` on `link`, given its modelled latency `seconds`.
pub fn dollars(params: &Params, link: &Link, store: bool, p: &Pattern, seconds: f64) -> Cost {
    if p.rounds.is_empty() && p.reduce_bytes == 0.0 {
        return Cost::default();
    }
    let rounds = p.round_count().max(1.0);
    let polls = if link.poll_s > 0.0 {
        seconds / rounds / (2.0 * link.poll_s)
    } else {
        0.0
    };
    Cost {
        function_time: params.gib_second_usd * params.memory_gib * p.participants * seconds,
        requests: p.messages * link.put_usd + p.reads * (1.0 + polls) * link.get_usd,
        transfer: p.moved_bytes(store) * link.transfer_usd_per_byte,
        infrastructure: link.infra_usd_per_op,
    }
}
