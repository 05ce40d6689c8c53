//! TLS to the rendezvous server, and the relay path (forced with `punch: false`), on loopback.

mod common;

use fmi::channel::Link;
use fmi::config::{Config, TlsClientConfig};
use fmi::{BuiltinOp, Communicator, Datatype, ErrorKind, ReduceOp};
use fmi_tools::server::{BackgroundServer, ServerConfig};
use std::path::PathBuf;
use std::time::Duration;

/// A self-signed certificate for 127.0.0.1, written as PEM files; returns (cert, key).
fn cert(dir: &std::path::Path, tag: &str) -> (PathBuf, PathBuf) {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (c, k) = (
        dir.join(format!("{tag}.crt")),
        dir.join(format!("{tag}.key")),
    );
    std::fs::write(&c, ck.cert.pem()).unwrap();
    std::fs::write(&k, ck.signing_key.serialize_pem()).unwrap();
    (c, k)
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(common::unique_name(tag));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tls_server(cert: &std::path::Path, key: &std::path::Path) -> BackgroundServer {
    let cfg = ServerConfig {
        tls: Some(fmi::rendezvous::tls::server_config(cert, key).unwrap()),
        tokens: vec![b"tls-job-secret".to_vec()],
        ..ServerConfig::default()
    };
    BackgroundServer::start("127.0.0.1:0".parse().unwrap(), cfg).unwrap()
}

fn config(server: &BackgroundServer, ca: Option<&std::path::Path>, punch: bool) -> Config {
    let mut cfg = common::config_for(server);
    let d = cfg.direct.as_mut().unwrap();
    d.punch = punch;
    d.auth_token = Some("tls-job-secret".into());
    d.tls = ca.map(|ca| TlsClientConfig {
        ca_file: ca.to_path_buf(),
        server_name: "127.0.0.1".into(),
    });
    cfg.comm.timeout = Duration::from_secs(20);
    cfg
}

/// Runs collectives of several sizes on `n` peers; returns each rank's links.
fn run(n: usize, cfg: Config) -> Vec<Vec<Option<Link>>> {
    let name = common::unique_name("tls");
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|r| {
                let cfg = cfg.clone();
                let name = name.clone();
                s.spawn(move || {
                    let mut c = Communicator::new(r as u32, n as u32, cfg, &name, 0).unwrap();
                    let links = (0..n).map(|p| c.peer_link(p).unwrap()).collect::<Vec<_>>();
                    let sum = ReduceOp::builtin(BuiltinOp::Sum);
                    for len in [1usize, 1000, 1 << 20] {
                        let mine: Vec<u8> = (0..len * 4).map(|i| ((i + r) % 7) as u8).collect();
                        let mut out = vec![0u8; mine.len()];
                        c.allreduce(
                            &mine,
                            &mut out,
                            Datatype::UInt32,
                            &ReduceOp::builtin(BuiltinOp::BXor),
                        )
                        .unwrap();
                        let mut want = vec![0u8; mine.len()];
                        for p in 0..n {
                            let v: Vec<u8> = (0..len * 4).map(|i| ((i + p) % 7) as u8).collect();
                            for (w, x) in want.iter_mut().zip(v) {
                                *w ^= x;
                            }
                        }
                        assert!(out == want, "allreduce {len}");
                        let mut b = if r == 0 {
                            vec![9u8; len]
                        } else {
                            vec![0u8; len]
                        };
                        c.bcast(&mut b, 0).unwrap();
                        assert!(b.iter().all(|&x| x == 9));
                        let mut v = (r as i64).to_ne_bytes();
                        c.allreduce_in_place(&mut v, Datatype::Int64, &sum).unwrap();
                        assert_eq!(i64::from_ne_bytes(v), (0..n as i64).sum::<i64>());
                    }
                    c.finalize().unwrap();
                    links
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn tls_rendezvous_with_direct_links() {
    let dir = tmpdir("tls-direct");
    let (c, k) = cert(&dir, "server");
    let server = tls_server(&c, &k);
    for (r, links) in run(3, config(&server, Some(&c), true))
        .into_iter()
        .enumerate()
    {
        for (p, l) in links.into_iter().enumerate() {
            assert_eq!(l, if p == r { None } else { Some(Link::Direct) });
        }
    }
}

#[test]
fn everything_through_the_tls_relay() {
    let dir = tmpdir("tls-relay");
    let (c, k) = cert(&dir, "server");
    let server = tls_server(&c, &k);
    for (r, links) in run(3, config(&server, Some(&c), false))
        .into_iter()
        .enumerate()
    {
        for (p, l) in links.into_iter().enumerate() {
            assert_eq!(l, if p == r { None } else { Some(Link::Relayed) });
        }
    }
    assert!(
        server
            .stats()
            .relays
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 3
    );
}

#[test]
fn everything_through_the_plain_relay() {
    let server = common::start_server();
    let mut cfg = common::config_for(&server);
    cfg.direct.as_mut().unwrap().punch = false;
    for (r, links) in run(4, cfg).into_iter().enumerate() {
        for (p, l) in links.into_iter().enumerate() {
            assert_eq!(l, if p == r { None } else { Some(Link::Relayed) });
        }
    }
}

#[test]
fn tls_mismatches_fail_cleanly() {
    let dir = tmpdir("tls-bad");
    let (c, k) = cert(&dir, "server");
    let (other, _) = cert(&dir, "other");
    let server = tls_server(&c, &k);
    let name = common::unique_name("tlsbad");
    // A plain client against a TLS server, and a TLS client that trusts another certificate.
    for ca in [None, Some(other.as_path())] {
        let mut cfg = config(&server, ca, true);
        cfg.comm.timeout = Duration::from_secs(3);
        let start = std::time::Instant::now();
        let e = Communicator::new(0, 2, cfg, &name, 0).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Channel | ErrorKind::Timeout),
            "{e}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "took {:?}",
            start.elapsed()
        );
    }
    // A missing CA file is a configuration error.
    let mut cfg = config(&server, Some(&dir.join("missing.pem")), true);
    cfg.comm.timeout = Duration::from_secs(3);
    assert_eq!(
        Communicator::new(0, 2, cfg, &name, 0).unwrap_err().kind(),
        ErrorKind::Config
    );
}
