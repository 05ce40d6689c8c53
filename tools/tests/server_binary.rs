//! The fmi-rendezvous binary under hostile load: it keeps pairing while malformed, oversized and
//! silent connections hit it, and its memory stays bounded.

use fmi::rendezvous::protocol::{self, ClientMsg, ServerMsg};
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

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// The real fmi-rendezvous binary keeps pairing while 2,000 malformed, oversized and silent
/// connections hit it, and its memory stays bounded.
#[test]
fn server_binary_survives_2000_bad_connections() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fmi-rendezvous"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--hello-timeout",
            "1",
        ])
        .env("FMI_LOG", "warn")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("fmi-rendezvous starts");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = rss_kib(child.id());
    let mut peak = before;
    let mut silent = Vec::new();
    for i in 0..2000 {
        let Ok(mut s) = TcpStream::connect(addr) else {
            continue;
        };
        match i % 4 {
            0 => silent.push(s),
            1 => {
                let _ = s.write_all(b"\x00\x00\x00\x10{not json at all");
            }
            2 => {
                let _ = s.write_all(&(64u32 << 20).to_be_bytes());
                let _ = s.write_all(&[b'x'; 4096]);
            }
            _ => {
                let _ = s.write_all(&[0xff; 64]);
            }
        }
        if i % 200 == 0 {
            peak = peak.max(rss_kib(child.id()));
            // Meanwhile, a real pairing from another loopback address succeeds.
            let job = format!("job{i}");
            let mut a = connect_from("127.0.0.2", addr);
            let mut b = connect_from("127.0.0.2", addr);
            assert!(matches!(hello(&mut a, &job, 0), ServerMsg::Welcome { .. }));
            assert!(matches!(hello(&mut b, &job, 1), ServerMsg::Welcome { .. }));
            for (s, r) in [(&mut a, 0), (&mut b, 1)] {
                let m = ClientMsg::Register {
                    pair: "0-1".into(),
                    rank: r,
                    private: "127.0.0.1:1".into(),
                    nonce: fmi::rendezvous::auth::nonce(),
                    mac: None,
                };
                protocol::write_frame(s, &m).unwrap();
            }
            for s in [&mut a, &mut b] {
                // A liveness bound (the pairing happens, under load), not a speed requirement.
                s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                assert!(
                    matches!(
                        protocol::read_frame::<ServerMsg>(s).unwrap(),
                        ServerMsg::Paired { .. }
                    ),
                    "pairing {i}"
                );
            }
        }
    }
    peak = peak.max(rss_kib(child.id()));
    std::thread::sleep(Duration::from_millis(1500)); // silent clients time out
    let after = rss_kib(child.id());
    assert!(matches!(child.try_wait(), Ok(None)), "server died");
    let _ = child.kill();
    let _ = child.wait();
    drop(silent);
    eprintln!("fmi-rendezvous RSS: before {before} KiB, peak {peak} KiB, after {after} KiB");
    assert!(
        peak < before + 64 * 1024,
        "memory grew from {before} to {peak} KiB"
    );
}

fn connect_from(ip: &str, to: std::net::SocketAddr) -> TcpStream {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.bind(
        &format!("{ip}:0")
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    s.connect(&to.into()).unwrap();
    s.into()
}
