//! fmi-bench: OSU-style latency and bandwidth of libfmi's operations, with the raw-TCP baseline
//! measured in the same run (and an MPI baseline merged in by scripts/bench.sh).
//! The measuring logic lives in `fmi::bench`; this file is the command line.

use clap::{Args, Parser, Subcommand, ValueEnum};
use fmi::channel::{ChannelKind, Family};
use fmi::{Communicator, Result};
use fmi_tools::bench::ops::{self, Buffers, Op};
use fmi_tools::bench::report::{self, Document};
use fmi_tools::bench::runner::{self, Budget};
use fmi_tools::bench::tcp_baseline::{Mode, TcpPair};
use fmi_tools::bench::{launch, parse_size, plot, Record, LIBFMI};
use std::path::PathBuf;
use std::process::ExitCode;

/// OSU-style benchmark of libfmi: ping-pong latency, streaming and bidirectional bandwidth and
/// the latency of every collective (and of the non-blocking allreduce), per channel and
/// allreduce algorithm, next to a raw-TCP ping-pong between the same peers. Run it under
/// `fmirun -n N`, or alone: it then starts N local peers itself (`-n`). `fmi-bench merge
/// FILES...` combines the JSON of several runs (and MPI output lines) into one table with
/// ratios.
#[derive(Parser, Debug)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Combine records of several runs (fmi-bench JSON, MPI JSON lines): rounds of the same
    /// test are combined by their median; every libfmi figure gets its ratio to each baseline.
    Merge(MergeArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Args, Debug)]
struct OutArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Also draw an SVG chart (latency and bandwidth against size) of --plot-op.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Operation of the chart.
    #[arg(long, default_value = "pingpong")]
    plot_op: String,
    /// Peer count of the chart (default: the smallest that has --plot-op).
    #[arg(long)]
    plot_peers: Option<u32>,
}

#[derive(Args, Debug)]
struct MergeArgs {
    #[command(flatten)]
    out: OutArgs,
    /// Label libfmi's records of these files as this implementation (e.g. "libfmi@1301141" for
    /// the records of another build), so that they become a baseline of libfmi's own.
    #[arg(long, value_name = "LABEL")]
    relabel: Option<String>,
    /// Print the A/B table of two builds instead: records labelled LABEL (A, see --relabel)
    /// against libfmi's (B), with each build's median per round, B/A and its spread over the
    /// rounds.
    #[arg(long, value_name = "LABEL")]
    ab: Option<String>,
    /// Files with records: fmi-bench JSON documents, or JSON lines (one record per line).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Peers to start when not run by fmirun (ignored under fmirun).
    #[arg(short = 'n', long = "np", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    n: u32,
    /// Configuration file for the peers (FMI_CONFIG) when fmi-bench starts them itself.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Operations, comma-separated, or "all": pingpong, bw, bibw, bcast, barrier, gather,
    /// scatter, reduce, allreduce, iallreduce, scan, allgather, alltoall.
    #[arg(long, default_value = "all")]
    ops: String,
    /// Message sizes, comma-separated (8,1K,16M); overrides --min-size/--max-size.
    #[arg(long)]
    sizes: Option<String>,
    /// Smallest size of the power-of-two series.
    #[arg(long, default_value = "1")]
    min_size: String,
    /// Largest size of the power-of-two series.
    #[arg(long, default_value = "64M")]
    max_size: String,
    /// Channels to measure, comma-separated: direct, redis, s3 (enable them in --config); with
    /// s3, ping-pong also times one bare PUT + GET (series "s3-bare").
    #[arg(long, default_value = "direct")]
    channel: String,
    /// Allreduce algorithms, comma-separated: auto (the communicator's choice), ring,
    /// recursive_doubling, halving_doubling.
    #[arg(long, default_value = "auto")]
    allreduce_algos: String,
    /// Baselines in the same run, comma-separated: block (raw TCP, blocking sockets,
    /// TCP_NODELAY), spin (raw TCP, busy-polling non-blocking socket), or none.
    #[arg(long, default_value = "block,spin")]
    baseline: String,
    /// Time budget of the timed iterations of one test, milliseconds.
    #[arg(long, default_value_t = 500.0)]
    budget_ms: f64,
    /// Scales the iteration bounds (50..20000 for small messages, fewer for large ones);
    /// e.g. 0.1 for a quick smoke run.
    #[arg(long, default_value_t = 1.0)]
    iter_scale: f64,
    /// Skip tests whose buffers take more than this per rank.
    #[arg(long, default_value = "512M")]
    max_mem: String,
    /// Busy time before the first test (broadcasts of one byte), so that the scheduler has
    /// placed the peers before anything is measured; milliseconds.
    #[arg(long, default_value_t = 300.0)]
    warmup_ms: f64,
    /// Round number written into every record (for interleaved series of runs).
    #[arg(long, default_value_t = 0)]
    round: u32,
    /// No progress lines on standard error.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Measure nothing: print, for each operation and size, every channel's modelled latency
    /// and cost and the channel picked under each hint (channels enabled in --config, or all
    /// three without it), for -n peers of FMI_FAAS_MEMORY MiB (default 128).
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    out: OutArgs,
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The validated plan of a run.
struct Plan {
    ops: Vec<Op>,
    sizes: Vec<usize>,
    channels: Vec<String>,
    algos: Vec<String>,
    baselines: Vec<Mode>,
    budget: Budget,
    max_mem: usize,
}

fn plan(a: &RunArgs) -> std::result::Result<Plan, String> {
    let ops = if a.ops.trim() == "all" {
        Op::ALL.to_vec()
    } else {
        list(&a.ops)
            .iter()
            .map(|o| Op::from_name(o).ok_or_else(|| format!("unknown operation {o:?}")))
            .collect::<std::result::Result<_, _>>()?
    };
    let sizes: Vec<usize> = match &a.sizes {
        Some(s) => list(s)
            .iter()
            .map(|x| parse_size(x).map(|v| v as usize))
            .collect::<std::result::Result<_, _>>()?,
        None => {
            let (lo, hi) = (parse_size(&a.min_size)?, parse_size(&a.max_size)?);
            let mut v = Vec::new();
            let mut s = lo.max(1);
            while s <= hi {
                v.push(s as usize);
                s *= 2;
            }
            v
        }
    };
    if sizes.is_empty() {
        return Err("no message sizes".into());
    }
    let channels = list(&a.channel);
    for ch in &channels {
        if ChannelKind::from_name(ch).is_none() {
            return Err(format!("unknown channel {ch:?} ({})", ChannelKind::names()));
        }
    }
    let algos = list(&a.allreduce_algos);
    for al in &algos {
        if !["auto", "ring", "recursive_doubling", "halving_doubling"].contains(&al.as_str()) {
            return Err(format!(
                "unknown allreduce algorithm {al:?} (auto, ring, recursive_doubling, halving_doubling)"
            ));
        }
    }
    let baselines = if a.baseline.trim() == "none" {
        Vec::new()
    } else {
        list(&a.baseline)
            .iter()
            .map(|b| {
                Mode::from_name(b)
                    .ok_or_else(|| format!("unknown baseline {b:?} (block, spin, none)"))
            })
            .collect::<std::result::Result<_, _>>()?
    };
    let valid = a.budget_ms > 0.0 && a.iter_scale > 0.0 && a.iter_scale <= 1.0;
    if !valid {
        return Err("--budget-ms must be > 0 and --iter-scale in (0, 1]".into());
    }
    Ok(Plan {
        ops,
        sizes,
        channels,
        algos,
        baselines,
        budget: Budget {
            budget_us: a.budget_ms * 1000.0,
            scale: a.iter_scale,
        },
        max_mem: parse_size(&a.max_mem)? as usize,
    })
}

/// Runs every test of the plan as one peer; returns the records (rank 0's are the report).
fn peer(a: &RunArgs, p: &Plan, doc: &mut Document) -> Result<()> {
    let mut c = Communicator::from_env()?;
    let (rank, n) = (c.rank(), c.size());
    let say = |s: String| {
        if rank == 0 && !a.quiet {
            eprintln!("fmi-bench: {s}");
        }
    };
    let available = c.channel_names();
    for ch in &p.channels {
        if !available.contains(&ch.as_str()) {
            return Err(fmi::Error::new(
                fmi::ErrorKind::Unsupported,
                if ch == "s3" && !cfg!(feature = "s3") {
                    "channel s3 is not available in this build (cargo feature s3)".to_string()
                } else {
                    format!(
                        "channel {ch} is not enabled (enabled: {}; pass --config with backends.{} enabled)",
                        available.join(", "),
                        ChannelKind::from_name(ch).map_or("Direct", ChannelKind::config_key)
                    )
                },
            ));
        }
    }
    c.pin_channel(&p.channels[0])?;
    warm_up(&mut c, a.warmup_ms)?;
    let wants_tcp = n >= 2 && !p.baselines.is_empty() && p.ops.contains(&Op::PingPong);
    let mut tcp = if wants_tcp {
        Some(TcpPair::connect(&mut c)?)
    } else {
        None
    };
    let record = |imp: &str,
                  ch: &str,
                  op: Op,
                  algo: &str,
                  bytes: usize,
                  s: fmi_tools::bench::stats::Summary| {
        let window = op.window(bytes);
        let mut r = Record {
            implementation: imp.into(),
            channel: ch.into(),
            op: op.name().into(),
            algo: algo.into(),
            bytes: bytes as u64,
            peers: n as u32,
            window: window as u32,
            iters: s.iters as u64,
            median_us: s.median_us,
            p90_us: s.p90_us,
            min_us: s.min_us,
            mbps: 0.0,
            round: a.round,
            cpu_us: s.cpu_us,
            ctxsw: s.ctxsw,
            wall_us: s.wall_us,
        };
        r.mbps = r.mbps_of(s.median_us);
        r
    };
    for &op in &p.ops {
        if op.is_p2p() && n < 2 {
            doc.skipped
                .push(format!("{}: needs at least 2 peers", op.name()));
            continue;
        }
        let sizes: Vec<usize> = if op.sizeless() {
            vec![0]
        } else {
            p.sizes.clone()
        };
        for &bytes in &sizes {
            if op.memory(bytes, n) > p.max_mem {
                doc.skipped.push(format!(
                    "{} {} B at {n} peers: buffers exceed --max-mem",
                    op.name(),
                    bytes
                ));
                continue;
            }
            let mut b = Buffers::new(op, bytes, n);
            let algos: Vec<&str> = if op == Op::Allreduce {
                p.algos.iter().map(String::as_str).collect()
            } else {
                vec![""]
            };
            for ch in &p.channels {
                c.pin_channel(ch)?;
                for &algo in &algos {
                    let p2p =
                        ChannelKind::from_name(ch).map(ChannelKind::family) == Some(Family::P2p);
                    if !p2p && !algo.is_empty() && algo != "auto" {
                        doc.skipped.push(format!(
                            "allreduce {algo} on channel {ch}: a peer-to-peer algorithm"
                        ));
                        continue;
                    }
                    let s = match runner::measure(&mut c, bytes, p.budget, |c| {
                        ops::iterate(c, op, algo, &mut b)
                    }) {
                        Ok(s) => s,
                        // Every rank learns it from the first call (see runner::measure).
                        Err(e) if e.kind() == fmi::ErrorKind::Unsupported => {
                            say(format!("skipped {} on channel {ch}: {e}", op.name()));
                            doc.skipped
                                .push(format!("{} {bytes} B on channel {ch}: {e}", op.name()));
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    if let Some(bad) = ops::check(&c, op, &b) {
                        return Err(fmi::Error::new(
                            fmi::ErrorKind::Internal,
                            format!("result check: {bad}"),
                        ));
                    }
                    let r = record(LIBFMI, ch, op, algo, bytes, s);
                    say(format!(
                        "{} {} {} B {} peers: median {:.2} us, p90 {:.2} us ({} iterations)",
                        r.series(),
                        op.name(),
                        bytes,
                        n,
                        s.median_us,
                        s.p90_us,
                        s.iters
                    ));
                    doc.records.push(r);
                }
            }
            #[cfg(feature = "s3")]
            if op == Op::PingPong && p.channels.iter().any(|ch| ch == "s3") {
                let s = fmi_tools::bench::s3_baseline::measure(&mut c, &b.send, p.budget)?;
                say(format!(
                    "s3-bare pingpong {bytes} B (PUT + GET): median {:.2} us",
                    s.median_us
                ));
                doc.records.push(record("s3-bare", "s3", op, "", bytes, s));
            }
            if op == Op::PingPong {
                if let Some(t) = tcp.as_mut() {
                    for &m in &p.baselines {
                        t.set_mode(m)?;
                        let mut recv = vec![0u8; bytes];
                        let send = &b.send;
                        let s = runner::measure(&mut c, bytes, p.budget, |_| {
                            t.pingpong(send, &mut recv)
                        })?;
                        say(format!(
                            "{} pingpong {bytes} B: median {:.2} us",
                            m.name(),
                            s.median_us
                        ));
                        doc.records.push(record(m.name(), "tcp", op, "", bytes, s));
                    }
                }
            }
        }
    }
    drop(tcp);
    c.finalize()
}

/// Broadcasts one byte from rank 0 until rank 0 has spent `ms` milliseconds (rank 0 sends the
/// decision to stop in the last broadcast).
fn warm_up(c: &mut Communicator, ms: f64) -> Result<()> {
    let start = std::time::Instant::now();
    loop {
        let mut go = [u8::from(start.elapsed().as_secs_f64() * 1e3 < ms)];
        c.bcast(&mut go, 0)?;
        if go[0] == 0 {
            return Ok(());
        }
    }
}

fn emit(out: &OutArgs, doc: &Document) -> std::result::Result<(), String> {
    let text = match out.format {
        Format::Table => {
            let mut t = report::table(&doc.records);
            if !doc.command.is_empty() {
                t = format!(
                    "# {}\n# load: {} -> {}\n{t}",
                    doc.command, doc.load_before, doc.load_after
                );
            }
            for s in &doc.skipped {
                t.push_str(&format!("skipped: {s}\n"));
            }
            t
        }
        Format::Csv => report::csv(&doc.records),
        Format::Json => serde_json::to_string_pretty(doc).map_err(|e| e.to_string())? + "\n",
    };
    match &out.output {
        Some(p) => std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?,
        None => print!("{text}"),
    }
    if let Some(p) = &out.plot {
        match plot::svg(&doc.records, &out.plot_op, out.plot_peers) {
            Some(svg) => std::fs::write(p, svg).map_err(|e| format!("{}: {e}", p.display()))?,
            None => eprintln!("fmi-bench: nothing to plot for {}", out.plot_op),
        }
    }
    Ok(())
}

fn merge(m: &MergeArgs) -> std::result::Result<(), String> {
    let mut doc = Document {
        tool: "fmi-bench merge".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    };
    for f in &m.files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let recs = report::parse_records(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        doc.records.extend(recs);
    }
    if let Some(label) = &m.relabel {
        for r in doc.records.iter_mut().filter(|r| r.is_libfmi()) {
            r.implementation = label.clone();
        }
    }
    if let Some(a) = &m.ab {
        if m.out.format != Format::Table {
            return Err("--ab prints a table (--format table)".into());
        }
        let text = report::ab_table(&doc.records, a);
        return match &m.out.output {
            Some(p) => std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display())),
            None => {
                print!("{text}");
                Ok(())
            }
        };
    }
    emit(&m.out, &doc)
}

/// `--explain`: see [`fmi_tools::bench::explain`].
fn explain(a: &RunArgs, p: &Plan) -> ExitCode {
    let text = fmi::Config::load(a.config.as_deref()).and_then(|cfg| {
        let mem = std::env::var("FMI_FAAS_MEMORY")
            .ok()
            .and_then(|m| m.trim().parse().ok())
            .unwrap_or(128);
        let chans = fmi_tools::bench::explain::channels(&cfg, a.config.is_some());
        fmi_tools::bench::explain::table(&cfg, &chans, &p.ops, &p.sizes, a.n as usize, mem)
    });
    match text {
        Ok(t) => {
            print!("{t}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fmi-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Cmd::Merge(m)) = &cli.cmd {
        return match merge(m) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fmi-bench merge: {e}");
                ExitCode::from(2)
            }
        };
    }
    let a = &cli.run;
    let p = match plan(a) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("fmi-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if a.explain {
        return explain(a, &p);
    }
    if !launch::is_peer() {
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("fmi-bench: cannot find my own executable: {e}");
                return ExitCode::from(1);
            }
        };
        let args: Vec<_> = std::env::args_os().skip(1).collect();
        return match launch::run_local(a.n, &exe, &args, a.config.as_deref()) {
            Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("fmi-bench: {e}");
                ExitCode::from(1)
            }
        };
    }
    let mut doc = Document {
        tool: "fmi-bench".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        load_before: loadavg(),
        ..Default::default()
    };
    if let Err(e) = peer(a, &p, &mut doc) {
        eprintln!("fmi-bench: {e}");
        return ExitCode::from(1);
    }
    doc.load_after = loadavg();
    if std::env::var("FMI_PEER_ID").as_deref() == Ok("0") {
        if let Err(e) = emit(&a.out, &doc) {
            eprintln!("fmi-bench: {e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
