//! Cut files are never silent: every shipped text fixture, cut at many byte
//! positions, either fails to decode or warns `truncated? …` whenever the
//! cut changed its totals; and whole, none warns.
//!
//! The fixtures are real producers' output (gperftools, jemalloc, Go
//! `debug=1`, jeprof and heaptrack folded stacks, memray CSV), so the same
//! run proves the checks have no false positives on what the producers
//! write.
//!
//! Folded stacks and memray CSV have no header totals and no trailer: a
//! cut right after a newline leaves a file as whole-looking as any, and no
//! decoder can tell. Those cuts are the only ones let through.

use std::path::{Path, PathBuf};

use heapdiff_profile::{Profile, decode};

/// The text fixtures, relative to `fixtures/`.
const TEXT_FIXTURES: &[&str] = &[
    "c/gperftools/before.heap",
    "c/gperftools/after.heap",
    "c/jemalloc/before.heap",
    "c/jemalloc/after.heap",
    "samples/sample_gperftools_2.10_debian.heap",
    "samples/sample_jemalloc_5.3.0_debian.heap",
    "samples/sample_jemalloc_tikv_5.3_raw.heap",
    "samples/sample_go1.19_heap_debug1.txt",
    "folded/jeprof/before.folded",
    "folded/jeprof/after.folded",
    "folded/heaptrack/before.folded",
    "folded/heaptrack/after.folded",
    "memray/before.csv",
    "memray/after.csv",
];

/// At most this many cuts of one file are decoded (every position of a
/// small file; evenly spread ones plus both ends of a big one).
const MAX_CUTS: usize = 1500;

/// How many positions at each end of a big file are all cut at.
const ENDS: usize = 300;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

/// Each sample type's total.
fn totals(p: &Profile) -> Vec<i64> {
    (0..p.header.sample_types.len())
        .map(|i| p.total(i))
        .collect()
}

/// Whether a file's only sign of a cut is its last line's missing newline
/// (no header totals, no trailer).
fn has_only_the_newline_sign(rel: &str) -> bool {
    rel.ends_with(".folded") || rel.ends_with(".csv")
}

fn warns_truncated(p: &Profile) -> bool {
    p.warnings.iter().any(|w| w.starts_with("truncated? "))
}

/// The positions `bytes` is cut at.
fn cut_positions(len: usize) -> Vec<usize> {
    if len <= MAX_CUTS {
        return (0..len).collect();
    }
    let step = len / (MAX_CUTS - 2 * ENDS);
    let mut cuts: Vec<usize> = (0..ENDS).chain(len - ENDS..len).collect();
    cuts.extend((ENDS..len - ENDS).step_by(step));
    cuts
}

#[test]
fn whole_fixtures_have_no_truncation_warning() {
    for rel in TEXT_FIXTURES {
        let p = decode(&std::fs::read(fixture(rel)).unwrap()).unwrap();
        assert!(
            !p.warnings
                .iter()
                .any(|w| w.starts_with("truncated?") || w.starts_with("negative")),
            "{rel}: {:?}",
            p.warnings
        );
    }
}

#[test]
fn every_cut_that_changes_the_totals_errors_or_warns() {
    let mut silent = Vec::new();
    for rel in TEXT_FIXTURES {
        let bytes = std::fs::read(fixture(rel)).unwrap();
        let whole = totals(&decode(&bytes).unwrap());
        for cut in cut_positions(bytes.len()) {
            let at_line_end = cut > 0 && bytes[cut - 1] == b'\n';
            if at_line_end && has_only_the_newline_sign(rel) {
                continue;
            }
            let Ok(p) = decode(&bytes[..cut]) else {
                continue;
            };
            if totals(&p) != whole && !warns_truncated(&p) {
                silent.push(format!("{rel} cut at {cut}: {:?}", p.warnings));
            }
        }
    }
    assert!(
        silent.is_empty(),
        "{} silent cuts, e.g. {:?}",
        silent.len(),
        &silent[..silent.len().min(5)]
    );
}
