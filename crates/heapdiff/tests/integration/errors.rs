//! Bad input and usage: one line on stderr naming the file and the problem,
//! exit code 2, no panic, nothing written (an existing SVG is left as it was).

use std::process::Output;

use heapdiff_profile::pprof::proto;
use prost::Message;

use crate::common::*;

/// Runs heapdiff in a scratch directory holding `files`, with the default
/// SVG path, and checks the failure contract. Returns stderr.
fn fails(files: &[(&str, &[u8])], args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    std::fs::write(
        dir.path().join("heapdiff.svg"),
        b"<svg>previous graph</svg>",
    )
    .unwrap();
    let out: Output = heapdiff()
        .current_dir(dir.path())
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit code for {args:?}; stderr: {stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout for {args:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("heapdiff.svg")).unwrap(),
        b"<svg>previous graph</svg>",
        "the existing SVG is untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".heapdiff-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    stderr
}

fn go_after() -> Vec<u8> {
    std::fs::read(repo_root().join(GO_AFTER)).unwrap()
}

fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr:?}");
    lines[0]
}

#[test]
fn missing_file() {
    let err = fails(&[("a.pb.gz", &go_after())], &["nope.pb.gz", "a.pb.gz"]);
    assert!(
        one_line(&err).starts_with("heapdiff: error: nope.pb.gz: cannot read: "),
        "{err}"
    );
    // The system's reason, said once (not again as the error's cause).
    assert_eq!(err.matches("(os error").count(), 1, "{err}");
}

#[test]
fn a_bad_before_file_is_reported_without_waiting_for_the_after_file() {
    // The after file is standard input, held open and never written: a run
    // that waited for it to be read would never end.
    let dir = tempfile::tempdir().unwrap();
    let mut child = heapdiff()
        .current_dir(dir.path())
        .args(["nope.pb.gz", "-", "--no-svg"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("still waiting for the after file after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        one_line(&err).starts_with("heapdiff: error: nope.pb.gz: cannot read: "),
        "{err}"
    );
}

#[test]
fn not_a_profile() {
    let err = fails(
        &[
            ("a.pb.gz", &go_after()),
            ("notes.txt", b"just some notes\n"),
        ],
        &["a.pb.gz", "notes.txt"],
    );
    assert!(
        one_line(&err).starts_with(
            "heapdiff: error: notes.txt: text, not a heap profile heapdiff knows; its first line \
             reads \"just some notes\""
        ),
        "{err}"
    );
}

#[test]
fn empty_file() {
    let err = fails(
        &[("a.pb.gz", &go_after()), ("empty", b"")],
        &["empty", "a.pb.gz"],
    );
    assert_eq!(one_line(&err), "heapdiff: error: empty: the file is empty");
}

#[test]
fn truncated_gzip() {
    let gz = go_after();
    let err = fails(
        &[("a.pb.gz", &gz), ("cut.pb.gz", &gz[..gz.len() / 2])],
        &["a.pb.gz", "cut.pb.gz"],
    );
    assert!(
        one_line(&err).starts_with("heapdiff: error: cut.pb.gz: corrupt gzip data"),
        "{err}"
    );
}

#[test]
fn corrupt_pprof() {
    let bytes = heapdiff_profile::gunzip(&go_after()).unwrap();
    let mut pb = proto::Profile::decode(&bytes[..]).unwrap();
    pb.function[0].name = 1_000_000;
    let id = pb.function[0].id;
    let err = fails(
        &[("a.pb.gz", &go_after()), ("bad.pb", &pb.encode_to_vec())],
        &["bad.pb", "a.pb.gz"],
    );
    assert_eq!(
        one_line(&err),
        format!(
            "heapdiff: error: bad.pb: pprof: string index 1000000 out of range \
             (the string table has {} entries) in function {id} name",
            pb.string_table.len()
        )
    );
}

#[test]
fn unknown_sample_type_lists_both_sides() {
    let err = fails(
        &[("a.pb.gz", &go_after())],
        &["a.pb.gz", "a.pb.gz", "-t", "cpu"],
    );
    assert!(
        one_line(&err).starts_with("heapdiff: error: sample type \"cpu\" is not in both profiles (before has: alloc_objects/count"),
        "{err}"
    );
}

#[test]
fn memray_capture_says_how_to_convert_it() {
    let err = fails(
        &[
            ("a.pb.gz", &go_after()),
            ("x.bin", b"memray\0\x0b\x00\x00\x00"),
        ],
        &["x.bin", "a.pb.gz"],
    );
    assert_eq!(
        one_line(&err),
        "heapdiff: error: x.bin: memray capture cannot be read; its capture format is private to memray: \
         convert it with `memray transform csv --leaks CAPTURE` (or without --leaks for the high-water mark) \
         and pass the CSV"
    );
}

#[test]
fn hostile_pickle_is_refused_without_running_it() {
    // cos.system('touch …') with REDUCE, as a malicious "snapshot" would be.
    let err = fails(
        &[
            ("a.pb.gz", &go_after()),
            ("x.tm", b"\x80\x04\x95\x20\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93\x8c\x04true\x85R."),
        ],
        &["x.tm", "a.pb.gz"],
    );
    assert_eq!(
        one_line(&err),
        "heapdiff: error: x.tm: pickle byte 23: the pickle names os.system; a tracemalloc snapshot names \
         only tracemalloc.Snapshot and tracemalloc._Traces, and heapdiff never loads anything else"
    );
}

#[test]
fn malformed_native_dump_names_the_line() {
    let err = fails(
        &[
            ("a.pb.gz", &go_after()),
            (
                "x.heap",
                b"heap_v2/524288\n  t*: 0: 0 [0: 0]\n@ 0x1 nothex\n",
            ),
        ],
        &["x.heap", "a.pb.gz"],
    );
    assert_eq!(
        one_line(&err),
        "heapdiff: error: x.heap: line 3: expected a hexadecimal address, found \"nothex\""
    );
}

#[test]
fn svg_into_a_missing_directory() {
    let err = fails(
        &[("a.pb.gz", &go_after())],
        &["a.pb.gz", "a.pb.gz", "--svg", "no/such/dir/x.svg"],
    );
    assert!(
        one_line(&err)
            .starts_with("heapdiff: error: cannot write the flame graph to no/such/dir/x.svg: "),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&[GO_BEFORE]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&[GO_BEFORE, GO_AFTER, "--by", "address"]);
    assert_eq!(out.status.code(), Some(2));
    let err = fails(&[], &["-", "-"]);
    assert_eq!(
        one_line(&err),
        "heapdiff: error: only one profile can be read from standard input"
    );
}

#[test]
fn help_and_version_exit_0() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains("Examples:") && help.contains("--sample-type"),
        "{help}"
    );
    assert!(run(&["--version"]).status.success());
}

/// A profile with `n` distinct leaf lines, to produce a lot of output.
fn wide_profile(n: usize) -> Vec<u8> {
    let mut strings: Vec<Vec<u8>> = ["", "inuse_space", "bytes", "wide.go"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let mut pb = proto::Profile {
        sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
        ..Default::default()
    };
    for i in 0..n {
        strings.push(format!("wide.function_number_{i}").into_bytes());
        let id = i as u64 + 1;
        pb.function.push(proto::Function {
            id,
            name: strings.len() as i64 - 1,
            filename: 3,
            ..Default::default()
        });
        pb.location.push(proto::Location {
            id,
            line: vec![proto::Line {
                function_id: id,
                line: i as i64 + 1,
                column: 0,
            }],
            ..Default::default()
        });
        pb.sample.push(proto::Sample {
            location_id: vec![id],
            value: vec![1000 + i as i64],
            label: vec![],
        });
    }
    pb.string_table = strings;
    pb.encode_to_vec()
}

#[test]
fn closed_stdout_pipe_is_not_an_error() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let wide = dir.path().join("wide.pb");
    std::fs::write(&wide, wide_profile(5000)).unwrap();
    let empty = dir.path().join("empty.pb");
    std::fs::write(&empty, {
        let mut pb = proto::Profile::decode(&wide_profile(1)[..]).unwrap();
        pb.sample.clear();
        pb.encode_to_vec()
    })
    .unwrap();
    let mut child = heapdiff()
        .args([
            empty.to_str().unwrap(),
            wide.to_str().unwrap(),
            "--no-svg",
            "--top",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head` exiting at once
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn empty_after_profile_draws_what_vanished_or_warns_in_classic_style() {
    let dir = tempfile::tempdir().unwrap();
    let mut pb = proto::Profile::decode(&wide_profile(3)[..]).unwrap();
    std::fs::write(dir.path().join("b.pb"), pb.encode_to_vec()).unwrap();
    pb.sample.clear();
    std::fs::write(dir.path().join("a.pb"), pb.encode_to_vec()).unwrap();
    let in_dir = |args: &[&str]| {
        heapdiff()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    // The heap graph is sized by the larger side: everything that vanished.
    let out = in_dir(&["b.pb", "a.pb"]);
    let table = stdout_of(&out);
    assert!(table.contains("gone"), "{table}");
    let svg = std::fs::read_to_string(dir.path().join("heapdiff.svg")).unwrap();
    assert!(svg.contains("fill=\"url(#gone)\""));
    std::fs::remove_file(dir.path().join("heapdiff.svg")).unwrap();
    // Gregg's graph is sized by after: nothing to draw.
    let out = in_dir(&["b.pb", "a.pb", "--flame-style", "classic"]);
    stdout_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: no flame graph written: nothing is live in the after profile"),
        "{stderr}"
    );
    assert!(!dir.path().join("heapdiff.svg").exists());
    // Nothing on either side: nothing to draw in any style.
    let out = in_dir(&["a.pb", "a.pb"]);
    stdout_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: no flame graph written: neither profile holds anything to draw"),
        "{stderr}"
    );
    assert!(!dir.path().join("heapdiff.svg").exists());
}

#[test]
fn gzip_and_zstd_bombs_stop_at_the_limit() {
    use std::io::Write;
    // A valid start (a sample type), then 8 MiB of zeros in a field no
    // decoder reads: nothing tells it from a profile but its size.
    let mut plain = b"\x0a\x04\x08\x01\x10\x02\xa2\x06\x80\x80\x80\x04".to_vec();
    plain.resize(plain.len() + (8 << 20), 0);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&plain).unwrap();
    let gz = enc.finish().unwrap();
    let zst =
        ruzstd::encoding::compress_to_vec(&plain[..], ruzstd::encoding::CompressionLevel::Fastest);
    assert!(zst.len() < 100_000);
    for (name, bomb) in [("bomb.gz", gz), ("bomb.zst", zst)] {
        let err = fails(
            &[("a.pb.gz", &go_after()), (name, &bomb)],
            &[name, "a.pb.gz", "--max-input", "1MiB"],
        );
        assert_eq!(
            one_line(&err),
            format!(
                "heapdiff: error: {name}: it decompresses to more than 1 MiB (a decompression bomb?); \
                 raise the limit with --max-input SIZE"
            )
        );
    }
}

#[test]
fn directories_and_symlink_loops_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    std::os::unix::fs::symlink("loop2", dir.path().join("loop1")).unwrap();
    std::os::unix::fs::symlink("loop1", dir.path().join("loop2")).unwrap();
    std::fs::write(dir.path().join("a.pb.gz"), go_after()).unwrap();
    for (input, want) in [
        (
            "adir",
            "heapdiff: error: adir: cannot read: it is a directory",
        ),
        (
            "loop1",
            "heapdiff: error: loop1: cannot read: Too many levels of symbolic links",
        ),
    ] {
        let out = heapdiff()
            .current_dir(dir.path())
            .args([input, "a.pb.gz", "--no-svg"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(one_line(&err).starts_with(want), "{err}");
    }
}

#[test]
fn empty_profiles_give_an_empty_diff() {
    let dir = tempfile::tempdir().unwrap();
    let empty = proto::Profile {
        sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
        string_table: ["", "inuse_space", "bytes"]
            .map(|s| s.as_bytes().to_vec())
            .to_vec(),
        ..Default::default()
    };
    std::fs::write(dir.path().join("e.pb"), empty.encode_to_vec()).unwrap();
    let out = heapdiff()
        .current_dir(dir.path())
        .args(["e.pb", "e.pb", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(json["rows"], serde_json::json!([]));
    assert_eq!(json["delta_total"], 0);
}

#[test]
fn a_hundred_thousand_frame_recursion_works_and_the_graph_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let deep = proto::Profile {
        sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
        sample: vec![proto::Sample {
            location_id: vec![1; 100_000],
            value: vec![4096],
            label: vec![],
        }],
        location: vec![proto::Location {
            id: 1,
            line: vec![proto::Line {
                function_id: 1,
                line: 7,
                column: 0,
            }],
            ..Default::default()
        }],
        function: vec![proto::Function {
            id: 1,
            name: 3,
            filename: 4,
            ..Default::default()
        }],
        string_table: ["", "inuse_space", "bytes", "recurse", "r.go"]
            .map(|s| s.as_bytes().to_vec())
            .to_vec(),
        ..Default::default()
    };
    std::fs::write(dir.path().join("d.pb"), deep.encode_to_vec()).unwrap();
    let out = heapdiff()
        .current_dir(dir.path())
        .args(["d.pb", "d.pb", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(json["after_total"], 4096);
    let svg = std::fs::read_to_string(dir.path().join("heapdiff.svg")).unwrap();
    assert!(svg.contains("stacks cut at 1000 frames"));
    assert!(svg.len() < 2_000_000, "{} bytes", svg.len());
}

#[test]
fn inlined_frame_amplification_is_bounded() {
    // One location with 1,000 inlined lines, used 10,000 times by one
    // sample: 10 million frames from a 20 KB file.
    let dir = tempfile::tempdir().unwrap();
    let bytes = crate::hostile_inputs::inlined_frames_raw(1000, 10_000, 1);
    assert!(bytes.len() < 30_000);
    std::fs::write(dir.path().join("amp.pb"), &bytes).unwrap();
    let out = heapdiff()
        .current_dir(dir.path())
        .args(["amp.pb", "amp.pb", "--no-svg", "--max-depth", "5000"])
        .output()
        .unwrap();
    stdout_of(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 stack deeper than 5000 frames lost its outermost callers (--max-depth)"),
        "{err}"
    );
    let out = heapdiff()
        .current_dir(dir.path())
        .args(["amp.pb", "amp.pb", "--no-svg", "--max-frames", "1000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "heapdiff: error: amp.pb: more than 1000 frames in all stacks; raise the limit with --max-frames"
    );
}

/// Broken pprof profiles, each made from the real Go fixture by one change:
/// exit 2, nothing written, one line naming the file and what is wrong.
#[test]
fn hostile_pprof_profiles_name_the_file_and_the_problem() {
    let bytes = heapdiff_profile::gunzip(&go_after()).unwrap();
    let base = proto::Profile::decode(&bytes[..]).unwrap();
    let good = go_after();
    let mut cases: Vec<(&str, Vec<u8>, String)> = Vec::new();

    let mut pb = base.clone();
    pb.sample[0].location_id[0] = 999_999;
    cases.push((
        "dangling.pb",
        pb.encode_to_vec(),
        "pprof: sample 0 refers to unknown location id 999999".into(),
    ));

    let mut pb = base.clone();
    let id = pb.function[0].id;
    pb.function[1].id = id;
    cases.push((
        "duplicate.pb",
        pb.encode_to_vec(),
        format!("pprof: two functions have id {id}"),
    ));

    let mut pb = base.clone();
    pb.location[0].id = 0;
    cases.push((
        "zero.pb",
        pb.encode_to_vec(),
        "pprof: a location has id 0".into(),
    ));

    // One more sample whose location_id is written as fixed32 (wire type
    // 5): fields append, so the rest of the profile stays valid.
    let mut wrong = bytes.clone();
    wrong.extend([0x12, 5, 0x0d, 1, 0, 0, 0]);
    cases.push((
        "wire.pb",
        wrong,
        "sample: Sample field 1 has wire type 5".into(),
    ));

    // A sample whose length runs past the end.
    let mut long = bytes.clone();
    long.extend([0x12, 100, 0x08]);
    cases.push(("length.pb", long, "protobuf".into()));

    let mut pb = base.clone();
    pb.sample[0].value.pop();
    cases.push(("values.pb", pb.encode_to_vec(), "value".into()));

    for (name, bytes, want) in cases {
        let err = fails(
            &[(name, &bytes), ("good.pb.gz", &good)],
            &[name, "good.pb.gz"],
        );
        let line = one_line(&err);
        assert!(
            line.starts_with(&format!("heapdiff: error: {name}: ")) && line.contains(&want),
            "{name}: {line:?} should name the file and say {want:?}"
        );
    }
}

/// Values at the edges of i64 are summed with saturation, never wrapped or
/// panicked on: the run succeeds.
#[test]
fn extreme_values_saturate() {
    let bytes = heapdiff_profile::gunzip(&go_after()).unwrap();
    let mut pb = proto::Profile::decode(&bytes[..]).unwrap();
    for s in &mut pb.sample {
        for v in &mut s.value {
            *v = i64::MAX;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("huge.pb"), pb.encode_to_vec()).unwrap();
    std::fs::write(dir.path().join("a.pb.gz"), go_after()).unwrap();
    let out = heapdiff()
        .current_dir(dir.path())
        .args(["a.pb.gz", "huge.pb", "--no-svg", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["after_total"].as_i64(),
        Some(i64::MAX),
        "the total saturates"
    );
    assert!(json["delta_total"].as_i64().unwrap() > 0);
}
