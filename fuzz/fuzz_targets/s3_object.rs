//! Fuzz target: see `fmi::fuzzing::s3_object`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fmi::fuzzing::s3_object(data));
