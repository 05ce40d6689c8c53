//! Fuzz target: see `fmi::fuzzing::rendezvous_client`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fmi::fuzzing::rendezvous_client(data));
