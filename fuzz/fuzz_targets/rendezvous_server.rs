//! Fuzz target: see `fmi_tools::server::fuzz_connections`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fmi_tools::server::fuzz_connections(data));
