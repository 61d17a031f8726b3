//! Node.js: V8 sampling heap profiles against an independent sum of the
//! JSON (`fixtures/node/reference.py`).

use serde_json::Value;

use crate::common::*;

/// A row: before, after, the change in objects, and `function file:line`.
type Row = (i64, i64, i64, String);

/// `reference/NAME`: totals, then `delta before after objects name place`.
fn reference(name: &str) -> ((i64, i64), Vec<Row>) {
    let text =
        std::fs::read_to_string(repo_root().join("fixtures/node/reference").join(name)).unwrap();
    let mut lines = text.lines();
    let totals: Vec<i64> = lines
        .next()
        .unwrap()
        .split(' ')
        .filter_map(|w| w.parse().ok())
        .collect();
    let rows = lines
        .map(|l| {
            let f: Vec<&str> = l.splitn(5, '\t').collect();
            let n = |i: usize| f[i].parse::<i64>().unwrap();
            (n(1), n(2), n(3), f[4].to_owned())
        })
        .collect();
    ((totals[0], totals[1]), rows)
}

fn json(args: &[&str]) -> Value {
    let mut all = vec!["--no-svg", "--format", "json", "--top", "0"];
    all.extend_from_slice(args);
    serde_json::from_str(&stdout_of(&run(&all))).unwrap()
}

/// `function file:line` of a JSON row, as the reference writes it.
fn name_of(row: &Value) -> String {
    let function = row["function"].as_str().unwrap_or_default();
    match (row["file"].as_str(), row["line"].as_u64()) {
        (Some(file), Some(line)) => format!("{function} {file}:{line}"),
        _ => function.to_owned(),
    }
}

fn matches_reference(before: &str, after: &str, reference_name: &str) {
    let (totals, rows) = reference(reference_name);
    let j = json(&[before, after]);
    assert_eq!(j["sample_type"], "space");
    assert_eq!(
        (
            j["before_total"].as_i64().unwrap(),
            j["after_total"].as_i64().unwrap()
        ),
        totals
    );
    let got: Vec<Row> = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["before"].as_i64().unwrap(),
                r["after"].as_i64().unwrap(),
                r["count_delta"].as_i64().unwrap(),
                name_of(r),
            )
        })
        .collect();
    for row in &rows {
        assert!(got.contains(row), "{row:?} missing from {got:?}");
    }
    assert_eq!(got.len(), rows.len(), "{got:?}");
}

#[test]
fn an_inspector_pair_equals_an_independent_sum() {
    matches_reference(
        "fixtures/node/before.heapprofile",
        "fixtures/node/after.heapprofile",
        "flat-by-line.txt",
    );
}

#[test]
fn a_heap_prof_pair_equals_an_independent_sum_and_warns_of_stray_samples() {
    matches_reference(
        "fixtures/node/heap-prof/short.heapprofile",
        "fixtures/node/heap-prof/long.heapprofile",
        "heap-prof-flat-by-line.txt",
    );
    let out = run(&[
        "fixtures/node/heap-prof/short.heapprofile",
        "fixtures/node/heap-prof/long.heapprofile",
        "--no-svg",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("name nodes the call tree does not have"),
        "{err}"
    );
}

#[test]
fn the_leaking_function_leads_charged_to_your_code() {
    let j = json(&[
        "fixtures/node/before.heapprofile",
        "fixtures/node/after.heapprofile",
        "--attribute",
        "user",
    ]);
    let first = &j["rows"][0];
    assert_eq!(first["function"], "remember", "{first}");
    assert_eq!(first["line"], 18, "the function's first line, 1-based");
    // Map.prototype.set (a built-in, no file) is charged to it too.
    let leaf = json(&[
        "fixtures/node/before.heapprofile",
        "fixtures/node/after.heapprofile",
    ]);
    let set = leaf["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["function"] == "set")
        .unwrap();
    assert!(first["delta"].as_i64().unwrap() >= set["delta"].as_i64().unwrap() + 9_000_000);
    let table = stdout_of(&run(&[
        "fixtures/node/before.heapprofile",
        "fixtures/node/after.heapprofile",
        "--no-svg",
        "--no-source",
    ]));
    assert!(table.contains("↳ remember /"), "{table}");
}
