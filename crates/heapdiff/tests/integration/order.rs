//! Which profile came first: swapped pairs warn, trends go in time order.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::common::*;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_swapped_pair_warns_by_the_time_the_profiles_were_taken() {
    let out = run(&[GO_AFTER, GO_BEFORE, "--no-svg"]);
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "warning: the before profile fixtures/go/after.pb.gz (taken 2026-11-23 20:38:57 UTC) \
             is newer than the after profile fixtures/go/before.pb.gz (taken 2026-11-23 20:38:56 \
             UTC): the two look swapped"
        ),
        "{err}"
    );
    assert!(out.status.success(), "a warning, not an error");
    let json: Value = serde_json::from_str(&stdout_of(&run(&[
        GO_AFTER, GO_BEFORE, "--no-svg", "--format", "json",
    ])))
    .unwrap();
    assert!(
        json["warnings"].to_string().contains("look swapped"),
        "{}",
        json["warnings"]
    );
    assert!(!stderr_of(&run(&[GO_BEFORE, GO_AFTER, "--no-svg"])).contains("swapped"));
}

/// Copies `from` (relative to the repository) to `dir/name`, modified
/// `age` ago.
fn copy_aged(from: &str, dir: &Path, name: &str, age: u64) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(repo_root().join(from), &to).unwrap();
    let file = std::fs::File::options().write(true).open(&to).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(age))
        .unwrap();
    to
}

#[test]
fn without_times_in_the_profiles_file_times_tell() {
    // tracemalloc snapshots say nothing of when they were taken.
    let dir = tempfile::tempdir().unwrap();
    let old = copy_aged("fixtures/python/before.tm", dir.path(), "old.tm", 3600);
    let new = copy_aged("fixtures/python/after.tm", dir.path(), "new.tm", 60);
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let err = stderr_of(&run(&[new, old, "--no-svg"]));
    assert!(err.contains("(modified "), "{err}");
    assert!(err.contains("look swapped"), "{err}");
    assert!(!stderr_of(&run(&[old, new, "--no-svg"])).contains("swapped"));
    // Files a second apart or less say nothing.
    let near = copy_aged("fixtures/python/before.tm", dir.path(), "near.tm", 60);
    assert!(!stderr_of(&run(&[new, near.to_str().unwrap(), "--no-svg"])).contains("swapped"));
}

/// The file names of trend inputs, without their directories.
fn file_names(files: &[String]) -> Vec<String> {
    files
        .iter()
        .map(|f| {
            Path::new(f)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn trend_files(args: &[&str]) -> (Vec<String>, String) {
    let mut all = vec!["--no-svg", "--format", "json"];
    all.extend_from_slice(args);
    let out = run(&all);
    let json: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let files = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    (files, stderr_of(&out))
}

#[test]
fn trend_snapshots_go_in_the_order_they_were_taken() {
    // Named against their time: z1 is the last snapshot taken, z5 the first.
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<String> = (1..=5)
        .map(|i| {
            let from = format!("fixtures/go-trend/snap-{}.pb.gz", 6 - i);
            copy_aged(&from, dir.path(), &format!("z{i}.pb.gz"), 60)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (files, err) = trend_files(&args);
    assert_eq!(
        file_names(&files),
        ["z5", "z4", "z3", "z2", "z1"].map(|z| format!("{z}.pb.gz"))
    );
    assert!(
        err.contains("snapshots put in the order they were taken"),
        "{err}"
    );
    for (order, expected) in [("name", [1, 2, 3, 4, 5]), ("given", [1, 2, 3, 4, 5])] {
        let mut with = args.clone();
        with.extend(["--order", order]);
        let (files, err) = trend_files(&with);
        assert_eq!(
            file_names(&files),
            expected.map(|i| format!("z{i}.pb.gz")),
            "--order {order}"
        );
        assert!(!err.contains("put in the order"));
    }
}

#[test]
fn without_times_trend_snapshots_go_by_name_numbers_as_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["snap.10.tm", "snap.2.tm", "snap.1.tm"];
    let paths: Vec<String> = names
        .iter()
        .map(|n| {
            copy_aged("fixtures/python/after.tm", dir.path(), n, 60)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (files, _) = trend_files(&args);
    assert_eq!(file_names(&files), ["snap.1.tm", "snap.2.tm", "snap.10.tm"]);
}
