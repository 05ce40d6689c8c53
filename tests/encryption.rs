//! Encrypted peer links (on whenever a job secret is set; `backends.Direct.encrypt: false` turns
//! them off): what the relay sees, a byte changed in transit, another secret, mixed settings, and
//! encryption off; on loopback with the project's rendezvous server. (Every other direct-channel
//! test runs on encrypted links too: the harness sets a job secret.)

mod common;

use fmi::channel::Link;
use fmi::config::Config;
use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, ReduceOp};
use fmi_tools::server::BackgroundServer;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A TCP forwarder in front of the rendezvous server: it records every byte it carries (both
/// directions, every connection) and, when armed, flips one bit of the next large chunk.
struct Recorder {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<u8>>>,
    flip: Arc<AtomicBool>,
}

impl Recorder {
    fn start(target: SocketAddr) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let flip = Arc::new(AtomicBool::new(false));
        let (l, f) = (log.clone(), flip.clone());
        std::thread::spawn(move || {
            for down in listener.incoming() {
                let Ok(down) = down else { return };
                let up = TcpStream::connect(target).expect("the server accepts the forwarder");
                for (from, to) in [
                    (down.try_clone().unwrap(), up.try_clone().unwrap()),
                    (up, down),
                ] {
                    let (l, f) = (l.clone(), f.clone());
                    std::thread::spawn(move || pump(from, to, &l, &f));
                }
            }
        });
        Recorder { addr, log, flip }
    }

    /// Whether `pattern` occurs in the bytes forwarded so far.
    fn saw(&self, pattern: &[u8]) -> bool {
        self.log
            .lock()
            .unwrap()
            .windows(pattern.len())
            .any(|w| w == pattern)
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, log: &Mutex<Vec<u8>>, flip: &AtomicBool) {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if n > 1000
            && flip
                .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            buf[1000] ^= 0x01;
        }
        log.lock().unwrap().extend_from_slice(&buf[..n]);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Every pair through the relay of `server`, reached through `rec`.
fn relayed(server: &BackgroundServer, rec: &Recorder, encrypt: bool) -> Config {
    let mut cfg = common::config_for(server);
    let d = cfg.direct.as_mut().unwrap();
    d.port = rec.addr.port();
    d.punch = false;
    d.encrypt = encrypt;
    cfg.comm.timeout = Duration::from_secs(10);
    cfg
}

/// 256 KiB of a pattern that no key material or header could contain by chance.
fn marked() -> Vec<u8> {
    b"PLAINTEXT-MARKER:the quick brown fox jumps over!"
        .iter()
        .copied()
        .cycle()
        .take(256 << 10)
        .collect()
}

/// Rank 0 sends `marked()` to rank 1, which checks it; both check their links are relayed.
fn send_marked(cfg: &Config) {
    common::run_named(cfg, &common::unique_name("enc"), 2, true, |c| {
        let peer = 1 - c.rank();
        assert_eq!(c.peer_link(peer).unwrap(), Some(Link::Relayed));
        let msg = marked();
        if c.rank() == 0 {
            c.send(&msg, 1).unwrap();
        } else {
            let mut got = vec![0u8; msg.len()];
            c.recv(&mut got, 0).unwrap();
            assert!(got == msg, "the message arrived changed");
        }
        c.barrier().unwrap();
    });
}

#[test]
fn the_relay_forwards_ciphertext_only() {
    let server = common::start_server();
    let marker = &marked()[..48];
    let rec = Recorder::start(server.addr());
    send_marked(&relayed(&server, &rec, true));
    assert!(!rec.log.lock().unwrap().is_empty(), "nothing went through");
    assert!(!rec.saw(marker), "plaintext went through the relay");
    // The control: with encryption off the same traffic is readable on the way.
    let rec = Recorder::start(server.addr());
    send_marked(&relayed(&server, &rec, false));
    assert!(rec.saw(marker), "the recorder did not see the plaintext");
}

#[test]
fn a_changed_byte_fails_the_receive_naming_the_peer() {
    let server = common::start_server();
    let rec = Recorder::start(server.addr());
    let cfg = relayed(&server, &rec, true);
    let flip = rec.flip.clone();
    let out = common::run_named(&cfg, &common::unique_name("flip"), 2, false, |c| {
        c.set_timeout(Duration::from_secs(5)).unwrap();
        c.barrier().unwrap();
        let msg = vec![0x42u8; 1 << 20];
        if c.rank() == 0 {
            flip.store(true, Ordering::SeqCst);
            c.send(&msg, 1).map_err(|e| e.to_string())
        } else {
            let mut got = vec![0u8; msg.len()];
            let e = c
                .recv(&mut got, 0)
                .expect_err("a changed record must not be delivered");
            assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
            assert!(e.message().contains("peer 0"), "{}", e.message());
            assert!(
                e.message().contains("failed authentication"),
                "{}",
                e.message()
            );
            // The connection stays failed: nothing more is read from it.
            let e = c.recv(&mut got, 0).unwrap_err();
            assert!(e.message().contains("peer 0"), "{}", e.message());
            Ok(())
        }
    });
    assert!(!flip.load(Ordering::SeqCst), "the byte was never flipped");
    assert!(out[1].is_ok());
}

/// Starts ranks 0 and 1 of one job with their own configurations; returns their init results.
fn init_pair(cfgs: [Config; 2]) -> Vec<Result<(), fmi::Error>> {
    let name = common::unique_name("pair");
    std::thread::scope(|s| {
        let hs: Vec<_> = cfgs
            .into_iter()
            .enumerate()
            .map(|(r, cfg)| {
                let name = name.clone();
                s.spawn(move || {
                    let mut c = Communicator::new(r as u32, 2, cfg, &name, 0)?;
                    c.barrier()?;
                    c.finalize()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn short(server: &BackgroundServer, punch: bool) -> Config {
    let mut cfg = common::config_for(server);
    let d = cfg.direct.as_mut().unwrap();
    d.punch = punch;
    d.punch_timeout = Duration::from_millis(500);
    cfg.comm.timeout = Duration::from_secs(3);
    cfg
}

#[test]
fn another_secret_fails_clearly() {
    // The server authenticates nobody, so the peers meet and their handshake must refuse.
    let server = common::start_server();
    for punch in [true, false] {
        let a = short(&server, punch);
        let mut b = a.clone();
        b.direct.as_mut().unwrap().auth_token = Some("another-secret".into());
        for (r, res) in init_pair([a, b]).into_iter().enumerate() {
            let e = res.expect_err("a peer with another secret must not connect");
            assert!(
                e.message().contains("failed authentication")
                    && e.message().contains(&format!("peer {}", 1 - r)),
                "rank {r}: {e}"
            );
        }
    }
}

#[test]
fn mixed_encryption_settings_fail_clearly() {
    let server = common::start_server();
    let a = short(&server, true);
    let mut b = a.clone();
    b.direct.as_mut().unwrap().encrypt = false;
    for (r, res) in init_pair([a, b]).into_iter().enumerate() {
        let e = res.expect_err("a mixed job must not connect");
        assert!(
            e.message().contains("link encryption") && e.message().contains("encrypt"),
            "rank {r}: {e}"
        );
    }
}

/// Collectives and point-to-point messages of sizes around the record bounds (65519 plaintext
/// bytes per record) on `n` peers.
fn exercise(cfg: &Config, n: usize, link: Link) {
    common::run_named(cfg, &common::unique_name("sizes"), n, true, |c| {
        let r = c.rank();
        for p in (0..n).filter(|&p| p != r) {
            assert_eq!(c.peer_link(p).unwrap(), Some(link));
        }
        for len in [
            0usize,
            1,
            65_503,
            65_504,
            65_519,
            65_520,
            200_001,
            (4 << 20) + 3,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
            if r == 0 {
                for p in 1..n {
                    c.send(&data, p).unwrap();
                }
            } else {
                let mut got = vec![0u8; len];
                c.recv(&mut got, 0).unwrap();
                assert!(got == data, "message of {len} bytes changed");
            }
            let mut v = vec![0u8; len.min(1 << 20) / 8 * 8];
            for (i, x) in v.chunks_mut(8).enumerate() {
                x.copy_from_slice(&((i + r) as u64).to_ne_bytes());
            }
            let sum = ReduceOp::builtin(BuiltinOp::Sum);
            c.allreduce_in_place(&mut v, Datatype::UInt64, &sum)
                .unwrap();
            for (i, x) in v.chunks(8).enumerate() {
                let want: u64 = (0..n).map(|q| (i + q) as u64).sum();
                assert_eq!(u64::from_ne_bytes(x.try_into().unwrap()), want);
            }
        }
    });
}

#[test]
fn encrypted_direct_links_carry_every_size() {
    let server = common::start_server();
    exercise(&common::config_for(&server), 3, Link::Direct);
}

#[test]
fn encrypted_relayed_links_carry_every_size() {
    let server = common::start_server();
    let mut cfg = common::config_for(&server);
    cfg.direct.as_mut().unwrap().punch = false;
    exercise(&cfg, 3, Link::Relayed);
}

#[test]
fn encryption_off_still_works() {
    let server = common::start_server();
    let mut cfg = common::config_for(&server);
    cfg.direct.as_mut().unwrap().encrypt = false;
    exercise(&cfg, 3, Link::Direct);
}
