//! Golden tests: every output format on the Go fixture pair, byte for byte.

use crate::common::*;

fn golden_stdout(name: &str, args: &[&str]) {
    // Source lines depend on what is installed where the tests run (Go's
    // standard library): they have their own golden test.
    let mut all = vec![GO_BEFORE, GO_AFTER, "--no-svg", "--no-source"];
    all.extend_from_slice(args);
    let out = run(&all);
    check_golden(name, stdout_of(&out).as_bytes());
}

#[test]
fn table_default() {
    golden_stdout("go-table.txt", &[]);
}

#[test]
fn table_narrow_terminal_in_colour() {
    golden_stdout(
        "go-table-w90-color.txt",
        &["--width", "90", "--color", "always"],
    );
}

#[test]
fn table_at_80_100_and_160_columns() {
    for width in ["80", "100", "160"] {
        golden_stdout(&format!("go-table-w{width}.txt"), &["--width", width]);
    }
    let table = stdout_of(&run(&[
        GO_BEFORE,
        GO_AFTER,
        "--no-svg",
        "--no-source",
        "--width",
        "80",
    ]));
    // The user's own frame keeps its function name; the path goes first.
    assert!(
        table.contains("\n      ↳ main.(*headerCache).remember main.go:42\n"),
        "{table}"
    );
    for line in table.lines() {
        assert!(
            unicode_width::UnicodeWidthStr::width(line) <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
}

#[test]
fn source_text_at_80_columns() {
    let table = stdout_of(&run(&[
        "fixtures/python/before.tm",
        "fixtures/python/after.tm",
        "--source-root",
        "fixtures/python/src",
        "--no-svg",
        "--top",
        "4",
        "--width",
        "80",
    ]));
    check_golden("python-source-table-w80.txt", table.as_bytes());
}

#[test]
fn table_by_function_cumulative() {
    golden_stdout(
        "go-table-function-cum.txt",
        &["--by", "function", "--cum", "--top", "8"],
    );
}

#[test]
fn table_objects_shrink_first() {
    golden_stdout(
        "go-table-objects-shrink.txt",
        &["--sample-type", "inuse_objects", "--sort", "shrink"],
    );
}

#[test]
fn json_default() {
    golden_stdout("go.json", &["--format", "json"]);
}

#[test]
fn json_by_file_alloc_space() {
    golden_stdout(
        "go-file-alloc.json",
        &[
            "--format",
            "json",
            "--by",
            "file",
            "--sort",
            "abs",
            "-t",
            "alloc_space",
            "--top",
            "5",
        ],
    );
}

fn svg_of(args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.svg");
    let mut all = vec![GO_BEFORE, GO_AFTER, "--svg", path.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run(&all);
    stdout_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("flame graph written to"), "{stderr}");
    std::fs::read(&path).unwrap()
}

#[test]
fn svg_default() {
    let svg = svg_of(&[]);
    let text = std::str::from_utf8(&svg).unwrap();
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc =
        roxmltree::Document::parse_with_options(text, opts).expect("the SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(text.contains("heapdiff: fixtures/go/before.pb.gz → fixtures/go/after.pb.gz"));
    assert!(text.contains("inuse_space: 3.2 MiB → 6.5 MiB (+3.3 MiB, +103.4%)"));
    assert!(
        text.contains("function search(") && text.contains("function zoom("),
        "search and zoom script"
    );
    check_golden("go.svg", &svg);
}

#[test]
fn svg_by_function() {
    check_golden("go-function.svg", &svg_of(&["--by", "function"]));
}

#[test]
fn svg_flame_orientation_narrow() {
    check_golden(
        "go-flame-800.svg",
        &svg_of(&[
            "--flame-orient",
            "flame",
            "--svg-width",
            "800",
            "--min-width",
            "2",
        ]),
    );
}

#[test]
fn svg_classic_inferno() {
    let svg = svg_of(&["--flame-style", "classic"]);
    let text = std::str::from_utf8(&svg).unwrap();
    assert!(text.contains("colour: red grew, blue shrank (leaf frames)"));
    check_golden("go-classic.svg", &svg);
}

#[test]
fn outputs_are_deterministic() {
    let a = svg_of(&["--format", "json"]);
    let b = svg_of(&["--format", "json"]);
    assert_eq!(a, b);
    let t1 = stdout_of(&run(&[
        GO_BEFORE, GO_AFTER, "--no-svg", "--format", "json", "--top", "0",
    ]));
    let t2 = stdout_of(&run(&[
        GO_BEFORE, GO_AFTER, "--no-svg", "--format", "json", "--top", "0",
    ]));
    assert_eq!(t1, t2);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let plain = stdout_of(&run(&[GO_BEFORE, GO_AFTER, "--no-svg"]));
    assert!(!plain.contains('\x1b'), "not a terminal: no colour");
    let forced = stdout_of(&run(&[
        GO_BEFORE, GO_AFTER, "--no-svg", "--color", "always",
    ]));
    assert!(forced.contains("\x1b[31m"));
    let out = heapdiff()
        .args([GO_BEFORE, GO_AFTER, "--no-svg", "--color", "auto"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout_of(&out).contains('\x1b'));
}

#[test]
fn width_shortens_locations() {
    // 70 columns: the numbers take 62, so locations go on lines of their
    // own, shortened to fit.
    let out = stdout_of(&run(&[GO_BEFORE, GO_AFTER, "--no-svg", "--width", "70"]));
    let locations: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("      ") && !l.starts_with("       "))
        .collect();
    assert!(locations.len() >= 10, "{out}");
    for line in locations {
        assert!(
            unicode_width::UnicodeWidthStr::width(line) <= 70,
            "too wide: {line:?}"
        );
    }
    assert!(out.contains("…"), "long paths are shortened from the left");
}

#[test]
fn stdin_is_read_for_dash() {
    use std::io::Write;
    use std::process::Stdio;
    let before = std::fs::read(repo_root().join(GO_BEFORE)).unwrap();
    let mut child = heapdiff()
        .args(["-", GO_AFTER, "--no-svg", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&before).unwrap();
    let out = child.wait_with_output().unwrap();
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(json["before_file"], "<stdin>");
    let from_file: serde_json::Value = serde_json::from_str(&stdout_of(&run(&[
        GO_BEFORE, GO_AFTER, "--no-svg", "--format", "json",
    ])))
    .unwrap();
    assert_eq!(json["rows"], from_file["rows"]);
}

/// A table of another input format, byte for byte.
fn golden_table_of(name: &str, args: &[&str]) {
    let mut all = vec!["--no-svg", "--no-source", "--top", "10"];
    all.extend_from_slice(args);
    check_golden(name, stdout_of(&run(&all)).as_bytes());
}

#[test]
fn table_of_tracemalloc_snapshots() {
    // Without source naming: the pyenv stdlib the snapshot names may or may
    // not exist where the tests run.
    golden_table_of(
        "python-table.txt",
        &[
            "fixtures/python/before.tm",
            "fixtures/python/after.tm",
            "--no-symbolize",
        ],
    );
}

#[test]
fn table_of_dhat_profiles() {
    golden_table_of(
        "dhat-table.txt",
        &["fixtures/dhat/before.json", "fixtures/dhat/after.json"],
    );
}

#[test]
fn table_of_memray_csv() {
    golden_table_of(
        "memray-table.txt",
        &["fixtures/memray/before.csv", "fixtures/memray/after.csv"],
    );
}

#[test]
fn table_of_folded_stacks() {
    golden_table_of(
        "folded-table.txt",
        &[
            "fixtures/folded/jeprof/before.folded",
            "fixtures/folded/jeprof/after.folded",
        ],
    );
}

#[test]
fn svg_of_tracemalloc_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("py.svg");
    stdout_of(&run(&[
        "fixtures/python/before.tm",
        "fixtures/python/after.tm",
        "--no-symbolize",
        "--svg",
        path.to_str().unwrap(),
    ]));
    check_golden("python.svg", &std::fs::read(&path).unwrap());
}

#[test]
fn every_fixture_pair_draws_well_formed_svg_in_both_styles() {
    let pairs: &[&[&str]] = &[
        &[GO_BEFORE, GO_AFTER],
        &[
            "fixtures/c/jemalloc/before.heap",
            "fixtures/c/jemalloc/after.heap",
            "--binary",
            "fixtures/c/leak",
        ],
        &[
            "fixtures/c/gperftools/before.heap",
            "fixtures/c/gperftools/after.heap",
            "--binary",
            "fixtures/c/leak",
        ],
        &[
            "fixtures/rust/before.pb.gz",
            "fixtures/rust/after.pb.gz",
            "--binary",
            "fixtures/rust/leaky-rs.bin",
        ],
        &["fixtures/python/before.tm", "fixtures/python/after.tm"],
        &["fixtures/dhat/before.json", "fixtures/dhat/after.json"],
        &["fixtures/memray/before.csv", "fixtures/memray/after.csv"],
        &[
            "fixtures/folded/heaptrack/before.folded",
            "fixtures/folded/heaptrack/after.folded",
        ],
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.svg");
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    for pair in pairs {
        for style in ["heap", "classic"] {
            let mut args = pair.to_vec();
            args.extend(["--flame-style", style, "--svg", path.to_str().unwrap()]);
            stdout_of(&run(&args));
            let svg = std::fs::read_to_string(&path).unwrap();
            roxmltree::Document::parse_with_options(&svg, opts)
                .unwrap_or_else(|e| panic!("{pair:?} {style}: {e}"));
        }
    }
}

#[test]
fn trend_table_and_json() {
    let snaps = [
        "fixtures/go-trend/snap-1.pb.gz",
        "fixtures/go-trend/snap-2.pb.gz",
        "fixtures/go-trend/snap-3.pb.gz",
        "fixtures/go-trend/snap-4.pb.gz",
        "fixtures/go-trend/snap-5.pb.gz",
    ];
    let mut args = snaps.to_vec();
    args.extend(["--no-svg", "--no-source", "--top", "6"]);
    check_golden("trend-table.txt", stdout_of(&run(&args)).as_bytes());
    args.extend(["--format", "json"]);
    check_golden("trend.json", stdout_of(&run(&args)).as_bytes());
}

#[test]
fn markdown_and_csv() {
    golden_stdout("go.md", &["--format", "markdown", "--top", "5"]);
    golden_stdout("go.csv", &["--format", "csv", "--top", "5"]);
}

#[test]
fn markdown_of_the_c_fixture_for_a_public_issue() {
    // Redacted, with a gate that fails: what a CI job posts to an issue.
    let args = [
        "--binary",
        "fixtures/c/leak",
        "fixtures/c/jemalloc/before.heap",
        "fixtures/c/jemalloc/after.heap",
        "--source-root",
        "fixtures/c",
        "--no-svg",
        "--format",
        "markdown",
        "--fail-on-line-growth",
        "1MiB",
        "--image-url",
        "https://example.com/heap.png",
    ];
    let mut redacted = args.to_vec();
    redacted.push("--redact-paths");
    let out = run(&redacted);
    assert_eq!(out.status.code(), Some(1), "the gate fails");
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(!md.contains("/work/"), "{md}");
    check_golden("c-redacted-gate.md", md.as_bytes());
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("fixtures/c/leak.c:16`"), "{md}");
    assert!(md.contains("**CI gate failed:** copy\\_header"), "{md}");
}

#[test]
fn source_lines_under_rows_in_table_and_markdown() {
    // Every shown row is in the app's own files, found under --source-root.
    let args = [
        "fixtures/python/before.tm",
        "fixtures/python/after.tm",
        "--source-root",
        "fixtures/python/src",
        "--no-svg",
        "--top",
        "4",
    ];
    let table = stdout_of(&run(&args));
    assert!(
        table.contains(
            "raw = b\"%s: %s\\r\\n\" % (key.encode(\"latin-1\"), value.encode(\"latin-1\"))"
        ),
        "{table}"
    );
    check_golden("python-source-table.txt", table.as_bytes());
    let mut md = args.to_vec();
    md.extend(["--format", "markdown"]);
    check_golden("python-source.md", stdout_of(&run(&md)).as_bytes());
    let mut none = args.to_vec();
    none.push("--no-source");
    assert!(!stdout_of(&run(&none)).contains("latin-1"));
}
