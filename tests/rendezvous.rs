//! The rendezvous server keeps pairing correctly while malformed, oversized and silent
//! connections hit it.

mod common;

use fmi::rendezvous::protocol::{self, ClientMsg, ServerMsg};
use fmi_tools::server::{BackgroundServer, ServerConfig};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

fn hello(s: &mut TcpStream, job: &str, rank: u32) -> ServerMsg {
    protocol::write_frame(
        s,
        &ClientMsg::Hello {
            version: 1,
            job: job.into(),
            rank,
            size: 2,
            nonce: fmi::rendezvous::auth::nonce(),
            mac: None,
        },
    )
    .unwrap();
    protocol::read_frame(s).unwrap()
}

#[test]
fn pairs_under_garbage_and_refuses_bad_requests() {
    let cfg = ServerConfig {
        hello_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let server = BackgroundServer::start("127.0.0.1:0".parse().unwrap(), cfg).unwrap();
    let addr = server.addr();
    // Silent connections (held open), garbage, oversized frames, and wrong-version hellos.
    let mut silent = Vec::new();
    for i in 0..300 {
        let mut s = TcpStream::connect(addr).unwrap();
        match i % 4 {
            0 => silent.push(s),
            1 => {
                let _ = s.write_all(b"\x00\x00\x00\x05hello-not-json");
            }
            2 => {
                let _ = s.write_all(&u32::MAX.to_be_bytes());
            }
            _ => {
                let _ = protocol::write_frame(
                    &mut s,
                    &ClientMsg::Hello {
                        version: 99,
                        job: "j".into(),
                        rank: 0,
                        size: 1,
                        nonce: fmi::rendezvous::auth::nonce(),
                        mac: None,
                    },
                );
            }
        }
    }
    // Meanwhile a real pairing succeeds.
    let mut a = TcpStream::connect(addr).unwrap();
    let mut b = TcpStream::connect(addr).unwrap();
    assert!(matches!(hello(&mut a, "job", 0), ServerMsg::Welcome { .. }));
    assert!(matches!(hello(&mut b, "job", 1), ServerMsg::Welcome { .. }));
    let reg = |rank| ClientMsg::Register {
        pair: "0-1".into(),
        rank,
        private: "127.0.0.1:1".into(),
        nonce: fmi::rendezvous::auth::nonce(),
        mac: None,
    };
    protocol::write_frame(&mut a, &reg(0)).unwrap();
    protocol::write_frame(&mut b, &reg(1)).unwrap();
    for s in [&mut a, &mut b] {
        match protocol::read_frame::<ServerMsg>(s).unwrap() {
            ServerMsg::Paired { pair, .. } => assert_eq!(pair, "0-1"),
            other => panic!("expected paired, got {other:?}"),
        }
    }
    // A peer of another job with the same pair name is not paired with anyone of "job".
    let mut stranger = TcpStream::connect(addr).unwrap();
    hello(&mut stranger, "other-job", 0);
    protocol::write_frame(&mut stranger, &reg(0)).unwrap();
    let mut c = TcpStream::connect(addr).unwrap();
    hello(&mut c, "job", 1);
    protocol::write_frame(&mut c, &reg(1)).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(
        protocol::read_frame::<ServerMsg>(&mut c).is_err(),
        "paired across jobs"
    );
    // A wrong version gets an explicit error.
    let mut v = TcpStream::connect(addr).unwrap();
    protocol::write_frame(
        &mut v,
        &ClientMsg::Hello {
            version: 99,
            job: "j".into(),
            rank: 0,
            size: 1,
            nonce: fmi::rendezvous::auth::nonce(),
            mac: None,
        },
    )
    .unwrap();
    assert!(matches!(
        protocol::read_frame::<ServerMsg>(&mut v).unwrap(),
        ServerMsg::Error { .. }
    ));
    // Silent clients are dropped after the hello timeout.
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        server
            .stats()
            .pairings
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    drop(silent);
}

fn server_with_token(token: &str) -> BackgroundServer {
    let cfg = ServerConfig {
        tokens: vec![token.as_bytes().to_vec()],
        ..ServerConfig::default()
    };
    BackgroundServer::start("127.0.0.1:0".parse().unwrap(), cfg).unwrap()
}

#[test]
fn wrong_or_missing_secret_is_auth_error_and_strangers_get_nothing() {
    let server = server_with_token("s3cret");
    let base = common::config_for(&server);
    let name = common::unique_name("auth");
    for token in [None, Some("wrong")] {
        let mut cfg = base.clone();
        cfg.direct.as_mut().unwrap().auth_token = token.map(String::from);
        cfg.comm.timeout = Duration::from_secs(2);
        let e = fmi::Communicator::new(0, 2, cfg, &name, 0).unwrap_err();
        assert_eq!(e.kind(), fmi::ErrorKind::Auth, "{e}");
    }
    assert!(
        server
            .stats()
            .auth_failures
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 2
    );
    // A stranger registering the job's pair name with a forged MAC is refused; the real pair
    // (both with the secret) still pairs.
    let mut stranger = TcpStream::connect(server.addr()).unwrap();
    let forged = ClientMsg::Hello {
        version: 1,
        job: name.clone(),
        rank: 1,
        size: 2,
        nonce: String::new(),
        mac: None,
    }
    .sign(&name, Some(b"guess"));
    protocol::write_frame(&mut stranger, &forged).unwrap();
    assert!(matches!(
        protocol::read_frame::<ServerMsg>(&mut stranger).unwrap(),
        ServerMsg::Error { .. }
    ));
    let mut cfg = base.clone();
    cfg.direct.as_mut().unwrap().auth_token = Some("s3cret".into());
    let out = std::thread::scope(|s| {
        let h: Vec<_> = (0..2)
            .map(|r| {
                let cfg = cfg.clone();
                let name = name.clone();
                s.spawn(move || {
                    let mut c = fmi::Communicator::new(r, 2, cfg, &name, 0).unwrap();
                    c.barrier().unwrap();
                    c.finalize().is_ok()
                })
            })
            .collect();
        h.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
    });
    assert_eq!(out, vec![true, true]);
}

#[test]
fn replayed_hello_is_refused() {
    let server = server_with_token("k");
    let hello = ClientMsg::Hello {
        version: 1,
        job: "j".into(),
        rank: 0,
        size: 2,
        nonce: String::new(),
        mac: None,
    }
    .sign("j", Some(b"k"));
    let mut a = TcpStream::connect(server.addr()).unwrap();
    protocol::write_frame(&mut a, &hello).unwrap();
    assert!(matches!(
        protocol::read_frame::<ServerMsg>(&mut a).unwrap(),
        ServerMsg::Welcome { .. }
    ));
    let mut b = TcpStream::connect(server.addr()).unwrap();
    protocol::write_frame(&mut b, &hello).unwrap();
    match protocol::read_frame::<ServerMsg>(&mut b).unwrap() {
        ServerMsg::Error { code, message } => {
            assert!(code == "auth" && message.contains("replayed"), "{message}")
        }
        other => panic!("replay accepted: {other:?}"),
    }
}
