//! Agreement between the peers of a communicator on a setting that must be equal everywhere:
//! the model and channels at init, a pinned channel, the hint. Each peer contributes a few bytes
//! on the control channel and every peer takes the same decision from the same list.

use super::{Communicator, Hint};
use crate::channel::{ChannelKind, KINDS};
use crate::collective::Args;
use crate::error::{Error, ErrorKind, Result};
use crate::model::Model;
use crate::tag::OpCode;
use std::time::{Duration, Instant};

/// Bytes each peer contributes to an agreement (see `Communicator::agree`).
const AGREE_BYTES: usize = 16;

impl Communicator {
    /// Exchanges the digest of the model and enabled channels, and the memory of each function:
    /// a digest that differs between peers fails init on every peer (rather than letting peers
    /// pick different channels later); the model then prices the mean memory of the peers.
    pub(super) fn agree_on_model(&mut self, deadline: Instant) -> Result<()> {
        let enabled: Vec<ChannelKind> = self.channels.enabled().collect();
        let digest = self.channels.model.digest(&enabled);
        let mut mine = [0u8; AGREE_BYTES];
        mine[0] = b'I';
        mine[1..9].copy_from_slice(&digest.to_le_bytes());
        mine[9..13].copy_from_slice(&self.faas_memory_mib.to_le_bytes());
        let timeout = self.timeout;
        self.timeout = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let all = self.exchange(mine);
        self.timeout = timeout;
        let all = all?;
        let digests: Vec<u64> = all
            .iter()
            .map(|v| u64::from_le_bytes(v[1..9].try_into().expect("8 bytes")))
            .collect();
        if let Some(bad) = digests.iter().position(|&d| d != digests[0]) {
            return Err(Error::new(
                ErrorKind::Mismatch,
                format!(
                    "peers have different channel-selection settings: rank 0 has digest {:016x},                      rank {bad} has {:016x} (this rank: {digest:016x}); the enabled backends, the                      model section, communicator.ring_threshold_bytes and the libfmi version must                      be equal on every peer",
                    digests[0], digests[bad]
                ),
            ));
        }
        let total: f64 = all
            .iter()
            .map(|v| f64::from(u32::from_le_bytes(v[9..13].try_into().expect("4 bytes"))))
            .sum();
        let mut params = self.channels.model.params.clone();
        params.memory_gib = total / self.size as f64 / 1024.0;
        self.channels.model = Model { params };
        Ok(())
    }

    /// Every peer's `mine`, in rank order, exchanged on the control channel.
    fn exchange(&mut self, mine: [u8; AGREE_BYTES]) -> Result<Vec<[u8; AGREE_BYTES]>> {
        if self.size == 1 {
            return Ok(vec![mine]);
        }
        let mut all = vec![0u8; AGREE_BYTES * self.size];
        let kind = self.channels.control();
        let call = self.call(OpCode::Agree, AGREE_BYTES);
        let args = Args::Allgather {
            send: &mine,
            recv: &mut all,
        };
        self.run_on(kind, &call, args).0?;
        Ok(all
            .chunks_exact(AGREE_BYTES)
            .map(|v| v.try_into().expect("AGREE_BYTES"))
            .collect())
    }

    /// Agrees on a setting `what` whose code on this peer is `code`: returns every peer's code.
    /// Every peer gets the same list, so every peer takes the same decision from it.
    fn agree(&mut self, what: u8, code: u8) -> Result<Vec<u8>> {
        let mut mine = [0u8; AGREE_BYTES];
        mine[0] = what;
        mine[1] = code;
        let all = self.exchange(mine)?;
        if let Some(r) = all.iter().position(|v| v[0] != what) {
            return Err(Error::new(
                ErrorKind::Mismatch,
                format!(
                    "rank {r} called another setting ({:?}) at this point than this rank ({:?})",
                    all[r][0] as char, what as char
                ),
            ));
        }
        Ok(all.iter().map(|v| v[1]).collect())
    }

    /// Runs every later operation on the channel `name` ("direct", "redis" or "s3"; it must be
    /// enabled), or lets the model choose again ("auto").
    ///
    /// Collective: every peer must call it at the same point. The peers exchange their choice;
    /// when any peer named an unknown or disabled channel, or the peers named different ones,
    /// every peer gets an error (`InvalidArg`, or `Mismatch` naming the ranks) and keeps its
    /// previous setting, so the peers never run an operation on different channels.
    pub fn pin_channel(&mut self, name: &str) -> Result<()> {
        const AUTO: u8 = 0xFF;
        const UNKNOWN: u8 = 0xFE;
        const DISABLED: u8 = 0xFD;
        let code = if name == "auto" {
            AUTO
        } else {
            match ChannelKind::from_name(name) {
                None => UNKNOWN,
                Some(k) if !self.channels.has(k) => DISABLED,
                Some(k) => k.index() as u8,
            }
        };
        let all = self.agree(b'P', code)?;
        match code {
            UNKNOWN => {
                return Err(Error::invalid(format!(
                    "unknown channel {name:?} (valid: {}, auto)",
                    ChannelKind::names()
                )))
            }
            DISABLED => {
                return Err(Error::invalid(format!(
                    "channel {name} is not enabled in this communicator's configuration"
                )))
            }
            _ => {}
        }
        let describe = |c: u8| match c {
            AUTO => "auto".to_string(),
            UNKNOWN | DISABLED => "an unknown or disabled channel".to_string(),
            i => KINDS[i as usize].name().to_string(),
        };
        if let Some(r) = all.iter().position(|&c| c != code) {
            return Err(Error::new(
                ErrorKind::Mismatch,
                format!(
                    "peers pinned different channels: this rank (rank {}) {}, rank {r} {}; the pin is unchanged",
                    self.rank,
                    describe(code),
                    describe(all[r])
                ),
            ));
        }
        self.channels.pinned = if code == AUTO {
            None
        } else {
            Some(KINDS[code as usize])
        };
        Ok(())
    }

    /// Sets the channel-selection hint: later operations run on the enabled channel with the
    /// lowest modelled latency (`Fast`) or cost (`Cheap`, the default), unless a channel is
    /// pinned.
    ///
    /// Collective: every peer must call it at the same point with the same hint. The peers
    /// exchange it; when they differ, every peer gets a `Mismatch` error and keeps its previous
    /// hint, so the peers never pick different channels.
    pub fn set_hint(&mut self, hint: Hint) -> Result<()> {
        let code = match hint {
            Hint::Fast => 0,
            Hint::Cheap => 1,
        };
        let all = self.agree(b'H', code)?;
        if let Some(r) = all.iter().position(|&c| c != code) {
            return Err(Error::new(
                ErrorKind::Mismatch,
                format!(
                    "peers set different hints: this rank (rank {}) {}, rank {r} {}; the hint is unchanged",
                    self.rank,
                    hint.name(),
                    if all[r] == 0 { "fast" } else { "cheap" }
                ),
            ));
        }
        self.hint = hint;
        Ok(())
    }
}
