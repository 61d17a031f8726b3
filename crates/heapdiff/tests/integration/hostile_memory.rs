//! Memory and time from tiny inputs: every amplification stays within the
//! memory budget, measured (the child's own peak resident memory, which it
//! reports with `HEAPDIFF_TIMINGS`), and no shape of tree is quadratic.

use std::process::Output;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::hostile_inputs::*;

/// The budget the amplification tests run under.
const BUDGET_MIB: u64 = 128;

/// Runs heapdiff in a scratch directory holding `files`, under a budget of
/// [`BUDGET_MIB`]; checks that it failed cleanly (exit 2, one line, no
/// graph written) within 1.1 times the budget, and returns its stderr.
fn refused_within_budget(files: &[(&str, &[u8])], args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let budget = format!("{BUDGET_MIB}MiB");
    let out: Output = heapdiff()
        .current_dir(dir.path())
        .env("HEAPDIFF_TIMINGS", "1")
        .args(["--max-memory", &budget])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    let peak = peak_rss_mib(&out);
    assert!(
        peak * 10 <= BUDGET_MIB * 11,
        "{args:?}: peak {peak} MiB over 1.1 × {BUDGET_MIB} MiB\n{stderr}"
    );
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(!dir.path().join("heapdiff.svg").exists());
    eprintln!("{args:?}: peak {peak} MiB: {}", errors[0]);
    stderr
}

#[test]
fn repeated_empty_strings_stay_within_the_budget() {
    // 60 MB of protobuf (60 KB gzipped): 30 million empty strings.
    let input = empty_strings(30_000_000);
    assert!(input.len() < 400_000, "{}", input.len());
    let err = refused_within_budget(
        &[("strings.pb.gz", &input), ("b.pb.gz", &input)],
        &["strings.pb.gz", "b.pb.gz"],
    );
    assert!(err.contains("--max-memory"), "{err}");
}

#[test]
fn a_gzip_bomb_on_both_sides_stays_within_the_budget() {
    let bomb = disguised_bomb(200 << 20);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let err = refused_within_budget(&[("z.gz", &bomb)], &["z.gz", "z.gz"]);
    assert!(
        err.contains("the budget of 128 MiB (--max-memory)"),
        "{err}"
    );
}

#[test]
fn a_gzip_of_zeros_is_refused_from_its_first_bytes() {
    let zeros = gzip(&vec![0u8; 64 << 20]);
    let started = Instant::now();
    let err = refused_within_budget(&[("z.gz", &zeros)], &["z.gz", "z.gz"]);
    assert!(err.contains("field number 0"), "{err}");
    // A refusal from the head: the rest is never inflated (whole, it
    // takes seconds on a debug build).
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn distinct_text_lines_stay_within_the_budget() {
    let input = distinct_folded_lines(2_000_000);
    let err = refused_within_budget(&[("a.folded.gz", &input)], &["a.folded.gz", "a.folded.gz"]);
    assert!(
        err.contains("--max-memory") || err.contains("--max-"),
        "{err}"
    );
}

#[test]
fn inlined_frames_stay_within_the_budget() {
    // 1,000 inlined frames named 10,000 times by each of 200 samples: two
    // billion frames from a few hundred kilobytes.
    let input = inlined_frames(1000, 10_000, 200);
    assert!(input.len() < 1 << 20, "{}", input.len());
    let err = refused_within_budget(&[("i.pb.gz", &input)], &["i.pb.gz", "i.pb.gz"]);
    assert!(
        err.contains("frames") || err.contains("--max-memory"),
        "{err}"
    );
}

#[test]
fn the_default_limits_follow_the_budget() {
    // Under a 128 MiB budget the default frame limit is 16 Mi frames: 20
    // stacks of a million frames pass it.
    let input = inlined_frames(1000, 1000, 20);
    let err = refused_within_budget(&[("i.pb.gz", &input)], &["i.pb.gz", "i.pb.gz"]);
    assert!(err.contains("more than 16777216 frames"), "{err}");
}

/// Runs heapdiff on `before` and `after` in a scratch directory, killing
/// it after `limit`: a run that takes that long is quadratic somewhere.
fn completes_within(before: &[u8], after: &[u8], args: &[&str], limit: Duration) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), before).unwrap();
    std::fs::write(dir.path().join("b"), after).unwrap();
    let mut child = heapdiff()
        .current_dir(dir.path())
        .args(["a", "b"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{args:?} ran for more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn many_children_of_one_node_are_not_quadratic() {
    // 100,000 siblings: 3 s on a debug build; the quadratic queue this
    // replaced took two minutes.
    let out = completes_within(
        &siblings(100_000, 1),
        &siblings(100_000, 2),
        &["--svg", "s.svg", "--top", "3"],
        Duration::from_secs(45),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("  leaf"));
}

#[test]
fn the_classic_graph_cuts_deep_stacks_as_the_heap_graph_does() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), chain(3000, 100)).unwrap();
    std::fs::write(dir.path().join("b"), chain(3000, 300)).unwrap();
    for style in ["classic", "heap"] {
        let out = heapdiff()
            .current_dir(dir.path())
            .args(["a", "b", "--flame-style", style, "--svg", "g.svg"])
            .output()
            .unwrap();
        stdout_of(&out);
        let svg = std::fs::read_to_string(dir.path().join("g.svg")).unwrap();
        assert!(svg.len() < 2 << 20, "{style}: {} bytes", svg.len());
        assert!(svg.contains("stacks cut at 1000 frames"), "{style}");
    }
}
