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
        ("out.svg", "leads into /proc or /sys"),
        ("/dev/stdout", "leads into /proc or /sys"),
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

/// The before side's total of a JSON run in `dir` with `args` (no graph).
fn before_total(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = run_in(dir, &[args, &["-f", "json", "--no-svg"]].concat());
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert!(json["before_total"].is_i64(), "{json}");
    json["before_total"].clone()
}

#[test]
fn the_same_file_given_twice_is_read_once() {
    let dir = profiles_dir();
    let once = before_total(
        dir.path(),
        &["--before", "before.pb.gz", "--after", "after.pb.gz"],
    );
    std::os::unix::fs::symlink("before.pb.gz", dir.path().join("alias.pb.gz")).unwrap();
    let args = [
        "--before",
        "before.pb.gz",
        "--before",
        "./before.pb.gz",
        "--before",
        "alias.pb.gz",
        "--after",
        "after.pb.gz",
    ];
    assert_eq!(before_total(dir.path(), &args), once);
    let stderr = String::from_utf8_lossy(&run_in(dir.path(), &args).stderr).into_owned();
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
    std::os::unix::fs::symlink(".", pods.join("loop")).unwrap();
    let globbed = before_total(
        dir.path(),
        &["--before", "pods/**/pod-*.pb.gz", "--after", "after.pb.gz"],
    );
    let once = before_total(
        dir.path(),
        &["--before", "pods/pod-1.pb.gz", "--after", "after.pb.gz"],
    );
    assert_eq!(globbed, once, "one file, read once");
}

/// Every file under `dir` (directories are walked, not listed): its path,
/// and what would tell a change (type, size, modification time, inode).
fn snapshot(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, String> {
    use std::os::unix::fs::MetadataExt;
    let mut files = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let m = std::fs::symlink_metadata(entry.path()).unwrap();
            if m.is_dir() {
                todo.push(entry.path());
                continue;
            }
            let state = format!(
                "{:?} {} {} {}",
                m.file_type(),
                m.len(),
                m.mtime_nsec(),
                m.ino()
            );
            files.insert(entry.path(), state);
        }
    }
    files
}

#[test]
fn a_hostile_bundle_changes_no_file_but_its_outputs() {
    // A native pair with its binary, a maps line naming a device and a
    // file outside, frames naming secrets as sources; then a live capture.
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = repo_root();
    std::fs::copy(root.join("fixtures/c/leak"), dir.path().join("leak")).unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"API_TOKEN=abc").unwrap();
    for side in ["before", "after"] {
        let mut dump =
            std::fs::read_to_string(root.join(format!("fixtures/c/jemalloc/{side}.heap"))).unwrap();
        dump.push_str("7f0000000000-7f0000001000 r-xp 00000000 00:05 1 /dev/null\n");
        dump.push_str("7f0000001000-7f0000002000 r-xp 00000000 00:05 2 /etc/passwd\n");
        std::fs::write(dir.path().join(format!("{side}.heap")), dump).unwrap();
    }
    let names = ["leak /proc/self/environ:1", "read ../secret.txt:1"];
    std::fs::write(
        dir.path().join("b.pb"),
        named(&names, "/proc/self/environ", &[1, 1]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.pb"),
        named(&names, "/proc/self/environ", &[9, 9]),
    )
    .unwrap();
    let caps = dir.path().join("caps");
    std::fs::create_dir(&caps).unwrap();
    std::os::unix::fs::symlink("../secret.txt", caps.join("heap-1.pb.gz")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://u:p@{}/debug/pprof/heap",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        use std::io::{BufRead, Write};
        for stream in listener.incoming().take(2).flatten() {
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let body = std::fs::read(repo_root().join(GO_AFTER)).unwrap();
            let mut stream = stream;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });

    let before = (snapshot(dir.path()), snapshot(tmp.path()));
    let dev_null = std::fs::symlink_metadata("/dev/null").unwrap();
    let passwd = std::fs::read("/etc/passwd").unwrap();
    let runs: [&[&str]; 3] = [
        &[
            "--binary",
            "leak",
            "before.heap",
            "after.heap",
            "--svg",
            "native.svg",
            "-f",
            "markdown",
        ],
        &["b.pb", "a.pb", "--svg", "named.svg", "-f", "markdown"],
        &[
            &url,
            "--interval",
            "10ms",
            "--save-dir",
            "caps",
            "--svg",
            "live.svg",
        ],
    ];
    for args in runs {
        let out = heapdiff()
            .current_dir(dir.path())
            .env("TMPDIR", tmp.path())
            .args(args)
            .output()
            .unwrap();
        let stdout = stdout_of(&out);
        assert!(
            !stdout.contains("API_TOKEN") && !stdout.contains("root:x:0"),
            "{stdout}"
        );
    }
    let after = (snapshot(dir.path()), snapshot(tmp.path()));
    assert_eq!(after.1, before.1, "nothing left in the temporary directory");
    let mut made: Vec<String> = after
        .0
        .keys()
        .filter(|p| before.0.get(*p) != after.0.get(*p))
        .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    made.sort();
    assert_eq!(
        made,
        [
            "caps/heap-2.pb.gz",
            "caps/heap-3.pb.gz",
            "live.svg",
            "named.svg",
            "native.svg"
        ]
    );
    assert!(
        before.0.keys().all(|p| after.0.get(p) == before.0.get(p)),
        "a file changed"
    );
    assert_eq!(
        std::fs::read(dir.path().join("secret.txt")).unwrap(),
        b"API_TOKEN=abc"
    );
    let now = std::fs::symlink_metadata("/dev/null").unwrap();
    assert_eq!(
        (now.file_type(), std::os::unix::fs::MetadataExt::ino(&now)),
        (
            dev_null.file_type(),
            std::os::unix::fs::MetadataExt::ino(&dev_null)
        )
    );
    assert_eq!(std::fs::read("/etc/passwd").unwrap(), passwd);
}
