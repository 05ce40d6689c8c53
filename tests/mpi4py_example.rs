//! The mpi4py example (`examples-mpi/mpi4py_pi.py`), unchanged, under `fmirun` on libfmi's
//! `libmpi_abi.so.1` over the direct channel, over Redis only and over S3 only: the channel is
//! chosen by the configuration file alone. mpi4py is built for the standard ABI against libfmi's
//! `mpi.h` by `scripts/mpi4py.sh build fmi` (once; reused while the header is unchanged). The
//! program is found through fmirun's environment (no LD_LIBRARY_PATH set here), and the test
//! checks that the library mpi4py loaded is libfmi's. Real servers on loopback; a server or
//! mpi4py that cannot be made fails the test.

mod redis_harness;
mod s3_harness;

use redis_harness::RedisServer;
use s3_harness::S3Server;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/<profile>: fmirun and libmpi_abi.so.1 of this build.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

fn fmirun() -> PathBuf {
    let f = profile_dir().join("fmirun");
    assert!(
        f.exists(),
        "{} is missing: cargo build -p fmi-tools --bin fmirun",
        f.display()
    );
    assert!(
        profile_dir().join("libmpi_abi.so.1").exists(),
        "libmpi_abi.so.1 is missing beside fmirun: cargo build -p fmi-mpi"
    );
    f
}

/// The site directory with mpi4py built against libfmi's mpi.h, and the venv's python.
fn mpi4py() -> &'static (PathBuf, PathBuf) {
    static SITE: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    SITE.get_or_init(|| {
        let out = Command::new(repo().join("scripts/mpi4py.sh"))
            .args(["build", "fmi"])
            .env("FMICC", repo().join("mpi/fmicc"))
            .env("FMI_MPI_LIBDIR", profile_dir())
            .output()
            .expect("run scripts/mpi4py.sh");
        assert!(
            out.status.success(),
            "scripts/mpi4py.sh build fmi failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let site = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string());
        // The venv of scripts/mpi-venv.sh holds the python the build used.
        let venv = Command::new(repo().join("scripts/mpi-venv.sh"))
            .output()
            .expect("run scripts/mpi-venv.sh");
        let venv = PathBuf::from(String::from_utf8_lossy(&venv.stdout).trim().to_string());
        (site, venv.join("bin/python"))
    })
}

/// Runs the example on `n` processes with the configuration `config` (None: fmirun's default,
/// the direct channel); returns rank 0's line.
fn run(n: u32, config: Option<&Path>) -> String {
    let (site, python) = mpi4py();
    let mut cmd = Command::new(fmirun());
    cmd.args(["--timeout", "300", "-n", &n.to_string()]);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.arg(python)
        .arg(repo().join("examples-mpi/mpi4py_pi.py"))
        .arg("20000")
        .env("PYTHONPATH", site)
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("MPI4PY_LIBMPI");
    let out = cmd.output().expect("run fmirun");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "example on {n} processes failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("[0] pi "))
        .unwrap_or_else(|| panic!("no result line from rank 0:\n{stdout}"))
        .to_string();
    assert!(
        line.contains(&format!("on {n} processes"))
            && line.contains("check OK")
            && line.contains("pi 3.14159265"),
        "{line}"
    );
    line
}

fn write_config(name: &str, json: String) -> PathBuf {
    let dir = profile_dir().join("mpi4py-example");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}-{}.json", std::process::id()));
    std::fs::write(&p, json).unwrap();
    p
}

#[test]
fn mpi4py_loads_libfmis_library_through_fmirun() {
    let (site, python) = mpi4py();
    let out = Command::new(fmirun())
        .args(["--timeout", "120", "-n", "1"])
        .arg(python)
        .args([
            "-c",
            "from mpi4py import MPI; print('LIB', MPI.Get_library_version().splitlines()[0])",
        ])
        .env("PYTHONPATH", site)
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("MPI4PY_LIBMPI")
        .output()
        .expect("run fmirun");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("LIB ") && stdout.contains("libfmi"),
        "mpi4py did not load libfmi's library: {stdout}"
    );
}

#[test]
fn example_over_the_direct_channel() {
    for n in [1, 3] {
        run(n, None);
    }
}

#[test]
fn example_over_redis_by_configuration() {
    let server = RedisServer::start();
    let cfg = write_config(
        "redis",
        format!(
            r#"{{"backends": {{
                 "Direct": {{"enabled": false}},
                 "Redis": {{"enabled": true, "host": "127.0.0.1", "port": {}, "timeout": 1, "max_timeout": 1000}}
               }}}}"#,
            server.port()
        ),
    );
    let commands = || -> u64 {
        let info: String = redis::cmd("INFO")
            .arg("stats")
            .query(&mut server.client())
            .unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("total_commands_processed in INFO stats")
    };
    let before = commands();
    run(3, Some(&cfg));
    // Redis is the only channel enabled: the messages went through the server.
    assert!(
        commands() > before + 10,
        "the job sent no traffic through Redis"
    );
}

#[test]
fn example_over_s3_by_configuration() {
    let server = S3Server::start();
    let s3 = server.s3_config();
    let cfg = write_config(
        "s3",
        format!(
            r#"{{"backends": {{
                 "Direct": {{"enabled": false}},
                 "S3": {{"enabled": true, "bucket_name": "{}", "s3_region": "{}",
                        "endpoint_url": "{}", "path_style": true, "timeout": 20, "max_timeout": 2000}}
               }}}}"#,
            s3.bucket_name,
            s3.s3_region,
            server.endpoint()
        ),
    );
    // S3 is the only channel enabled: every message goes through the bucket.
    run(3, Some(&cfg));
}
