//! The library exports every MPI_/PMPI_ name that MPICH's libmpi_abi.so.1 exports (so no
//! binary built against the standard ABI finds a symbol missing) and every procedure of the
//! header (incl. its MPIX_ ones); its SONAME is the standard's. (MPICH's other exports are its
//! internals, MPII_/MPIR_/QMPI_, and MPIX_ extensions the ABI header does not declare.)
mod common;

use std::process::Command;

#[test]
fn every_name_mpich_exports_is_exported() {
    let mpich = common::mpi_exports(&common::venv().join("lib/libmpi_abi.so.1"));
    let all = common::exports(&common::our_lib_dir().join("libmpi_abi.so"));
    let ours = common::mpi_exports(&common::our_lib_dir().join("libmpi_abi.so"));
    assert!(
        mpich.len() > 1300,
        "MPICH exports only {} names?",
        mpich.len()
    );
    let missing: Vec<&String> = mpich.difference(&ours).collect();
    assert!(
        missing.is_empty(),
        "{} names missing: {missing:?}",
        missing.len()
    );
    // Every procedure of the generated list is exported (MPI_ and PMPI_, removed ones MPI_).
    for p in mpi_abi::PROCEDURES {
        assert!(all.contains(p.name), "{} not exported", p.name);
        if !p.removed {
            assert!(
                all.contains(&format!("P{}", p.name)),
                "P{} not exported",
                p.name
            );
        }
    }
}

#[test]
fn soname_is_the_standard_one_and_the_core_is_linked_in() {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(common::our_lib_dir().join("libmpi_abi.so"))
        .output()
        .expect("readelf");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[libmpi_abi.so.1]"), "SONAME:\n{text}");
    assert!(!text.contains("libfmi.so"), "depends on libfmi.so:\n{text}");
}
