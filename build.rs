//! Gives libfmi.so a SONAME so that programs record `libfmi.so.0`, not the build path, and
//! leaves `libfmi.so.0 -> libfmi.so` beside it in the profile directory (target/release), so
//! that a program linked against the build tree finds the library at run time.
use std::path::PathBuf;

fn main() {
    // `rustc-link-arg`, not `rustc-cdylib-link-arg`: cargo passes the latter on to every cdylib
    // that depends on this package, which would give the MPI library
    // (mpi/, SONAME libmpi_abi.so.1) this SONAME. On the package's test binaries it is harmless.
    println!("cargo:rustc-link-arg=-Wl,-soname,libfmi.so.0");
    println!("cargo:rerun-if-changed=build.rs");
    // OUT_DIR is <profile dir>/build/<package>-<hash>/out.
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return;
    };
    let Some(profile) = out.ancestors().nth(3) else {
        return;
    };
    let link = profile.join("libfmi.so.0");
    if std::fs::symlink_metadata(&link).is_err() {
        // Dangling until the library is linked; a failure only loses the convenience.
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink("libfmi.so", &link);
    }
}
