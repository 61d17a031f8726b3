//! Filters, normalization, sampling noise and `--min-delta` on the real
//! fixtures.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;

fn json(extra: &[&str]) -> Value {
    let mut args = vec![
        GO_BEFORE, GO_AFTER, "--no-svg", "--format", "json", "--top", "0",
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&stdout_of(&run(&args))).unwrap()
}

/// `function file:line` -> row.
fn rows(j: &Value) -> BTreeMap<String, Value> {
    j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = format!(
                "{} {}:{}",
                r["function"].as_str().unwrap_or(""),
                r["file"].as_str().unwrap_or("").rsplit('/').next().unwrap(),
                r["line"]
            );
            (key, r.clone())
        })
        .collect()
}

#[test]
fn focus_keeps_only_stacks_through_a_match_and_says_so() {
    let all = json(&[]);
    let j = json(&["--focus", "headerCache"]);
    let r = rows(&j);
    assert!(
        r.keys().any(|k| k.starts_with("net/http.Header.Clone")),
        "{:?}",
        r.keys()
    );
    assert!(
        !r.keys().any(|k| k.contains("readMIMEHeader")),
        "{:?}",
        r.keys()
    );
    assert_eq!(j["filters"]["focus"], "headerCache");
    assert_eq!(j["unfiltered_after_total"], all["after_total"]);
    assert!(j["after_total"].as_i64() < all["after_total"].as_i64());
    // --relative keeps the whole profiles' totals.
    let rel = json(&["--focus", "headerCache", "--relative"]);
    assert_eq!(rel["after_total"], all["after_total"]);
    assert_eq!(rel["rows"], j["rows"]);
}

#[test]
fn ignore_drops_stacks_and_hide_moves_values_to_the_caller() {
    let all = rows(&json(&[]));
    let ignored = rows(&json(&["--ignore", "readMIMEHeader"]));
    assert!(!ignored.keys().any(|k| k.contains("readMIMEHeader")));
    assert!(
        ignored
            .keys()
            .any(|k| k.starts_with("net/http.Header.Clone"))
    );

    // Hiding Header.Clone charges its memory to its caller, remember.
    let hidden = rows(&json(&["--hide", "^net/http\\.Header\\.Clone "]));
    assert!(
        !hidden
            .keys()
            .any(|k| k.starts_with("net/http.Header.Clone"))
    );
    let clone_under_remember: i64 = all
        .iter()
        .filter(|(k, _)| k.starts_with("net/http.Header.Clone"))
        .map(|(_, r)| r["after"].as_i64().unwrap())
        .sum();
    let remember = |m: &BTreeMap<String, Value>| -> i64 {
        m.iter()
            .filter(|(k, _)| k.starts_with("main.(*headerCache).remember"))
            .map(|(_, r)| r["after"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(remember(&hidden), remember(&all) + clone_under_remember);
}

#[test]
fn show_from_cuts_the_callers_above_the_match() {
    let j = json(&[
        "--show-from",
        "main\\.\\(\\*server\\)\\.handle",
        "--cum",
        "--by",
        "function",
    ]);
    let functions: Vec<&str> = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["function"].as_str().unwrap())
        .collect();
    let handle = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["function"] == "main.(*server).handle")
        .unwrap();
    assert_eq!(
        handle["cum_after"], j["after_total"],
        "every kept stack starts there"
    );
    assert_eq!(handle["cum_before"], j["before_total"]);
    assert!(
        !functions.contains(&"net/http.(*conn).serve"),
        "{functions:?}"
    );
}

#[test]
fn normalize_scales_before_to_after() {
    let j = json(&["--normalize"]);
    let (b, a) = (
        j["before_total"].as_i64().unwrap(),
        j["after_total"].as_i64().unwrap(),
    );
    assert!((b - a).abs() <= 1, "{b} vs {a}");
    let factor = j["normalized"].as_f64().unwrap();
    assert!(
        (factor - 6_803_118.0 / 3_344_640.0).abs() < 0.05,
        "{factor}"
    );
}

#[test]
fn min_delta_hides_small_rows() {
    let j = json(&["--min-delta", "100KiB"]);
    for r in j["rows"].as_array().unwrap() {
        assert!(r["delta"].as_i64().unwrap().abs() >= 102_400, "{r}");
    }
    assert!(j["rows_below_min_delta"].as_u64().unwrap() > 0);
}

#[test]
fn sampled_rows_carry_their_error_and_exact_ones_say_exact() {
    let j = json(&[]);
    assert_eq!(j["precision"], "sampled");
    let r = rows(&j);
    let big = &r["net/textproto.readMIMEHeader reader.go:547"];
    assert_eq!(big["within_noise"], false, "{big}");
    assert!(big["error"].as_i64().unwrap() > 0);
    // A new line with two sampled objects is within noise.
    let small = &r["hash/crc32.slicingMakeTable crc32_generic.go:59"];
    assert_eq!(small["within_noise"], true, "{small}");
    let table = stdout_of(&run(&[GO_BEFORE, GO_AFTER, "--no-svg", "--top", "0"]));
    assert!(table.contains("  ~+20.3 KiB"), "{table}");
    assert!(table.contains("~ marks a change within sampling noise"));

    let exact: Value = serde_json::from_str(&stdout_of(&run(&[
        "fixtures/python/before.tm",
        "fixtures/python/after.tm",
        "--no-svg",
        "--no-symbolize",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(exact["precision"], "exact");
    assert!(exact["rows"][0].get("error").is_none());
}

const SNAPSHOTS: [&str; 5] = [
    "fixtures/go-trend/snap-1.pb.gz",
    "fixtures/go-trend/snap-2.pb.gz",
    "fixtures/go-trend/snap-3.pb.gz",
    "fixtures/go-trend/snap-4.pb.gz",
    "fixtures/go-trend/snap-5.pb.gz",
];

fn trend_json(extra: &[&str]) -> Value {
    let mut args = SNAPSHOTS.to_vec();
    args.extend(["--no-svg", "--format", "json", "--top", "0"]);
    args.extend_from_slice(extra);
    serde_json::from_str(&stdout_of(&run(&args))).unwrap()
}

#[test]
fn trend_ranks_the_steady_leak_above_the_one_time_jump() {
    let j = trend_json(&["--by", "function"]);
    assert_eq!(j["kind"], "trend");
    assert_eq!(j["files"].as_array().unwrap().len(), 5);
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows[0]["function"], "main.remember", "{}", rows[0]);
    assert_eq!(rows[0]["steps_up"], 4);
    let series: Vec<i64> = rows[0]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(series.windows(2).all(|w| w[1] > w[0]), "{series:?}");
    assert_eq!(rows[0]["growth"], series[4] - series[0]);
    // The index built once and kept grew most, but only once: score 0.
    let index = rows
        .iter()
        .find(|r| r["function"] == "main.buildIndex")
        .unwrap();
    assert_eq!(index["score"], 0);
    assert!(index["growth"].as_i64().unwrap() > rows[0]["growth"].as_i64().unwrap());
    // The scratch buffer lived for one snapshot only: not a row at all.
    assert!(!rows.iter().any(|r| r["function"] == "main.export"));
    // Totals per snapshot, and the export buffer is in the third.
    let totals: Vec<i64> = j["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(totals[2] > totals[1] + 8_000_000, "{totals:?}");

    // The pair view of the same first and last snapshots ranks the jump first.
    let pair: Value = serde_json::from_str(&stdout_of(&run(&[
        SNAPSHOTS[0],
        SNAPSHOTS[4],
        "--no-svg",
        "--format",
        "json",
        "--by",
        "function",
    ])))
    .unwrap();
    assert_eq!(pair["rows"][0]["function"], "main.buildIndex");
}

#[test]
fn trend_table_has_sparklines_and_the_graph_compares_first_and_last() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("t.svg");
    let mut args = SNAPSHOTS.to_vec();
    args.extend([
        "--svg",
        svg.to_str().unwrap(),
        "--by",
        "function",
        "--top",
        "3",
    ]);
    let out = run(&args);
    let table = stdout_of(&out);
    let leak = table.lines().find(|l| l.contains("main.remember")).unwrap();
    assert!(leak.contains("4/4") && leak.contains("▁▃▄▆█"), "{table}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.contains("fixtures/go-trend/snap-1.pb.gz → fixtures/go-trend/snap-5.pb.gz"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("flame graph (first → last) written to"));
    // --order mtime sorts by modification time (here: the order written).
    let mut args = vec![SNAPSHOTS[4], SNAPSHOTS[0], SNAPSHOTS[2]];
    args.extend(["--no-svg", "--order", "given", "--format", "json"]);
    let given: Value = serde_json::from_str(&stdout_of(&run(&args))).unwrap();
    assert_eq!(given["files"][0], SNAPSHOTS[4]);
}

#[test]
fn several_profiles_per_side_are_merged() {
    let merged: Value = serde_json::from_str(&stdout_of(&run(&[
        "--before",
        SNAPSHOTS[0],
        "--before",
        SNAPSHOTS[1],
        "--after",
        "fixtures/go-trend/snap-[45].pb.gz",
        "--no-svg",
        "--format",
        "json",
    ])))
    .unwrap();
    let total = |a: &str, b: &str| -> i64 {
        let j: Value =
            serde_json::from_str(&stdout_of(&run(&[a, b, "--no-svg", "--format", "json"])))
                .unwrap();
        j["before_total"].as_i64().unwrap() + j["after_total"].as_i64().unwrap()
    };
    assert_eq!(
        merged["before_total"].as_i64().unwrap(),
        total(SNAPSHOTS[0], SNAPSHOTS[1])
    );
    assert_eq!(
        merged["after_total"].as_i64().unwrap(),
        total(SNAPSHOTS[3], SNAPSHOTS[4])
    );
    assert_eq!(
        merged["before_file"],
        "fixtures/go-trend/snap-1.pb.gz (+1 more)"
    );

    // Sides whose sample types differ cannot be merged.
    let out = run(&[
        "--before",
        SNAPSHOTS[0],
        "--before",
        "fixtures/python/before.tm",
        "--after",
        SNAPSHOTS[4],
        "--no-svg",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot merge: profile 2 has sample types"),
        "{err}"
    );
}
