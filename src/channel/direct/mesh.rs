//! Full-mesh setup for the direct channel: every peer registers all its pairings on one rendezvous
//! connection, and all pairs punch their connections in parallel from one shared local port,
//! falling back to a relay through the rendezvous server when punching fails.

use super::conn::Wire;
use super::punch::{self, Attempt};
use super::seal::{self, Binding};
use crate::config::DirectConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::rendezvous::auth;
use crate::rendezvous::client::{self, resolve, Identity, RendezvousClient};
use crate::rendezvous::protocol::ServerMsg;
use crate::rendezvous::tls::{Stream, TlsClient};
use parking_lot::{Condvar, Mutex};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HELLO_MAGIC: u32 = 0x464D_4949; // "FMII": handshake version 2
const HELLO_LEN: usize = 40;
/// Offset of the hello's flags byte; bit 0: this rank encrypts its links.
const HELLO_FLAGS: usize = 36;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPT_WAIT: Duration = Duration::from_secs(1);

pub use crate::channel::Link;

/// Name of the pairing between two ranks; the same whichever side registers it.
pub fn pair_name(a: usize, b: usize) -> String {
    format!("{}-{}", a.min(b), a.max(b))
}

/// FNV-1a, so that connections of another job are refused early in the handshake.
pub fn job_hash(job: &str) -> u64 {
    job.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

struct Shared {
    rank: usize,
    size: usize,
    job: String,
    job_hash: u64,
    /// HMAC key of the peer handshake: the job secret, or the job name without one.
    key: Vec<u8>,
    /// The job secret for rendezvous requests, if any.
    token: Option<Vec<u8>>,
    /// Links are encrypted (a job secret is set and `encrypt` is on).
    encrypt: bool,
    server: SocketAddr,
    v6: bool,
    port: u16,
    relay: bool,
    punch: bool,
    tls: Option<TlsClient>,
    slots: Mutex<Vec<Option<(Wire, Link)>>>,
    /// Lower rank only: a connection to this peer was chosen (verdict sent).
    claimed: Mutex<Vec<bool>>,
    filled: Condvar,
    done: AtomicBool,
    failures: Mutex<Vec<String>>,
}

impl Shared {
    fn is_filled(&self, peer: usize) -> bool {
        self.slots.lock()[peer].is_some()
    }
    fn all_filled(&self) -> bool {
        self.slots
            .lock()
            .iter()
            .enumerate()
            .all(|(i, s)| i == self.rank || s.is_some())
    }
    fn stop(&self, peer: usize) -> bool {
        self.is_filled(peer) || self.done.load(Ordering::SeqCst)
    }
}

/// Connects this rank to every other rank. Returns one stream per peer (None at our own index).
pub fn establish(
    rank: usize,
    size: usize,
    job: &str,
    cfg: &DirectConfig,
    deadline: Instant,
) -> Result<Vec<Option<(Wire, Link)>>> {
    if size == 1 {
        return Ok(vec![None]);
    }
    let server = resolve(&cfg.host, cfg.port)?;
    let v6 = server.is_ipv6();
    let listener = punch::shared_port_socket(v6, 0)?;
    listener
        .listen(1024)
        .map_err(|e| Error::channel(format!("listen: {e}")))?;
    let port = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port())
        .ok_or_else(|| Error::channel("listener has no port"))?;
    let token = cfg.auth_token.as_ref().map(|t| t.as_bytes().to_vec());
    let tls = cfg.tls.as_ref().map(TlsClient::new).transpose()?;
    let mut client = RendezvousClient::connect(
        || punch::shared_port_socket(v6, port),
        server,
        Identity {
            job,
            rank: rank as u32,
            size: size as u32,
            key: token.as_deref(),
            tls: tls.as_ref(),
        },
        deadline,
    )?;
    let private = SocketAddr::new(client.local_addr()?.ip(), port);
    tracing::debug!(
        "rank {rank}: local port {port}, observed {} by rendezvous {server}",
        client.observed
    );
    let shared = Arc::new(Shared {
        rank,
        size,
        job: job.to_string(),
        job_hash: job_hash(job),
        key: token.clone().unwrap_or_else(|| job.as_bytes().to_vec()),
        token,
        encrypt: cfg.encrypts(),
        server,
        v6,
        port,
        relay: cfg.relay,
        punch: cfg.punch,
        tls,
        slots: Mutex::new((0..size).map(|_| None).collect()),
        claimed: Mutex::new(vec![false; size]),
        filled: Condvar::new(),
        done: AtomicBool::new(false),
        failures: Mutex::new(Vec::new()),
    });
    let result = std::thread::scope(|scope| -> Result<()> {
        let sh = shared.clone();
        let listener = &listener;
        scope.spawn(move || accept_loop(listener, &sh, deadline));
        let r = if cfg.sequential_mesh {
            sequential(&shared, &mut client, private, cfg.punch_timeout, deadline)
        } else {
            parallel(
                scope,
                &shared,
                &mut client,
                private,
                cfg.punch_timeout,
                deadline,
            )
        };
        shared.done.store(true, Ordering::SeqCst);
        r
    });
    shared.done.store(true, Ordering::SeqCst);
    result?;
    let mut slots = shared.slots.lock();
    Ok(slots.iter_mut().map(Option::take).collect())
}

/// Where to try to reach a peer: behind the same NAT (same public IP) its private endpoint first.
fn candidates(
    self_public: SocketAddr,
    peer_public: SocketAddr,
    peer_private: SocketAddr,
) -> Vec<SocketAddr> {
    if self_public.ip() == peer_public.ip() && peer_private != peer_public {
        vec![peer_private, peer_public]
    } else {
        vec![peer_public]
    }
}

fn parse_paired(msg: ServerMsg, size: usize, rank: usize) -> Option<(usize, Vec<SocketAddr>)> {
    let ServerMsg::Paired {
        peer_rank,
        self_public,
        peer_public,
        peer_private,
        ..
    } = msg
    else {
        return None;
    };
    let peer = peer_rank as usize;
    if peer >= size || peer == rank {
        return None;
    }
    let (Ok(me), Ok(public), Ok(private)) = (
        self_public.parse::<SocketAddr>(),
        peer_public.parse::<SocketAddr>(),
        peer_private.parse::<SocketAddr>(),
    ) else {
        return None;
    };
    Some((peer, candidates(me, public, private)))
}

/// All pairings registered at once; each pair connects on its own thread as soon as it is paired.
fn parallel<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    sh: &Arc<Shared>,
    client: &mut RendezvousClient,
    private: SocketAddr,
    punch_timeout: Duration,
    deadline: Instant,
) -> Result<()> {
    let (rank, size) = (sh.rank, sh.size);
    for peer in (0..size).filter(|&p| p != rank) {
        client.register(&pair_name(rank, peer), rank as u32, private)?;
    }
    let mut announced = vec![false; size];
    let mut outstanding = size - 1;
    while outstanding > 0 && !sh.all_filled() {
        let msg = match client.next(deadline) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::Timeout => break,
            Err(e) => return Err(e),
        };
        let Some((peer, targets)) = parse_paired(msg, size, rank) else {
            continue;
        };
        if std::mem::replace(&mut announced[peer], true) {
            continue;
        }
        outstanding -= 1;
        let sh = sh.clone();
        let punch_deadline = deadline.min(Instant::now() + punch_timeout);
        scope.spawn(move || {
            if let Err(e) = connect_peer(&sh, peer, &targets, punch_deadline, deadline) {
                sh.failures
                    .lock()
                    .push(format!("peer {peer}: {}", e.message()));
            }
        });
    }
    wait_all(sh, &announced, deadline)
}

/// One pairing at a time, in the same global order on every peer (the original FMI's way;
/// kept for benchmarks).
fn sequential(
    sh: &Arc<Shared>,
    client: &mut RendezvousClient,
    private: SocketAddr,
    punch_timeout: Duration,
    deadline: Instant,
) -> Result<()> {
    let (rank, size) = (sh.rank, sh.size);
    let mut order: Vec<usize> = (0..size).filter(|&p| p != rank).collect();
    order.sort_by_key(|&p| (rank.min(p), rank.max(p)));
    let mut announced = vec![false; size];
    for peer in order {
        client.register(&pair_name(rank, peer), rank as u32, private)?;
        let targets = loop {
            if let Some((p, t)) = parse_paired(client.next(deadline)?, size, rank) {
                if p == peer {
                    break t;
                }
            }
        };
        announced[peer] = true;
        let punch_deadline = deadline.min(Instant::now() + punch_timeout);
        connect_peer(sh, peer, &targets, punch_deadline, deadline)?;
        let mut slots = sh.slots.lock();
        while slots[peer].is_none() && Instant::now() < deadline {
            sh.filled.wait_for(&mut slots, Duration::from_millis(50));
        }
    }
    wait_all(sh, &announced, deadline)
}

/// Waits until every peer's slot is filled (by a puncher, the listener or a relay) or the deadline.
fn wait_all(sh: &Shared, announced: &[bool], deadline: Instant) -> Result<()> {
    let mut slots = sh.slots.lock();
    loop {
        let missing: Vec<usize> = (0..sh.size)
            .filter(|&p| p != sh.rank && slots[p].is_none())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            drop(slots);
            sh.done.store(true, Ordering::SeqCst);
            let never: Vec<String> = missing
                .iter()
                .filter(|&&p| !announced[p])
                .map(|p| p.to_string())
                .collect();
            let mut msg = format!("direct channel: no connection to peer(s) {missing:?}");
            if !never.is_empty() {
                msg += &format!(
                    "; peer(s) {} never registered at rendezvous server {}",
                    never.join(", "),
                    sh.server
                );
            }
            let failures = sh.failures.lock();
            if !failures.is_empty() {
                msg += &format!("; {}", failures.join("; "));
            }
            return Err(Error::new(ErrorKind::Timeout, msg));
        }
        sh.filled
            .wait_for(&mut slots, (deadline - now).min(Duration::from_millis(100)));
    }
}

/// Small random delay so that retries of many pairs do not march in lockstep.
fn jitter(max_us: u64) -> Duration {
    let r = u64::from_le_bytes(auth::random_bytes::<8>());
    Duration::from_micros(r % max_us.max(1))
}

/// Punches a connection to `peer` (trying `targets` in turn) until `punch_deadline`, then falls
/// back to the relay until `deadline`.
fn connect_peer(
    sh: &Shared,
    peer: usize,
    targets: &[SocketAddr],
    punch_deadline: Instant,
    deadline: Instant,
) -> Result<()> {
    let start = Instant::now();
    let mut k = 0usize;
    while sh.punch && !sh.stop(peer) {
        let left = punch_deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let target = targets[k % targets.len()];
        k += 1;
        match punch::attempt(sh.v6, sh.port, target, left.min(ATTEMPT_WAIT))? {
            Attempt::Connected(stream) => {
                if let Err(e) = handshake(sh, Stream::Plain(stream), Some(peer), Link::Direct) {
                    tracing::debug!(
                        "rank {}: handshake with peer {peer} at {target} failed: {e}",
                        sh.rank
                    );
                }
            }
            // An RST (closed port or a NAT that answers unsolicited SYNs): the crossing SYNs must
            // meet within a round trip, so retry fast.
            Attempt::Refused => std::thread::sleep(Duration::from_millis(2) + jitter(2000)),
            Attempt::TakenByListener | Attempt::TimedOut => {
                std::thread::sleep(Duration::from_millis(1) + jitter(4000))
            }
        }
    }
    if sh.stop(peer) {
        return Ok(());
    }
    if !sh.relay {
        return Err(Error::new(
            ErrorKind::Timeout,
            format!("could not punch a connection to {targets:?} (relay disabled)"),
        ));
    }
    tracing::info!(
        "rank {}: no direct path to peer {peer} after {:.2} s; using the relay of {}",
        sh.rank,
        start.elapsed().as_secs_f64(),
        sh.server
    );
    let pair = pair_name(sh.rank, peer);
    while !sh.stop(peer) && Instant::now() < deadline {
        let stream = client::relay(
            sh.server,
            Identity {
                job: &sh.job,
                rank: sh.rank as u32,
                size: sh.size as u32,
                key: sh.token.as_deref(),
                tls: sh.tls.as_ref(),
            },
            &pair,
            deadline,
            || sh.stop(peer),
        );
        match stream {
            Ok(s) => {
                if let Err(e) = handshake(sh, s, Some(peer), Link::Relayed) {
                    tracing::debug!(
                        "rank {}: relayed handshake with peer {peer} failed: {e}",
                        sh.rank
                    );
                }
            }
            Err(e) if e.kind() == ErrorKind::Auth => return Err(e),
            Err(e) if e.kind() == ErrorKind::Timeout => break,
            Err(e) => {
                tracing::debug!("rank {}: relay to peer {peer}: {e}", sh.rank);
                std::thread::sleep(Duration::from_millis(20) + jitter(20_000));
            }
        }
    }
    Ok(())
}

fn accept_loop(listener: &socket2::Socket, sh: &Arc<Shared>, deadline: Instant) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    std::thread::scope(|scope| {
        while !sh.done.load(Ordering::SeqCst) && Instant::now() < deadline && !sh.all_filled() {
            match listener.accept() {
                Ok((sock, _)) => {
                    let stream: TcpStream = sock.into();
                    if stream.set_nonblocking(false).is_err() {
                        continue;
                    }
                    let sh = sh.clone();
                    scope.spawn(move || {
                        if let Err(e) = handshake(&sh, Stream::Plain(stream), None, Link::Direct) {
                            tracing::debug!("rank {}: inbound handshake failed: {e}", sh.rank);
                        }
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let mut pfd = libc::pollfd {
                        fd: std::os::fd::AsRawFd::as_raw_fd(listener),
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd.
                    unsafe { libc::poll(&mut pfd, 1, 2) };
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
}

fn proof(sh: &Shared, from: usize, to: usize, n_from: &[u8], n_to: &[u8]) -> [u8; 32] {
    auth::mac(
        &sh.key,
        &[
            "p2p",
            &sh.job,
            &from.to_string(),
            &to.to_string(),
            &auth::hex(n_from),
            &auth::hex(n_to),
        ],
    )
}

/// Records why a connection attempt failed when the reason would persist (another secret, another
/// encryption setting), so that the error at the deadline names it.
fn note(sh: &Shared, e: &Error) {
    if matches!(e.kind(), ErrorKind::Auth | ErrorKind::Config) {
        let mut f = sh.failures.lock();
        let msg = e.message().to_string();
        if f.len() < 8 && !f.contains(&msg) {
            f.push(msg);
        }
    }
}

/// Identifies and authenticates both ends of a fresh connection and agrees on keeping it.
///
/// Both sides send a hello (job hash, rank, size, fresh nonce, whether they encrypt), then an
/// HMAC over job, both ranks and both nonces under the job secret (or the job name without one).
/// On encrypted links both then run the Noise handshake ([`seal`]). The lower rank decides: it
/// keeps the first connection per peer and sends verdict 1, and 0 on any later duplicate.
fn handshake(sh: &Shared, s: Stream, expect: Option<usize>, link: Link) -> Result<()> {
    let r = handshake_inner(sh, s, expect, link);
    if let Err(e) = &r {
        note(sh, e);
    }
    r
}

fn handshake_inner(sh: &Shared, mut s: Stream, expect: Option<usize>, link: Link) -> Result<()> {
    let io = |e: std::io::Error| Error::channel(format!("handshake: {e}"));
    s.tcp()
        .set_read_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(io)?;
    s.tcp()
        .set_write_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(io)?;
    s.tcp().set_nodelay(true).map_err(io)?;
    let mine: [u8; 16] = auth::random_bytes();
    let mut hello = [0u8; HELLO_LEN];
    hello[0..4].copy_from_slice(&HELLO_MAGIC.to_le_bytes());
    hello[4..12].copy_from_slice(&sh.job_hash.to_le_bytes());
    hello[12..16].copy_from_slice(&(sh.rank as u32).to_le_bytes());
    hello[16..20].copy_from_slice(&(sh.size as u32).to_le_bytes());
    hello[20..36].copy_from_slice(&mine);
    hello[HELLO_FLAGS] = sh.encrypt as u8;
    s.write_all(&hello).map_err(io)?;
    let mut theirs = [0u8; HELLO_LEN];
    s.read_exact(&mut theirs).map_err(io)?;
    let word = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes"));
    let magic = word(&theirs[0..4]);
    let job = u64::from_le_bytes(theirs[4..12].try_into().expect("8 bytes"));
    let from = word(&theirs[12..16]) as usize;
    let size = word(&theirs[16..20]) as usize;
    let their_nonce = &theirs[20..36];
    if magic != HELLO_MAGIC
        || job != sh.job_hash
        || size != sh.size
        || from >= sh.size
        || from == sh.rank
    {
        return Err(Error::new(
            ErrorKind::Auth,
            "connection from outside this job refused",
        ));
    }
    if expect.is_some_and(|p| p != from) {
        return Err(Error::channel(format!(
            "expected peer {expect:?}, got {from}"
        )));
    }
    s.write_all(&proof(sh, sh.rank, from, &mine, their_nonce))
        .map_err(io)?;
    let mut their_proof = [0u8; 32];
    s.read_exact(&mut their_proof).map_err(io)?;
    if their_proof != proof(sh, from, sh.rank, their_nonce, &mine) {
        return Err(Error::new(
            ErrorKind::Auth,
            format!("peer {from} failed authentication (it holds another job secret)"),
        ));
    }
    let their_encrypt = theirs[HELLO_FLAGS] & 1 == 1;
    if their_encrypt != sh.encrypt {
        let state = |on: bool| if on { "on" } else { "off" };
        return Err(Error::new(
            ErrorKind::Config,
            format!(
                "peer {from} has link encryption {} and this rank {} \
                 (backends.Direct.encrypt and auth_token must agree across the job)",
                state(their_encrypt),
                state(sh.encrypt)
            ),
        ));
    }
    let seal = match (&sh.token, sh.encrypt) {
        (Some(secret), true) => Some(Box::new(seal::handshake(
            &mut s,
            &Binding {
                secret,
                job: &sh.job,
                size: sh.size,
                rank: sh.rank,
                peer: from,
                nonce: &mine,
                peer_nonce: their_nonce,
            },
        )?)),
        _ => None,
    };
    let keep = if sh.rank < from {
        let first = {
            let mut c = sh.claimed.lock();
            !std::mem::replace(&mut c[from], true)
        };
        s.write_all(&[first as u8]).map_err(io)?;
        first
    } else {
        let mut v = [0u8; 1];
        s.read_exact(&mut v).map_err(io)?;
        v[0] == 1
    };
    if keep {
        let mut slots = sh.slots.lock();
        if slots[from].is_none() {
            let how = if seal.is_some() { ", encrypted" } else { "" };
            if link == Link::Relayed {
                tracing::info!(
                    "rank {}: connected to peer {from} through the relay{how}",
                    sh.rank
                );
            } else {
                tracing::debug!("rank {}: connected to peer {from} directly{how}", sh.rank);
            }
            slots[from] = Some((Wire { raw: s, seal }, link));
            sh.filled.notify_all();
        }
    }
    Ok(())
}
