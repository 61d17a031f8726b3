//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root (fixtures are addressed relative to it).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The heapdiff binary under test, run from the repository root.
pub(crate) fn heapdiff() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heapdiff"));
    cmd.current_dir(repo_root())
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    cmd
}

/// Runs heapdiff with `args` and returns its output.
pub(crate) fn run(args: &[&str]) -> Output {
    heapdiff().args(args).output().unwrap()
}

/// The Go fixture pair, as paths relative to the repository root.
pub(crate) const GO_BEFORE: &str = "fixtures/go/before.pb.gz";
pub(crate) const GO_AFTER: &str = "fixtures/go/after.pb.gz";

/// Standard output of a successful run, as text.
pub(crate) fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "heapdiff failed with {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Compares `actual` with the golden file `name`, or rewrites it when
/// `HEAPDIFF_BLESS` is set.
pub(crate) fn check_golden(name: &str, actual: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("HEAPDIFF_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let bless = "HEAPDIFF_BLESS=1 cargo test --workspace";
    let expected = std::fs::read(&path).unwrap_or_else(|_| {
        panic!(
            "golden file {} is missing; create it with `{bless}`",
            path.display()
        )
    });
    if expected != actual {
        let (e, a) = (
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual),
        );
        let first = e
            .lines()
            .zip(a.lines())
            .position(|(x, y)| x != y)
            .unwrap_or_else(|| e.lines().count().min(a.lines().count()));
        panic!(
            "output differs from golden file {} at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             If the change is intended, re-bless with `{bless}` and review `git diff`.",
            path.display(),
            first + 1,
            e.lines().nth(first).unwrap_or("<end of file>"),
            a.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}

/// A row: before, after, the change in objects, and `function file:line`.
type Row = (i64, i64, i64, String);

/// A reference sum (a fixture's `reference.py`): totals, then per row
/// `delta before after objects name place`, tab-separated.
fn reference(path: &str) -> ((i64, i64), Vec<Row>) {
    let text = std::fs::read_to_string(repo_root().join(path)).unwrap();
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

pub(crate) fn json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--no-svg", "--format", "json", "--top", "0"];
    all.extend_from_slice(args);
    serde_json::from_str(&stdout_of(&run(&all))).unwrap()
}

/// `function file:line` of a JSON row, as the reference writes it.
fn name_of(row: &serde_json::Value) -> String {
    let function = row["function"].as_str().unwrap_or_default();
    match (row["file"].as_str(), row["line"].as_u64()) {
        (Some(file), Some(line)) => format!("{function} {file}:{line}"),
        _ => function.to_owned(),
    }
}

/// Checks heapdiff's rows (JSON, by line, flat, every changed row) for a
/// pair against an independent sum of the same files.
pub(crate) fn matches_independent_sum(before: &str, after: &str, reference_path: &str) {
    matches_independent_sum_of("space", before, after, reference_path);
}

/// [`matches_independent_sum`] of the sample type `sample_type`.
pub(crate) fn matches_independent_sum_of(
    sample_type: &str,
    before: &str,
    after: &str,
    reference_path: &str,
) {
    let (totals, rows) = reference(reference_path);
    let j = json(&[before, after, "--sample-type", sample_type]);
    assert_eq!(j["sample_type"], sample_type);
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
                r["count_delta"].as_i64().unwrap_or(0),
                name_of(r),
            )
        })
        .collect();
    for row in &rows {
        assert!(got.contains(row), "{row:?} missing from {got:?}");
    }
    assert_eq!(got.len(), rows.len(), "{got:?}");
}
