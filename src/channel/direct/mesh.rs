//! Full-mesh setup for the direct channel: every peer registers all its pairings on one rendezvous
//! connection, and all pairs punch their connections in parallel from one shared local port.

use super::punch::{self, Attempt};
use crate::config::DirectConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::rendezvous::client::{resolve, RendezvousClient};
use crate::rendezvous::protocol::{ClientMsg, ServerMsg};
use parking_lot::{Condvar, Mutex};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HELLO_MAGIC: u32 = 0x464D_4948; // "FMIH"
const HELLO_LEN: usize = 24;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPT_WAIT: Duration = Duration::from_secs(1);

/// Name of the pairing between two ranks; the same whichever side registers it.
pub fn pair_name(a: usize, b: usize) -> String {
    format!("{}-{}", a.min(b), a.max(b))
}

/// FNV-1a, so that connections of another job are refused in the handshake.
pub fn job_hash(job: &str) -> u64 {
    job.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

struct Shared {
    rank: usize,
    size: usize,
    job: u64,
    slots: Mutex<Vec<Option<TcpStream>>>,
    /// Lower rank only: a connection to this peer was chosen (verdict sent).
    claimed: Mutex<Vec<bool>>,
    filled: Condvar,
    done: AtomicBool,
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
}

/// Connects this rank to every other rank. Returns one stream per peer (None at our own index).
pub fn establish(
    rank: usize,
    size: usize,
    job: &str,
    cfg: &DirectConfig,
    deadline: Instant,
) -> Result<Vec<Option<TcpStream>>> {
    let mut out: Vec<Option<TcpStream>> = (0..size).map(|_| None).collect();
    if size == 1 {
        return Ok(out);
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
    let mut client = RendezvousClient::connect(
        || punch::shared_port_socket(v6, port),
        server,
        job,
        rank as u32,
        size as u32,
        deadline,
    )?;
    let private = SocketAddr::new(client.local_addr()?.ip(), port);
    tracing::debug!(
        "rank {rank}: local port {port}, observed {} by rendezvous {server}",
        client.observed
    );
    for peer in (0..size).filter(|&p| p != rank) {
        client.send(&ClientMsg::Register {
            pair: pair_name(rank, peer),
            rank: rank as u32,
            private: private.to_string(),
        })?;
    }
    let shared = Arc::new(Shared {
        rank,
        size,
        job: job_hash(job),
        slots: Mutex::new((0..size).map(|_| None).collect()),
        claimed: Mutex::new(vec![false; size]),
        filled: Condvar::new(),
        done: AtomicBool::new(false),
    });
    let punch_timeout = cfg.punch_timeout;
    let result = std::thread::scope(|scope| -> Result<()> {
        let sh = shared.clone();
        let listener = &listener;
        scope.spawn(move || accept_loop(listener, &sh, deadline));
        let mut announced = vec![false; size];
        let mut failures: Vec<String> = Vec::new();
        let failures_mx = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut outstanding = size - 1;
        while outstanding > 0 && !shared.all_filled() {
            let msg = match client.next(deadline) {
                Ok(m) => m,
                Err(e) if e.kind() == ErrorKind::Timeout => break,
                Err(e) => {
                    shared.done.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            };
            let ServerMsg::Paired {
                peer_rank,
                peer_public,
                ..
            } = msg
            else {
                continue;
            };
            let peer = peer_rank as usize;
            if peer >= size || peer == rank || announced[peer] {
                continue;
            }
            announced[peer] = true;
            outstanding -= 1;
            let target: SocketAddr = match peer_public.parse() {
                Ok(a) => a,
                Err(_) => {
                    failures.push(format!("peer {peer}: bad endpoint {peer_public:?}"));
                    continue;
                }
            };
            let sh = shared.clone();
            let fails = failures_mx.clone();
            let punch_deadline = deadline.min(Instant::now() + punch_timeout);
            scope.spawn(move || {
                if let Err(e) = punch_peer(&sh, v6, port, peer, target, punch_deadline) {
                    fails.lock().push(format!("peer {peer}: {}", e.message()));
                }
            });
        }
        // Wait for every connection, whether made by a puncher or the listener.
        let mut slots = shared.slots.lock();
        loop {
            let missing: Vec<usize> = (0..size)
                .filter(|&p| p != rank && slots[p].is_none())
                .collect();
            if missing.is_empty() {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                drop(slots);
                shared.done.store(true, Ordering::SeqCst);
                failures.extend(failures_mx.lock().iter().cloned());
                let never: Vec<String> = missing
                    .iter()
                    .filter(|&&p| !announced[p])
                    .map(|p| p.to_string())
                    .collect();
                let mut msg = format!("direct channel: no connection to peer(s) {:?}", missing);
                if !never.is_empty() {
                    msg += &format!(
                        "; peer(s) {} never registered at rendezvous server {server}",
                        never.join(", ")
                    );
                }
                if !failures.is_empty() {
                    msg += &format!("; {}", failures.join("; "));
                }
                return Err(Error::new(ErrorKind::Timeout, msg));
            }
            let wait = (deadline - now).min(Duration::from_millis(100));
            shared.filled.wait_for(&mut slots, wait);
        }
        drop(slots);
        shared.done.store(true, Ordering::SeqCst);
        Ok(())
    });
    shared.done.store(true, Ordering::SeqCst);
    result?;
    let mut slots = shared.slots.lock();
    for (i, s) in slots.iter_mut().enumerate() {
        out[i] = s.take();
    }
    Ok(out)
}

fn punch_peer(
    sh: &Shared,
    v6: bool,
    port: u16,
    peer: usize,
    target: SocketAddr,
    deadline: Instant,
) -> Result<()> {
    let mut gap = Duration::from_millis(2);
    loop {
        if sh.is_filled(peer) || sh.done.load(Ordering::SeqCst) {
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("could not connect to {target} (punch timeout)"),
            ));
        }
        match punch::attempt(v6, port, target, left.min(ATTEMPT_WAIT))? {
            Attempt::Connected(stream) => {
                if let Err(e) = handshake(sh, stream, Some(peer)) {
                    tracing::debug!("rank {}: handshake with peer {peer} failed: {e}", sh.rank);
                }
            }
            Attempt::Refused => {
                std::thread::sleep(gap);
                gap = (gap * 2).min(Duration::from_millis(50));
            }
            Attempt::TakenByListener | Attempt::TimedOut => {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
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
                        if let Err(e) = handshake(&sh, stream, None) {
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

/// Identifies both ends of a fresh connection and agrees on keeping it. The lower rank decides:
/// it keeps the first connection per peer and sends verdict 1, and 0 on any later duplicate.
fn handshake(sh: &Shared, mut s: TcpStream, expect: Option<usize>) -> Result<()> {
    let io = |e: std::io::Error| Error::channel(format!("handshake: {e}"));
    s.set_read_timeout(Some(HANDSHAKE_TIMEOUT)).map_err(io)?;
    s.set_write_timeout(Some(HANDSHAKE_TIMEOUT)).map_err(io)?;
    s.set_nodelay(true).map_err(io)?;
    let mut hello = [0u8; HELLO_LEN];
    hello[0..4].copy_from_slice(&HELLO_MAGIC.to_le_bytes());
    hello[4..12].copy_from_slice(&sh.job.to_le_bytes());
    hello[12..16].copy_from_slice(&(sh.rank as u32).to_le_bytes());
    hello[16..20].copy_from_slice(&(sh.size as u32).to_le_bytes());
    s.write_all(&hello).map_err(io)?;
    let mut theirs = [0u8; HELLO_LEN];
    s.read_exact(&mut theirs).map_err(io)?;
    let word = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes"));
    let magic = word(&theirs[0..4]);
    let job = u64::from_le_bytes(theirs[4..12].try_into().expect("8 bytes"));
    let from = word(&theirs[12..16]) as usize;
    let size = word(&theirs[16..20]) as usize;
    if magic != HELLO_MAGIC
        || job != sh.job
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
            slots[from] = Some(s);
            sh.filled.notify_all();
            tracing::debug!("rank {}: connected to peer {from}", sh.rank);
        }
    }
    Ok(())
}
