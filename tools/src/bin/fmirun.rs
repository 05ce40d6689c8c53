//! fmirun: runs N copies of a program as one libfmi job on this machine, with an embedded
//! rendezvous server, rank-prefixed output, and all-or-nothing exit. MPI programs (and mpi4py)
//! find libfmi's `libmpi_abi.so.1` through the environment fmirun sets (`fmi_tools::mpi_lib`).

use clap::Parser;
use fmi_tools::mpi_lib;
use fmi_tools::server::{BackgroundServer, ServerConfig};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Run N peers of a libfmi program locally (the environment FMI_PEER_ID, FMI_NUM_PEERS,
/// FMI_COMM_NAME and FMI_RENDEZVOUS is set for each; a rendezvous server is started on a free
/// loopback port). Exits with the first non-zero exit code and stops the other peers.
#[derive(Parser, Debug)]
#[command(version, about, trailing_var_arg = true)]
struct Args {
    /// Number of peers (also `-np N`, as mpiexec spells it).
    #[arg(short = 'n', long = "np", value_parser = clap::value_parser!(u32).range(1..=4096))]
    n: u32,
    /// Stop the whole job after this many seconds (exit code 124).
    #[arg(long)]
    timeout: Option<f64>,
    /// Communicator name (default: unique per run).
    #[arg(long)]
    comm_name: Option<String>,
    /// Configuration file passed as FMI_CONFIG (the rendezvous address is overridden).
    #[arg(long)]
    config: Option<PathBuf>,
    /// libfmi's MPI library for the peers (default: the `libmpi_abi.so.1` beside fmirun or in
    /// its prefix's library directory). Its directory goes first on LD_LIBRARY_PATH, and
    /// MPI4PY_LIBMPI names it unless already set.
    #[arg(long, value_name = "FILE", conflicts_with = "no_mpi_lib")]
    mpi_lib: Option<PathBuf>,
    /// Leave LD_LIBRARY_PATH and MPI4PY_LIBMPI as they are.
    #[arg(long)]
    no_mpi_lib: bool,
    /// Do not prefix output lines with the rank.
    #[arg(long)]
    no_prefix: bool,
    /// The program and its arguments.
    #[arg(required = true)]
    command: Vec<OsString>,
}

fn pump(
    src: impl std::io::Read + Send + 'static,
    rank: u32,
    prefix: bool,
    err: bool,
    pb: ProgressBar,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(src);
        let mut line = Vec::new();
        while reader
            .read_until(b'\n', &mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            if !line.ends_with(b"\n") {
                line.push(b'\n');
            }
            pb.suspend(|| {
                let head = if prefix {
                    format!("[{rank}] ")
                } else {
                    String::new()
                };
                if err {
                    let mut e = std::io::stderr().lock();
                    let _ = e
                        .write_all(head.as_bytes())
                        .and_then(|_| e.write_all(&line));
                } else {
                    let mut o = std::io::stdout().lock();
                    let _ = o
                        .write_all(head.as_bytes())
                        .and_then(|_| o.write_all(&line))
                        .and_then(|_| o.flush());
                }
            });
            line.clear();
        }
    })
}

fn stop_all(children: &mut [Option<Child>]) {
    for c in children.iter_mut().flatten() {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
    }
    let grace = Instant::now() + Duration::from_secs(2);
    while Instant::now() < grace
        && children
            .iter_mut()
            .flatten()
            .any(|c| matches!(c.try_wait(), Ok(None)))
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    for c in children.iter_mut().flatten() {
        if matches!(c.try_wait(), Ok(None)) {
            let _ = c.kill();
        }
        let _ = c.wait();
    }
}

/// The command line with mpiexec's `-np` (one dash) spelled `--np`, among fmirun's own options
/// only (the program's arguments are left alone).
fn mpiexec_spelling(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut own = true;
    let mut value_next = false;
    for (i, a) in args.enumerate() {
        if i == 0 || !own {
            out.push(a);
            continue;
        }
        if value_next {
            value_next = false;
            out.push(a);
            continue;
        }
        let s = a.to_string_lossy();
        if s == "-np" {
            out.push("--np".into());
            value_next = true;
        } else if s == "--" || !s.starts_with('-') {
            own = false;
            out.push(a);
        } else {
            // Options with a separate value (`-n 4`, `--timeout 60`); `--x=v` and `-n4` carry
            // their value.
            value_next = matches!(
                &*s,
                "-n" | "--np" | "--timeout" | "--comm-name" | "--config" | "--mpi-lib"
            );
            out.push(a);
        }
    }
    out
}

/// The variables that point the peers at libfmi's MPI library (none with `--no-mpi-lib`, or
/// when fmirun has no library beside it and none was named).
fn mpi_environment(args: &Args) -> Result<Vec<(&'static str, OsString)>, String> {
    if args.no_mpi_lib {
        return Ok(Vec::new());
    }
    let lib = match &args.mpi_lib {
        Some(f) if f.is_file() => {
            Some(std::path::absolute(f).map_err(|e| format!("--mpi-lib {}: {e}", f.display()))?)
        }
        Some(f) => return Err(format!("--mpi-lib {}: no such file", f.display())),
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| std::fs::canonicalize(exe).ok())
            .and_then(|exe| mpi_lib::beside(&exe)),
    };
    Ok(lib
        .map(|lib| {
            mpi_lib::environment(
                &lib,
                std::env::var_os("LD_LIBRARY_PATH").as_deref(),
                std::env::var_os("MPI4PY_LIBMPI").as_deref(),
            )
        })
        .unwrap_or_default())
}

fn main() -> ExitCode {
    let args = Args::parse_from(mpiexec_spelling(std::env::args_os()));
    // A fresh secret per run: only this job's peers can use the embedded server.
    let token = std::env::var("FMI_AUTH_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(
            || fmi::rendezvous::auth::hex(&fmi::rendezvous::auth::random_bytes::<16>()),
        );
    let server_cfg = ServerConfig {
        tokens: vec![token.clone().into_bytes()],
        ..ServerConfig::default()
    };
    let server = match BackgroundServer::start("127.0.0.1:0".parse().expect("addr"), server_cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fmirun: cannot start the rendezvous server: {e}");
            return ExitCode::from(1);
        }
    };
    let name = args.comm_name.clone().unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("fmirun-{}-{nanos:x}", std::process::id())
    });
    let mpi_env = match mpi_environment(&args) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("fmirun: {e}");
            return ExitCode::from(2);
        }
    };
    let pb = ProgressBar::with_draw_target(Some(args.n as u64), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} fmirun: {pos}/{len} peers finished, {msg} [{elapsed}]",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(200));
    let start = Instant::now();
    let mut children: Vec<Option<Child>> = Vec::new();
    let mut pumps = Vec::new();
    for rank in 0..args.n {
        let mut cmd = Command::new(&args.command[0]);
        cmd.args(&args.command[1..])
            .env("FMI_PEER_ID", rank.to_string())
            .env("FMI_NUM_PEERS", args.n.to_string())
            .env("FMI_COMM_NAME", &name)
            .env("FMI_RENDEZVOUS", server.addr().to_string())
            .env("FMI_AUTH_TOKEN", &token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(cfg) = &args.config {
            cmd.env("FMI_CONFIG", cfg);
        }
        cmd.envs(mpi_env.iter().map(|(k, v)| (k, v)));
        match cmd.spawn() {
            Ok(mut child) => {
                let out = child.stdout.take().expect("piped");
                let err = child.stderr.take().expect("piped");
                pumps.push(pump(out, rank, !args.no_prefix, false, pb.clone()));
                pumps.push(pump(err, rank, !args.no_prefix, true, pb.clone()));
                children.push(Some(child));
            }
            Err(e) => {
                pb.finish_and_clear();
                eprintln!("fmirun: cannot start {:?}: {e}", args.command[0]);
                stop_all(&mut children);
                return ExitCode::from(127);
            }
        }
    }
    let deadline = args
        .timeout
        .map(|s| start + Duration::from_secs_f64(s.max(0.0)));
    let mut first_failure: Option<(u32, i32)> = None;
    let mut running = args.n;
    while running > 0 {
        let mut changed = false;
        for (rank, slot) in children.iter_mut().enumerate() {
            let Some(child) = slot.as_mut() else { continue };
            if let Ok(Some(status)) = child.try_wait() {
                let code = status.code().unwrap_or_else(|| {
                    128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0)
                });
                if code != 0 && first_failure.is_none() {
                    first_failure = Some((rank as u32, code));
                }
                *slot = None;
                running -= 1;
                changed = true;
                pb.inc(1);
            }
        }
        if let Some((rank, code)) = first_failure {
            if running > 0 {
                pb.suspend(|| {
                    eprintln!(
                        "fmirun: rank {rank} exited with code {code}; stopping the other peers"
                    )
                });
                stop_all(&mut children);
            }
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            pb.suspend(|| {
                eprintln!(
                    "fmirun: timeout of {:.1} s reached; stopping all peers",
                    args.timeout.unwrap_or(0.0)
                )
            });
            stop_all(&mut children);
            first_failure = Some((u32::MAX, 124));
            break;
        }
        if !changed {
            pb.set_message(format!("{running} running"));
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    for p in pumps {
        let _ = p.join();
    }
    pb.finish_and_clear();
    drop(server);
    match first_failure {
        None => ExitCode::SUCCESS,
        Some((_, code)) => ExitCode::from(code.clamp(1, 255) as u8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spell(args: &[&str]) -> Vec<String> {
        mpiexec_spelling(args.iter().map(OsString::from))
            .into_iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn np_with_one_dash_is_accepted_before_the_program_only() {
        assert_eq!(
            spell(&["fmirun", "-np", "4", "./a"]),
            ["fmirun", "--np", "4", "./a"]
        );
        assert_eq!(
            spell(&["fmirun", "--timeout", "5", "-np", "2", "./a", "-np", "x"]),
            ["fmirun", "--timeout", "5", "--np", "2", "./a", "-np", "x"]
        );
        assert_eq!(
            spell(&["fmirun", "-n", "2", "./a", "-np"]),
            ["fmirun", "-n", "2", "./a", "-np"]
        );
        let a = Args::parse_from(spell(&["fmirun", "-np", "3", "./a", "-np", "1"]));
        assert_eq!(a.n, 3);
        assert_eq!(a.command, ["./a", "-np", "1"]);
    }
}
