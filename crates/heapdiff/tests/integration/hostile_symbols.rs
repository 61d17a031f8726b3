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

/// Runs heapdiff on the C pair with `extra` arguments; asserts it stopped
/// at once with exit code 2 and one line of error, and returns that line.
fn refused(extra: &[&str]) -> String {
    let mut args = vec![
        "fixtures/c/jemalloc/before.heap",
        "fixtures/c/jemalloc/after.heap",
        "--no-svg",
    ];
    args.extend(extra);
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr.trim_end().to_owned()
}

#[test]
fn search_paths_that_are_not_what_they_claim_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = path_str(dir.path());
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "hello, world").unwrap();
    assert_eq!(
        refused(&["--binary", "./app"]),
        "heapdiff: error: --binary ./app: no such file"
    );
    assert_eq!(
        refused(&["--binary", path_str(&notes)]),
        format!(
            "heapdiff: error: --binary {}: not an ELF file (starts with \"hello, world\")",
            notes.display()
        )
    );
    assert_eq!(
        refused(&["--binary", d]),
        format!(
            "heapdiff: error: --binary {d}: a directory; --binary takes a file, --symbol-dir a directory"
        )
    );
    assert_eq!(
        refused(&["--symbol-dir", "fixtures/c/leak"]),
        "heapdiff: error: --symbol-dir fixtures/c/leak: a file, not a directory; \
         --binary takes a file, --symbol-dir a directory"
    );
    assert_eq!(
        refused(&["--binary", "fixtures/c/leak", "--symbol-dir", "x"]),
        "heapdiff: error: --symbol-dir x: no such directory"
    );
}

#[test]
fn a_fifo_given_as_a_binary_is_refused_without_being_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    // Opening the FIFO would block: the test would hang, not fail.
    assert_eq!(
        refused(&["--binary", path_str(&fifo)]),
        format!(
            "heapdiff: error: --binary {}: not a regular file",
            fifo.display()
        )
    );
}

#[test]
fn missing_entries_of_the_symbol_path_variable_are_skipped() {
    let out = heapdiff()
        .args([
            "fixtures/c/jemalloc/before.heap",
            "fixtures/c/jemalloc/after.heap",
            "--no-svg",
            "--binary",
            "fixtures/c/leak",
        ])
        .env("HEAPDIFF_SYMBOL_PATH", "/no/such/dir:fixtures/c/leak")
        .output()
        .unwrap();
    assert!(stdout_of(&out).contains("leak.c"));
}

/// Runs heapdiff in `cwd` on a folded pair whose one frame is at
/// `file_line`, with `extra` arguments; returns the table and the
/// standard error.
fn table_with_frame_at(cwd: &Path, file_line: &str, extra: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.folded");
    let after = dir.path().join("after.folded");
    std::fs::write(&before, format!("main;steal {file_line} 10\n")).unwrap();
    std::fs::write(&after, format!("main;steal {file_line} 1000\n")).unwrap();
    let mut args = vec![path_str(&before), path_str(&after), "--no-svg"];
    args.extend(extra);
    let out = heapdiff().current_dir(cwd).args(&args).output().unwrap();
    (
        stdout_of(&out),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const HINT: &str = "heapdiff: warning: source lines of 1 file outside the working directory \
                    were not read; name their directory with --source-root DIR";

#[test]
fn source_lines_are_not_read_from_outside_the_working_directory() {
    let secrets = tempfile::tempdir().unwrap();
    let credentials = secrets.path().join("credentials");
    std::fs::write(&credentials, "API_TOKEN=hunter2\n").unwrap();
    let cwd = tempfile::tempdir().unwrap();
    for at in [
        "/proc/self/environ:1",
        &format!("{}:1", credentials.display()),
    ] {
        let (table, stderr) = table_with_frame_at(cwd.path(), at, &[]);
        assert!(
            !table.contains("API_TOKEN") && !table.contains("PATH="),
            "{table}"
        );
        assert!(stderr.contains(HINT), "{at}: {stderr}");
        let (markdown, _) = table_with_frame_at(cwd.path(), at, &["--format", "markdown"]);
        assert!(
            !markdown.contains("API_TOKEN") && !markdown.contains("PATH="),
            "{markdown}"
        );
    }
    // Named with --source-root, the directory is the user's choice.
    let at = format!("{}:1", credentials.display());
    let root = ["--source-root", path_str(secrets.path())];
    let (table, stderr) = table_with_frame_at(cwd.path(), &at, &root);
    assert!(table.contains("API_TOKEN=hunter2"), "{table}");
    assert!(!stderr.contains("not read"), "{stderr}");
}

#[test]
fn hidden_files_and_links_out_of_the_working_directory_are_not_read() {
    let secrets = tempfile::tempdir().unwrap();
    let credentials = secrets.path().join("credentials");
    std::fs::write(&credentials, "API_TOKEN=hunter2\n").unwrap();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join(".env"), "API_TOKEN=hunter2\n").unwrap();
    std::fs::create_dir(cwd.path().join(".git")).unwrap();
    std::fs::write(cwd.path().join(".git/config"), "API_TOKEN=hunter2\n").unwrap();
    std::os::unix::fs::symlink(&credentials, cwd.path().join("link.c")).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", cwd.path().join("env.c")).unwrap();
    std::fs::write(cwd.path().join("app.c"), "char *leak = malloc(64);\n").unwrap();
    for at in [".env:1", ".git/config:1", "link.c:1", "env.c:1"] {
        let (table, stderr) = table_with_frame_at(cwd.path(), at, &[]);
        assert!(
            !table.contains("API_TOKEN") && !table.contains("PATH="),
            "{at}: {table}"
        );
        assert!(stderr.contains(HINT), "{at}: {stderr}");
    }
    let (table, stderr) = table_with_frame_at(cwd.path(), "app.c:1", &[]);
    assert!(table.contains("char *leak = malloc(64);"), "{table}");
    assert!(!stderr.contains("not read"), "{stderr}");
}
