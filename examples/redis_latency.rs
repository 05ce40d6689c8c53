//! Latency of the Redis channel, next to a bare Redis round trip measured in the same run.
//!
//! Starts a private redis-server on a free loopback port (or uses `--port P` / `FMI_BENCH_REDIS_PORT`
//! for a running one), then measures with peers as threads of this process:
//! - `PING` and `SET`+`GET` round trips with the `redis` crate (one client, the same crate and
//!   connection settings the channel uses);
//! - one-way latency of `send`/`recv` over the Redis channel (ping-pong between 2 peers, half the
//!   round trip) for 8 B, 1 KiB, 1 MiB and 16 MiB;
//! - allreduce (float sum) latency for 4 and 8 peers: per iteration the slowest rank's time.
//!
//! Reports medians (and p90) in microseconds.
//! `cargo run --release --example redis_latency [-- --iters N]`

use fmi::config::{CommOptions, Config, ModelConfig, RedisConfig};
use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};
use std::process::{Child, Command, Stdio};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(Option<Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start_server(port: u16) -> Server {
    let dir = std::env::temp_dir().join(format!("fmi-redis-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("start redis-server (scripts/install-deps.sh installs it)");
    let start = Instant::now();
    loop {
        if let Ok(mut c) = client(port) {
            if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "redis-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server(Some(child))
}

fn client(port: u16) -> redis::RedisResult<redis::Connection> {
    let c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?
        .get_connection_with_timeout(Duration::from_secs(2))?;
    Ok(c)
}

/// A plain connection with the channel's TCP settings (TCP_NODELAY).
fn plain(port: u16) -> redis::Connection {
    use redis::IntoConnectionInfo;
    let info = ("127.0.0.1", port)
        .into_connection_info()
        .unwrap()
        .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
    redis::Client::open(info).unwrap().get_connection().unwrap()
}

/// 8-byte ping-pong with bare RPUSH/BLPOP between two threads, interleaved with PING blocks
/// like the channel's; returns (one-way samples, PING samples).
fn raw_pingpong(port: u16, n: usize) -> (Vec<f64>, Vec<f64>) {
    let peer = std::thread::spawn(move || {
        let mut c = plain(port);
        for _ in 0..n + n / 10 {
            let (_k, v): (String, Vec<u8>) = redis::cmd("BLPOP")
                .arg("fmi-bench-a")
                .arg(5)
                .query(&mut c)
                .unwrap();
            let _: i64 = redis::cmd("RPUSH")
                .arg("fmi-bench-b")
                .arg(v)
                .query(&mut c)
                .unwrap();
        }
    });
    let mut c = plain(port);
    let mut pc = plain(port);
    let (mut v, mut pings) = (Vec::new(), Vec::new());
    let block = (n / 10).max(1);
    for it in 0..n + block {
        if it % block == 0 {
            ping_block(&mut pc, block.min(200), &mut pings);
        }
        let t = Instant::now();
        let _: i64 = redis::cmd("RPUSH")
            .arg("fmi-bench-a")
            .arg(&[1u8; 8][..])
            .query(&mut c)
            .unwrap();
        let (_k, _v): (String, Vec<u8>) = redis::cmd("BLPOP")
            .arg("fmi-bench-b")
            .arg(5)
            .query(&mut c)
            .unwrap();
        if it >= block {
            v.push(t.elapsed().as_secs_f64() * 1e6 / 2.0);
        }
    }
    peer.join().unwrap();
    (v, pings)
}

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    (q(0.5), q(0.9))
}

fn config(port: u16) -> Config {
    Config {
        direct: None,
        redis: Some(RedisConfig::new("127.0.0.1", port)),
        s3: None,
        model: ModelConfig::default(),
        comm: CommOptions::default(),
    }
}

fn iters_for(bytes: usize, base: usize) -> usize {
    match bytes {
        0..=4096 => base,
        4097..=2_000_000 => (base / 10).max(20),
        _ => (base / 100).max(10),
    }
}

/// Runs `f(rank, comm, barrier)` on `n` peers and returns rank 0's result.
fn on_peers<T: Send>(
    cfg: &Config,
    name: &str,
    n: usize,
    f: impl Fn(&mut Communicator) -> T + Sync,
) -> T {
    let out = Mutex::new(None);
    std::thread::scope(|s| {
        for rank in 0..n {
            let (f, out) = (&f, &out);
            let cfg = cfg.clone();
            s.spawn(move || {
                let mut c = Communicator::new(rank as u32, n as u32, cfg, name, 0).unwrap();
                let r = f(&mut c);
                c.finalize().unwrap();
                if rank == 0 {
                    *out.lock().unwrap() = Some(r);
                }
            });
        }
    });
    out.into_inner().unwrap().unwrap()
}

/// `k` PING round trips on `c`, appended to `out` (µs).
fn ping_block(c: &mut redis::Connection, k: usize, out: &mut Vec<f64>) {
    for _ in 0..k {
        let t = Instant::now();
        let _: String = redis::cmd("PING").query(c).unwrap();
        out.push(t.elapsed().as_secs_f64() * 1e6);
    }
}

fn row(what: &str, bytes: usize, samples: Vec<f64>, pings: Vec<f64>) {
    let (m, p) = stats(samples);
    let (pm, _) = stats(pings);
    println!(
        "| {what} | {bytes} | {m:.1} | {p:.1} | {pm:.1} | {:.2} |",
        m / pm
    );
}

fn main() {
    let mut iters = 2000usize;
    let mut port: Option<u16> = std::env::var("FMI_BENCH_REDIS_PORT")
        .ok()
        .and_then(|p| p.parse().ok());
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--iters" => {
                iters = args[i + 1].parse().expect("--iters N");
                i += 1;
            }
            "--port" => {
                port = Some(args[i + 1].parse().expect("--port P"));
                i += 1;
            }
            other => panic!("unknown argument {other}"),
        }
        i += 1;
    }
    let (_server, port) = match port {
        Some(p) => (Server(None), p),
        None => {
            let p = free_port();
            (start_server(p), p)
        }
    };
    let version: String = {
        let mut c = plain(port);
        let info: String = redis::cmd("INFO").arg("server").query(&mut c).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    println!("# redis-server {version} on 127.0.0.1:{port}, {iters} iterations for small sizes");
    println!();
    println!("| measurement | bytes | median µs | p90 µs | PING RTT µs, same phase | ratio |");
    println!("|---|---|---|---|---|---|");

    // Bare commands with the same crate and TCP settings (TCP_NODELAY) as the channel.
    let mut c = plain(port);
    let mut pc = plain(port);
    let mut warm = Vec::new();
    ping_block(&mut pc, iters / 10, &mut warm);
    for bytes in [8usize, 1024, 1 << 20, 16 << 20] {
        let data = vec![7u8; bytes];
        let n_it = iters_for(bytes, iters);
        let block = (n_it / 10).max(1);
        let (mut v, mut pings) = (Vec::new(), Vec::new());
        for it in 0..n_it {
            if it % block == 0 {
                ping_block(&mut pc, block.min(200), &mut pings);
            }
            let t = Instant::now();
            let _: () = redis::cmd("SET")
                .arg("fmi-bench-key")
                .arg(&data)
                .query(&mut c)
                .unwrap();
            let got: Vec<u8> = redis::cmd("GET")
                .arg("fmi-bench-key")
                .query(&mut c)
                .unwrap();
            assert_eq!(got.len(), bytes);
            v.push(t.elapsed().as_secs_f64() * 1e6 / 2.0);
        }
        row("bare SET+GET, per command", bytes, v, pings);
    }
    let _: () = redis::cmd("DEL")
        .arg("fmi-bench-key")
        .query(&mut c)
        .unwrap();
    let (raw, pings) = raw_pingpong(port, iters);
    row("bare RPUSH/BLPOP ping-pong / 2 (no libfmi)", 8, raw, pings);

    // One-way latency over the channel: ping-pong / 2.
    let cfg = config(port);
    for bytes in [8usize, 1024, 1 << 20, 16 << 20] {
        let n_it = iters_for(bytes, iters);
        let name = format!("bench-pingpong-{bytes}-{}", std::process::id());
        let (v, pings) = on_peers(&cfg, &name, 2, |c| {
            let r = c.rank();
            let data = vec![r as u8; bytes];
            let mut buf = vec![0u8; bytes];
            let mut v = Vec::with_capacity(n_it);
            let mut pings = Vec::new();
            let mut pc = (r == 0).then(|| plain(port));
            let block = (n_it / 10).max(1);
            for it in 0..n_it + block {
                if let (Some(pc), true) = (pc.as_mut(), it % block == 0) {
                    ping_block(pc, block.min(200), &mut pings);
                }
                let t = Instant::now();
                if r == 0 {
                    c.send(&data, 1).unwrap();
                    c.recv(&mut buf, 1).unwrap();
                } else {
                    c.recv(&mut buf, 0).unwrap();
                    c.send(&data, 0).unwrap();
                }
                if it >= block {
                    v.push(t.elapsed().as_secs_f64() * 1e6 / 2.0);
                }
            }
            (v, pings)
        });
        row("send/recv one-way (ping-pong / 2)", bytes, v, pings);
    }

    // Allreduce: per iteration, the slowest rank's time (a barrier before each iteration), with
    // the algorithm the communicator picks and with each store algorithm forced.
    let op = ReduceOp::builtin(BuiltinOp::Sum);
    for peers in [4usize, 8] {
        for bytes in [8usize, 1 << 20] {
            for algo in ["auto", "reduce_bcast", "segmented"] {
                if bytes == 8 && algo == "segmented" {
                    continue; // needs an element per peer
                }
                let n_it = iters_for(bytes, iters / 4);
                let name = format!(
                    "bench-allreduce-{peers}-{bytes}-{algo}-{}",
                    std::process::id()
                );
                let times = Mutex::new(vec![0f64; n_it]);
                let pings = Mutex::new(Vec::new());
                let gate = Barrier::new(peers);
                on_peers(&cfg, &name, peers, |c| {
                    let mut buf = vec![0u8; bytes];
                    let mut pc = (c.rank() == 0).then(|| plain(port));
                    let block = (n_it / 10).max(1);
                    for it in 0..n_it + 5 {
                        if let (Some(pc), true) = (pc.as_mut(), it % block == 0) {
                            ping_block(pc, block.min(50), &mut pings.lock().unwrap());
                        }
                        gate.wait();
                        let t = Instant::now();
                        if algo == "auto" {
                            c.allreduce_in_place(&mut buf, Datatype::Float, &op)
                                .unwrap();
                        } else {
                            c.allreduce_with(algo, &mut buf, Datatype::Float, &op)
                                .unwrap();
                        }
                        let us = t.elapsed().as_secs_f64() * 1e6;
                        if it >= 5 {
                            let mut tt = times.lock().unwrap();
                            tt[it - 5] = tt[it - 5].max(us);
                        }
                    }
                });
                row(
                    &format!("allreduce float sum, {peers} peers, {algo} (slowest rank)"),
                    bytes,
                    times.into_inner().unwrap(),
                    pings.into_inner().unwrap(),
                );
            }
        }
    }
}
