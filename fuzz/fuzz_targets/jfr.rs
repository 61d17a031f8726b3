//! Fuzzes the JFR decoder (seeded with the JFR fixtures, their `FLR\0`
//! magic removed and added back here): whatever the bytes, a profile or an
//! error, never a panic, a hang or unbounded memory.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heapdiff_fuzz::decode_checked(b"FLR\0", data));
