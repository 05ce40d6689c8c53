//! The store channels over TLS against real TLS servers with a private CA made by the test:
//! S3 over HTTPS (moto_server with its own TLS option) and Redis over TLS (`redis-server
//! --tls-port`). Each server's certificate is issued for 127.0.0.1 only; a client that trusts
//! another CA, or that reaches the server as `localhost` (a name the certificate does not
//! hold), must fail at init with an error that says so.
// Both harnesses embed the peers module (tests/peers) for their own test files.
#![allow(clippy::duplicate_mod)]

mod ca;
mod redis_harness;
mod s3_harness;

use ca::TestCa;
use fmi::{BuiltinOp, Communicator, Config, Datatype, ErrorKind, ReduceOp};
use std::path::PathBuf;
use std::time::Duration;

fn sum(c: &mut Communicator, v: u64) -> u64 {
    let mut out = [0u8; 8];
    c.allreduce(
        &v.to_ne_bytes(),
        &mut out,
        Datatype::UInt64,
        &ReduceOp::builtin(BuiltinOp::Sum),
    )
    .unwrap();
    u64::from_ne_bytes(out)
}

/// Sends 1 MiB around a ring and sums the ranks: the run works end to end.
fn exchange(c: &mut Communicator) -> u64 {
    let (r, n) = (c.rank(), c.size());
    let mine = vec![r as u8; 1 << 20];
    let mut got = vec![0u8; 1 << 20];
    // Store channels buffer sends, so a ring of send-then-receive cannot deadlock.
    c.send(&mine, (r + 1) % n).unwrap();
    c.recv(&mut got, (r + n - 1) % n).unwrap();
    assert!(got.iter().all(|&b| b == ((r + n - 1) % n) as u8));
    sum(c, r as u64 + 1)
}

/// Init fails; returns the error's kind and message.
fn init_error(cfg: Config, tag: &str) -> (ErrorKind, String) {
    let name = s3_harness::unique_name(tag);
    let e = Communicator::new(0, 1, cfg, &name, 0).expect_err("init must fail");
    eprintln!("{tag}: {e}");
    (e.kind(), e.to_string())
}

struct Pki {
    dir: PathBuf,
    ca: TestCa,
    other: TestCa,
    cert: PathBuf,
    key: PathBuf,
}

/// A CA, a server certificate it issued for 127.0.0.1, and a second CA that issued nothing.
fn pki(tag: &str) -> Pki {
    let dir = ca::tmpdir(tag);
    let ca = TestCa::new(&dir, "right");
    let other = TestCa::new(&dir, "other");
    let (cert, key) = ca.issue(&dir, "server", &["127.0.0.1"]);
    Pki {
        dir,
        ca,
        other,
        cert,
        key,
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn s3_over_https_with_a_private_ca() {
    let p = pki("s3-tls");
    let server = s3_harness::S3Server::start_tls(&p.cert, &p.key, &p.ca.cert, "127.0.0.1");
    assert!(server.endpoint().starts_with("https://"));
    let cfg = server.config();
    let out = s3_harness::run_peers(&cfg, 3, exchange);
    assert_eq!(out, vec![6; 3]);

    // Another CA: the server's certificate is not trusted, and the error says so (no retries
    // until max_timeout: a certificate does not get better by waiting).
    let mut wrong_ca = cfg.clone();
    wrong_ca.s3.as_mut().unwrap().tls_ca = Some(p.other.cert.clone());
    let (kind, msg) = init_error(wrong_ca, "s3-wrong-ca");
    assert_eq!(kind, ErrorKind::Config, "{msg}");
    assert!(
        msg.contains("certificate") && msg.contains("UnknownIssuer"),
        "{msg}"
    );
    assert!(
        msg.contains(&server.endpoint()),
        "names the endpoint: {msg}"
    );

    // The system's roots do not hold the private CA either.
    let mut no_ca = cfg.clone();
    no_ca.s3.as_mut().unwrap().tls_ca = None;
    let (kind, msg) = init_error(no_ca, "s3-no-ca");
    assert_eq!(kind, ErrorKind::Config, "{msg}");
    assert!(msg.contains("UnknownIssuer"), "{msg}");

    // The right CA, but a host name the certificate does not hold.
    let mut wrong_name = cfg.clone();
    let url = format!("https://localhost:{}", server.port());
    wrong_name.s3.as_mut().unwrap().endpoint_url = Some(url.clone());
    let (kind, msg) = init_error(wrong_name, "s3-wrong-name");
    assert_eq!(kind, ErrorKind::Config, "{msg}");
    assert!(msg.contains("not valid for name"), "{msg}");
    assert!(msg.contains(&url), "names the endpoint: {msg}");

    // A CA file that holds no certificate is a configuration error, not a panic in the SDK.
    let junk = p.dir.join("junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    for (file, why) in [
        (junk, "not a PEM certificate"),
        (p.key.clone(), "no certificate found"),
    ] {
        let mut bad = cfg.clone();
        bad.s3.as_mut().unwrap().tls_ca = Some(file);
        let (kind, msg) = init_error(bad, "s3-bad-ca");
        assert_eq!(kind, ErrorKind::Config, "{msg}");
        assert!(
            msg.contains("backends.S3.tls_ca") && msg.contains(why),
            "{msg}"
        );
    }
}

#[test]
fn redis_over_tls_with_a_private_ca() {
    let p = pki("redis-tls");
    let server = redis_harness::RedisServer::start_tls(&p.cert, &p.key, &p.ca.cert);
    let mut cfg = server.config();
    {
        let r = cfg.redis.as_mut().unwrap();
        r.tls = true;
        r.tls_ca = Some(p.ca.cert.clone());
    }
    let out = redis_harness::run_peers(&cfg, 3, |c| {
        // Chunked messages too (larger than one 4 MiB chunk).
        let big = vec![c.rank() as u8; 5 << 20];
        let mut all = vec![0u8; 3 * big.len()];
        c.allgather(&big, &mut all).unwrap();
        assert!((0..3).all(|r| all[r * big.len()..(r + 1) * big.len()]
            .iter()
            .all(|&b| b == r as u8)));
        exchange(c)
    });
    assert_eq!(out, vec![6; 3]);
    cfg.comm.timeout = Duration::from_secs(5);

    let mut wrong_ca = cfg.clone();
    wrong_ca.redis.as_mut().unwrap().tls_ca = Some(p.other.cert.clone());
    let (kind, msg) = init_error(wrong_ca, "redis-wrong-ca");
    assert_eq!(kind, ErrorKind::Config, "{msg}");
    assert!(
        msg.contains("certificate") && msg.contains("UnknownIssuer"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("rediss://127.0.0.1:{}", server.port())),
        "{msg}"
    );

    let mut no_ca = cfg.clone();
    no_ca.redis.as_mut().unwrap().tls_ca = None;
    let (kind, msg) = init_error(no_ca, "redis-no-ca");
    assert_eq!(kind, ErrorKind::Config, "{msg}");
    assert!(msg.contains("UnknownIssuer"), "{msg}");

    let mut wrong_name = cfg.clone();
    wrong_name.redis.as_mut().unwrap().host = "localhost".into();
    let (kind, msg) = init_error(wrong_name, "redis-wrong-name");
    assert_eq!(kind, ErrorKind::Config, "{msg}");
    assert!(msg.contains("not valid for name"), "{msg}");
    assert!(msg.contains("rediss://localhost"), "{msg}");

    let mut bad = cfg.clone();
    bad.redis.as_mut().unwrap().tls_ca = Some(p.key.clone());
    let (kind, msg) = init_error(bad, "redis-bad-ca");
    assert_eq!(kind, ErrorKind::Config, "{msg}");
    assert!(msg.contains("backends.Redis.tls_ca"), "{msg}");
}
