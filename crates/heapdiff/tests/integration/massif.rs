//! Valgrind massif: two snapshots of one file against `ms_print`'s view of
//! them (`fixtures/massif/reference/ms_print.txt`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;

const FILE: &str = "fixtures/massif/massif.out.leak";

/// The allocation sites of snapshot `n` as `ms_print` prints them: the
/// tree's first level, `function file:line` → bytes.
fn ms_print_sites(n: u32) -> BTreeMap<String, i64> {
    let text = std::fs::read_to_string(repo_root().join("fixtures/massif/reference/ms_print.txt"))
        .unwrap();
    let mut lines = text.lines().skip_while(|l| {
        let mut words = l.split_whitespace();
        words.next() != Some(&n.to_string()) || words.count() != 5
    });
    lines.next().expect("the snapshot's row");
    let mut sites = BTreeMap::new();
    for line in lines.take_while(|l| !l.starts_with("---")) {
        let Some(rest) = line.strip_prefix("->") else {
            continue;
        };
        // `78.15% (1,372,148B) 0x10923C: copy_header (leak.c:16)`
        let (_, rest) = rest.split_once(" (").unwrap();
        let (bytes, label) = rest.split_once("B) ").unwrap();
        let bytes: i64 = bytes.replace(',', "").parse().unwrap();
        let label = match label.split_once(": ") {
            Some((_, site)) => site.replace(" (", " ").replace(')', ""),
            None => "(below massif's threshold)".to_owned(),
        };
        *sites.entry(label).or_default() += bytes;
    }
    sites
}

#[test]
fn two_snapshots_of_one_file_match_ms_print() {
    let out: Value = serde_json::from_str(&stdout_of(&run(&[
        &format!("{FILE}#3"),
        &format!("{FILE}#20"),
        "--no-svg",
        "--format",
        "json",
        "--top",
        "0",
    ])))
    .unwrap();
    let (before, after) = (ms_print_sites(3), ms_print_sites(20));
    assert!(
        before.len() >= 3 && after.len() >= 2,
        "{before:?} {after:?}"
    );
    let rows = out["rows"].as_array().unwrap();
    for site in before.keys().chain(after.keys()) {
        if before.get(site).unwrap_or(&0) == after.get(site).unwrap_or(&0) {
            continue; // unchanged: not a row
        }
        let row = rows
            .iter()
            .find(|r| {
                format!(
                    "{} {}:{}",
                    r["function"].as_str().unwrap(),
                    r["file"].as_str().unwrap(),
                    r["line"]
                ) == *site
            })
            .unwrap_or_else(|| panic!("{site} missing: {rows:?}"));
        assert_eq!(
            row["before"],
            before.get(site).copied().unwrap_or(0),
            "{site}"
        );
        assert_eq!(
            row["after"],
            after.get(site).copied().unwrap_or(0),
            "{site}"
        );
    }
    assert_eq!(out["before_total"], before.values().sum::<i64>());
    assert_eq!(out["after_total"], after.values().sum::<i64>());
    assert_eq!(out["precision"], "exact");
}

#[test]
fn a_file_alone_is_its_peak_and_a_missing_snapshot_is_named() {
    let table = stdout_of(&run(&[
        &format!("{FILE}#0"),
        FILE,
        "--no-svg",
        "--no-source",
    ]));
    assert!(table.contains("massif.out.leak#0"), "{table}");
    assert!(
        table.contains("warm_cache  leak.c:44"),
        "the peak holds the cache: {table}"
    );
    let out = run(&[&format!("{FILE}#99"), FILE, "--no-svg"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no detailed snapshot 99 (the detailed ones: 0, 1, 2, 3"),
        "{err}"
    );
}

#[test]
fn one_file_with_trend_is_a_trend_over_its_detailed_snapshots() {
    let out = stdout_of(&run(&["--trend", FILE, "--no-svg", "--format", "json"]));
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["kind"], "trend");
    let files = j["files"].as_array().unwrap();
    assert_eq!(files.len(), 21, "snapshots 0 to 20, all detailed");
    assert_eq!(files[10], format!("{FILE}#10"), "in number order");
    assert_eq!(
        j["rows"][0]["function"], "copy_header",
        "the steady leak leads"
    );
    let out = run(&["--trend", GO_BEFORE, "--no-svg"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds one profile"));
}
