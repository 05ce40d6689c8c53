//! Gives the MPI library the standard ABI's SONAME, `libmpi_abi.so.1`, and leaves the
//! `libmpi_abi.so.1 -> libmpi_abi.so` link beside it in the profile directory, so that a
//! program compiled by any standard-ABI `mpicc` finds it through `LD_LIBRARY_PATH`.
use std::path::PathBuf;

fn main() {
    println!("cargo:rustc-link-arg-cdylib=-Wl,-soname,libmpi_abi.so.1");
    println!("cargo:rerun-if-changed=build.rs");
    // OUT_DIR is <profile dir>/build/<package>-<hash>/out.
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return;
    };
    let Some(profile) = out.ancestors().nth(3) else {
        return;
    };
    let link = profile.join("libmpi_abi.so.1");
    if std::fs::symlink_metadata(&link).is_err() {
        // Dangling until the library is linked; a failure only loses the convenience.
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink("libmpi_abi.so", &link);
    }
}
