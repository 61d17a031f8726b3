//! Generated profiles of every format, shaped by the fuzzer, decode to the
//! totals they were generated with.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [a, b, c, d, ..] = data else { return };
    let shape = heapdiff_benchgen::Shape {
        stacks: 1 + usize::from(*a % 64),
        functions: 16 + usize::from(*b),
        depth: 1 + usize::from(*c % 24),
        seed: u64::from(*d) + 1,
    };
    let stacks = heapdiff_benchgen::stacks(&shape);
    let want: i64 = stacks.iter().map(|s| s.after.1).sum();
    let (_, pprof) = heapdiff_benchgen::pprof_pair_uncompressed(&shape);
    let p = heapdiff_profile::decode(&pprof).expect("generated pprof decodes");
    assert_eq!(p.total(3), want);
    let (_, folded) = heapdiff_benchgen::folded_pair(&shape);
    let f = heapdiff_profile::decode(folded.as_bytes()).expect("generated folded decodes");
    assert_eq!(f.total(0), want);
    let (_, tm) = heapdiff_benchgen::tracemalloc_pair(&shape);
    let t = heapdiff_profile::decode(&tm).expect("generated tracemalloc decodes");
    assert_eq!(t.total(1), want);
});
