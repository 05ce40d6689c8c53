//! Latency of a communication pattern on a channel, in seconds.
//!
//! Peer-to-peer round: `overhead + max(bytes sent, bytes received by the busiest peer) / bandwidth`
//! (links are full duplex). Store round: `overhead + max((bytes written + read by the busiest
//! peer) / bandwidth_single, (bytes written + read by all peers) / bandwidth_multiple)`: every
//! byte goes to the store and comes back, through one function's connection and through the
//! store. Reductions add `bytes folded on the critical path / reduce_bandwidth`.

use super::algorithm::Pattern;
use super::params::{Link, Params};

/// Seconds of one round of `link`.
fn round_s(link: &Link, store: bool, r: &super::algorithm::Round) -> f64 {
    let transfer = if store {
        ((r.send + r.recv) / link.bandwidth_bps)
            .max((r.total_send + r.total_recv) / link.aggregate_bps)
    } else {
        r.send.max(r.recv) / link.bandwidth_bps
    };
    link.overhead_s + transfer
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
