//! Per-communicator counters of the operations the application called: per channel, and per
//! algorithm that ran.

use crate::channel::{ChannelKind, KINDS};
use crate::plan::Algorithm;
use std::collections::BTreeMap;
use std::time::Duration;

/// What one channel carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Operations (each send, each receive, each collective call) run on the channel.
    pub operations: u64,
    /// Bytes of those operations, as the calls describe them (`plan::Call::bytes`: per-peer
    /// block for collectives, the message for send/recv, the whole send buffer for alltoall, 0
    /// for gatherv, scatterv and alltoallv).
    pub bytes: u64,
    /// Time spent in those operations, nanoseconds.
    pub time_ns: u64,
    /// Operations that returned an error.
    pub errors: u64,
}

impl Counters {
    /// Adds `o`'s counts to these.
    pub fn add(&mut self, o: &Counters) {
        self.operations += o.operations;
        self.bytes += o.bytes;
        self.time_ns += o.time_ns;
        self.errors += o.errors;
    }
}

/// The counters of every channel of a communicator.
#[derive(Debug, Clone, Default)]
pub struct ChannelCounters {
    per: [Counters; KINDS.len()],
}

impl ChannelCounters {
    /// Counts one operation of `bytes` on `c` that took `elapsed`.
    pub fn record(&mut self, c: ChannelKind, bytes: usize, elapsed: Duration, ok: bool) {
        let k = &mut self.per[c.index()];
        k.operations += 1;
        k.bytes += bytes as u64;
        k.time_ns += elapsed.as_nanos().min(u64::MAX as u128) as u64;
        k.errors += u64::from(!ok);
    }

    /// The counters of `c`, or the sum over every channel (None).
    pub fn get(&self, c: Option<ChannelKind>) -> Counters {
        match c {
            Some(c) => self.per[c.index()],
            None => {
                let mut sum = Counters::default();
                for k in &self.per {
                    sum.add(k);
                }
                sum
            }
        }
    }

    pub fn reset(&mut self) {
        *self = ChannelCounters::default();
    }
}

/// What one algorithm did on this peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgorithmCount {
    /// Operations that ran it.
    pub operations: u64,
    /// Messages this peer sent (p2p), or objects it wrote and counters it incremented (store).
    pub messages: u64,
    /// Operations that returned an error.
    pub errors: u64,
}

/// The counts of every algorithm that ran on a communicator.
#[derive(Debug, Clone, Default)]
pub struct AlgorithmCounters {
    per: BTreeMap<Algorithm, AlgorithmCount>,
}

impl AlgorithmCounters {
    /// Counts one operation that ran `alg` and sent `messages`.
    pub fn record(&mut self, alg: Algorithm, messages: u64, ok: bool) {
        let k = self.per.entry(alg).or_default();
        k.operations += 1;
        k.messages += messages;
        k.errors += u64::from(!ok);
    }

    /// Every algorithm that ran, with its counts.
    pub fn get(&self) -> Vec<(Algorithm, AlgorithmCount)> {
        self.per.iter().map(|(a, c)| (*a, *c)).collect()
    }

    /// Adds the counts of `o`.
    pub fn add(&mut self, o: &AlgorithmCounters) {
        for (alg, c) in &o.per {
            let k = self.per.entry(*alg).or_default();
            k.operations += c.operations;
            k.messages += c.messages;
            k.errors += c.errors;
        }
    }

    pub fn reset(&mut self) {
        self.per.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_and_total() {
        let mut c = ChannelCounters::default();
        c.record(ChannelKind::Direct, 8, Duration::from_micros(5), true);
        c.record(ChannelKind::Redis, 100, Duration::from_micros(60), false);
        c.record(ChannelKind::Direct, 2, Duration::from_micros(1), true);
        assert_eq!(
            c.get(Some(ChannelKind::Direct)),
            Counters {
                operations: 2,
                bytes: 10,
                time_ns: 6000,
                errors: 0
            }
        );
        assert_eq!(c.get(Some(ChannelKind::Redis)).errors, 1);
        assert_eq!(c.get(None).operations, 3);
        assert_eq!(c.get(None).bytes, 110);
        assert_eq!(c.get(Some(ChannelKind::S3)), Counters::default());
        c.reset();
        assert_eq!(c.get(None), Counters::default());
    }
}
