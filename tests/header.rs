//! The committed include/fmi.h must equal a fresh cbindgen generation.
//! Regenerate with: FMI_BLESS=1 cargo test --test header

use std::path::Path;

#[test]
fn header_is_current() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config =
        cbindgen::Config::from_file(Path::new(dir).join("cbindgen.toml")).expect("cbindgen.toml");
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut fresh);
    let path = Path::new(dir).join("include/fmi.h");
    if std::env::var_os("FMI_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/fmi.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/fmi.h is out of date: regenerate it with `FMI_BLESS=1 cargo test --test header`"
    );
}
