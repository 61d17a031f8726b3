//! heaptrack captures against `heaptrack_print -d` of the same pair
//! (`fixtures/heaptrack/reference/`: its folded stacks per cost type, the
//! exact per-trace differences).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;

const BEFORE: &str = "fixtures/heaptrack/before.zst";
const AFTER: &str = "fixtures/heaptrack/after.zst";

/// Per function, the sum of the differences of the stacks it is on (once
/// per stack), from `heaptrack_print -d … -F`; and the sum of all. Frames
/// read `function (file)`; heaptrack names an unsymbolized one by its
/// address, which differs between runs, and cuts stacks at `main` (but
/// where `main` is only an inlined frame), so those and main's callers are
/// left out.
fn cumulative(cost: &str) -> (BTreeMap<String, i64>, i64) {
    let text = std::fs::read_to_string(
        repo_root().join(format!("fixtures/heaptrack/reference/{cost}.folded")),
    )
    .unwrap();
    let (mut by_function, mut total) = (BTreeMap::new(), 0);
    for line in text.lines() {
        let (stack, value) = line.rsplit_once(' ').unwrap();
        let value: i64 = value.parse().unwrap();
        total += value;
        let mut seen: Vec<&str> = stack
            .split(';')
            .filter(|f| !f.is_empty() && !f.starts_with("0x"))
            .filter(|f| !f.starts_with("_start") && !f.starts_with("__libc_start"))
            .map(|f| f.rsplit_once(" (").map_or(f, |(function, _file)| function))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        for f in seen {
            *by_function.entry(f.to_owned()).or_default() += value;
        }
    }
    (by_function, total)
}

#[test]
fn every_cost_type_equals_heaptrack_print_diff() {
    for cost in ["leaked", "peak", "allocations", "temporary"] {
        let (want, total) = cumulative(cost);
        let j = json(&[
            BEFORE,
            AFTER,
            "-t",
            cost,
            "--by",
            "function",
            "--cum",
            "--keep-allocator-frames",
        ]);
        assert_eq!(j["delta_total"].as_i64().unwrap(), total, "{cost}");
        let rows: BTreeMap<&str, &Value> = j["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["function"].as_str().unwrap(), r))
            .collect();
        assert!(
            want.values().filter(|&&v| v != 0).count() >= 3,
            "{cost}: {want:?}"
        );
        for (function, delta) in &want {
            let got = rows
                .get(function.as_str())
                .map_or(0, |r| r["cum_delta"].as_i64().unwrap());
            assert_eq!(got, *delta, "{cost}: {function}");
        }
    }
}

#[test]
fn the_leak_leads_and_gzip_reads_as_zstd_does() {
    let j = json(&[BEFORE, AFTER, "--attribute", "user"]);
    assert_eq!(j["sample_type"], "leaked");
    assert_eq!(j["precision"], "exact");
    let first = &j["rows"][0];
    assert!(
        first["function"]
            .as_str()
            .unwrap()
            .starts_with("HeaderCache::remember("),
        "{first}"
    );
    assert_eq!(first["file"], "./leak.cpp", "{first}");
    let gz = json(&[BEFORE, "fixtures/heaptrack/after.gz", "--attribute", "user"]);
    assert_eq!(gz["rows"], j["rows"]);
}

#[test]
fn cut_captures_fail_naming_the_file() {
    let whole = std::fs::read(repo_root().join(AFTER)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for keep in [6, whole.len() / 2, whole.len() - 2] {
        let cut = dir.path().join("cut.zst");
        std::fs::write(&cut, &whole[..keep]).unwrap();
        let out = run(&[BEFORE, cut.to_str().unwrap(), "--no-svg"]);
        assert_eq!(out.status.code(), Some(2), "kept {keep}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cut.zst") && err.contains("zstd"),
            "kept {keep}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn garbage_lines_are_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (i, body) in [
        "i zz 1\n",
        "t 5 5\n",
        "a 10 1\n",
        "+ 0\n",
        "s 99 x\n",
        "\u{1}\u{2}\n",
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.path().join(format!("garbage{i}"));
        std::fs::write(&path, format!("v 10400 3\nX ./app\n{body}")).unwrap();
        let out = run(&[BEFORE, path.to_str().unwrap(), "--no-svg"]);
        let err = String::from_utf8_lossy(&out.stderr);
        if body.starts_with('\u{1}') {
            // An unknown record is skipped, as heaptrack skips it, and said.
            assert!(
                err.contains("lines of kinds heapdiff does not know were skipped"),
                "{err}"
            );
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{body:?}");
        assert!(
            err.contains(&format!("garbage{i}: heaptrack capture: line 3")),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
