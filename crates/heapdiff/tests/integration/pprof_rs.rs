//! Interoperability with a third-party Rust writer: two real CPU profiles
//! recorded in this process by the `pprof` crate (pprof-rs, prost codec) are
//! read and diffed. Their unit is nanoseconds (and a sample count), not bytes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use pprof::protos::Message as _;
use serde_json::Value;

use crate::common::*;

#[inline(never)]
fn spin_alpha(d: Duration) -> u64 {
    spin(d, 3)
}

#[inline(never)]
fn spin_beta(d: Duration) -> u64 {
    spin(d, 7)
}

fn spin(d: Duration, seed: u64) -> u64 {
    let start = Instant::now();
    let mut x = seed;
    while start.elapsed() < d {
        for _ in 0..1000 {
            x = black_box(
                x.wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407),
            );
        }
    }
    x
}

fn record(alpha_ms: u64, beta_ms: u64) -> pprof::protos::Profile {
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(1000)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
        .unwrap();
    black_box(spin_alpha(Duration::from_millis(alpha_ms)));
    black_box(spin_beta(Duration::from_millis(beta_ms)));
    guard.report().build().unwrap().pprof().unwrap()
}

fn total(p: &pprof::protos::Profile, index: usize) -> i64 {
    p.sample.iter().map(|s| s.value[index]).sum()
}

#[test]
fn reads_and_diffs_pprof_rs_cpu_profiles() {
    let before = record(200, 40);
    let after = record(40, 300);
    let dir = tempfile::tempdir().unwrap();
    let (b, a) = (dir.path().join("before.pb"), dir.path().join("after.pb"));
    std::fs::write(&b, before.encode_to_vec()).unwrap();
    std::fs::write(&a, after.encode_to_vec()).unwrap();

    let args = [
        b.to_str().unwrap(),
        a.to_str().unwrap(),
        "--no-svg",
        "--format",
        "json",
    ];
    let json: Value = serde_json::from_str(&stdout_of(&run(&[
        &args[..],
        &["--by", "function", "--cum", "--top", "0"],
    ]
    .concat())))
    .unwrap();
    assert_eq!(json["sample_type"], "cpu");
    assert_eq!(json["unit"], "nanoseconds");
    assert_eq!(json["before_total"].as_i64().unwrap(), total(&before, 1));
    assert_eq!(json["after_total"].as_i64().unwrap(), total(&after, 1));
    assert_eq!(json["period"]["type"], "cpu");

    let delta_of = |name: &str| {
        json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["function"].as_str().is_some_and(|f| f.ends_with(name)))
            .map(|r| r["cum_delta"].as_i64().unwrap())
    };
    let beta = delta_of("spin_beta").expect("spin_beta is in the diff");
    assert!(beta > 0, "spin_beta ran longer after: {beta}");
    if let Some(alpha) = delta_of("spin_alpha") {
        assert!(alpha < beta, "spin_alpha ran shorter after");
    }

    let counts: Value = serde_json::from_str(&stdout_of(&run(&[
        &args[..],
        &["--sample-type", "samples"],
    ]
    .concat())))
    .unwrap();
    assert_eq!(counts["unit"], "count");
    assert_eq!(counts["after_total"].as_i64().unwrap(), total(&after, 0));

    let table = stdout_of(&run(&[
        b.to_str().unwrap(),
        a.to_str().unwrap(),
        "--no-svg",
        "--by",
        "function",
    ]));
    assert!(table.contains("cpu (nanoseconds) by function"), "{table}");
    assert!(table.contains("Δ nanoseconds"), "{table}");
}
