//! Python tracemalloc snapshots: per-line equality with
//! `Snapshot.compare_to(old, 'lineno')`, and frames named from the source.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;

const BEFORE: &str = "fixtures/python/before.tm";
const AFTER: &str = "fixtures/python/after.tm";

/// `(file, line)` -> `(size, size_diff, count, count_diff)` from a recorded
/// `compare_to` listing.
fn compare_to(name: &str) -> BTreeMap<(String, u64), [i64; 4]> {
    let text =
        std::fs::read_to_string(repo_root().join("fixtures/python/reference").join(name)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let n = |i: usize| f[i].parse::<i64>().unwrap();
            (
                (f[0].to_owned(), f[1].parse().unwrap()),
                [n(2), n(3), n(4), n(5)],
            )
        })
        .collect()
}

fn json_rows(args: &[&str]) -> (Value, String) {
    let mut all = args.to_vec();
    all.extend(["--format", "json", "--top", "0"]);
    let out = run(&all);
    let json = serde_json::from_str(&stdout_of(&out)).unwrap();
    (json, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn assert_equal_to_compare_to(before: &str, after: &str, reference: &str) {
    let (json, _) = json_rows(&[before, after, "--no-svg", "--no-symbolize"]);
    let want = compare_to(reference);
    let rows = json["rows"].as_array().unwrap();
    for r in rows {
        let key = (
            r["file"].as_str().unwrap().to_owned(),
            r["line"].as_u64().unwrap(),
        );
        let w = want
            .get(&key)
            .unwrap_or_else(|| panic!("compare_to does not list {key:?}"));
        let got = [
            r["after"].as_i64().unwrap(),
            r["delta"].as_i64().unwrap(),
            r["count_after"].as_i64().unwrap(),
            r["count_delta"].as_i64().unwrap(),
        ];
        assert_eq!(&got, w, "size, size_diff, count, count_diff of {key:?}");
    }
    let changed = want.values().filter(|w| w[1] != 0 || w[3] != 0).count();
    assert_eq!(rows.len(), changed, "every changed line is a row");
    assert_eq!(
        json["delta_total"].as_i64().unwrap(),
        want.values().map(|w| w[1]).sum::<i64>()
    );
}

#[test]
fn rows_equal_compare_to_lineno() {
    assert_equal_to_compare_to(BEFORE, AFTER, "compare_to-lineno.txt");
}

#[test]
fn one_frame_snapshots_equal_compare_to_and_warn() {
    let (before, after) = (
        "fixtures/python/one-frame/before.tm",
        "fixtures/python/one-frame/after.tm",
    );
    assert_equal_to_compare_to(before, after, "compare_to-lineno-one-frame.txt");
    let (json, stderr) = json_rows(&[before, after, "--no-svg", "--no-symbolize"]);
    let warnings = json["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("tracemalloc.start(25)")),
        "{warnings:?}"
    );
    assert!(stderr.contains("tracemalloc.start(25)"), "{stderr}");
}

#[test]
fn frames_are_named_from_the_source_tree() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("py.svg");
    let (json, stderr) = json_rows(&[
        BEFORE,
        AFTER,
        "--source-root",
        "fixtures/python/src",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    let top = &json["rows"][0];
    assert_eq!(top["function"], "Headers.copy_from");
    assert_eq!(
        top["file"], "/srv/shop/headerlib/multidict.py",
        "the recorded path is kept"
    );
    assert_eq!(top["line"], 53);
    let functions: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["file"].as_str().unwrap().starts_with("/srv/shop/"))
        .map(|r| r["function"].as_str().unwrap())
        .collect();
    for want in [
        "make_request",
        "make_session_store.<locals>.open_session",
        "route_for",
    ] {
        assert!(functions.contains(&want), "{want} not in {functions:?}");
    }
    assert!(
        !stderr.contains("/srv/shop"),
        "every app file was found: {stderr}"
    );
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(
        svg.contains("data-l=\"Headers.copy_from multidict.py:53\""),
        "names in the flame graph"
    );
    assert!(svg.contains("make_session_store.&lt;locals&gt;.open_session"));
}

#[test]
fn without_symbolization_frames_are_file_and_line() {
    let out = run(&[BEFORE, AFTER, "--no-svg", "--no-symbolize", "--top", "3"]);
    let table = stdout_of(&out);
    assert!(
        table.contains("  /srv/shop/headerlib/multidict.py:53\n"),
        "{table}"
    );
}
