//! The choice of a channel for one operation: the lowest modelled latency (`Hint::Fast`) or the
//! lowest modelled cost (`Hint::Cheap`), ties broken by the other criterion, then by the order
//! direct, redis, s3. A pure function of the call, the hint, the enabled channels and the
//! parameters, which every peer holds equal (see [`super::digest`]), so every peer picks the
//! same channel for the same operation.

use super::{Estimate, Model};
use crate::channel::ChannelKind;
use crate::plan::Call;

/// Channel-selection hint: minimise modelled latency or modelled cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    Fast,
    Cheap,
}

impl Hint {
    pub fn name(self) -> &'static str {
        match self {
            Hint::Fast => "fast",
            Hint::Cheap => "cheap",
        }
    }
}

/// The channel of `enabled` that `hint` prefers for `call`, with its estimate.
/// `enabled` must not be empty.
pub fn choose(
    model: &Model,
    call: &Call,
    hint: Hint,
    enabled: &[ChannelKind],
) -> (ChannelKind, Estimate) {
    let mut best: Option<(ChannelKind, Estimate)> = None;
    for &c in enabled {
        let e = model.estimate(c, call);
        let key = |e: &Estimate| match hint {
            Hint::Fast => (e.seconds, e.cost.total()),
            Hint::Cheap => (e.cost.total(), e.seconds),
        };
        let better = match &best {
            None => true,
            Some((_, b)) => key(&e) < key(b),
        };
        if better {
            best = Some((c, e));
        }
    }
    best.expect("at least one channel is enabled")
}
