//! Fuzz target: see `fmi::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fmi::fuzzing::config(data));
