//! Fuzz target: see `fmi::fuzzing::direct_link`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fmi::fuzzing::direct_link(data));
