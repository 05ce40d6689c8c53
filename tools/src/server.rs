//! The rendezvous server: pairs peers of the same job by pair name and tells each the other's
//! observed (public) endpoint, and relays the traffic of pairs that cannot connect directly.
//! Concurrent (tokio), bounded, authenticated when given secrets, robust against malformed input.

use fmi::rendezvous::auth::{self, ReplayCache};
use fmi::rendezvous::protocol::{self, ClientMsg, ServerMsg, VERSION};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

mod relay;

/// A client connection: plain TCP or TLS over TCP.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type BoxIo = Box<dyn Io>;

/// Limits, timeouts and secrets of the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// A client must say hello within this time.
    pub hello_timeout: Duration,
    /// A client that sends nothing for this long is disconnected and its pending pairings dropped;
    /// a relay half waiting this long for its partner is dropped.
    pub idle_timeout: Duration,
    /// Most pending (unmatched) pairings one connection may hold.
    pub max_pending_per_conn: usize,
    /// Most pending pairings in total.
    pub max_pending_total: usize,
    /// Most simultaneous connections; more are closed at once.
    pub max_connections: usize,
    /// Most simultaneous connections from one IP address.
    pub max_connections_per_ip: usize,
    /// Most relay halves waiting for their partner.
    pub max_waiting_relays: usize,
    /// Relay limits: circuits per job and per IP address, bytes and duration per circuit.
    pub relay: RelayLimits,
    /// Accepted job secrets. Empty: no authentication. Otherwise every request must carry a valid
    /// MAC under one of them, and peers are only paired with peers holding the same secret.
    pub tokens: Vec<Vec<u8>>,
    /// Serve TLS (every connection, including relays) with this configuration.
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hello_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(120),
            max_pending_per_conn: 4096,
            max_pending_total: 100_000,
            max_connections: 4096,
            max_connections_per_ip: 1024,
            max_waiting_relays: 4096,
            relay: RelayLimits::default(),
            tokens: Vec::new(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// Limits of the relay (in the manner of libp2p's circuit relay v2). Each refusal has its own
/// code, which the peer reports as `FMI_ERR_LIMIT` with the server's message. `None`: unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayLimits {
    /// Most circuits (relayed pairs) one job may have open at once (code `relay_job_circuits`).
    pub circuits_per_job: Option<usize>,
    /// Most circuit ends one IP address may hold at once (code `relay_ip_circuits`).
    pub circuits_per_ip: Option<usize>,
    /// Most bytes one circuit forwards in each direction; the circuit is cut when a side sends
    /// more (code `relay_circuit_bytes`).
    pub bytes_per_circuit: Option<u64>,
    /// Longest a circuit stays open; it is cut then (code `relay_circuit_duration`).
    pub circuit_duration: Option<Duration>,
}

impl Default for RelayLimits {
    fn default() -> Self {
        RelayLimits {
            circuits_per_job: Some(4096),
            circuits_per_ip: Some(1024),
            bytes_per_circuit: Some(64 << 30),
            circuit_duration: Some(Duration::from_secs(3600)),
        }
    }
}

/// Codes of the relay's refusals (the `code` of the `error` message).
pub mod codes {
    pub const JOB_CIRCUITS: &str = "relay_job_circuits";
    pub const IP_CIRCUITS: &str = "relay_ip_circuits";
    pub const CIRCUIT_BYTES: &str = "relay_circuit_bytes";
    pub const CIRCUIT_DURATION: &str = "relay_circuit_duration";
    pub const RANK_TAKEN: &str = "rank_taken";
}

/// Counters, for logs and tests.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub pairings: AtomicU64,
    pub relays: AtomicU64,
    pub rejected: AtomicU64,
    pub auth_failures: AtomicU64,
    /// Circuits refused or cut at a relay limit.
    pub relay_refusals: AtomicU64,
    /// Bytes a circuit cut at its byte limit did not forward (what the sender had sent beyond it
    /// by the time it was cut, as far as the server read it).
    pub bytes_refused: AtomicU64,
    /// Hellos refused because another live connection holds the rank.
    pub rank_refusals: AtomicU64,
}

/// Pairings are scoped by the secret that authenticated them, the job and the pair name.
type Key = (Option<usize>, String, String);

struct Waiter {
    conn_id: u64,
    rank: u32,
    public: SocketAddr,
    private: String,
    tx: mpsc::UnboundedSender<ServerMsg>,
}

struct RelayWaiter {
    rank: u32,
    addr: SocketAddr,
    stream: BoxIo,
    since: Instant,
}

/// A job: the secret that authenticated it and its name.
type JobKey = (Option<usize>, String);

/// Why a circuit was cut: kept a while so that its peers can ask (`circuit` request).
struct Ended {
    code: &'static str,
    message: String,
    at: Instant,
}

/// How long the reason of a cut circuit is kept, and how many are kept at most.
const ENDED_KEEP: Duration = Duration::from_secs(600);
const ENDED_MAX: usize = 100_000;

#[derive(Default)]
struct Registry {
    pending: HashMap<Key, Waiter>,
    relays: HashMap<Key, RelayWaiter>,
    per_ip: HashMap<IpAddr, usize>,
    /// Open circuits per job, and circuit ends per IP address.
    circuits_per_job: HashMap<JobKey, usize>,
    circuits_per_ip: HashMap<IpAddr, usize>,
    /// Circuits cut at a limit, by pair.
    ended: HashMap<Key, Ended>,
    /// Ranks held by live rendezvous sessions: (job, rank) -> (connection id, its address, since).
    ranks: HashMap<(JobKey, u32), (u64, SocketAddr, Instant)>,
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, k: &K) {
    if let Some(n) = map.get_mut(k) {
        *n -= 1;
        if *n == 0 {
            map.remove(k);
        }
    }
}

struct Shared {
    cfg: ServerConfig,
    registry: Mutex<Registry>,
    replay: Mutex<ReplayCache>,
    live: AtomicUsize,
    next_id: AtomicU64,
    stats: Arc<Stats>,
}

/// Serves forever on `listener`.
pub async fn serve(listener: TcpListener, cfg: ServerConfig, stats: Arc<Stats>) {
    let shared = Arc::new(Shared {
        cfg,
        registry: Mutex::new(Registry::default()),
        replay: Mutex::new(ReplayCache::new(1_000_000)),
        live: AtomicUsize::new(0),
        next_id: AtomicU64::new(1),
        stats,
    });
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of dying.
                tracing::warn!("rendezvous: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let admitted = {
            let mut reg = shared.registry.lock();
            let n = reg.per_ip.entry(addr.ip()).or_insert(0);
            if shared.live.load(Ordering::Relaxed) >= shared.cfg.max_connections
                || *n >= shared.cfg.max_connections_per_ip
            {
                false
            } else {
                *n += 1;
                true
            }
        };
        if !admitted {
            shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        }
        shared.live.fetch_add(1, Ordering::Relaxed);
        shared.stats.connections.fetch_add(1, Ordering::Relaxed);
        let sh = shared.clone();
        tokio::spawn(async move {
            let id = sh.next_id.fetch_add(1, Ordering::Relaxed);
            let _ = stream.set_nodelay(true);
            // A held session (see `register_loop`) sends nothing for the job's whole life: TCP
            // keepalive finds its host gone.
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(
                &socket2::TcpKeepalive::new()
                    .with_time(Duration::from_secs(30))
                    .with_interval(Duration::from_secs(10))
                    .with_retries(3),
            );
            let result = match wrap(stream, &sh).await {
                Ok(io) => handle(io, addr, id, &sh).await,
                Err(e) => Err(e),
            };
            if let Err(why) = result {
                sh.stats.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("rendezvous: connection {id} from {addr} closed: {why}");
            }
            let orphans = {
                let mut reg = sh.registry.lock();
                reg.pending.retain(|_, w| w.conn_id != id);
                let left: Vec<(JobKey, u32)> = reg
                    .ranks
                    .iter()
                    .filter(|(_, held)| held.0 == id)
                    .map(|(k, _)| k.clone())
                    .collect();
                reg.ranks.retain(|_, held| held.0 != id);
                let orphans = orphaned_relays(&mut reg, &left);
                if let Some(n) = reg.per_ip.get_mut(&addr.ip()) {
                    *n -= 1;
                    if *n == 0 {
                        reg.per_ip.remove(&addr.ip());
                    }
                }
                orphans
            };
            // Relay halves waiting for a rank that left: it will never come.
            for (rank, mut w) in orphans {
                let why = format!("peer rank {rank} left the job before its relay connected");
                refuse_now(&mut w.stream, "peer_left", why).await;
            }
            sh.live.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Plain, or TLS (handshake bounded by the hello timeout) when the server has a certificate.
async fn wrap(tcp: tokio::net::TcpStream, sh: &Shared) -> Result<BoxIo, String> {
    #[cfg(feature = "tls")]
    if let Some(cfg) = &sh.cfg.tls {
        let acceptor = tokio_rustls::TlsAcceptor::from(cfg.clone());
        return match tokio::time::timeout(sh.cfg.hello_timeout, acceptor.accept(tcp)).await {
            Ok(Ok(s)) => Ok(Box::new(s)),
            Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
            Err(_) => Err("TLS handshake timed out".into()),
        };
    }
    let _ = sh;
    Ok(Box::new(tcp))
}

/// Reads one message; `Ok(None)` is a clean close between frames.
async fn read_msg(
    rd: &mut (impl AsyncRead + Unpin),
    limit: Duration,
) -> Result<Option<ClientMsg>, String> {
    let fut = async {
        let mut len = [0u8; 4];
        match rd.read_exact(&mut len).await {
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            r => r?,
        };
        let len = protocol::check_len(u32::from_be_bytes(len))?;
        let mut body = vec![0u8; len];
        rd.read_exact(&mut body).await?;
        protocol::decode::<ClientMsg>(&body).map(Some)
    };
    match tokio::time::timeout(limit, fut).await {
        Err(_) => Err(format!("silent for {limit:?}")),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(m)) => Ok(m),
    }
}

fn refuse(tx: &mpsc::UnboundedSender<ServerMsg>, code: &str, message: String) -> String {
    let _ = tx.send(ServerMsg::Error {
        code: code.into(),
        message: message.clone(),
    });
    message
}

/// Refusal on a connection that has not been split yet.
async fn refuse_now(stream: &mut BoxIo, code: &str, message: String) -> String {
    let msg = ServerMsg::Error {
        code: code.into(),
        message: message.clone(),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        stream.write_all(&protocol::encode(&msg)),
    )
    .await;
    message
}

/// Checks the MAC and nonce of `msg`: Ok(secret index) or Err(reason). `want` restricts the
/// secret to the one that authenticated the session.
fn authenticate(
    sh: &Shared,
    msg: &ClientMsg,
    job: &str,
    want: Option<usize>,
) -> Result<Option<usize>, String> {
    if sh.cfg.tokens.is_empty() {
        return Ok(None);
    }
    let fail = |why: &str| {
        sh.stats.auth_failures.fetch_add(1, Ordering::Relaxed);
        Err(why.to_string())
    };
    let Some(tag) = msg.mac() else {
        return fail("request is not authenticated (no auth token configured?)");
    };
    let fields = msg.signed_fields(job);
    let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    let found = sh
        .cfg
        .tokens
        .iter()
        .enumerate()
        .filter(|(i, _)| want.is_none_or(|w| w == *i))
        .find(|(_, key)| auth::verify(key, &refs, tag))
        .map(|(i, _)| i);
    let Some(i) = found else {
        return fail("authentication failed (wrong auth token)");
    };
    if !sh.replay.lock().accept(msg.nonce()) {
        return fail("replayed or stale request refused");
    }
    Ok(Some(i))
}

async fn handle(mut stream: BoxIo, addr: SocketAddr, id: u64, sh: &Shared) -> Result<(), String> {
    let Some(first) = read_msg(&mut stream, sh.cfg.hello_timeout).await? else {
        return Ok(());
    };
    match first {
        ClientMsg::Hello { version, .. }
        | ClientMsg::Relay { version, .. }
        | ClientMsg::Circuit { version, .. }
            if version != VERSION =>
        {
            Err(refuse_now(
                &mut stream,
                "version",
                format!("unsupported protocol version {version}, server speaks {VERSION}"),
            )
            .await)
        }
        ClientMsg::Hello {
            ref job,
            rank,
            size,
            ..
        }
        | ClientMsg::Relay {
            ref job,
            rank,
            size,
            ..
        }
        | ClientMsg::Circuit {
            ref job,
            rank,
            size,
            ..
        } if !protocol::valid_name(job) || rank >= size => {
            Err(refuse_now(&mut stream, "invalid", "invalid job name or rank".into()).await)
        }
        ClientMsg::Hello { .. } => {
            let job = match &first {
                ClientMsg::Hello { job, .. } => job.clone(),
                _ => unreachable!(),
            };
            let secret = match authenticate(sh, &first, &job, None) {
                Ok(s) => s,
                Err(why) => return Err(refuse_now(&mut stream, "auth", why).await),
            };
            let (rank, size) = match first {
                ClientMsg::Hello { rank, size, .. } => (rank, size),
                _ => unreachable!(),
            };
            if let Err(why) = claim_rank(sh, (secret, job.clone()), rank, id, addr) {
                return Err(refuse_now(&mut stream, codes::RANK_TAKEN, why).await);
            }
            pairing_session(stream, addr, id, sh, job, secret, size).await
        }
        ClientMsg::Relay { .. } => relay::relay(stream, addr, first, sh).await,
        ClientMsg::Circuit { .. } => relay::circuit_status(stream, first, sh).await,
        ClientMsg::Register { .. } => {
            Err(refuse_now(&mut stream, "protocol", "expected hello".into()).await)
        }
    }
}

/// Takes the relay halves waiting for a partner among `left` (ranks whose session closed) out of
/// the registry.
fn orphaned_relays(reg: &mut Registry, left: &[(JobKey, u32)]) -> Vec<(u32, RelayWaiter)> {
    if left.is_empty() || reg.relays.is_empty() {
        return Vec::new();
    }
    let gone: Vec<(Key, u32)> = reg
        .relays
        .iter()
        .filter_map(|((secret, job, pair), w)| {
            let (a, b) = pair.split_once('-')?;
            let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
            let partner = if w.rank == a { b } else { a };
            left.iter()
                .any(|((s, j), r)| s == secret && j == job && *r == partner)
                .then(|| ((*secret, job.clone(), pair.clone()), partner))
        })
        .collect();
    gone.into_iter()
        .filter_map(|(k, partner)| reg.relays.remove(&k).map(|w| (partner, w)))
        .collect()
}

/// Holds `rank` of `job` for connection `id` while it lives, unless a live connection holds it
/// already (a retried or duplicated process): then the refusal's message.
fn claim_rank(
    sh: &Shared,
    job: JobKey,
    rank: u32,
    id: u64,
    addr: SocketAddr,
) -> Result<(), String> {
    let mut reg = sh.registry.lock();
    if let Some((_, holder, since)) = reg.ranks.get(&(job.clone(), rank)) {
        sh.stats.rank_refusals.fetch_add(1, Ordering::Relaxed);
        let why = format!(
            "rank {rank} of job {} is held by another running process (connected from {holder} \
             {:.1} s ago); a second process for the same rank is refused and the running job \
             is not disturbed",
            job.1,
            since.elapsed().as_secs_f64()
        );
        tracing::warn!("rendezvous: {why}; refused {addr}");
        return Err(why);
    }
    reg.ranks.insert((job, rank), (id, addr, Instant::now()));
    Ok(())
}

async fn pairing_session(
    stream: BoxIo,
    addr: SocketAddr,
    id: u64,
    sh: &Shared,
    job: String,
    secret: Option<usize>,
    size: u32,
) -> Result<(), String> {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::unbounded_channel::<ServerMsg>();
    let writer = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let stop = matches!(msg, ServerMsg::Error { .. });
            if wr.write_all(&protocol::encode(&msg)).await.is_err() || stop {
                break;
            }
        }
        let _ = wr.shutdown().await;
    });
    let _ = tx.send(ServerMsg::Welcome {
        version: VERSION,
        observed: addr.to_string(),
    });
    let result = register_loop(&mut rd, addr, id, sh, &tx, &job, secret, size).await;
    // Its pending pairings hold senders of this connection: dropped here, so that the writer
    // ends as soon as it has sent what is queued.
    sh.registry.lock().pending.retain(|_, w| w.conn_id != id);
    drop(tx);
    let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
    result
}

/// How long a held session may stay silent: the job's whole life.
const HELD_WAIT: Duration = Duration::from_secs(u32::MAX as u64);

/// Whether a session holds its rank for the job's life: it registered its `size - 1` pairs and
/// none is still pending.
fn is_held(
    sh: &Shared,
    mine: &HashSet<String>,
    registered: usize,
    job: &str,
    secret: Option<usize>,
    size: u32,
) -> bool {
    registered + 1 >= size as usize && {
        let reg = sh.registry.lock();
        !mine.iter().any(|p| {
            reg.pending
                .contains_key(&(secret, job.to_string(), p.clone()))
        })
    }
}

/// Pairs the session's registrations. Once the session has registered its `size - 1` pairs and
/// none is pending, it is held: it may stay silent for the job's whole life (its rank stays
/// claimed until it closes; TCP keepalive notices a vanished host).
#[allow(clippy::too_many_arguments)]
async fn register_loop(
    rd: &mut (impl AsyncRead + Unpin),
    addr: SocketAddr,
    id: u64,
    sh: &Shared,
    tx: &mpsc::UnboundedSender<ServerMsg>,
    job: &str,
    secret: Option<usize>,
    size: u32,
) -> Result<(), String> {
    let mut mine: HashSet<String> = HashSet::new();
    let mut registered = 0usize;
    loop {
        // Waits for the next message; every idle timeout, a session that is not held (or no
        // longer) and said nothing since is dropped. The read itself is never cut off mid-frame.
        let msg = {
            let read = read_msg(rd, HELD_WAIT);
            tokio::pin!(read);
            loop {
                tokio::select! {
                    r = &mut read => break r?,
                    _ = tokio::time::sleep(sh.cfg.idle_timeout) => {
                        if !is_held(sh, &mine, registered, job, secret, size) {
                            return Err(format!("silent for {:?}", sh.cfg.idle_timeout));
                        }
                    }
                }
            }
        };
        let Some(msg) = msg else {
            return Ok(());
        };
        if let Err(why) = authenticate(sh, &msg, job, secret) {
            return Err(refuse(tx, "auth", why));
        }
        let ClientMsg::Register {
            pair,
            rank,
            private,
            ..
        } = msg
        else {
            return Err(refuse(
                tx,
                "protocol",
                "only register may follow hello".into(),
            ));
        };
        if !protocol::valid_name(&pair) || private.parse::<SocketAddr>().is_err() {
            return Err(refuse(
                tx,
                "invalid",
                "invalid pair name or private endpoint".into(),
            ));
        }
        if mine.contains(&pair) {
            return Err(refuse(
                tx,
                "duplicate",
                format!("pair {pair} registered twice"),
            ));
        }
        let key: Key = (secret, job.to_string(), pair.clone());
        let mut reg = sh.registry.lock();
        if let Some(w) = reg.pending.remove(&key) {
            if w.rank == rank {
                reg.pending.insert(key, w);
                drop(reg);
                return Err(refuse(
                    tx,
                    "duplicate",
                    format!("rank {rank} registered pair {pair} from two connections"),
                ));
            }
            registered += 1;
            drop(reg);
            let _ = w.tx.send(ServerMsg::Paired {
                pair: pair.clone(),
                peer_rank: rank,
                self_public: w.public.to_string(),
                peer_public: addr.to_string(),
                peer_private: private.clone(),
            });
            let _ = tx.send(ServerMsg::Paired {
                pair: pair.clone(),
                peer_rank: w.rank,
                self_public: addr.to_string(),
                peer_public: w.public.to_string(),
                peer_private: w.private.clone(),
            });
            sh.stats.pairings.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                "rendezvous: paired job={job} pair={pair}: rank {} at {} <-> rank {rank} at {addr}",
                w.rank,
                w.public
            );
            continue;
        }
        if mine.len() >= sh.cfg.max_pending_per_conn
            || reg.pending.len() >= sh.cfg.max_pending_total
        {
            drop(reg);
            return Err(refuse(tx, "limit", "too many pending pairings".into()));
        }
        reg.pending.insert(
            key,
            Waiter {
                conn_id: id,
                rank,
                public: addr,
                private,
                tx: tx.clone(),
            },
        );
        registered += 1;
        mine.insert(pair);
    }
}

/// The server's handling of connections (for the fuzz target `fuzz/fuzz_targets/
/// rendezvous_server.rs`; not part of the API): `data` split at each 0xFF byte is what up to
/// four clients send before they close their side; they are served at once, on in-memory
/// streams, by one server (with a job secret when `data` starts with `A`). Checks that the
/// server answers every client with well-formed frames only.
#[doc(hidden)]
pub fn fuzz_connections(data: &[u8]) {
    let cfg = ServerConfig {
        tokens: if data.first() == Some(&b'A') {
            vec![b"secret".to_vec()]
        } else {
            Vec::new()
        },
        ..ServerConfig::default()
    };
    let shared = Arc::new(Shared {
        cfg,
        registry: Mutex::new(Registry::default()),
        replay: Mutex::new(ReplayCache::new(1024)),
        live: AtomicUsize::new(0),
        next_id: AtomicU64::new(1),
        stats: Arc::new(Stats::default()),
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
    rt.block_on(async {
        let mut clients = Vec::new();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, input) in data.split(|&b| b == 0xff).take(4).enumerate() {
            let (mut client, server) = tokio::io::duplex(1 << 20);
            client.write_all(input).await.expect("fits the buffer");
            client.shutdown().await.expect("in-memory stream");
            clients.push(client);
            let sh = shared.clone();
            let addr = SocketAddr::from(([127, 0, 0, 1], 1000 + i as u16));
            tasks.spawn(async move { handle(Box::new(server), addr, i as u64 + 1, &sh).await });
        }
        while tasks.join_next().await.is_some() {}
        // Relay halves still waiting hold their streams: end them, so the answers are complete.
        shared.registry.lock().relays.clear();
        for mut c in clients {
            let mut out = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut out)).await;
            // Frames, up to the end or a relay_ready (after which the peer's bytes follow).
            let mut r = &out[..];
            while !r.is_empty() {
                let msg = protocol::read_frame::<ServerMsg>(&mut r)
                    .expect("the server sends whole, valid frames");
                if matches!(msg, ServerMsg::RelayReady { .. }) {
                    break;
                }
            }
        }
    });
}

/// A server running on a background thread (used by `fmirun` and the tests). Stops when dropped.
pub struct BackgroundServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundServer {
    /// Binds `bind` (port 0 picks a free port) and starts serving.
    pub fn start(bind: SocketAddr, cfg: ServerConfig) -> std::io::Result<Self> {
        let std_listener = std::net::TcpListener::bind(bind)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let stats = Arc::new(Stats::default());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let st = stats.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("fmi-rendezvous".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = match TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!("rendezvous: cannot serve: {e}");
                            return;
                        }
                    };
                    tokio::select! {
                        _ = serve(listener, cfg, st) => {}
                        _ = stop_rx => {}
                    }
                })
            })?;
        Ok(BackgroundServer {
            addr,
            stats,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
