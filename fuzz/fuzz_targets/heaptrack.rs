//! Fuzzes the heaptrack capture decoder (seeded with the heaptrack
//! fixtures, decompressed, their first two lines removed and a version and
//! command line added back here): whatever the bytes, a profile or an
//! error, never a panic, a hang or unbounded memory.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heapdiff_fuzz::decode_checked(
    b"v 10400 3\nX ./leak\n",
    data
));
