//! Outputs never destroy and never inject: the flame graph never replaces
//! an input, a non-image, a device or a link's strange target; names from a
//! profile reach the terminal, markdown and CSV inert; a gate's verdict
//! survives a closed stdout; an input given twice is read once.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::*;
use crate::hostile_inputs::*;

/// Runs heapdiff in `dir` with `args`.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    heapdiff().current_dir(dir).args(args).output().unwrap()
}

/// A scratch directory with the Go fixture pair as `before.pb.gz` and
/// `after.pb.gz`, and three trend snapshots `snap-N.pb.gz`.
fn profiles_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    std::fs::copy(root.join(GO_BEFORE), dir.path().join("before.pb.gz")).unwrap();
    std::fs::copy(root.join(GO_AFTER), dir.path().join("after.pb.gz")).unwrap();
    for n in [1, 3, 5] {
        let from = root.join(format!("fixtures/go-trend/snap-{n}.pb.gz"));
        std::fs::copy(from, dir.path().join(format!("snap-{n}.pb.gz"))).unwrap();
    }
    dir
}

fn refused(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn svg_taking_a_profile_as_its_value_destroys_nothing() {
    let dir = profiles_dir();
    let snap1 = std::fs::read(dir.path().join("snap-1.pb.gz")).unwrap();
    let err = refused(&run_in(
        dir.path(),
        &["--svg", "snap-1.pb.gz", "snap-3.pb.gz", "snap-5.pb.gz"],
    ));
    assert!(
        err.contains("--svg snap-1.pb.gz: exists and is not an image"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("snap-1.pb.gz")).unwrap(),
        snap1
    );
    // Not even with --force may an output be an input, however spelled.
    let err = refused(&run_in(
        dir.path(),
        &[
            "--force",
            "--svg",
            "./before.pb.gz",
            "before.pb.gz",
            "after.pb.gz",
        ],
    ));
    assert!(err.contains("is the input before.pb.gz"), "{err}");
    std::os::unix::fs::symlink("after.pb.gz", dir.path().join("graph.svg")).unwrap();
    let err = refused(&run_in(
        dir.path(),
        &[
            "--force",
            "--svg",
            "graph.svg",
            "before.pb.gz",
            "after.pb.gz",
        ],
    ));
    assert!(err.contains("is the input after.pb.gz"), "{err}");
    // --force replaces a file that is not an image, and only then.
    std::fs::write(dir.path().join("notes.txt"), b"my notes").unwrap();
    refused(&run_in(
        dir.path(),
        &["--svg", "notes.txt", "before.pb.gz", "after.pb.gz"],
    ));
    assert_eq!(
        std::fs::read(dir.path().join("notes.txt")).unwrap(),
        b"my notes"
    );
    let out = run_in(
        dir.path(),
        &[
            "--force",
            "--svg",
            "notes.txt",
            "before.pb.gz",
            "after.pb.gz",
        ],
    );
    stdout_of(&out);
    assert!(
        std::fs::read(dir.path().join("notes.txt"))
            .unwrap()
            .starts_with(b"<?xml")
    );
}

#[test]
fn devices_fifos_and_links_to_them_are_never_replaced() {
    let dir = profiles_dir();
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/proc/self/fd/1", dir.path().join("out.svg")).unwrap();
    std::os::unix::fs::symlink("missing.svg", dir.path().join("dangling.svg")).unwrap();
    for (target, why) in [
        ("fifo", "is a FIFO, not a regular file"),
        ("/dev/null", "is a character device, not a regular file"),
        ("out.svg", "not a regular file"),
        ("dangling.svg", "a symlink to nothing"),
        (".", "is a directory"),
    ] {
        let err = refused(&run_in(
            dir.path(),
            &["--force", "--svg", target, "before.pb.gz", "after.pb.gz"],
        ));
        assert!(err.contains(why), "{target}: {err}");
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(
        std::fs::symlink_metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert!(!dir.path().join("missing.svg").exists());
    // A link to a regular image: the image is replaced, the link stays.
    std::fs::write(dir.path().join("real.svg"), b"<svg/>").unwrap();
    std::os::unix::fs::symlink("real.svg", dir.path().join("link.svg")).unwrap();
    stdout_of(&run_in(
        dir.path(),
        &["--svg", "link.svg", "before.pb.gz", "after.pb.gz"],
    ));
    assert!(
        std::fs::symlink_metadata(dir.path().join("link.svg"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(std::fs::read(dir.path().join("real.svg")).unwrap().len() > 1000);
}

#[test]
fn the_graph_goes_to_stdout_with_svg_dash() {
    let dir = profiles_dir();
    let out = run_in(dir.path(), &["--svg", "-", "before.pb.gz", "after.pb.gz"]);
    let svg = stdout_of(&out);
    assert!(svg.starts_with("<?xml"), "{}", &svg[..svg.len().min(80)]);
    assert!(roxmltree::Document::parse(&svg).is_ok());
    assert!(!dir.path().join("-").exists());
}

/// Names a terminal, markdown or a spreadsheet would act on.
const HOSTILE_NAMES: [&str; 6] = [
    "title\u{1b}]0;pwned\u{7}",
    "clear\u{1b}[2J",
    "forge\r+99.0 GiB  100.0%  fake.row",
    "link\u{1b}]8;;http://evil/\u{1b}\\click\u{1b}]8;;\u{1b}\\",
    "row\n### Heading ![t](http://evil/t.png)",
    "=HYPERLINK(\"http://evil/\",\"x\")",
];

#[test]
fn names_reach_every_text_output_inert() {
    let dir = tempfile::tempdir().unwrap();
    let names = HOSTILE_NAMES;
    let before = named(&names, "evil\u{1b}[31m.go", &[1, 1, 1, 1, 1, 1]);
    let after = named(&names, "evil\u{1b}[31m.go", &[100, 200, 300, 400, 500, 600]);
    std::fs::write(dir.path().join("b.pb"), before).unwrap();
    std::fs::write(dir.path().join("a.pb"), after).unwrap();
    for format in ["table", "markdown", "csv"] {
        let out = run_in(
            dir.path(),
            &["b.pb", "a.pb", "--no-svg", "-f", format, "--color", "never"],
        );
        let text = stdout_of(&out);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{format}: raw control characters in {text:?}"
        );
        assert!(text.contains("\\x1b]0;pwned\\x07"), "{format}: {text}");
        match format {
            "table" => assert!(text.contains("forge\\r+99.0 GiB"), "{text}"),
            "markdown" => {
                // Every table row is one line: the newline is shown, not kept.
                assert!(
                    !text.lines().any(|l| l.starts_with("### Heading")),
                    "{text}"
                );
                assert!(text.contains("row\\n### Heading"), "{text}");
            }
            _ => {
                assert!(text.contains("'=HYPERLINK"), "{text}");
                assert!(!text.lines().any(|l| l.starts_with("=HYPERLINK")), "{text}");
            }
        }
    }
    // Warnings and errors on stderr too.
    let out = run_in(
        dir.path(),
        &["b.pb", "a.pb", "--no-svg", "--focus", "nothing-matches"],
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains('\u{1b}'));
    // Three snapshots: the trend table.
    std::fs::copy(dir.path().join("a.pb"), dir.path().join("c.pb")).unwrap();
    let out = run_in(
        dir.path(),
        &["b.pb", "a.pb", "c.pb", "--no-svg", "--color", "never"],
    );
    let text = stdout_of(&out);
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
}

#[test]
fn a_gate_tripped_survives_a_closed_stdout() {
    let dir = profiles_dir();
    // The reader goes away at once.
    let mut child = heapdiff()
        .current_dir(dir.path())
        .args([
            "--fail-on-growth",
            "5%",
            "before.pb.gz",
            "after.pb.gz",
            "--top",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fail: the total grew"));
    // Standard output closed (`>&-`).
    let out = Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!(
            "exec {} --fail-on-growth 5% before.pb.gz after.pb.gz >&-",
            env!("CARGO_BIN_EXE_heapdiff")
        ))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let graph = std::fs::read_to_string(dir.path().join("heapdiff.svg")).unwrap();
    assert!(
        !graph.contains("heapdiff: inuse_space"),
        "the table went into the graph"
    );
}

#[test]
fn the_same_file_given_twice_is_read_once() {
    let dir = profiles_dir();
    let totals = |args: &[&str]| -> serde_json::Value {
        let out = run_in(dir.path(), args);
        let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
        json["totals"].clone()
    };
    let once = totals(&[
        "--before",
        "before.pb.gz",
        "--after",
        "after.pb.gz",
        "-f",
        "json",
        "--no-svg",
    ]);
    std::os::unix::fs::symlink("before.pb.gz", dir.path().join("alias.pb.gz")).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "--before",
            "before.pb.gz",
            "--before",
            "./before.pb.gz",
            "--before",
            "alias.pb.gz",
            "--after",
            "after.pb.gz",
            "-f",
            "json",
            "--no-svg",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(json["totals"], once);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("is the same file as before.pb.gz").count(),
        2,
        "{stderr}"
    );
}

#[test]
fn globs_do_not_follow_symlink_loops() {
    let dir = profiles_dir();
    let pods = dir.path().join("pods");
    std::fs::create_dir(&pods).unwrap();
    std::fs::copy(dir.path().join("before.pb.gz"), pods.join("pod-1.pb.gz")).unwrap();
    std::os::unix::fs::symlink("..", pods.join("loop")).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "--before",
            "pods/**/pod-*.pb.gz",
            "--after",
            "after.pb.gz",
            "-f",
            "json",
            "--no-svg",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let once = run_in(
        dir.path(),
        &[
            "--before",
            "pods/pod-1.pb.gz",
            "--after",
            "after.pb.gz",
            "-f",
            "json",
            "--no-svg",
        ],
    );
    let once: serde_json::Value = serde_json::from_str(&stdout_of(&once)).unwrap();
    assert_eq!(json["totals"], once["totals"], "one file, read once");
}
