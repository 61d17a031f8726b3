//! Fuzzes the massif decoder (seeded with the massif fixture): whatever the
//! bytes, a profile or an error, never a panic, a hang or unbounded memory.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heapdiff_fuzz::decode_checked(b"", data));
