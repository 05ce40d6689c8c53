//! The communicator: a group of peers, its channels, deadlines and call sequence.
//!
//! - this file: creating a communicator, its accessors and settings, and closing it;
//! - [`channels`]: the connected channels and the choice of one per operation;
//! - [`agree`]: the peers' agreement on settings (at init, pinning a channel, the hint);
//! - [`dispatch`]: argument checks, and running one operation on its channel with the algorithm
//!   the plan picks ([`crate::plan`]), counters and trace;
//! - [`ops`]: the operations (send, receive, the collectives);
//! - [`p2p`]: tagged point-to-point messages, wildcards, probe, send-receive, isend/irecv;
//! - [`nonblocking`]: non-blocking collectives on the communicator's worker thread;
//! - [`derive`]: communicators derived from this one (dup, split, create_group) and free;
//!   [`group`]: groups of processes; [`context`]: context ids; [`view`]: the connections that
//!   a communicator shares with the communicators derived from the same init.

mod agree;
mod background;
mod channels;
mod context;
mod derive;
mod dispatch;
mod group;
mod idup;
mod nonblocking;
mod ops;
mod p2p;
mod view;

pub use background::{Background, BlockList};
pub use derive::UNDEFINED;
pub use group::Group;
pub use idup::PendingDup;

use crate::channel::{ChannelKind, Link, Member};
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::model::counters::{AlgorithmCount, AlgorithmCounters, ChannelCounters, Counters};
use crate::model::trace::Trace;
use crate::model::{Call, Model};
use crate::plan::Algorithm;
use crate::rendezvous::protocol::valid_name;
use crate::tag::OpCode;
use channels::Channels;
use context::Family;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::model::policy::Hint;

/// A group of `size` peers that exchange messages and run collectives.
///
/// All peers must call collective operations in the same order with matching arguments.
/// Every blocking call ends within [`Communicator::timeout`].
pub struct Communicator {
    rank: usize,
    size: usize,
    name: String,
    timeout: Duration,
    hint: Hint,
    faas_memory_mib: u32,
    config: Config,
    channels: Channels,
    seq: u64,
    counters: ChannelCounters,
    algorithms: AlgorithmCounters,
    trace: Option<Trace>,
    /// Runs the non-blocking collectives (started by the first).
    worker: Option<nonblocking::Worker>,
    /// The context id of this communicator's messages (0: the communicator made by init).
    ctx: u32,
    /// The init rank of each rank of this communicator.
    members: Arc<[usize]>,
    /// What the communicators of this init share on this process.
    family: Arc<Family>,
}

impl std::fmt::Debug for Communicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Communicator")
            .field("rank", &self.rank)
            .field("size", &self.size)
            .field("name", &self.name)
            .field("channels", &self.channel_names())
            .finish()
    }
}

impl Communicator {
    /// Joins the group `name` as `rank` of `size` (collective: every rank must call it).
    /// `faas_memory_mib` (0 = 128) feeds the cost model.
    pub fn new(
        rank: u32,
        size: u32,
        config: Config,
        name: &str,
        faas_memory_mib: u32,
    ) -> Result<Self> {
        if size == 0 {
            return Err(Error::invalid("num_peers must be at least 1"));
        }
        if rank >= size {
            return Err(Error::invalid(format!(
                "peer_id {rank} out of range for {size} peers (valid: 0..{})",
                size - 1
            )));
        }
        if !valid_name(name) {
            return Err(Error::invalid(format!(
                "comm_name {name:?} must be 1..=256 printable ASCII characters without spaces"
            )));
        }
        if !crate::channel::KINDS.into_iter().any(|k| config.enabled(k)) {
            return Err(Error::config(
                "no channel enabled: enable backends.Direct, backends.Redis or backends.S3",
            ));
        }
        let faas_memory_mib = if faas_memory_mib == 0 {
            128
        } else {
            faas_memory_mib
        };
        // Checked before connecting: a bad model section fails here, on every peer.
        let model = Model::new(&config, f64::from(faas_memory_mib))?;
        let trace = Trace::from_env()?;
        let start = Instant::now();
        let deadline = start + config.comm.timeout;
        let me = Member {
            rank: rank as usize,
            size: size as usize,
            job: name,
            spin: config.comm.spin,
            unexpected: config.comm.unexpected_bytes,
        };
        let channels = Channels::connect(&config, me, model, deadline).map_err(|e| {
            e.context(format!(
                "init of {name:?} (rank {rank} of {size}, after {:.3} s)",
                start.elapsed().as_secs_f64()
            ))
        })?;
        tracing::debug!(
            "rank {rank}/{size} of {name:?} connected in {:?}",
            start.elapsed()
        );
        let mut comm = Communicator {
            rank: rank as usize,
            size: size as usize,
            name: name.to_string(),
            timeout: config.comm.timeout,
            hint: Hint::Cheap,
            faas_memory_mib,
            config,
            channels,
            seq: 0,
            counters: ChannelCounters::default(),
            algorithms: AlgorithmCounters::default(),
            trace,
            worker: None,
            ctx: 0,
            members: (0..size as usize).collect(),
            family: Arc::new(Family::new(size as usize)),
        };
        comm.agree_on_model(deadline).map_err(|e| {
            e.context(format!(
                "init of {name:?} (rank {rank} of {size}, after {:.3} s)",
                start.elapsed().as_secs_f64()
            ))
        })?;
        Ok(comm)
    }

    /// Joins the group described by the environment (as set by `fmirun`): `FMI_PEER_ID`,
    /// `FMI_NUM_PEERS`, `FMI_COMM_NAME` (required), `FMI_CONFIG`, `FMI_FAAS_MEMORY` (optional),
    /// and the overrides `FMI_RENDEZVOUS`, `FMI_TIMEOUT_MS`.
    pub fn from_env() -> Result<Self> {
        fn num(key: &str, required: bool) -> Result<u32> {
            match std::env::var(key) {
                Ok(v) => v.trim().parse().map_err(|_| {
                    Error::config(format!("{key}: expected a non-negative integer, got {v:?}"))
                }),
                Err(_) if required => Err(Error::config(format!("{key} is not set"))),
                Err(_) => Ok(0),
            }
        }
        let rank = num("FMI_PEER_ID", true)?;
        let size = num("FMI_NUM_PEERS", true)?;
        let mem = num("FMI_FAAS_MEMORY", false)?;
        let name = std::env::var("FMI_COMM_NAME")
            .map_err(|_| Error::config("FMI_COMM_NAME is not set"))?;
        let path = std::env::var_os("FMI_CONFIG").filter(|s| !s.is_empty());
        let cfg = Config::load(path.as_deref().map(std::path::Path::new))?;
        Communicator::new(rank, size, cfg, &name, mem)
    }

    pub fn rank(&self) -> usize {
        self.rank
    }
    pub fn size(&self) -> usize {
        self.size
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    pub fn hint(&self) -> Hint {
        self.hint
    }
    pub fn faas_memory_mib(&self) -> u32 {
        self.faas_memory_mib
    }
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How `peer` is reached by the direct channel: None for this rank itself.
    pub fn peer_link(&self, peer: usize) -> Result<Option<Link>> {
        self.check_peer(peer, "peer")?;
        match self.channels.p2p(ChannelKind::Direct) {
            Some(d) => Ok(d.link(peer)),
            None => Err(Error::new(
                ErrorKind::Unsupported,
                "the direct channel is not enabled: peers are reached through the store",
            )),
        }
    }

    /// Names of the connected channels ("direct", "redis", "s3").
    pub fn channel_names(&self) -> Vec<&'static str> {
        self.channels.enabled().map(ChannelKind::name).collect()
    }

    /// The channel that the next barrier runs on.
    pub fn channel(&self) -> &'static str {
        self.channel_for(OpCode::Barrier, 0)
    }

    /// The channel an operation `op` of `bytes` (as [`Call::bytes`] describes them) runs on
    /// under the current hint and pin, for an operator that is commutative and associative.
    pub fn channel_for(&self, op: OpCode, bytes: usize) -> &'static str {
        let call = Call::new(op, bytes, self.size);
        self.channels.pick(&call, self.hint).0.name()
    }

    /// The channel pinned by [`Communicator::pin_channel`], if any.
    pub fn pinned_channel(&self) -> Option<&'static str> {
        self.channels.pinned.map(ChannelKind::name)
    }

    /// The channel-selection model of this communicator.
    pub fn model(&self) -> &Model {
        &self.channels.model
    }

    /// Counters of the operations run on channel `name` ("direct", "redis", "s3"), or of all
    /// channels (None).
    pub fn counters(&self, name: Option<&str>) -> Result<Counters> {
        let c = match name {
            None => None,
            Some(n) => Some(ChannelKind::from_name(n).ok_or_else(|| {
                Error::invalid(format!(
                    "unknown channel {n:?} (valid: {}, or NULL for all)",
                    ChannelKind::names()
                ))
            })?),
        };
        let mut k = self.counters.get(c);
        if let Some(w) = &self.worker {
            k.add(&w.counters.lock().get(c));
        }
        Ok(k)
    }

    /// Every algorithm that ran for an operation of this communicator (as the plan chose it),
    /// with how often and the messages this peer sent in it.
    pub fn algorithm_counts(&self) -> Vec<(Algorithm, AlgorithmCount)> {
        match &self.worker {
            Some(w) => {
                let mut all = self.algorithms.clone();
                all.add(&w.algorithms.lock());
                all.get()
            }
            None => self.algorithms.get(),
        }
    }

    /// Sets every counter of every channel, and of every algorithm, to zero.
    pub fn reset_counters(&mut self) {
        self.counters.reset();
        self.algorithms.reset();
        if let Some(w) = &self.worker {
            w.counters.lock().reset();
            w.algorithms.lock().reset();
        }
    }

    /// Sets the bound of every later blocking call (must be > 0).
    pub fn set_timeout(&mut self, timeout: Duration) -> Result<()> {
        if timeout.is_zero() {
            return Err(Error::invalid("timeout must be greater than 0"));
        }
        self.timeout = timeout;
        Ok(())
    }

    /// Collective close: on every channel, waits for every peer (so none loses data still in
    /// flight), then releases it; a store channel also deletes every key of the communicator.
    /// The communicator is consumed even when a closing barrier fails; the first error is
    /// returned.
    ///
    /// Connections are shared with the communicators derived from the same init: they close
    /// when the last of those is finalized, freed or dropped, so a derived communicator keeps
    /// working after its parent's finalize. A derived communicator's context id is returned for
    /// reuse after a successful close ([`Communicator::free`]).
    pub fn finalize(mut self) -> Result<()> {
        if let Some(mut w) = self.worker.take() {
            w.stop();
            if w.store_failed() {
                self.channels.mark_stores_dirty();
            }
        }
        let mut result = Ok(());
        let kinds: Vec<ChannelKind> = self.channels.enabled().collect();
        for kind in kinds {
            result = result.and(self.close_channel(kind));
        }
        if self.ctx != 0 && result.is_ok() {
            result = self.release_context();
        }
        self.channels.close();
        result
    }
}

impl Drop for Communicator {
    fn drop(&mut self) {
        if let Some(mut w) = self.worker.take() {
            w.stop();
        }
        self.channels.close();
    }
}
