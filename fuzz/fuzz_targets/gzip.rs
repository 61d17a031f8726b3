//! Fuzzes the gzip wrapper: gzip bytes around anything, truncated or
//! corrupt, must decode or fail cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = vec![0x1f, 0x8b];
    input.extend_from_slice(data);
    let _ = heapdiff_profile::decode(&input);
});
