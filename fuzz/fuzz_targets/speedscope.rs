//! Fuzzes the speedscope decoder (seeded with the speedscope fixtures):
//! whatever the bytes, a profile or an error, never a panic, a hang or
//! unbounded memory.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heapdiff_fuzz::decode_checked(b"", data));
