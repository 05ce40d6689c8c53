//! fmi-calibrate: measures every enabled channel from where it runs and fits the channel-
//! selection model to it. Run it under `fmirun -n N` (or alone: it then starts N local peers
//! itself, `-n`, default 2). Rank 0 prints the measured-vs-fitted table and writes the fitted
//! `model` section (the original FMI's keys and units) for the configuration file.

use clap::Parser;
use fmi::Communicator;
use fmi_tools::bench::{launch, parse_size};
use fmi_tools::calibrate::{self, Plan};
use fmi_tools::fit;
use std::path::PathBuf;
use std::process::ExitCode;

/// Fit the channel-selection model (overhead and bandwidth of every enabled channel, reduction
/// bandwidth) to short measurements of send/recv, and check it against allreduce.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// Peers to start when not run by fmirun (ignored under fmirun).
    #[arg(short = 'n', long = "np", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(2..=1024))]
    n: u32,
    /// Configuration file (FMI_CONFIG) whose enabled backends are measured; its prices are kept.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Message sizes, comma-separated, multiples of 4 (8,1K,16M).
    #[arg(long, default_value = "8,1K,16K,256K,1M,4M,16M")]
    sizes: String,
    /// Time budget of one operation at one size, milliseconds.
    #[arg(long, default_value_t = 100.0)]
    budget_ms: f64,
    /// Sweeps; each point keeps the lowest median of its sweeps.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=20))]
    rounds: u32,
    /// After the fit, measure again in a second communicator that uses the fitted model and
    /// print that table too, with how many points are within 2x of the prediction (a report of
    /// this machine, not a pass/fail test: the exit status does not depend on it).
    #[arg(long)]
    check: bool,
    /// Write `{"model": {...}}` to this file (else to standard output after the table).
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

fn plan(cli: &Cli) -> Result<Plan, String> {
    let sizes = cli
        .sizes
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_size(s).map(|v| v as usize))
        .collect::<Result<Vec<_>, _>>()?;
    if sizes.is_empty() || sizes.iter().any(|&s| s == 0 || s % 4 != 0) {
        return Err("--sizes: positive multiples of 4 bytes".into());
    }
    if cli.budget_ms.is_nan() || cli.budget_ms <= 0.0 {
        return Err("--budget-ms must be > 0".into());
    }
    Ok(Plan {
        sizes,
        budget_s: cli.budget_ms / 1e3,
        rounds: cli.rounds as usize,
    })
}

fn peer(cli: &Cli, plan: &Plan) -> fmi::Result<Option<String>> {
    let mut c = Communicator::from_env()?;
    let cal = calibrate::run(&mut c, plan)?;
    let checked = if cli.check {
        Some(calibrate::check(&c, &cal, plan)?)
    } else {
        None
    };
    let rank = c.rank();
    let channels = c.channel_names().join(", ");
    let peers = c.size();
    c.finalize()?;
    if rank != 0 {
        return Ok(None);
    }
    let mut out = format!(
        "# fmi-calibrate: channels {channels}, {peers} peers\n\n{}",
        calibrate::table(&cal.samples)
    );
    for n in &cal.notes {
        out.push_str(&format!("\nnote: {n}"));
    }
    if let Some(check) = &checked {
        let (ok, of) = calibrate::within(check, 2.0);
        out.push_str(&format!(
            "\n# check: measured again in a second communicator with the fitted model\n\n{}\nwithin 2x of the prediction: {ok} of {of} send/allreduce points\n",
            calibrate::table(check)
        ));
    }
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "model": fit::model_section(&cal.model)
    }))
    .expect("JSON")
        + "\n";
    match &cli.output {
        Some(p) => {
            std::fs::write(p, &json).map_err(|e| {
                fmi::Error::new(fmi::ErrorKind::Config, format!("{}: {e}", p.display()))
            })?;
            out.push_str(&format!("\nwrote the model section to {}\n", p.display()));
        }
        None => out.push_str(&format!("\n{json}")),
    }
    Ok(Some(out))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let p = match plan(&cli) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("fmi-calibrate: {e}");
            return ExitCode::from(2);
        }
    };
    if !launch::is_peer() {
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("fmi-calibrate: cannot find my own executable: {e}");
                return ExitCode::from(1);
            }
        };
        let args: Vec<_> = std::env::args_os().skip(1).collect();
        return match launch::run_local(cli.n, &exe, &args, cli.config.as_deref()) {
            Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("fmi-calibrate: {e}");
                ExitCode::from(1)
            }
        };
    }
    match peer(&cli, &p) {
        Ok(Some(text)) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fmi-calibrate: {e}");
            ExitCode::from(1)
        }
    }
}
