//! Cost of a communication pattern on a channel, in US dollars, as four parts:
//!
//! - function time: `gib_second_price x memory (GiB) x participants x latency (s)` (every
//!   function that waits for the operation is billed for it; the original billed one function
//!   and multiplied milliseconds by a per-second price, 1000x too much);
//! - requests: `objects written x upload_price + objects read x (1 + polls) x download_price`,
//!   where `polls` are the reads in vain of a reader that waits one round for its object,
//!   pausing 1 ms, 2 ms, 4 ms, ... up to `backends.S3.timeout` between reads (the S3 channel's
//!   schedule; see [`backoff_polls`]);
//! - transfer: `bytes moved x transfer_price` (sent over the network; written + read for a store);
//! - infrastructure: `price per hour / operations per hour` of the Redis instance or the
//!   rendezvous VM, charged once per operation that uses the channel (the original charged the
//!   VM once per message).

use super::params::{Link, Params};
use super::pattern::Pattern;

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

/// Reads in vain while waiting `wait` seconds with pauses of 1 ms doubling up to `cap` seconds.
pub fn backoff_polls(wait: f64, cap: f64) -> f64 {
    const FIRST: f64 = 1e-3;
    if wait <= 0.0 {
        return 0.0;
    }
    let cap = cap.max(FIRST);
    // Pauses 1, 2, 4, ... ms until the cap: after k polls, 2^k - 1 ms have passed.
    let doubling = (cap / FIRST).log2().floor() + 1.0;
    let doubling_s = FIRST * (2f64.powf(doubling) - 1.0);
    if wait <= doubling_s {
        (wait / FIRST + 1.0).log2().ceil()
    } else {
        doubling + ((wait - doubling_s) / cap).ceil()
    }
}

/// The cost of `p` on `link`, given its modelled latency `seconds`.
pub fn dollars(params: &Params, link: &Link, store: bool, p: &Pattern, seconds: f64) -> Cost {
    if p.rounds.is_empty() && p.reduce_bytes == 0.0 {
        return Cost::default();
    }
    let rounds = p.round_count().max(1.0);
    let polls = if link.poll_s > 0.0 {
        backoff_polls(seconds / rounds, link.poll_s)
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

#[cfg(test)]
mod tests {
    use super::backoff_polls;

    #[test]
    fn polls_of_the_backoff() {
        // 1 + 2 + 4 ms: 3 polls cover 7 ms; 8 ms needs a 4th.
        assert_eq!(backoff_polls(0.007, 0.1), 3.0);
        assert_eq!(backoff_polls(0.008, 0.1), 4.0);
        // cap 20 ms: 1, 2, 4, 8, 16 ms (31 ms, 5 polls), then every 20 ms.
        assert_eq!(backoff_polls(0.031, 0.02), 5.0);
        assert_eq!(backoff_polls(0.071, 0.02), 7.0);
        assert_eq!(backoff_polls(0.0, 0.02), 0.0);
    }
}
