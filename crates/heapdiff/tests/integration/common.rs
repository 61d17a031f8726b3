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
