//! Fuzzes the tracemalloc decoder: whatever the bytes, a profile or an error,
//! never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(data.len() + 64);
    input.extend_from_slice(b"");
    input.extend_from_slice(data);
    if let Ok(p) = heapdiff_profile::decode(&input) {
        // Everything a decoded profile promises must hold.
        for s in p.samples() {
            assert_eq!(s.values.len(), p.header.sample_types.len());
            for &f in s.stack {
                let _ = p.frame_name(p.frame(f));
            }
        }
    }
});
