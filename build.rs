//! Gives libfmi.so a SONAME so that programs record `libfmi.so.0`, not the build path.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libfmi.so.0");
    println!("cargo:rerun-if-changed=build.rs");
}
