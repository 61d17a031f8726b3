//! Fuzzes the memray_csv decoder: whatever the bytes, a profile or an error,
//! never a panic, a hang or unbounded memory.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heapdiff_fuzz::decode_checked(
    b"allocator,num_allocations,size,tid,thread_name,stack_trace\n",
    data
));
