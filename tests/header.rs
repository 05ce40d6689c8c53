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

/// Every status of the list in src/error.rs is in fmi.h with its name and value.
#[test]
fn header_has_every_status_with_its_value() {
    let header = include_str!("../include/fmi.h");
    for s in fmi::error::STATUS_TABLE {
        let line = format!("{} = {},", s.name, s.code);
        assert!(
            header.lines().any(|l| l.trim() == line),
            "fmi.h lacks `{line}`"
        );
    }
}
