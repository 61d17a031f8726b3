//! Fuzzes the pprof decoder: whatever the bytes, a profile or an error,
//! never a panic, a hang or unbounded memory; and its split of the message
//! reads what prost reads.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    heapdiff_fuzz::decode_checked(b"", data);
    heapdiff_fuzz::split_matches_prost(data);
});
