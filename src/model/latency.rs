//! Latency of a communication pattern on a channel, in seconds.
//!
//! Peer-to-peer round: the work of its busiest peer, `messages sent + received x overhead +
//! bytes sent + received / bandwidth` (a function moves its messages one after the other: on
//! loopback and in FaaS the copies through the kernel, not the wire, bound the rate).
//! Store round: `overhead + max((bytes written + read by the busiest peer) / bandwidth_single, (bytes written + read by all peers) / bandwidth_multiple)`: every
//! byte goes to the store and comes back, through one function's connection and through the
//! store. A transfer beyond `large_message_bytes` moves the rest at `bandwidth_large` (see
//! [`Link::transfer_s`]). Reductions add `bytes folded on the critical path / reduce_bandwidth`.

use super::params::{Link, Params};
use super::pattern::Pattern;

/// Seconds of one round of `link`.
fn round_s(link: &Link, store: bool, r: &super::pattern::Round) -> f64 {
    let own = link.transfer_s(r.send) + link.transfer_s(r.recv);
    if store {
        // The store moves the bytes of all peers on the same curve, bandwidth_multiple /
        // bandwidth_single times faster.
        let all = (link.transfer_s(r.total_send) + link.transfer_s(r.total_recv))
            * (link.bandwidth_bps / link.aggregate_bps);
        link.overhead_s + own.max(all)
    } else {
        r.msgs * link.overhead_s + own
    }
}

/// Modelled seconds of `p` on `link` (`store`: an object-store channel).
pub fn seconds(params: &Params, link: &Link, store: bool, p: &Pattern) -> f64 {
    let comm: f64 = p
        .rounds
        .iter()
        .map(|r| r.repeat * round_s(link, store, r))
        .sum();
    comm + p.reduce_bytes / params.reduce_bps
}
