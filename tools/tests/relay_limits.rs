//! The relay limits of the real fmi-rendezvous binary: circuits per job and per IP address,
//! bytes and duration per circuit. Peers are communicators of this process with hole punching
//! off (every pair relayed), on loopback; each refusal reaches them as FMI_ERR_LIMIT naming the
//! limit.

mod rendezvous_process;

use fmi::{BuiltinOp, Communicator, Config, Datatype, ErrorKind, ReduceOp};
use rendezvous_process::Rendezvous;
use std::time::{Duration, Instant};

static NAMES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn name(tag: &str) -> String {
    format!(
        "relay-{tag}-{}-{}",
        std::process::id(),
        NAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// Inits `n` ranks of one job (threads), each then running `f` on its communicator: per rank,
/// the init error or f's result, and the seconds init took.
fn job<T: Send>(
    cfg: &Config,
    n: usize,
    f: impl Fn(&mut Communicator) -> T + Sync,
) -> Vec<(Result<T, fmi::Error>, f64)> {
    let job = name("job");
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|r| {
                let (cfg, job, f) = (cfg.clone(), job.clone(), &f);
                s.spawn(move || {
                    let t = Instant::now();
                    let c = Communicator::new(r as u32, n as u32, cfg, &job, 128);
                    let took = t.elapsed().as_secs_f64();
                    (c.map(|mut c| f(&mut c)), took)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn assert_limit(e: &fmi::Error, code: &str) {
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    assert!(e.message().contains(code), "{code} not named in: {e}");
}

#[test]
fn circuits_per_job_limit_refuses_the_circuit_beyond_it() {
    let rv = Rendezvous::start(&["--relay-circuits-per-job", "2"]);
    let cfg = rv.config(true, Duration::from_secs(10));
    // Three ranks need three circuits: two open, the third is refused to both its ranks; the
    // third rank, whose two circuits opened, then loses the peers that gave up.
    let out = job(&cfg, 3, |_| ());
    let refused: Vec<_> = out
        .iter()
        .filter_map(|(r, t)| match r {
            Err(e) if e.kind() == ErrorKind::Limit => Some((e, *t)),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 2, "{out:?}");
    for (e, took) in &refused {
        assert_limit(e, "relay_job_circuits");
        eprintln!("circuits per job: refused after {took:.3} s: {e}");
    }
    for (r, _) in &out {
        if let Err(e) = r {
            assert!(
                matches!(e.kind(), ErrorKind::Limit | ErrorKind::PeerLost),
                "{e}"
            );
        }
    }
    assert!(rv.log().contains("relay_job_circuits") || rv.log().contains("refused"));
    // Another job on the same server is not affected by this one's circuits.
    let other = job(&cfg, 2, |c| c.barrier());
    for (r, _) in other {
        r.unwrap().unwrap();
    }
}

#[test]
fn circuits_per_ip_limit_refuses_beyond_it() {
    // Loopback peers share one address: one circuit (two ends) fits, a second does not. Job A
    // holds its circuit while job B asks for one: both of B's ranks are refused; A goes on.
    let rv = Rendezvous::start(&["--relay-circuits-per-ip", "2"]);
    let cfg = rv.config(true, Duration::from_secs(10));
    let a_up = std::sync::Barrier::new(3);
    let b_done = std::sync::Barrier::new(3);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            job(&cfg, 2, |c| {
                a_up.wait();
                b_done.wait();
                c.barrier()
            })
        });
        a_up.wait();
        let b = job(&cfg, 2, |_| ());
        b_done.wait();
        (a.join().unwrap(), b)
    });
    for (r, took) in &b {
        let e = r.as_ref().unwrap_err();
        assert_limit(e, "relay_ip_circuits");
        eprintln!("circuits per IP: refused after {took:.3} s");
    }
    for (r, _) in a {
        r.unwrap().unwrap();
    }
}

#[test]
fn a_rank_refused_at_a_limit_does_not_leave_its_partners_waiting() {
    // Three loopback ranks, one circuit end pair allowed: a rank refused at the limit leaves
    // init; a partner whose relay half waits for it is told at once (its rendezvous session
    // closed) instead of waiting for the deadline.
    let rv = Rendezvous::start(&["--relay-circuits-per-ip", "2"]);
    let cfg = rv.config(true, Duration::from_secs(10));
    let out = job(&cfg, 3, |_| ());
    assert!(
        out.iter()
            .any(|(r, _)| matches!(r, Err(e) if e.kind() == ErrorKind::Limit)),
        "{out:?}"
    );
    for (r, took) in &out {
        let e = r.as_ref().unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Limit | ErrorKind::PeerLost),
            "{e}"
        );
        eprintln!(
            "partner of a refused rank: {:?} after {took:.3} s",
            e.kind()
        );
    }
}

/// The protocol itself: a relay half waiting for a rank whose rendezvous session closes is
/// refused at once with code `peer_left`.
#[test]
fn relay_half_is_told_when_its_partner_leaves() {
    use fmi::rendezvous::protocol::{self, ClientMsg, ServerMsg, VERSION};
    use std::net::TcpStream;
    let rv = Rendezvous::start(&[]);
    let job = name("left");
    let hello = |rank: u32| {
        let mut s = TcpStream::connect(rv.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let m = ClientMsg::Hello {
            version: VERSION,
            job: job.clone(),
            rank,
            size: 2,
            nonce: String::new(),
            mac: None,
        }
        .sign(&job, None);
        protocol::write_frame(&mut s, &m).unwrap();
        let welcome: ServerMsg = protocol::read_frame(&mut s).unwrap();
        assert!(matches!(welcome, ServerMsg::Welcome { .. }), "{welcome:?}");
        s
    };
    let _zero = hello(0);
    let one = hello(1);
    let mut half = TcpStream::connect(rv.addr).unwrap();
    half.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let m = ClientMsg::Relay {
        version: VERSION,
        job: job.clone(),
        rank: 0,
        size: 2,
        pair: "0-1".into(),
        nonce: String::new(),
        mac: None,
    }
    .sign(&job, None);
    protocol::write_frame(&mut half, &m).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    drop(one);
    match protocol::read_frame::<ServerMsg>(&mut half).unwrap() {
        ServerMsg::Error { code, message } => {
            assert_eq!(code, "peer_left", "{message}");
            assert!(message.contains("rank 1"), "{message}");
            eprintln!(
                "relay half told {:.3} s after its partner left",
                t.elapsed().as_secs_f64()
            );
        }
        other => panic!("expected peer_left, got {other:?}"),
    }
}

#[test]
fn bytes_per_circuit_limit_cuts_the_circuit_and_both_ends_learn_why() {
    let rv = Rendezvous::start(&["--relay-bytes-per-circuit", "1000000"]);
    let cfg = rv.config(true, Duration::from_secs(10));
    let out = job(&cfg, 2, |c| {
        // Below the limit: fine.
        let mut small = vec![c.rank() as u8; 100_000];
        c.bcast(&mut small, 0)?;
        assert!(small.iter().all(|&b| b == 0));
        // 32 MB from rank 0 crosses it: the circuit is cut.
        let mut big = vec![7u8; 32 << 20];
        let first = c.bcast(&mut big, 0).and_then(|_| c.barrier());
        Ok::<_, fmi::Error>(first)
    });
    for (r, _) in out {
        let e = r.unwrap().unwrap().unwrap_err();
        assert_limit(&e, "relay_circuit_bytes");
        eprintln!("bytes per circuit: {e}");
    }
    let log = rv.log();
    let line = log.lines().find(|l| l.contains("cut (")).expect(&log);
    eprintln!("server: {line}");
}

#[test]
fn circuit_duration_limit_cuts_the_circuit() {
    let rv = Rendezvous::start(&["--relay-circuit-secs", "1"]);
    let cfg = rv.config(true, Duration::from_secs(10));
    let out = job(&cfg, 2, |c| {
        let mut x = (c.rank() as u32 + 1).to_ne_bytes();
        c.allreduce_in_place(&mut x, Datatype::UInt32, &ReduceOp::builtin(BuiltinOp::Sum))?;
        assert_eq!(u32::from_ne_bytes(x), 3);
        std::thread::sleep(Duration::from_millis(1500));
        Ok::<_, fmi::Error>(c.barrier())
    });
    for (r, _) in out {
        let e = r.unwrap().unwrap().unwrap_err();
        assert_limit(&e, "relay_circuit_duration");
    }
}
