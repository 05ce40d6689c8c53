//! A second process for a rank of a running job (Lambda retrying an invocation it thinks timed
//! out) is refused with FMI_ERR_RANK_TAKEN and does not disturb the job, on every channel: the
//! job runs as threads of this process, the intruders are fmi-selftest processes given the same
//! communicator name and a rank of the job. After the job finalized, a new job with the same
//! name runs (the ranks were released).

// Both store harnesses include the shared peer helpers (tests/peers) as their own module.
#![allow(clippy::duplicate_mod)]

#[path = "../../tests/redis_harness/mod.rs"]
mod redis_harness;
mod rendezvous_process;
#[path = "../../tests/s3_harness/mod.rs"]
mod s3_harness;

use fmi::{BuiltinOp, Communicator, Config, Datatype, ReduceOp};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const N: usize = 3;

/// One round of checked collectives: an allreduce of the ranks and a broadcast.
fn round(c: &mut Communicator, k: u64) -> fmi::Result<()> {
    let mut x = (c.rank() as u64 + k).to_ne_bytes();
    c.allreduce_in_place(&mut x, Datatype::UInt64, &ReduceOp::builtin(BuiltinOp::Sum))?;
    let n = c.size() as u64;
    assert_eq!(u64::from_ne_bytes(x), n * (n - 1) / 2 + n * k, "allreduce");
    let mut b = vec![(c.rank() as u8).wrapping_add(k as u8); 4096];
    c.bcast(&mut b, (k as usize) % c.size())?;
    let want = ((k as usize % c.size()) as u8).wrapping_add(k as u8);
    assert!(b.iter().all(|&v| v == want), "bcast");
    Ok(())
}

/// Runs a job of N ranks named `name` that keeps doing checked rounds until `stop`, after
/// `running` was set; returns every rank's number of rounds (or its error).
fn run_job(
    cfg: &Config,
    name: &str,
    running: &AtomicUsize,
    stop: &AtomicBool,
) -> Vec<fmi::Result<u64>> {
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..N)
            .map(|r| {
                let cfg = cfg.clone();
                s.spawn(move || -> fmi::Result<u64> {
                    let mut c = Communicator::new(r as u32, N as u32, cfg, name, 128)?;
                    round(&mut c, 0)?;
                    running.fetch_add(1, Ordering::SeqCst);
                    let give_up = Instant::now() + Duration::from_secs(60);
                    let mut k = 1;
                    loop {
                        // Every rank decides to stop together: the flag, agreed by an allreduce.
                        let mut go = [u8::from(stop.load(Ordering::SeqCst))];
                        c.allreduce_in_place(
                            &mut go,
                            Datatype::UInt8,
                            &ReduceOp::builtin(BuiltinOp::Max),
                        )?;
                        if go[0] == 1 || Instant::now() > give_up {
                            break;
                        }
                        round(&mut c, k)?;
                        k += 1;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    round(&mut c, k)?;
                    c.finalize()?;
                    Ok(k)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

struct Intruder {
    rank: usize,
    code: Option<i32>,
    stderr: String,
    seconds: f64,
}

/// Starts fmi-selftest processes for `ranks` of job `name` with the configuration in `config`
/// (JSON) and extra environment, and waits for them (at most 60 s).
fn intrude(name: &str, config: &str, env: &[(&str, String)], ranks: &[usize]) -> Vec<Intruder> {
    let dir = std::env::temp_dir();
    let path: PathBuf = dir.join(format!("fmi-dup-{}-{name}.json", std::process::id()));
    std::fs::write(&path, config).unwrap();
    let children: Vec<_> = ranks
        .iter()
        .map(|&r| {
            let child = Command::new(env!("CARGO_BIN_EXE_fmi-selftest"))
                .env("FMI_PEER_ID", r.to_string())
                .env("FMI_NUM_PEERS", N.to_string())
                .env("FMI_COMM_NAME", name)
                .env("FMI_CONFIG", &path)
                .env("FMI_LOG", "warn")
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("fmi-selftest starts");
            (r, Instant::now(), child)
        })
        .collect();
    let out = children
        .into_iter()
        .map(|(rank, t, mut child)| {
            let give_up = Instant::now() + Duration::from_secs(60);
            while child.try_wait().unwrap().is_none() && Instant::now() < give_up {
                std::thread::sleep(Duration::from_millis(5));
            }
            let seconds = t.elapsed().as_secs_f64();
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            Intruder {
                rank,
                code: o.status.code(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
                seconds,
            }
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    out
}

/// The whole scenario on one channel: job, intruders for ranks 0 and N-1 (`delay` after the
/// job runs), job completes, the intruders fail with FMI_ERR_RANK_TAKEN; then the same name runs
/// again.
fn scenario(
    channel: &str,
    cfg: &Config,
    config_json: &str,
    env: &[(&str, String)],
    delay: Duration,
) {
    let name = format!("dup-{channel}-{}", std::process::id());
    let running = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (job, intruders) = std::thread::scope(|s| {
        let job = s.spawn(|| run_job(cfg, &name, &running, &stop));
        let start = Instant::now();
        while running.load(Ordering::SeqCst) < N && !job.is_finished() {
            assert!(start.elapsed() < Duration::from_secs(60), "job never ran");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(delay);
        let intruders = intrude(&name, config_json, env, &[0, N - 1]);
        stop.store(true, Ordering::SeqCst);
        (job.join().unwrap(), intruders)
    });
    for i in &intruders {
        eprintln!(
            "{channel}: intruder for rank {} exited {:?} after {:.3} s: {}",
            i.rank,
            i.code,
            i.seconds,
            i.stderr.trim()
        );
        assert_eq!(i.code, Some(14), "intruder rank {}: {}", i.rank, i.stderr);
        assert!(
            i.stderr.contains("held by another running process"),
            "{}",
            i.stderr
        );
    }
    for (r, res) in job.iter().enumerate() {
        let k = res
            .as_ref()
            .unwrap_or_else(|e| panic!("{channel}: rank {r}: {e}"));
        assert!(*k >= 1, "rank {r} ran no round");
    }
    // The job finalized and released its ranks: the same name runs again at once.
    let again = run_job(cfg, &name, &AtomicUsize::new(0), &AtomicBool::new(true));
    for (r, res) in again.iter().enumerate() {
        res.as_ref()
            .unwrap_or_else(|e| panic!("{channel}: rerun, rank {r}: {e}"));
    }
}

#[test]
fn duplicate_rank_refused_on_direct() {
    // The server drops silent clients after 1 s, but not the held sessions of a running job:
    // the intruders come 2 s after the job is up and are still refused.
    let rv = rendezvous_process::Rendezvous::start(&["--idle-timeout", "1"]);
    let cfg = rv.config(false, Duration::from_secs(10));
    let json = format!(
        r#"{{"backends":{{"Direct":{{"enabled":true,"host":"127.0.0.1","port":{}}}}},
            "communicator":{{"timeout_ms":10000}}}}"#,
        rv.addr.port()
    );
    scenario("direct", &cfg, &json, &[], Duration::from_secs(2));
    assert!(rv.log().contains("held by another running process"));
}

#[test]
fn duplicate_rank_refused_on_redis() {
    let redis = redis_harness::RedisServer::start();
    let mut cfg = redis.config();
    cfg.comm.timeout = Duration::from_secs(10);
    let json = format!(
        r#"{{"backends":{{"Redis":{{"enabled":true,"host":"127.0.0.1","port":{}}}}},
            "communicator":{{"timeout_ms":10000}}}}"#,
        redis.port()
    );
    scenario("redis", &cfg, &json, &[], Duration::ZERO);
    // Nothing of the job is left behind, its rank claims included.
    assert_eq!(redis.scan("fmi:dup-*"), Vec::<String>::new());
}

#[test]
fn duplicate_rank_refused_on_s3() {
    let s3 = s3_harness::S3Server::start();
    let mut cfg = s3.config();
    cfg.comm.timeout = Duration::from_secs(20);
    let sc = s3.s3_config();
    let json = format!(
        r#"{{"backends":{{"S3":{{"enabled":true,"bucket_name":"{}","s3_region":"us-east-1",
            "endpoint_url":"{}","path_style":true,"timeout":20,"max_timeout":2000}}}},
            "communicator":{{"timeout_ms":20000}}}}"#,
        sc.bucket_name,
        s3.endpoint()
    );
    let env = [
        ("AWS_ACCESS_KEY_ID", "fmi-test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "fmi-test-secret".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ];
    scenario("s3", &cfg, &json, &env, Duration::ZERO);
}
