//! The project's include/mpi.h against the standard ABI's (MPICH's mpi_abi.h from the PyPI
//! wheel): the generated program mpi/tests/layout/layout.c prints every constant, handle value,
//! type size and struct field offset; compiled against each header, the outputs must be equal.
//! And every prototype and callback type of MPICH's header, redeclared after including ours,
//! must compile (C rejects a conflicting redeclaration).
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn cc(args: &[&str], what: &str) {
    let out = Command::new("cc").args(args).output().expect("run cc");
    assert!(
        out.status.success(),
        "cc {what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compiles layout.c against the header in `include` (MPICH's when `mpich`) and runs it.
fn layout(include: &Path, mpich: bool, tag: &str) -> String {
    let src = common::repo().join("mpi/tests/layout/layout.c");
    let exe = common::scratch().join(format!("layout-{tag}"));
    let inc = format!("-I{}", include.display());
    let mut args = vec!["-std=c11", "-Wall", "-Werror", inc.as_str()];
    if mpich {
        args.push("-DLAYOUT_MPICH");
    }
    let (s, e) = (src.display().to_string(), exe.display().to_string());
    args.extend(["-o", &e, &s]);
    cc(&args, &format!("layout.c against {tag}"));
    let out = Command::new(&exe).output().expect("run the layout program");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

fn ours() -> PathBuf {
    common::repo().join("include")
}

fn differences(a: &str, b: &str) -> Vec<String> {
    let (x, y): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut d: Vec<String> = x
        .iter()
        .zip(&y)
        .filter(|(p, q)| p != q)
        .map(|(p, q)| format!("MPICH: {p} | ours: {q}"))
        .collect();
    if x.len() != y.len() {
        d.push(format!("{} lines against {}", x.len(), y.len()));
    }
    d
}

#[test]
fn every_constant_handle_size_and_offset_equals_the_standard_abi() {
    let mpich = layout(&common::venv().join("include"), true, "mpich");
    let ours = layout(&ours(), false, "ours");
    assert!(
        mpich.lines().count() > 300,
        "too few values checked:\n{mpich}"
    );
    for must in [
        "MPI_COMM_WORLD 257",
        "sizeof(MPI_Status) 32",
        "offsetof(MPI_Status, MPI_ERROR) 8",
    ] {
        assert!(mpich.contains(must), "{must} not in the output");
    }
    let d = differences(&mpich, &ours);
    assert!(d.is_empty(), "{} differences:\n{}", d.len(), d.join("\n"));
}

#[test]
fn the_check_fails_when_one_value_of_our_header_changes() {
    let text = std::fs::read_to_string(ours().join("mpi.h")).expect("include/mpi.h");
    let dir = common::scratch().join("changed-header");
    std::fs::create_dir_all(&dir).expect("dir");
    for (from, to, name) in [
        (
            "MPI_ERR_TRUNCATE = 15",
            "MPI_ERR_TRUNCATE = 16",
            "MPI_ERR_TRUNCATE",
        ),
        (
            "#define MPI_COMM_SELF ((MPI_Comm)0x0102)",
            "#define MPI_COMM_SELF ((MPI_Comm)0x0103)",
            "MPI_COMM_SELF",
        ),
        (
            "    int MPI_internal[5];",
            "    int MPI_internal[6];",
            "sizeof(MPI_Status)",
        ),
    ] {
        assert!(text.contains(from), "{from:?} not in include/mpi.h");
        std::fs::write(dir.join("mpi.h"), text.replace(from, to)).expect("write");
        let changed = layout(&dir, false, "changed");
        let mpich = layout(&common::venv().join("include"), true, "mpich-2");
        let d = differences(&mpich, &changed);
        assert!(
            d.len() == 1 && d[0].contains(name),
            "changing {name} gave {d:?}"
        );
    }
}

#[test]
fn every_prototype_and_callback_type_of_the_standard_header_matches_ours() {
    let abi = std::fs::read_to_string(common::venv().join("include/mpi_abi.h")).expect("mpi_abi.h");
    let mut src = String::from("#include <mpi.h>\n");
    let mut n = 0;
    for line in abi.lines() {
        let l = line.trim();
        let proto = !l.starts_with('#')
            && !l.starts_with("typedef struct")
            && l.contains("MPI")
            && l.contains('(')
            && (l.ends_with(");") || l.contains(");"))
            && l.split('(')
                .next()
                .is_some_and(|h| h.contains("MPI") || h.starts_with("typedef"));
        if proto {
            src.push_str(l);
            src.push('\n');
            n += 1;
        }
    }
    assert!(n > 1300, "only {n} declarations found");
    let file = common::scratch().join("protos.c");
    std::fs::write(&file, &src).expect("write");
    let obj = common::scratch().join("protos.o");
    let inc = format!("-I{}", ours().display());
    cc(
        &[
            "-std=c11",
            "-Wall",
            "-Werror",
            &inc,
            "-c",
            "-o",
            &obj.display().to_string(),
            &file.display().to_string(),
        ],
        "MPICH's declarations after our mpi.h",
    );
}
