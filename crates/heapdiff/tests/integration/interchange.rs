//! The interchange formats on real producers' files: dhat JSON (dhat-rs and
//! Valgrind), memray CSV, folded stacks (jeprof, heaptrack), each against
//! the sums its fixture's `reference.py` recorded.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;

/// heapdiff's JSON with every changed row.
fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--no-svg", "--format", "json", "--top", "0"]);
    serde_json::from_str(&stdout_of(&run(&all))).unwrap()
}

/// `function file:line` (or the function alone) -> (before, after) of each row.
fn rows(json: &Value) -> BTreeMap<String, (i64, i64)> {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut key = r["function"].as_str().unwrap_or("").to_owned();
            if let (Some(file), Some(line)) = (r["file"].as_str(), r["line"].as_u64()) {
                key = format!("{key} {file}:{line}");
            }
            let v = |k: &str| r[k].as_i64().unwrap();
            (key, (v("before"), v("after")))
        })
        .collect()
}

fn reference(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap()
}

/// Every changed row must be in `want` with its values; every entry of
/// `want` that changed must be a row.
fn assert_rows(got: &BTreeMap<String, (i64, i64)>, want: &BTreeMap<String, (i64, i64)>) {
    for (key, w) in want {
        match got.get(key) {
            Some(g) => assert_eq!(g, w, "(before, after) of {key}"),
            None => assert_eq!(w.0, w.1, "{key} changed but is not a row"),
        }
    }
    for key in got.keys() {
        assert!(want.contains_key(key), "{key} is not in the reference");
    }
}

/// From `fixtures/dhat/reference/top.txt`: `kind` rows of a pair, keyed
/// `function file:line`, with field `field` (0 tb .. 5 ebk).
fn dhat_reference(
    before: &str,
    after: &str,
    kind: &str,
    field: usize,
) -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for line in reference("fixtures/dhat/reference/top.txt").lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if line.starts_with('#') || f[1] != kind {
            continue;
        }
        let v: i64 = f[3 + field].parse().unwrap();
        let e = out.entry(f[2].to_owned()).or_default();
        if f[0] == before {
            e.0 += v;
        } else if f[0] == after {
            e.1 += v;
        }
    }
    out.retain(|_, v| *v != (0, 0));
    out
}

#[test]
fn dhat_rs_totals_of_each_sample_type() {
    let (b, a) = ("fixtures/dhat/before.json", "fixtures/dhat/after.json");
    let want = dhat_reference("before.json", "after.json", "total", 0);
    assert_eq!(want.len(), 1);
    for (sample_type, field) in [
        ("alloc_space", 0),
        ("alloc_objects", 1),
        ("peak_space", 2),
        ("peak_objects", 3),
        ("inuse_space", 4),
        ("inuse_objects", 5),
    ] {
        let want = dhat_reference("before.json", "after.json", "total", field)["-"];
        let j = json(&[b, a, "-t", sample_type]);
        assert_eq!(
            (
                j["before_total"].as_i64().unwrap(),
                j["after_total"].as_i64().unwrap()
            ),
            want,
            "{sample_type}"
        );
    }
    assert_eq!(
        json(&[b, a])["sample_type"],
        "inuse_space",
        "live at the end by default"
    );
}

#[test]
fn dhat_rs_leaf_frames_equal_the_reference() {
    let j = json(&[
        "fixtures/dhat/before.json",
        "fixtures/dhat/after.json",
        "--keep-allocator-frames",
    ]);
    assert_rows(
        &rows(&j),
        &dhat_reference("before.json", "after.json", "leaf", 4),
    );
}

#[test]
fn valgrind_dhat_rows_are_the_programs_allocating_lines() {
    let (b, a) = ("valgrind/before.json", "valgrind/after.json");
    let j = json(&[
        "fixtures/dhat/valgrind/before.json",
        "fixtures/dhat/valgrind/after.json",
    ]);
    assert_rows(&rows(&j), &dhat_reference(b, a, "own", 4));
    let top = &j["rows"][0];
    assert_eq!(
        (top["function"].as_str(), top["line"].as_u64()),
        (Some("copy_header"), Some(16))
    );
    let peak = json(&[
        "fixtures/dhat/valgrind/before.json",
        "fixtures/dhat/valgrind/after.json",
        "-t",
        "peak_space",
    ]);
    assert_rows(&rows(&peak), &dhat_reference(b, a, "own", 2));
}

/// `fixtures/memray/reference/top.txt`: `function file:line` -> size per side,
/// for the rows it lists on both sides.
#[test]
fn memray_csv_rows_equal_the_reference() {
    let text = reference("fixtures/memray/reference/top.txt");
    let mut sides: Vec<BTreeMap<String, (i64, i64)>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("# before.csv") || line.starts_with("# after.csv") {
            sides.push(BTreeMap::new());
        }
        let f: Vec<&str> = line.split('\t').collect();
        if line.starts_with('#') || f.len() != 5 {
            continue;
        }
        let key = format!("{} {}:{}", f[2], f[3], f[4]);
        sides
            .last_mut()
            .unwrap()
            .insert(key, (f[0].parse().unwrap(), f[1].parse().unwrap()));
    }
    let j = json(&["fixtures/memray/before.csv", "fixtures/memray/after.csv"]);
    let got = rows(&j);
    let counts: BTreeMap<String, (i64, i64)> = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = format!(
                "{} {}:{}",
                r["function"].as_str().unwrap(),
                r["file"].as_str().unwrap(),
                r["line"]
            );
            (
                key,
                (
                    r["count_before"].as_i64().unwrap(),
                    r["count_after"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    let (before, after) = (&sides[0], &sides[1]);
    let mut checked = 0;
    for (key, (size, count)) in after {
        if let Some(b) = before.get(key) {
            let want = (b.0, *size);
            match got.get(key) {
                Some(g) => {
                    assert_eq!(*g, want, "size of {key}");
                    assert_eq!(counts[key], (b.1, *count), "num_allocations of {key}");
                    checked += 1;
                }
                None => assert_eq!(want.0, want.1, "{key} changed but is not a row"),
            }
        }
    }
    assert!(checked >= 5, "{checked} rows checked");
    let top = &j["rows"][0];
    assert_eq!(top["function"], "copy_from");
    assert_eq!(top["file"], "/srv/shop/headerlib/multidict.py");
}

/// `fixtures/folded/reference/top.txt` for one producer: leaf -> (before, after).
fn folded_reference(producer: &str) -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut side = None;
    for line in reference("fixtures/folded/reference/top.txt").lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            if rest.starts_with(&format!("{producer}/before")) {
                side = Some(0);
            } else if rest.starts_with(&format!("{producer}/after")) {
                side = Some(1);
            } else if !rest.starts_with("value") {
                side = None;
            }
            continue;
        }
        let (Some(side), Some((value, leaf))) = (side, line.split_once('\t')) else {
            continue;
        };
        let e = out.entry(leaf.to_owned()).or_default();
        let v: i64 = value.parse().unwrap();
        if side == 0 { e.0 = v } else { e.1 = v }
    }
    out
}

#[test]
fn jeprof_collapsed_stacks_equal_the_reference() {
    let j = json(&[
        "fixtures/folded/jeprof/before.folded",
        "fixtures/folded/jeprof/after.folded",
    ]);
    assert_eq!(j["unit"], "bytes");
    assert_rows(&rows(&j), &folded_reference("jeprof"));
    assert_eq!(j["rows"][0]["function"], "copy_header[inline]");
    let counts = json(&[
        "fixtures/folded/jeprof/before.folded",
        "fixtures/folded/jeprof/after.folded",
        "--unit",
        "count",
    ]);
    assert_eq!(counts["unit"], "count");
    assert_eq!(counts["sample_type"], "inuse_objects");
}

#[test]
fn heaptrack_folded_stacks_equal_the_reference() {
    let j = json(&[
        "fixtures/folded/heaptrack/before.folded",
        "fixtures/folded/heaptrack/after.folded",
    ]);
    assert_rows(&rows(&j), &folded_reference("heaptrack"));
    assert_eq!(j["rows"][0]["function"], "handle (leak.c)");
}

#[test]
fn memray_captures_are_recognised_and_refused_with_advice() {
    for capture in [
        "fixtures/memray/tiny.bin",
        "fixtures/memray/tiny-no-compress.bin",
    ] {
        let out = run(&[capture, "fixtures/memray/after.csv", "--no-svg"]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{capture}: memray capture cannot be read")),
            "{err}"
        );
        assert!(err.contains("memray transform csv"), "{err}");
    }
}
