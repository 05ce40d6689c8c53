//! fmi-selftest: joins a job (from the FMI_* environment, as set by fmirun), checks how every peer
//! is reached, and runs every collective with result checks. A deployment check, and the peer
//! program of the NAT-lab tests.

use clap::{Parser, ValueEnum};
use fmi::channel::Link;
use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Expect {
    Direct,
    Relayed,
    Any,
}

/// Check a libfmi job end to end: connect, report links, run and verify every collective.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Refuse to run unless this process is in network namespace NAME (/run/netns/NAME).
    #[arg(long)]
    expect_netns: Option<String>,
    /// Refuse to run unless the route to the rendezvous server leaves from an address in CIDR.
    #[arg(long)]
    expect_subnet: Option<String>,
    /// Required link kind for every peer not listed in --relayed-peers.
    #[arg(long, value_enum, default_value = "any")]
    expect_link: Expect,
    /// Peers that must be reached through the relay (comma-separated ranks).
    #[arg(long, value_delimiter = ',')]
    relayed_peers: Vec<usize>,
    /// Only set up the connections (prints mesh_ms=...), no collectives.
    #[arg(long)]
    mesh_only: bool,
    /// Largest message size in bytes for the checks.
    #[arg(long, default_value_t = 1 << 20)]
    max_bytes: usize,
    /// Keep the job running this many milliseconds after the checks (barriers every 100 ms),
    /// then run the checks again: a job that stays up while something else happens.
    #[arg(long, default_value_t = 0)]
    hold_ms: u64,
}

/// The exit status of a failed init: 4 for FMI_ERR_AUTH, the status code itself for
/// FMI_ERR_LIMIT (13) and FMI_ERR_RANK_TAKEN (14), 1 for anything else.
fn init_exit(kind: fmi::ErrorKind) -> u8 {
    match kind {
        fmi::ErrorKind::Auth => 4,
        fmi::ErrorKind::Limit | fmi::ErrorKind::RankTaken => kind.code() as u8,
        _ => 1,
    }
}

fn check_netns(name: &str) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let want = std::fs::metadata(format!("/run/netns/{name}"))
        .map_err(|e| format!("namespace {name}: {e}"))?
        .ino();
    let have = std::fs::metadata("/proc/thread-self/ns/net")
        .map_err(|e| format!("own namespace: {e}"))?
        .ino();
    if want != have {
        return Err(format!(
            "not running in network namespace {name}: refusing to open sockets"
        ));
    }
    Ok(())
}

/// The local address the kernel would use towards `to` (a UDP connect sends no packet).
fn source_address(to: SocketAddr) -> Result<IpAddr, String> {
    let s = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
    s.connect(to)
        .map_err(|e| format!("no route to {to}: {e}"))?;
    Ok(s.local_addr().map_err(|e| e.to_string())?.ip())
}

fn in_subnet(ip: IpAddr, cidr: &str) -> Result<bool, String> {
    let (net, bits) = cidr.split_once('/').ok_or("subnet must be ADDR/BITS")?;
    let net: std::net::Ipv4Addr = net.parse().map_err(|_| "bad subnet address")?;
    let bits: u32 = bits.parse().map_err(|_| "bad subnet bits")?;
    let IpAddr::V4(ip) = ip else { return Ok(false) };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits.min(32))
    };
    Ok(u32::from(ip) & mask == u32::from(net) & mask)
}

fn guard_network(args: &Args) -> Result<(), String> {
    if let Some(ns) = &args.expect_netns {
        check_netns(ns)?;
    }
    if let Some(cidr) = &args.expect_subnet {
        let rv =
            std::env::var("FMI_RENDEZVOUS").map_err(|_| "--expect-subnet needs FMI_RENDEZVOUS")?;
        let to: SocketAddr = rv
            .parse()
            .map_err(|_| format!("FMI_RENDEZVOUS {rv:?} is not ip:port"))?;
        let src = source_address(to)?;
        if !in_subnet(src, cidr)? {
            return Err(format!(
                "traffic to {to} would leave from {src}, outside {cidr}: refusing"
            ));
        }
    }
    Ok(())
}

fn check(cond: bool, what: &str) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!("wrong result: {what}"))
    }
}

fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}

fn matmul() -> ReduceOp {
    ReduceOp::user(
        Arc::new(|acc: &mut [u8], next: &[u8], count: usize, _t: Datatype| {
            let rd = |b: &[u8], k: usize| {
                i64::from_ne_bytes(b[k * 8..k * 8 + 8].try_into().expect("8 bytes"))
            };
            for m in 0..count / 4 {
                let (a, b) = (&acc[m * 32..m * 32 + 32], &next[m * 32..m * 32 + 32]);
                let c = [
                    rd(a, 0)
                        .wrapping_mul(rd(b, 0))
                        .wrapping_add(rd(a, 1).wrapping_mul(rd(b, 2))),
                    rd(a, 0)
                        .wrapping_mul(rd(b, 1))
                        .wrapping_add(rd(a, 1).wrapping_mul(rd(b, 3))),
                    rd(a, 2)
                        .wrapping_mul(rd(b, 0))
                        .wrapping_add(rd(a, 3).wrapping_mul(rd(b, 2))),
                    rd(a, 2)
                        .wrapping_mul(rd(b, 1))
                        .wrapping_add(rd(a, 3).wrapping_mul(rd(b, 3))),
                ];
                acc[m * 32..m * 32 + 32].copy_from_slice(&i64s(&c));
            }
        }),
        false,
        true,
    )
}

fn pattern(r: usize, len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + r * 17 + seed) % 251) as u8)
        .collect()
}

/// Runs every operation and checks it; returns how many checks passed.
fn collectives(c: &mut Communicator, max_bytes: usize) -> Result<usize, fmi::Error> {
    let (r, n) = (c.rank(), c.size());
    let mut checks = 0;
    let fail = |s: String| fmi::Error::new(fmi::ErrorKind::Internal, s);
    let sum = ReduceOp::builtin(BuiltinOp::Sum);
    for len in [0, 1, 37, max_bytes] {
        c.barrier()?;
        if n > 1 {
            let mut got = vec![0u8; len];
            let (to, from) = ((r + 1) % n, (r + n - 1) % n);
            if r % 2 == 0 {
                c.send(&pattern(r, len, 1), to)?;
                c.recv(&mut got, from)?;
            } else {
                c.recv(&mut got, from)?;
                c.send(&pattern(r, len, 1), to)?;
            }
            check(got == pattern(from, len, 1), "send/recv").map_err(fail)?;
        }
        for root in 0..n {
            let mut b = if r == root {
                pattern(root, len, 2)
            } else {
                vec![0; len]
            };
            c.bcast(&mut b, root)?;
            check(b == pattern(root, len, 2), "bcast").map_err(fail)?;
            let mut all = vec![0u8; if r == root { len * n } else { 0 }];
            c.gather(
                &pattern(r, len, 3),
                (r == root).then_some(&mut all[..]),
                root,
            )?;
            if r == root {
                check(
                    (0..n).all(|p| all[p * len..(p + 1) * len] == pattern(p, len, 3)),
                    "gather",
                )
                .map_err(fail)?;
            }
            let src: Vec<u8> = if r == root {
                (0..n).flat_map(|p| pattern(p, len, 4)).collect()
            } else {
                vec![]
            };
            let mut mine = vec![0u8; len];
            c.scatter((r == root).then_some(&src[..]), &mut mine, root)?;
            check(mine == pattern(r, len, 4), "scatter").map_err(fail)?;
            let count = len / 8;
            let v: Vec<i64> = (0..count).map(|i| (i + r) as i64).collect();
            let mut out = vec![0u8; count * 8];
            c.reduce(
                &i64s(&v),
                (r == root).then_some(&mut out[..]),
                Datatype::Int64,
                &sum,
                root,
            )?;
            if r == root {
                let want: Vec<i64> = (0..count)
                    .map(|i| (0..n).map(|p| (i + p) as i64).sum())
                    .collect();
                check(out == i64s(&want), "reduce").map_err(fail)?;
            }
            checks += 4;
        }
        let count = len / 8;
        let v: Vec<i64> = (0..count).map(|i| (i * 3 + r) as i64).collect();
        let mut out = vec![0u8; count * 8];
        c.allreduce(&i64s(&v), &mut out, Datatype::Int64, &sum)?;
        let want: Vec<i64> = (0..count)
            .map(|i| (0..n).map(|p| (i * 3 + p) as i64).sum())
            .collect();
        check(out == i64s(&want), "allreduce").map_err(fail)?;
        c.scan(&i64s(&v), &mut out, Datatype::Int64, &sum)?;
        let want: Vec<i64> = (0..count)
            .map(|i| (0..=r).map(|p| (i * 3 + p) as i64).sum())
            .collect();
        check(out == i64s(&want), "scan").map_err(fail)?;
        let block = len / n.max(1);
        let mut all = vec![0u8; block * n];
        c.allgather(&pattern(r, block, 5), &mut all)?;
        check(
            (0..n).all(|p| all[p * block..(p + 1) * block] == pattern(p, block, 5)),
            "allgather",
        )
        .map_err(fail)?;
        let send: Vec<u8> = (0..n)
            .flat_map(|to| pattern(r * 64 + to, block, 6))
            .collect();
        let mut got = vec![0u8; block * n];
        c.alltoall(&send, &mut got)?;
        check(
            (0..n).all(|p| got[p * block..(p + 1) * block] == pattern(p * 64 + r, block, 6)),
            "alltoall",
        )
        .map_err(fail)?;
        checks += 5;
    }
    // Strict rank order with a non-commutative operator.
    let mats = |p: usize| i64s(&[1, p as i64 + 1, (p % 3) as i64, 1]);
    let mut out = vec![0u8; 32];
    c.allreduce(&mats(r), &mut out, Datatype::Int64, &matmul())?;
    let mut want = mats(0);
    for p in 1..n {
        matmul().apply(&mut want, &mats(p), Datatype::Int64);
    }
    check(out == want, "ordered allreduce").map_err(fail)?;
    Ok(checks + 1)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = guard_network(&args) {
        eprintln!("fmi-selftest: {e}");
        return ExitCode::from(3);
    }
    let start = Instant::now();
    let unix_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or(0.0)
    };
    let start_unix = unix_ms();
    let mut c = match Communicator::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fmi-selftest: init failed: {e}");
            return ExitCode::from(init_exit(e.kind()));
        }
    };
    let mesh_ms = start.elapsed().as_secs_f64() * 1e3;
    let end_unix = unix_ms();
    let (r, n) = (c.rank(), c.size());
    let mut relayed = Vec::new();
    let mut problems = Vec::new();
    for p in (0..n).filter(|&p| p != r) {
        let link = c.peer_link(p).ok().flatten();
        if link == Some(Link::Relayed) {
            relayed.push(p);
        }
        let want = if args.relayed_peers.contains(&p) || args.relayed_peers.contains(&r) {
            Some(Link::Relayed)
        } else {
            match args.expect_link {
                Expect::Direct => Some(Link::Direct),
                Expect::Relayed => Some(Link::Relayed),
                Expect::Any => None,
            }
        };
        if want.is_some_and(|w| link != Some(w)) {
            problems.push(format!("peer {p}: link {link:?}, expected {want:?}"));
        }
    }
    println!(
        "fmi-selftest: rank {r} of {n}: mesh_ms={mesh_ms:.1} start_ms={start_unix:.3} end_ms={end_unix:.3} direct={} relayed={relayed:?}",
        n - 1 - relayed.len()
    );
    // Every rank learns whether any rank saw a wrong link, so all stop together.
    let mut flag = [u8::from(!problems.is_empty())];
    if let Err(e) = c.allreduce_in_place(
        &mut flag,
        Datatype::UInt8,
        &ReduceOp::builtin(BuiltinOp::Max),
    ) {
        eprintln!("fmi-selftest: rank {r}: {e}");
        return ExitCode::from(1);
    }
    if flag[0] != 0 {
        if !problems.is_empty() {
            eprintln!("fmi-selftest: rank {r}: {}", problems.join("; "));
        } else {
            eprintln!("fmi-selftest: rank {r}: another rank saw a wrong link");
        }
        let _ = c.finalize();
        return ExitCode::from(2);
    }
    if !args.mesh_only {
        let rounds = if args.hold_ms > 0 { 2 } else { 1 };
        for round in 0..rounds {
            if round > 0 {
                let until = Instant::now() + std::time::Duration::from_millis(args.hold_ms);
                while Instant::now() < until {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    if let Err(e) = c.barrier() {
                        eprintln!("fmi-selftest: rank {r}: barrier while holding: {e}");
                        return ExitCode::from(1);
                    }
                }
            }
            match collectives(&mut c, args.max_bytes) {
                Ok(k) => {
                    println!("fmi-selftest: rank {r} of {n}: ok, {k} collective checks passed")
                }
                Err(e) => {
                    eprintln!("fmi-selftest: rank {r}: {e}");
                    return ExitCode::from(1);
                }
            }
        }
    }
    match c.finalize() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fmi-selftest: rank {r}: finalize: {e}");
            ExitCode::from(1)
        }
    }
}
