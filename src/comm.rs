//! The communicator: owns the channels of a group of peers, its deadlines and call sequence,
//! checks arguments, picks the channel of each operation and dispatches it to the algorithm of
//! that channel's family that fits it.

use crate::channel::direct::DirectTransport;
use crate::channel::redis::RedisTransport;
#[cfg(feature = "s3")]
use crate::channel::s3::S3Transport;
use crate::channel::store::keys::Namespace;
use crate::channel::store::{join, StoreTransport};
use crate::channel::P2pTransport;
use crate::collective::buffer::AlignedBuf;
use crate::collective::{make_tag, p2p, store, OpCode};
use crate::config::Config;
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
use crate::model::counters::{ChannelCounters, Counters};
use crate::model::trace::{self, Trace};
use crate::model::{self, Call, Model};
use crate::op::ReduceOp;
use crate::rendezvous::protocol::valid_name;
use std::time::{Duration, Instant};

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

/// The channels a communicator can run an operation on: one per family (peer-to-peer or
/// object store) and implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// Direct TCP connections (peer-to-peer family).
    Direct,
    /// A Redis server (object-store family).
    Redis,
    /// An S3 bucket (object-store family).
    S3,
}

/// Every channel kind (a free constant: an associated one would put the type into fmi.h).
const KINDS: [ChannelKind; 3] = [ChannelKind::Direct, ChannelKind::Redis, ChannelKind::S3];

/// Bytes each peer contributes to an agreement (see `Communicator::agree`).
const AGREE_BYTES: usize = 16;

impl ChannelKind {
    pub fn name(self) -> &'static str {
        match self {
            ChannelKind::Direct => "direct",
            ChannelKind::Redis => "redis",
            ChannelKind::S3 => "s3",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        KINDS.into_iter().find(|k| k.name() == name)
    }

    /// The channel as the model knows it.
    fn model(self) -> model::Channel {
        match self {
            ChannelKind::Direct => model::Channel::Direct,
            ChannelKind::Redis => model::Channel::Redis,
            ChannelKind::S3 => model::Channel::S3,
        }
    }
}

/// A store channel: its transport, the key namespace of this run, and whether an operation on it
/// failed (then finalize deletes whatever the failure left behind).
struct StoreChannel {
    t: Box<dyn StoreTransport>,
    ns: Namespace,
    dirty: bool,
}

/// The connected channels of a communicator and the choice between them.
struct Channels {
    direct: Option<Box<dyn P2pTransport>>,
    redis: Option<StoreChannel>,
    s3: Option<StoreChannel>,
    pinned: Option<ChannelKind>,
    /// The channel-selection model (equal on every peer: checked at init).
    model: Model,
}

impl Channels {
    fn has(&self, k: ChannelKind) -> bool {
        match k {
            ChannelKind::Direct => self.direct.is_some(),
            ChannelKind::Redis => self.redis.is_some(),
            ChannelKind::S3 => self.s3.is_some(),
        }
    }

    /// The store channel of kind `k` (None for Direct or when not connected).
    fn store(&mut self, k: ChannelKind) -> Option<&mut StoreChannel> {
        match k {
            ChannelKind::Direct => None,
            ChannelKind::Redis => self.redis.as_mut(),
            ChannelKind::S3 => self.s3.as_mut(),
        }
    }

    /// The enabled channels, in the order of [`KINDS`].
    fn enabled(&self) -> impl Iterator<Item = ChannelKind> + '_ {
        KINDS.into_iter().filter(|&k| self.has(k))
    }

    /// The channel of one operation: the pinned channel, else the only enabled one, else the one
    /// the model prefers under `hint` (with its estimate). Depends only on the call, the hint,
    /// the pin and the model, which every peer holds equal, so every peer picks the same channel.
    fn pick(&self, call: &Call, hint: Hint) -> (ChannelKind, Option<model::Estimate>) {
        if let Some(k) = self.pinned {
            return (k, None);
        }
        let mut enabled = [model::Channel::Direct; KINDS.len()];
        let mut n = 0;
        for k in self.enabled() {
            enabled[n] = k.model();
            n += 1;
        }
        if n == 1 {
            return (self.enabled().next().expect("one channel"), None);
        }
        let (c, e) = model::policy::choose(&self.model, call, hint, &enabled[..n]);
        let kind = KINDS
            .into_iter()
            .find(|k| k.model() == c)
            .expect("the model chose an enabled channel");
        (kind, Some(e))
    }

    /// The channel that carries agreements between peers: the first enabled one.
    fn control(&self) -> ChannelKind {
        self.enabled().next().expect("a communicator has a channel")
    }

    fn close(&mut self) {
        if let Some(d) = self.direct.as_mut() {
            d.close();
        }
        for s in [self.redis.as_mut(), self.s3.as_mut()]
            .into_iter()
            .flatten()
        {
            s.t.close();
        }
    }
}

/// The context an algorithm runs in: one per channel family.
enum Family<'c, 'a> {
    P2p(&'c mut p2p::Ctx<'a>),
    Store(&'c mut store::Ctx<'a>),
}

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
    trace: Option<Trace>,
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
        if config.direct.is_none() && config.redis.is_none() && config.s3.is_none() {
            return Err(Error::config(
                "no channel enabled: enable backends.Direct, backends.Redis or backends.S3",
            ));
        }
        #[cfg(not(feature = "s3"))]
        if config.s3.is_some() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "backends.S3 is enabled but this libfmi was built without the s3 feature",
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
        let mut channels = Channels {
            direct: None,
            redis: None,
            s3: None,
            pinned: None,
            model,
        };
        if let Some(direct) = config.direct.as_ref() {
            let p2p = DirectTransport::connect(
                rank as usize,
                size as usize,
                name,
                direct,
                config.comm.spin,
                deadline,
            )
            .map_err(|e| {
                e.context(format!(
                    "init of {name:?} (rank {rank} of {size}, channel direct, rendezvous {}:{}, after {:.3} s)",
                    direct.host,
                    direct.port,
                    start.elapsed().as_secs_f64()
                ))
            })?;
            channels.direct = Some(Box::new(p2p));
        }
        let join = |mut t: Box<dyn StoreTransport>| -> Result<StoreChannel> {
            let ns = join::agree(t.as_mut(), name, rank as usize, size as usize, deadline)?;
            Ok(StoreChannel {
                t,
                ns,
                dirty: false,
            })
        };
        if let Some(rc) = config.redis.as_ref() {
            let r = RedisTransport::connect(rc, deadline)
                .and_then(|t| join(Box::new(t) as Box<dyn StoreTransport>));
            let sc = r.map_err(|e| {
                channels.close();
                e.context(format!(
                    "init of {name:?} (rank {rank} of {size}, channel redis, server {}:{}, after {:.3} s)",
                    rc.host,
                    rc.port,
                    start.elapsed().as_secs_f64()
                ))
            })?;
            channels.redis = Some(sc);
        }
        #[cfg(feature = "s3")]
        if let Some(sc) = config.s3.as_ref() {
            let r = S3Transport::connect(sc, deadline)
                .and_then(|t| join(Box::new(t) as Box<dyn StoreTransport>));
            let sc = r.map_err(|e| {
                channels.close();
                e.context(format!(
                    "init of {name:?} (rank {rank} of {size}, channel s3, bucket {:?} at {}, after {:.3} s)",
                    sc.bucket_name,
                    sc.endpoint_url.as_deref().unwrap_or("AWS"),
                    start.elapsed().as_secs_f64()
                ))
            })?;
            channels.s3 = Some(sc);
        }
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
            trace,
        };
        comm.agree_on_model(deadline).map_err(|e| {
            e.context(format!(
                "init of {name:?} (rank {rank} of {size}, after {:.3} s)",
                start.elapsed().as_secs_f64()
            ))
        })?;
        Ok(comm)
    }

    /// Exchanges the digest of the model and enabled channels, and the memory of each function:
    /// a digest that differs between peers fails init on every peer (rather than letting peers
    /// pick different channels later); the model then prices the mean memory of the peers.
    fn agree_on_model(&mut self, deadline: Instant) -> Result<()> {
        let enabled: Vec<model::Channel> =
            self.channels.enabled().map(ChannelKind::model).collect();
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
        self.run_on(kind, OpCode::Agree, AGREE_BYTES, |c| match c {
            Family::P2p(c) => p2p::allgather::ring(c, &mine, &mut all),
            Family::Store(c) => store::allgather::write_once(c, &mine, &mut all),
        })?;
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
    pub fn peer_link(&self, peer: usize) -> Result<Option<crate::channel::Link>> {
        self.check_peer(peer, "peer")?;
        match self.channels.direct.as_ref() {
            Some(d) => Ok(d.link(peer)),
            None => Err(Error::new(
                ErrorKind::Unsupported,
                "the direct channel is not enabled: peers are reached through the store",
            )),
        }
    }

    /// Names of the connected channels ("direct", "redis", "s3").
    pub fn channel_names(&self) -> Vec<&'static str> {
        KINDS
            .into_iter()
            .filter(|&k| self.channels.has(k))
            .map(ChannelKind::name)
            .collect()
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
                Some(k) => KINDS.iter().position(|&x| x == k).expect("listed") as u8,
            }
        };
        let all = self.agree(b'P', code)?;
        match code {
            UNKNOWN => {
                return Err(Error::invalid(format!(
                    "unknown channel {name:?} (valid: {}, auto)",
                    KINDS.map(ChannelKind::name).join(", ")
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

    /// Counters of the operations run on channel `name` ("direct", "redis", "s3"), or of all
    /// channels (None).
    pub fn counters(&self, name: Option<&str>) -> Result<Counters> {
        let c = match name {
            None => None,
            Some(n) => Some(model::Channel::from_name(n).ok_or_else(|| {
                Error::invalid(format!(
                    "unknown channel {n:?} (valid: direct, redis, s3, or NULL for all)"
                ))
            })?),
        };
        Ok(self.counters.get(c))
    }

    /// Sets every counter of every channel to zero.
    pub fn reset_counters(&mut self) {
        self.counters.reset();
    }

    /// Sets the bound of every later blocking call (must be > 0).
    pub fn set_timeout(&mut self, timeout: Duration) -> Result<()> {
        if timeout.is_zero() {
            return Err(Error::invalid("timeout must be greater than 0"));
        }
        self.timeout = timeout;
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

    fn check_peer(&self, peer: usize, what: &str) -> Result<()> {
        if peer >= self.size {
            return Err(Error::invalid(format!(
                "{what} {peer} out of range for {} peers",
                self.size
            )));
        }
        Ok(())
    }

    fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
        if got != want {
            return Err(Error::new(
                ErrorKind::SizeMismatch,
                format!("{what} has {got} bytes, expected {want}"),
            ));
        }
        Ok(())
    }

    fn check_elems(len: usize, t: Datatype) -> Result<()> {
        if len % t.size() != 0 {
            return Err(Error::invalid(format!(
                "buffer of {len} bytes is not a whole number of {} elements",
                t.name()
            )));
        }
        Ok(())
    }

    /// Runs one operation on the channel the policy picks, with its tag and deadline, adding
    /// context to any error; counts it, and traces it when `FMI_TRACE` is set.
    fn run<T>(&mut self, call: Call, f: impl FnOnce(Family) -> Result<T>) -> Result<T> {
        let (kind, estimate) = self.channels.pick(&call, self.hint);
        let start = Instant::now();
        let r = self.run_on(kind, call.op, call.bytes, f);
        let elapsed = start.elapsed();
        self.counters
            .record(kind.model(), call.bytes, elapsed, r.is_ok());
        if let Some(t) = self.trace.as_mut() {
            let e = estimate.unwrap_or_else(|| self.channels.model.estimate(kind.model(), &call));
            t.write(&trace::Line {
                time: trace::now(),
                comm: &self.name,
                rank: self.rank,
                peers: self.size,
                seq: self.seq,
                op: call.op.name(),
                bytes: call.bytes,
                channel: kind.name(),
                algorithm: call.algorithm.unwrap_or(e.algorithm),
                hint: self.hint.name(),
                pinned: self.channels.pinned.is_some(),
                predicted_s: e.seconds,
                measured_s: elapsed.as_secs_f64(),
                predicted_cost_usd: e.cost.total(),
                ok: r.is_ok(),
            });
        }
        r
    }

    /// The model's description of an operation of this communicator.
    fn call(&self, op: OpCode, bytes: usize) -> Call<'static> {
        Call::new(op, bytes, self.size)
    }

    fn run_on<T>(
        &mut self,
        kind: ChannelKind,
        op: OpCode,
        bytes: usize,
        f: impl FnOnce(Family) -> Result<T>,
    ) -> Result<T> {
        if op != OpCode::SendRecv {
            self.seq = self.seq.wrapping_add(1);
        }
        let start = Instant::now();
        let deadline = start + self.timeout;
        let tag = make_tag(op, self.seq as u32);
        let (rank, size, seq) = (self.rank, self.size, self.seq);
        let r = match kind {
            ChannelKind::Direct => {
                let t = self.channels.direct.as_deref_mut().expect("picked");
                f(Family::P2p(&mut p2p::Ctx::new(t, tag, deadline)))
            }
            ChannelKind::Redis | ChannelKind::S3 => {
                let sc = self.channels.store(kind).expect("picked");
                let opname = if op == OpCode::SendRecv {
                    "p2p"
                } else {
                    op.name()
                };
                let r = f(Family::Store(&mut store::Ctx::new(
                    sc.t.as_mut(),
                    &sc.ns,
                    seq,
                    opname,
                    tag,
                    deadline,
                    rank,
                    size,
                )));
                sc.dirty |= r.is_err();
                if op != OpCode::SendRecv {
                    sc.t.call_done(&sc.ns.call(seq, opname).prefix());
                }
                r
            }
        };
        r.map_err(|e| {
            e.context(format!(
                "{} of {bytes} bytes on channel {} at rank {} of {} after {:.3} s",
                op.name(),
                kind.name(),
                self.rank,
                self.size,
                start.elapsed().as_secs_f64()
            ))
        })
    }

    /// Sends `data` to `dest`. The receiver must receive exactly `data.len()` bytes.
    pub fn send(&mut self, data: &[u8], dest: usize) -> Result<()> {
        self.check_peer(dest, "destination")?;
        if dest == self.rank {
            return Err(Error::invalid(
                "send to self is not supported (it would block)",
            ));
        }
        self.run(self.call(OpCode::SendRecv, data.len()), |c| match c {
            Family::P2p(c) => c.send(dest, data),
            Family::Store(c) => c.send(dest, data),
        })
    }

    /// Receives one message from `src` into `buf`; a message of another size is an error.
    pub fn recv(&mut self, buf: &mut [u8], src: usize) -> Result<()> {
        self.check_peer(src, "source")?;
        if src == self.rank {
            return Err(Error::invalid(
                "receive from self is not supported (it would block)",
            ));
        }
        let n = buf.len();
        self.run(self.call(OpCode::SendRecv, n), |c| match c {
            Family::P2p(c) => c.recv(src, buf),
            Family::Store(c) => c.recv(src, buf),
        })
    }

    /// Broadcasts the root's `buf` into every rank's `buf`.
    pub fn bcast(&mut self, buf: &mut [u8], root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let n = buf.len();
        self.run(self.call(OpCode::Bcast, n), |c| match c {
            Family::P2p(c) => p2p::bcast::binomial(c, buf, root),
            Family::Store(c) => store::bcast::write_once(c, buf, root),
        })
    }

    /// Returns when every rank has entered the barrier.
    pub fn barrier(&mut self) -> Result<()> {
        self.run(self.call(OpCode::Barrier, 0), |c| match c {
            Family::P2p(c) => p2p::barrier::dissemination(c),
            Family::Store(c) => store::barrier::counter(c),
        })
    }

    /// Gathers every rank's `send` into the root's `recv` (size * send.len() bytes; None elsewhere).
    pub fn gather(&mut self, send: &[u8], recv: Option<&mut [u8]>, root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let recv = if self.rank == root {
            let r =
                recv.ok_or_else(|| Error::new(ErrorKind::NullArg, "root needs a receive buffer"))?;
            Self::check_len("receive buffer", r.len(), send.len() * self.size)?;
            Some(r)
        } else {
            None
        };
        self.run(self.call(OpCode::Gather, send.len()), |c| match c {
            Family::P2p(c) => p2p::gather::binomial_rotating(c, send, recv, root),
            Family::Store(c) => store::gather::flat(c, send, recv, root),
        })
    }

    /// Scatters the root's `send` (size * recv.len() bytes; None elsewhere): block i to rank i.
    pub fn scatter(&mut self, send: Option<&[u8]>, recv: &mut [u8], root: usize) -> Result<()> {
        self.check_peer(root, "root")?;
        let send = if self.rank == root {
            let s =
                send.ok_or_else(|| Error::new(ErrorKind::NullArg, "root needs a send buffer"))?;
            Self::check_len("send buffer", s.len(), recv.len() * self.size)?;
            Some(s)
        } else {
            None
        };
        let n = recv.len();
        self.run(self.call(OpCode::Scatter, n), |c| match c {
            Family::P2p(c) => p2p::scatter::binomial(c, send, recv, root),
            Family::Store(c) => store::scatter::flat(c, send, recv, root),
        })
    }

    /// Reduces every rank's `send` into the root's `recv` (None elsewhere).
    pub fn reduce(
        &mut self,
        send: &[u8],
        recv: Option<&mut [u8]>,
        t: Datatype,
        op: &ReduceOp,
        root: usize,
    ) -> Result<()> {
        self.check_peer(root, "root")?;
        op.check(t)?;
        Self::check_elems(send.len(), t)?;
        let recv = if self.rank == root {
            let r =
                recv.ok_or_else(|| Error::new(ErrorKind::NullArg, "root needs a receive buffer"))?;
            Self::check_len("receive buffer", r.len(), send.len())?;
            Some(r)
        } else {
            None
        };
        let flat = op.ordered() || send.len() * (self.size - 1) <= store::FLAT_MAX;
        let call = self
            .call(OpCode::Reduce, send.len())
            .reduction(t.size(), op.ordered());
        self.run(call, |c| match c {
            Family::P2p(c) if op.ordered() => p2p::reduce::ordered(c, send, recv, t, op, root),
            Family::P2p(c) => p2p::reduce::binomial(c, send, recv, t, op, root),
            Family::Store(c) if flat => store::reduce::flat_fold(c, send, recv, t, op, root),
            Family::Store(c) => store::reduce::tree(c, send, recv, t, op, root),
        })
    }

    /// [`Communicator::reduce`] where `buf` is the contribution and, at the root, the result.
    pub fn reduce_in_place(
        &mut self,
        buf: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
        root: usize,
    ) -> Result<()> {
        let own = AlignedBuf::from_slice(buf);
        let recv = if self.rank == root { Some(buf) } else { None };
        self.reduce(&own, recv, t, op, root)
    }

    /// Reduces every rank's `send` into every rank's `recv`.
    pub fn allreduce(
        &mut self,
        send: &[u8],
        recv: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        self.allreduce_from(Some(send), recv, t, op)
    }

    /// Allreduce where `buf` is both the contribution and the result.
    pub fn allreduce_in_place(&mut self, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        self.allreduce_from(None, buf, t, op)
    }

    /// Allreduce of `send` (None: in place) into `buf`. The direct channel's large-message
    /// algorithms read `send` themselves (no full copy first); the others start from a copy.
    fn allreduce_from(
        &mut self,
        send: Option<&[u8]>,
        buf: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        op.check(t)?;
        Self::check_elems(buf.len(), t)?;
        let n = buf.len();
        let split = n / t.size() >= self.size && !op.ordered();
        let ring = split && n >= self.config.comm.ring_threshold;
        let segmented = split && self.size > 1 && n >= store::allreduce::SEGMENTED_MIN;
        let src = send.map_or(p2p::allreduce::Src::InPlace, p2p::allreduce::Src::From);
        fn copied<'b>(send: Option<&[u8]>, buf: &'b mut [u8]) -> &'b mut [u8] {
            if let Some(s) = send {
                buf.copy_from_slice(s);
            }
            buf
        }
        let fill = |buf| copied(send, buf);
        let call = self
            .call(OpCode::Allreduce, n)
            .reduction(t.size(), op.ordered());
        self.run(call, |c| match c {
            Family::P2p(c) if ring => p2p::allreduce::large(c, src, buf, t, op),
            Family::P2p(c) if op.ordered() => p2p::allreduce::ordered(c, fill(buf), t, op),
            Family::P2p(c) => p2p::allreduce::recursive_doubling(c, fill(buf), t, op),
            Family::Store(c) if segmented => store::allreduce::segmented(c, fill(buf), t, op),
            Family::Store(c) => store::allreduce::reduce_bcast(c, fill(buf), t, op),
        })
    }

    /// Allreduce with an explicit algorithm (for benchmarks and tests): on the direct channel
    /// "ring", "recursive_doubling" or "ordered"; on a store channel "reduce_bcast" or
    /// "segmented" (which needs a commutative and associative operator and at least one element
    /// per peer).
    pub fn allreduce_with(
        &mut self,
        algo: &str,
        buf: &mut [u8],
        t: Datatype,
        op: &ReduceOp,
    ) -> Result<()> {
        op.check(t)?;
        Self::check_elems(buf.len(), t)?;
        let n = buf.len();
        if algo == "segmented" && (op.ordered() || n / t.size() < self.size) {
            return Err(Error::invalid(
                "segmented allreduce needs a commutative and associative operator and at least one element per peer",
            ));
        }
        let call = Call::new(OpCode::Allreduce, n, self.size)
            .reduction(t.size(), op.ordered())
            .with_algorithm(Some(algo));
        self.run(call, |c| match (c, algo) {
            (Family::P2p(c), "ring") => p2p::allreduce::ring(c, buf, t, op),
            (Family::P2p(c), "halving_doubling") => p2p::allreduce::halving_doubling(c, buf, t, op),
            (Family::P2p(c), "recursive_doubling") => {
                p2p::allreduce::recursive_doubling(c, buf, t, op)
            }
            (Family::P2p(c), "ordered") => p2p::allreduce::ordered(c, buf, t, op),
            (Family::Store(c), "reduce_bcast") => store::allreduce::reduce_bcast(c, buf, t, op),
            (Family::Store(c), "segmented") => store::allreduce::segmented(c, buf, t, op),
            (_, other) => Err(Error::invalid(format!(
                "unknown allreduce algorithm {other:?} for this channel"
            ))),
        })
    }

    /// Inclusive prefix reduction: rank k gets v0 (+) ... (+) vk.
    pub fn scan(&mut self, send: &[u8], recv: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        recv.copy_from_slice(send);
        self.scan_in_place(recv, t, op)
    }

    /// Scan where `buf` is both the contribution and the result.
    pub fn scan_in_place(&mut self, buf: &mut [u8], t: Datatype, op: &ReduceOp) -> Result<()> {
        op.check(t)?;
        Self::check_elems(buf.len(), t)?;
        let n = buf.len();
        let flat = n * (self.size - 1) <= store::FLAT_MAX;
        let call = self.call(OpCode::Scan, n).reduction(t.size(), op.ordered());
        self.run(call, |c| match c {
            Family::P2p(c) if op.ordered() => p2p::scan::chain(c, buf, t, op),
            Family::P2p(c) => p2p::scan::recursive_doubling(c, buf, t, op),
            Family::Store(c) if flat => store::scan::fold_prefix(c, buf, t, op),
            Family::Store(c) if op.ordered() => store::scan::chain(c, buf, t, op),
            Family::Store(c) => store::scan::recursive_doubling(c, buf, t, op),
        })
    }

    /// Every rank's `send` into every rank's `recv` (size * send.len() bytes), in rank order.
    pub fn allgather(&mut self, send: &[u8], recv: &mut [u8]) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len() * self.size)?;
        self.run(self.call(OpCode::Allgather, send.len()), |c| match c {
            Family::P2p(c) => p2p::allgather::ring(c, send, recv),
            Family::Store(c) => store::allgather::write_once(c, send, recv),
        })
    }

    /// Block j of `send` goes to rank j, block i of `recv` comes from rank i (both size * block bytes).
    pub fn alltoall(&mut self, send: &[u8], recv: &mut [u8]) -> Result<()> {
        Self::check_len("receive buffer", recv.len(), send.len())?;
        if send.len() % self.size != 0 {
            return Err(Error::invalid(
                "alltoall buffer is not a whole number of blocks",
            ));
        }
        let n = send.len();
        self.run(self.call(OpCode::Alltoall, n), |c| match c {
            Family::P2p(c) => p2p::alltoall::all_at_once(c, send, recv),
            Family::Store(c) => store::alltoall::direct(c, send, recv),
        })
    }

    /// Collective close: on every channel, waits for every peer (so none loses data still in
    /// flight), then releases it; a store channel also deletes every key of the run. The
    /// communicator is consumed even when a closing barrier fails; the first error is returned.
    pub fn finalize(mut self) -> Result<()> {
        let mut result = Ok(());
        if self.channels.direct.is_some() {
            let r = self.run_on(ChannelKind::Direct, OpCode::Finalize, 0, |c| match c {
                Family::P2p(c) => p2p::barrier::dissemination(c),
                Family::Store(_) => unreachable!("direct is a p2p channel"),
            });
            result = result.and(r);
        }
        for kind in [ChannelKind::Redis, ChannelKind::S3] {
            let Some(dirty) = self.channels.store(kind).map(|s| s.dirty) else {
                continue;
            };
            let r = self.run_on(kind, OpCode::Finalize, 0, |c| match c {
                Family::Store(c) => store::finalize::close(c, dirty),
                Family::P2p(_) => unreachable!("{} is a store channel", kind.name()),
            });
            result = result.and(r);
        }
        self.channels.close();
        result
    }
}

impl Drop for Communicator {
    fn drop(&mut self) {
        self.channels.close();
    }
}
