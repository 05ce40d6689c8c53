//! The committed generated files (mpi/src/gen/, include/mpi.h, the layout check, the coverage
//! table) are what the generator writes from the standard ABI header and the implementations
//! in mpi/src/api/ now: re-run `mpi/gen/gen_abi.py` after adding an implementation.
mod common;

use std::process::Command;

#[test]
fn generated_files_are_up_to_date() {
    let out = Command::new(common::venv().join("bin/python"))
        .arg(common::repo().join("mpi/gen/gen_abi.py"))
        .arg("--check")
        .output()
        .expect("run the generator");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
