//! Shared by the MPI layer's tests: where our library, MPICH's (the project venv, made by
//! `scripts/mpi-venv.sh`) and `fmirun` are; compiling C programs with MPICH's `mpicc_abi`; and
//! running one binary under MPICH's `mpiexec` (MPICH's library) and under `fmirun` (ours first
//! on `LD_LIBRARY_PATH`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, Once};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("mpi/ has a parent")
        .to_path_buf()
}

/// The profile directory of this build (target/debug or target/release).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

/// The directory with our `libmpi_abi.so.1` (the link cargo's build script leaves there).
pub fn our_lib_dir() -> PathBuf {
    let d = profile_dir();
    let so = d.join("libmpi_abi.so");
    assert!(
        so.exists(),
        "{} is missing: cargo builds it with this test",
        so.display()
    );
    let link = d.join("libmpi_abi.so.1");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink("libmpi_abi.so", &link).expect("libmpi_abi.so.1 link");
    }
    d
}

/// The project venv with MPICH's standard-ABI build (fails, never skips, when it is missing).
pub fn venv() -> PathBuf {
    let v = std::env::var_os("FMI_MPI_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv-mpi"));
    assert!(
        v.join("bin/mpicc_abi").exists() && v.join("include/mpi_abi.h").exists(),
        "MPICH's standard-ABI build is not in {} (FMI_MPI_VENV): run scripts/mpi-venv.sh",
        v.display()
    );
    v
}

/// A scratch directory for compiled test programs.
pub fn scratch() -> PathBuf {
    let d = profile_dir().join("mpi-tests");
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// `fmirun` of this profile: the test command builds it first (`cargo build --bins`); built
/// here only when missing (a nested cargo build with other features would rebuild the core).
pub fn fmirun() -> PathBuf {
    static BUILD: Once = Once::new();
    let exe = profile_dir().join("fmirun");
    BUILD.call_once(|| {
        if exe.exists() {
            return;
        }
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "fmi-tools", "--bin", "fmirun"])
            .current_dir(repo());
        if profile_dir().file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let st = cmd.status().expect("cargo build fmirun");
        assert!(st.success(), "building fmirun failed");
    });
    assert!(exe.exists(), "{} missing", exe.display());
    exe
}

/// Compiles `src` (a path under the repository) with MPICH's `mpicc_abi`; returns the binary.
/// Each source is compiled once per test process. The compiler writes a private name that is
/// then renamed into place: tests of one binary run in parallel, and one of them may be
/// running the program while another asks for it (exec of a half-written file fails with
/// "Permission denied").
pub fn compile(src: &str) -> PathBuf {
    static DONE: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, exe)) = done.iter().find(|(s, _)| s == src) {
        return exe.clone();
    }
    let path = repo().join(src);
    let name = path
        .file_stem()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let exe = scratch().join(&name);
    let tmp = scratch().join(format!(".{name}.{}.tmp", std::process::id()));
    let out = Command::new(venv().join("bin/mpicc_abi"))
        .arg("-O1")
        .args(["-Wall", "-Werror"])
        .arg("-o")
        .arg(&tmp)
        .arg(&path)
        .output()
        .expect("run mpicc_abi");
    assert!(
        out.status.success(),
        "mpicc_abi {src} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &exe).expect("move the compiled program into place");
    done.push((src.to_string(), exe.clone()));
    exe
}

/// How a run ended, with everything it printed.
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            ok: o.status.success(),
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    pub fn describe(&self, what: &str) -> String {
        format!(
            "{what}: exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `exe args` on `n` processes under MPICH's mpiexec with MPICH's library.
pub fn run_mpich(exe: &Path, n: usize, args: &[&str], env: &[(&str, &str)]) -> Run {
    let v = venv();
    let mut cmd = Command::new(v.join("bin/mpiexec"));
    cmd.arg("-n").arg(n.to_string()).arg(exe).args(args);
    cmd.env("MPIEXEC_TIMEOUT", "120")
        .env_remove("LD_LIBRARY_PATH");
    if n > cores() {
        // Oversubscribed MPICH spins otherwise.
        cmd.env("MPIR_CVAR_ENABLE_HEAVY_YIELD", "1");
    }
    for (k, val) in env {
        cmd.env(k, val);
    }
    Run::from(cmd.output().expect("run mpiexec"))
}

/// Runs `exe args` on `n` processes under fmirun with our library first on the library path.
pub fn run_fmi(exe: &Path, n: usize, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_fmi_with(exe, n, &[], args, env)
}

/// The same with fmirun's own options `opts` (`--config FILE`).
pub fn run_fmi_with(
    exe: &Path,
    n: usize,
    opts: &[&str],
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let mut cmd = Command::new(fmirun());
    cmd.args(opts);
    cmd.arg("-n")
        .arg(n.to_string())
        .arg("--timeout")
        .arg("120")
        .arg(exe)
        .args(args);
    cmd.env("LD_LIBRARY_PATH", our_lib_dir());
    for (k, val) in env {
        cmd.env(k, val);
    }
    Run::from(cmd.output().expect("run fmirun"))
}

/// Runs `exe` alone (no launcher) with our library.
pub fn run_alone(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(exe);
    cmd.args(args).env("LD_LIBRARY_PATH", our_lib_dir());
    for k in [
        "FMI_PEER_ID",
        "FMI_NUM_PEERS",
        "FMI_COMM_NAME",
        "FMI_RENDEZVOUS",
    ] {
        cmd.env_remove(k);
    }
    for (k, val) in env {
        cmd.env(k, val);
    }
    Run::from(cmd.output().expect("run program"))
}

/// The exported names of a shared library that start with MPI_ or PMPI_.
pub fn mpi_exports(lib: &Path) -> std::collections::BTreeSet<String> {
    exports(lib)
        .into_iter()
        .filter(|s| s.starts_with("MPI_") || s.starts_with("PMPI_"))
        .collect()
}

/// Every name a shared library exports.
pub fn exports(lib: &Path) -> std::collections::BTreeSet<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(lib)
        .output()
        .expect("run nm");
    assert!(out.status.success(), "nm -D {} failed", lib.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_string)
        .collect()
}

/// One launcher run at a time (the machines running the tests may have 2 cores).
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs the C test `tests/mpi/<name>.c` (compiled once with mpicc_abi) at each process count
/// under MPICH and under libfmi; each run must exit 0 and print `PASS <name>`. `args(n)` are
/// the program's arguments at n processes.
pub fn both(name: &str, counts: &[usize], args: impl Fn(usize) -> Vec<String>) {
    let exe = compile(&format!("tests/mpi/{name}.c"));
    let _one = serial();
    for &n in counts {
        let a = args(n);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        for (lib, run) in [
            ("MPICH", run_mpich(&exe, n, &a, &[])),
            ("libfmi", run_fmi(&exe, n, &a, &[])),
        ] {
            let what = format!("{name} on {n} processes with {lib}'s library");
            assert!(run.ok, "{}", run.describe(&what));
            assert!(
                run.stdout.contains(&format!("PASS {name}")),
                "{}",
                run.describe(&what)
            );
        }
    }
}
