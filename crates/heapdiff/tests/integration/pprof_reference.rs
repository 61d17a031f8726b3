//! Our numbers against `go tool pprof -top -diff_base` on the same Go pair.
//!
//! `fixtures/go/regen.sh` records pprof's output in `fixtures/go/reference/`
//! for several granularities and sample types. For every row pprof lists,
//! heapdiff's flat and cumulative deltas must equal pprof's to the unit; and
//! every row heapdiff finds changed must be one pprof lists.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;

/// (flat, cum) per key, where the key is `function`, `file` or
/// `function file:line` as pprof prints it.
type Table = BTreeMap<String, (i64, i64)>;

fn parse_pprof(text: &str) -> Table {
    let mut rows = Table::new();
    let mut in_rows = false;
    for line in text.lines() {
        if line.trim_start().starts_with("flat") {
            in_rows = true;
            continue;
        }
        if !in_rows {
            continue;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        let value = |s: &str| {
            s.trim_end_matches('B')
                .parse::<i64>()
                .unwrap_or_else(|_| panic!("value {s:?} in {line:?}"))
        };
        let name: Vec<&str> = t[5..]
            .iter()
            .copied()
            .filter(|s| *s != "(inline)" && *s != "(partial-inline)")
            .collect();
        let previous = rows.insert(name.join(" "), (value(t[0]), value(t[3])));
        assert!(previous.is_none(), "pprof lists {name:?} twice");
    }
    assert!(!rows.is_empty(), "no rows in pprof output");
    rows
}

fn key_of(row: &Value) -> String {
    let function = row["function"].as_str();
    let file = row["file"].as_str();
    match (function, file, row["line"].as_u64()) {
        (Some(f), Some(file), Some(l)) => format!("{f} {file}:{l}"),
        (Some(f), None, None) => f.to_owned(),
        (None, Some(file), None) => file.to_owned(),
        other => panic!("unexpected key {other:?}"),
    }
}

fn heapdiff_rows(by: &str, sample_type: &str) -> Table {
    let mut rows = Table::new();
    for cum in [false, true] {
        let mut args = vec![
            GO_BEFORE, GO_AFTER, "--no-svg", "--format", "json", "--top", "0",
        ];
        args.extend(["--by", by, "--sample-type", sample_type]);
        if cum {
            args.push("--cum");
        }
        let json: Value = serde_json::from_str(&stdout_of(&run(&args))).unwrap();
        for row in json["rows"].as_array().unwrap() {
            rows.insert(
                key_of(row),
                (
                    row["delta"].as_i64().unwrap(),
                    row["cum_delta"].as_i64().unwrap(),
                ),
            );
        }
    }
    rows
}

fn compare(reference: &str, by: &str, sample_type: &str) {
    let path = repo_root().join("fixtures/go/reference").join(reference);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(&format!("Type: {sample_type}")),
        "{reference} is for {sample_type}"
    );
    let pprof = parse_pprof(&text);
    let ours = heapdiff_rows(by, sample_type);
    for (key, &(flat, cum)) in &pprof {
        let got = ours.get(key).copied().unwrap_or((0, 0));
        assert_eq!(got, (flat, cum), "{reference}: (flat, cum) of {key}");
    }
    for (key, &(flat, _)) in &ours {
        if flat != 0 {
            assert!(
                pprof.contains_key(key),
                "{reference}: pprof does not list {key} (flat {flat})"
            );
        }
    }
}

#[test]
fn lines_inuse_space() {
    compare("pprof-lines-inuse_space.txt", "line", "inuse_space");
}

#[test]
fn lines_inuse_objects() {
    compare("pprof-lines-inuse_objects.txt", "line", "inuse_objects");
}

#[test]
fn functions_inuse_space() {
    compare("pprof-functions-inuse_space.txt", "function", "inuse_space");
}

#[test]
fn files_alloc_space() {
    compare("pprof-files-alloc_space.txt", "file", "alloc_space");
}

#[test]
fn totals_match_pprof_header() {
    // "Showing nodes accounting for 3484624B, 103.40% of 3370083B total":
    // the sum of flat deltas, and (for a diff) the base's total.
    let text = std::fs::read_to_string(
        repo_root().join("fixtures/go/reference/pprof-lines-inuse_space.txt"),
    )
    .unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("Showing nodes"))
        .unwrap();
    let numbers: Vec<i64> = line
        .split(|c: char| !c.is_ascii_digit() && c != '-')
        .filter_map(|s| s.parse().ok())
        .collect();
    let json: Value = serde_json::from_str(&stdout_of(&run(&[
        GO_BEFORE, GO_AFTER, "--no-svg", "--format", "json",
    ])))
    .unwrap();
    assert_eq!(json["delta_total"].as_i64().unwrap(), numbers[0]);
    assert_eq!(
        json["before_total"].as_i64().unwrap(),
        *numbers.last().unwrap()
    );
}
