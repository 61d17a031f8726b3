//! Symbolizing a stranger's profile: binaries of another build, search
//! paths that are not what they claim to be, source paths that point at
//! secrets, and debug sections that claim to inflate to gigabytes.

use std::path::{Path, PathBuf};

use crate::common::*;

/// The Rust pair, which records the build ID of `leaky-rs.bin`.
const RUST: [&str; 2] = ["fixtures/rust/before.pb.gz", "fixtures/rust/after.pb.gz"];

/// The build ID `fixtures/rust/*.pb.gz` record for `leaky-rs.bin`.
const LEAKY_RS_BUILD_ID: &str = "2ed7c38513b97837006b9464ed17eb6aeab8fe29";

/// A directory holding `leaky-rs.bin` of another build: the fixture's
/// binary with one bit of its build ID flipped.
fn another_build_of_leaky_rs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut data = std::fs::read(repo_root().join("fixtures/rust/leaky-rs.bin")).unwrap();
    let id: Vec<u8> = (0..LEAKY_RS_BUILD_ID.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&LEAKY_RS_BUILD_ID[i..i + 2], 16).unwrap())
        .collect();
    let at = data.windows(id.len()).position(|w| w == id).unwrap();
    data[at] ^= 0x80;
    std::fs::write(dir.path().join("leaky-rs.bin"), data).unwrap();
    dir
}

/// Runs heapdiff on the Rust pair with `extra` arguments; returns the JSON
/// rows' function names and the standard error.
fn rust_functions(extra: &[&str]) -> (Vec<String>, String) {
    let mut args = RUST.to_vec();
    args.extend(["--no-svg", "--format", "json", "--top", "0", "--cum"]);
    args.extend(extra);
    let out = run(&args);
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let functions = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["function"].as_str().map(str::to_owned))
        .collect();
    (functions, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_binary_of_another_build_names_no_frames() {
    let dir = another_build_of_leaky_rs();
    let (functions, stderr) = rust_functions(&["--symbol-dir", path_str(dir.path())]);
    assert!(
        !functions.iter().any(|f| f.starts_with("leaky_rs::")),
        "{functions:?}"
    );
    assert!(
        functions.iter().any(|f| f.ends_with("(leaky-rs.bin)")),
        "frames stay addresses: {functions:?}"
    );
    let wrong = dir.path().join("leaky-rs.bin");
    let warning = format!("{}: build ID ", wrong.display());
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(&warning)).collect();
    assert_eq!(lines.len(), 1, "one warning for the binary: {stderr}");
    assert!(
        lines[0].contains(&format!(
            "differs from the profile's {LEAKY_RS_BUILD_ID}: its frames are left as addresses; \
             pass the binary the profile was taken from with --binary PATH or --symbol-dir DIR"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("was not found"), "{stderr}");
}

#[test]
fn every_candidate_is_tried_for_one_of_the_right_build() {
    let dir = another_build_of_leaky_rs();
    let (functions, stderr) = rust_functions(&[
        "--symbol-dir",
        path_str(dir.path()),
        "--symbol-dir",
        "fixtures/rust",
    ]);
    assert!(
        functions.iter().any(|f| f == "leaky_rs::owned"),
        "{functions:?}"
    );
    assert!(!stderr.contains("differs"), "{stderr}");
}

#[test]
fn a_given_binary_of_another_build_is_used_with_a_warning() {
    let dir = another_build_of_leaky_rs();
    let wrong: PathBuf = dir.path().join("leaky-rs.bin");
    let (functions, stderr) = rust_functions(&["--binary", path_str(&wrong)]);
    assert!(
        functions.iter().any(|f| f == "leaky_rs::owned"),
        "{functions:?}"
    );
    assert!(
        stderr.contains(&format!(
            "differs from the profile's {LEAKY_RS_BUILD_ID}; its symbols may be wrong \
             (it was given with --binary)"
        )),
        "{stderr}"
    );
}
