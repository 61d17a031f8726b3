//! Native heap dumps, symbolized in-process: the C program under jemalloc
//! and gperftools, the Rust program under jemalloc_pprof, against the
//! reference tools' recorded output (`fixtures/c/reference/`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;

const LEAK: &str = "fixtures/c/leak";

/// The jemalloc pair, with the binary it was taken of.
const JEMALLOC: [&str; 4] = [
    "fixtures/c/jemalloc/before.heap",
    "fixtures/c/jemalloc/after.heap",
    "--binary",
    LEAK,
];

/// The gperftools pair, with the binary it was taken of.
const GPERFTOOLS: [&str; 4] = [
    "fixtures/c/gperftools/before.heap",
    "fixtures/c/gperftools/after.heap",
    "--binary",
    LEAK,
];

/// `JEMALLOC` followed by `extra`.
fn jemalloc_with(extra: &[&'static str]) -> Vec<&'static str> {
    JEMALLOC.iter().chain(extra).copied().collect()
}

/// `function basename:line` -> (flat, cum), from a table in jeprof's,
/// google-pprof's or go tool pprof's text format, for `leak.c` lines only.
fn reference(file: &str) -> BTreeMap<String, (i64, i64)> {
    let text =
        std::fs::read_to_string(repo_root().join("fixtures/c/reference").join(file)).unwrap();
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = t.iter().position(|w| w.contains("leak.c:")) else {
            continue;
        };
        let value = |s: &str| s.trim_end_matches('B').parse::<i64>().unwrap();
        let function = t[5..at]
            .iter()
            .filter(|w| **w != "(inline)")
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        let place = t[at].rsplit('/').next().unwrap();
        rows.insert(format!("{function} {place}"), (value(t[0]), value(t[3])));
    }
    assert!(!rows.is_empty(), "no leak.c rows in {file}");
    rows
}

/// heapdiff's rows keyed like [`reference`]: (flat delta, cum delta).
fn ours(args: &[&str]) -> BTreeMap<String, (i64, i64)> {
    let mut rows = BTreeMap::new();
    for cum in [false, true] {
        let mut all = args.to_vec();
        all.extend(["--no-svg", "--format", "json", "--top", "0"]);
        if cum {
            all.push("--cum");
        }
        let json: Value = serde_json::from_str(&stdout_of(&run(&all))).unwrap();
        for r in json["rows"].as_array().unwrap() {
            let (Some(f), Some(file), Some(line)) = (
                r["function"].as_str(),
                r["file"].as_str(),
                r["line"].as_u64(),
            ) else {
                continue;
            };
            if file.ends_with("leak.c") {
                rows.insert(
                    format!("{f} leak.c:{line}"),
                    (
                        r["delta"].as_i64().unwrap(),
                        r["cum_delta"].as_i64().unwrap(),
                    ),
                );
            }
        }
    }
    rows
}

#[test]
fn jemalloc_dumps_equal_jeprof_line_by_line() {
    let ours = ours(&JEMALLOC);
    let jeprof = reference("jeprof-lines.txt");
    for (key, want) in &jeprof {
        assert_eq!(
            ours.get(key).copied().unwrap_or((0, 0)),
            *want,
            "bytes (flat, cum) of {key}"
        );
    }
    for (key, (flat, _)) in &ours {
        assert!(
            *flat == 0 || jeprof.contains_key(key),
            "jeprof does not list {key}"
        );
    }
    let objects = ours_objects();
    for (key, (flat, _)) in reference("jeprof-lines-objects.txt") {
        assert_eq!(
            objects.get(&key).copied().unwrap_or(0),
            flat,
            "objects of {key}"
        );
    }
}

fn ours_objects() -> BTreeMap<String, i64> {
    ours(&jemalloc_with(&["-t", "inuse_objects"]))
        .into_iter()
        .map(|(k, (flat, _))| (k, flat))
        .collect()
}

#[test]
fn jemalloc_totals_equal_jeprof() {
    let text =
        std::fs::read_to_string(repo_root().join("fixtures/c/reference/jeprof-lines.txt")).unwrap();
    let total: i64 = text
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("Total: ")
        .trim_end_matches(" B")
        .parse()
        .unwrap();
    let out = stdout_of(&run(&jemalloc_with(&["--no-svg", "--format", "json"])));
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["delta_total"].as_i64().unwrap(), total);
    assert_eq!(json["period"]["after"], 4096);
}

#[test]
fn gperftools_leaf_lines_equal_go_pprof_and_callers_equal_google_pprof() {
    let ours = ours(&GPERFTOOLS);
    // go tool pprof moves every return address back into its call, as
    // heapdiff does, so its leaf lines are right (it names them after the
    // physical function, `handle`, not the inlined one).
    let go = reference("go-pprof-lines.txt");
    let by_place = |m: &BTreeMap<String, (i64, i64)>, place: &str| -> i64 {
        m.iter()
            .filter(|(k, _)| k.ends_with(place))
            .map(|(_, v)| v.0)
            .sum()
    };
    for place in [" leak.c:16", " leak.c:23"] {
        assert_eq!(
            by_place(&ours, place),
            by_place(&go, place),
            "flat bytes at{place}"
        );
    }
    assert_eq!(ours["copy_header leak.c:16"].0, go["handle leak.c:16"].0);
    assert_eq!(ours["new_header leak.c:23"].0, go["handle leak.c:23"].0);
    // google-pprof leaves the leaf's return address as it is, so its leaf
    // lines are one statement late (leak.c:17, and copy_header:16 for the
    // struct allocated at 23); its callers' cumulative values are right.
    let google = reference("google-pprof-lines.txt");
    for key in [
        "handle leak.c:70",
        "main leak.c:105",
        "main leak.c:99",
        "remember leak.c:33",
    ] {
        assert_eq!(ours[key].1, google[key].1, "cumulative bytes of {key}");
    }
    // google-pprof's misplaced leaf (the struct allocated at line 23 shown
    // inside copy_header) also lands under new_header:24, the call of
    // copy_header; heapdiff keeps the two apart.
    assert_eq!(
        ours["new_header leak.c:24"].1 + ours["new_header leak.c:23"].0,
        google["new_header leak.c:24"].1
    );
    // Where go tool pprof could not name the start-up cache's allocation
    // (it prints `[leak]`), heapdiff names the line.
    assert!(
        std::fs::read_to_string(repo_root().join("fixtures/c/reference/go-pprof-lines.txt"))
            .unwrap()
            .contains("[leak]")
    );
    assert_eq!(ours["warm_cache leak.c:53"].0, -4_194_304);
}

#[test]
fn c_table_names_the_leaking_line_with_its_inlined_callers() {
    let out = stdout_of(&run(&jemalloc_with(&["--no-svg"])));
    let first = out
        .lines()
        .skip_while(|l| !l.contains("location"))
        .nth(1)
        .unwrap();
    assert!(
        first.contains("copy_header") && first.contains("leak.c:16"),
        "{out}"
    );
    // The flame graph path goes main -> handle -> remember -> new_header -> copy_header.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("c.svg");
    let mut args: Vec<&str> = JEMALLOC.to_vec();
    args.extend(["--svg", svg.to_str().unwrap()]);
    stdout_of(&run(&args));
    let svg = std::fs::read_to_string(&svg).unwrap();
    for frame in [
        "remember leak.c:33",
        "new_header leak.c:24",
        "copy_header leak.c:16",
    ] {
        assert!(svg.contains(frame), "{frame} in the flame graph");
    }
}

#[test]
fn a_moved_binary_without_binary_flag_is_a_warning_not_a_failure() {
    // The dumps name the binary by the path it had when they were written;
    // on another machine it is not there (and here the flag is what finds it).
    let out = run(&[
        "fixtures/c/jemalloc/before.heap",
        "fixtures/c/jemalloc/after.heap",
        "--no-svg",
        // A directory without the binary (a missing one is an error).
        "--symbol-dir",
        "fixtures/go",
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mapped = "/work/main/fixtures/c/leak";
    if !std::path::Path::new(mapped).exists() {
        assert!(
            stderr.contains("was not found") && stderr.contains("--binary"),
            "{stderr}"
        );
    }
}

#[test]
fn rust_jemalloc_pprof_without_symbols_names_the_leaking_functions_and_inlined_frames() {
    let args = [
        "fixtures/rust/before.pb.gz",
        "fixtures/rust/after.pb.gz",
        "--binary",
        "fixtures/rust/leaky-rs.bin",
        "--no-svg",
        "--format",
        "json",
        "--top",
        "0",
        "--cum",
    ];
    let json: Value = serde_json::from_str(&stdout_of(&run(&args))).unwrap();
    let rows = json["rows"].as_array().unwrap();
    let row = |f: &str| {
        rows.iter()
            .find(|r| r["function"] == f)
            .unwrap_or_else(|| panic!("{f} not in {rows:#?}"))
    };
    // The leak: headers parsed into owned strings kept by Sessions::remember.
    let owned = row("leaky_rs::owned");
    assert!(owned["file"].as_str().unwrap().ends_with("src/main.rs"));
    let source =
        std::fs::read_to_string(repo_root().join("fixtures/rust/leaky-rs/src/main.rs")).unwrap();
    let line = source
        .lines()
        .position(|l| l.contains("s.trim().to_owned()"))
        .unwrap()
        + 1;
    assert_eq!(owned["line"], line);
    assert!(owned["cum_delta"].as_i64().unwrap() > 1_000_000, "{owned}");
    let remember = row("leaky_rs::Sessions::remember");
    assert!(remember["cum_delta"].as_i64().unwrap() >= owned["cum_delta"].as_i64().unwrap());
    // `owned` is inlined: its frame and its callee's (`to_owned`, in std) come
    // from the same address, expanded innermost first.
    assert!(
        rows.iter()
            .any(|r| r["function"] == "<str as alloc::borrow::ToOwned>::to_owned")
    );
    // Allocator frames (the global allocator shim, jemalloc) are gone from leaves.
    let flat: Value = serde_json::from_str(&stdout_of(&run(&args[..args.len() - 1]))).unwrap();
    for r in flat["rows"].as_array().unwrap() {
        let f = r["function"].as_str().unwrap_or("");
        assert!(
            !f.contains("__rust_alloc") && !f.contains("je_") && !f.starts_with("alloc::alloc::"),
            "{f}"
        );
    }
}

#[test]
fn go_debug1_text_decodes_like_its_protobuf_twin() {
    let text =
        heapdiff_profile::open(&repo_root().join("fixtures/samples/sample_go1.19_heap_debug1.txt"))
            .unwrap();
    let proto =
        heapdiff_profile::open(&repo_root().join("fixtures/samples/sample_go1.19_heap.pb.gz"))
            .unwrap();
    let stacks = |p: &heapdiff_profile::Profile| {
        let mut v: Vec<(Vec<String>, Vec<i64>)> = p
            .samples()
            .map(|s| {
                let frames = s
                    .stack
                    .iter()
                    .map(|f| {
                        let fr = p.frame(f);
                        format!("{} {}:{}", p.str(fr.function), p.str(fr.file), fr.line)
                    })
                    .collect();
                (frames, s.values.to_vec())
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(stacks(&text), stacks(&proto));
}

#[test]
fn shared_native_samples_decode() {
    for (file, samples) in [
        ("sample_jemalloc_5.3.0_debian.heap", 10),
        ("sample_gperftools_2.10_debian.heap", 30),
        ("sample_jemalloc_tikv_5.3_raw.heap", 50),
    ] {
        let p = heapdiff_profile::open(&repo_root().join("fixtures/samples").join(file)).unwrap();
        assert!(
            p.sample_count() >= samples,
            "{file}: {} samples",
            p.sample_count()
        );
        assert!(!p.mappings().is_empty(), "{file}: maps parsed");
        let out = run(&[
            &format!("fixtures/samples/{file}"),
            &format!("fixtures/samples/{file}"),
            "--no-svg",
        ]);
        assert!(stdout_of(&out).contains("No line changed."), "{file}");
    }
}

#[test]
fn symbolized_sides_keep_how_many_profiles_they_merged() {
    let sums = json(&JEMALLOC);
    let averages = json(&jemalloc_with(&["--merged", "2,4"]));
    assert_eq!(
        (&averages["merged_before"], &averages["merged_after"]),
        (&2.into(), &4.into())
    );
    let total = |j: &Value, k: &str| j[k].as_i64().unwrap();
    assert_eq!(
        total(&averages, "before_total"),
        total(&sums, "before_total") / 2
    );
    assert_eq!(
        total(&averages, "after_total"),
        total(&sums, "after_total") / 4
    );
    let top = averages["rows"][0]["function"].as_str().unwrap();
    assert!(!top.starts_with("0x"), "symbolized: {top}");
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("g.svg");
    let mut args = jemalloc_with(&["--merged", "2,4", "--svg"]);
    args.push(svg.to_str().unwrap());
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0));
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(
        svg.contains("per-profile averages of merged profiles (before 2, after 4)"),
        "the flame graph says its values are averages"
    );
}
