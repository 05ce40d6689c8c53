//! Fuzz target: see `fmi::fuzzing::redis_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fmi::fuzzing::redis_message(data));
