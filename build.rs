//! Gives libfmi.so a SONAME so that programs record `libfmi.so.0`, not the build path, and
//! leaves `libfmi.so.0 -> libfmi.so` beside it in the profile directory (target/release), so
//! that a program linked against the build tree finds the library at run time.
use std::path::PathBuf;

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libfmi.so.0");
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
