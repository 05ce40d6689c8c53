//! The rendezvous server: pairs peers of the same job by pair name and tells each the other's
//! observed (public) endpoint. Concurrent (tokio), bounded, and robust against malformed input.

use super::protocol::{self, ClientMsg, ServerMsg, VERSION};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Limits and timeouts of the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// A client must say hello within this time.
    pub hello_timeout: Duration,
    /// A client that sends nothing for this long is disconnected and its pending pairings dropped.
    pub idle_timeout: Duration,
    /// Most pending (unmatched) pairings one connection may hold.
    pub max_pending_per_conn: usize,
    /// Most pending pairings in total.
    pub max_pending_total: usize,
    /// Most simultaneous connections; more are closed at once.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hello_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(120),
            max_pending_per_conn: 4096,
            max_pending_total: 100_000,
            max_connections: 4096,
        }
    }
}

/// Counters, for logs and tests.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub pairings: AtomicU64,
    pub rejected: AtomicU64,
}

struct Waiter {
    conn_id: u64,
    rank: u32,
    public: SocketAddr,
    private: String,
    tx: mpsc::UnboundedSender<ServerMsg>,
}

#[derive(Default)]
struct Registry {
    pending: HashMap<(String, String), Waiter>,
}

struct Shared {
    cfg: ServerConfig,
    registry: Mutex<Registry>,
    live: AtomicUsize,
    next_id: AtomicU64,
    stats: Arc<Stats>,
}

/// Serves forever on `listener`.
pub async fn serve(listener: TcpListener, cfg: ServerConfig, stats: Arc<Stats>) {
    let shared = Arc::new(Shared {
        cfg,
        registry: Mutex::new(Registry::default()),
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
        if shared.live.load(Ordering::Relaxed) >= shared.cfg.max_connections {
            shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        }
        shared.live.fetch_add(1, Ordering::Relaxed);
        shared.stats.connections.fetch_add(1, Ordering::Relaxed);
        let sh = shared.clone();
        tokio::spawn(async move {
            let id = sh.next_id.fetch_add(1, Ordering::Relaxed);
            if let Err(why) = handle(stream, addr, id, &sh).await {
                sh.stats.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("rendezvous: connection {id} from {addr} closed: {why}");
            }
            sh.registry.lock().pending.retain(|_, w| w.conn_id != id);
            sh.live.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Reads one message; `Ok(None)` is a clean close between frames.
async fn read_msg(
    rd: &mut tokio::net::tcp::OwnedReadHalf,
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

async fn handle(stream: TcpStream, addr: SocketAddr, id: u64, sh: &Shared) -> Result<(), String> {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
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
    let result = session(&mut rd, addr, id, sh, &tx).await;
    drop(tx);
    let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
    result
}

async fn session(
    rd: &mut tokio::net::tcp::OwnedReadHalf,
    addr: SocketAddr,
    id: u64,
    sh: &Shared,
    tx: &mpsc::UnboundedSender<ServerMsg>,
) -> Result<(), String> {
    let Some(hello) = read_msg(rd, sh.cfg.hello_timeout).await? else {
        return Ok(());
    };
    let job = match hello {
        ClientMsg::Hello { version, .. } if version != VERSION => {
            return Err(refuse(
                tx,
                "version",
                format!("unsupported protocol version {version}, server speaks {VERSION}"),
            ));
        }
        ClientMsg::Hello {
            job, rank, size, ..
        } => {
            if !protocol::valid_name(&job) || rank >= size {
                return Err(refuse(tx, "invalid", "invalid job name or rank".into()));
            }
            job
        }
        other => {
            return Err(refuse(
                tx,
                "protocol",
                format!("expected hello, got {other:?}"),
            ))
        }
    };
    let _ = tx.send(ServerMsg::Welcome {
        version: VERSION,
        observed: addr.to_string(),
    });
    let mut mine: HashSet<String> = HashSet::new();
    loop {
        let Some(msg) = read_msg(rd, sh.cfg.idle_timeout).await? else {
            return Ok(());
        };
        let ClientMsg::Register {
            pair,
            rank,
            private,
        } = msg
        else {
            return Err(refuse(tx, "protocol", "hello sent twice".into()));
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
        let key = (job.clone(), pair.clone());
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
            drop(reg);
            let to_waiter = ServerMsg::Paired {
                pair: pair.clone(),
                peer_rank: rank,
                self_public: w.public.to_string(),
                peer_public: addr.to_string(),
                peer_private: private.clone(),
            };
            let to_me = ServerMsg::Paired {
                pair: pair.clone(),
                peer_rank: w.rank,
                self_public: addr.to_string(),
                peer_public: w.public.to_string(),
                peer_private: w.private.clone(),
            };
            let _ = w.tx.send(to_waiter);
            let _ = tx.send(to_me);
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
        mine.insert(pair);
    }
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
