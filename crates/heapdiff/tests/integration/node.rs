//! Node.js: V8 sampling heap profiles against an independent sum of the
//! JSON (`fixtures/node/reference.py`).

use crate::common::*;

#[test]
fn an_inspector_pair_equals_an_independent_sum() {
    matches_independent_sum(
        "fixtures/node/before.heapprofile",
        "fixtures/node/after.heapprofile",
        "fixtures/node/reference/flat-by-line.txt",
    );
}

#[test]
fn a_heap_prof_pair_equals_an_independent_sum_and_warns_of_stray_samples() {
    matches_independent_sum(
        "fixtures/node/heap-prof/short.heapprofile",
        "fixtures/node/heap-prof/long.heapprofile",
        "fixtures/node/reference/heap-prof-flat-by-line.txt",
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
