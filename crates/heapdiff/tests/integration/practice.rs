//! Leak hunting in practice: CI gates, live capture from a real loopback
//! HTTP server, shell completions and the man page.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use serde_json::Value;

use crate::common::*;

#[test]
fn growth_gates_exit_1_with_one_reason_and_still_report() {
    let out = run(&[
        GO_BEFORE,
        GO_AFTER,
        "--no-svg",
        "--format",
        "json",
        "--fail-on-growth",
        "1MiB",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap();
    assert_eq!(
        last,
        "heapdiff: fail: the total grew by +3.3 MiB, more than --fail-on-growth 1.0 MiB"
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["delta_total"], 3_484_624,
        "the report is still written"
    );

    let pct = run(&[GO_BEFORE, GO_AFTER, "--no-svg", "--fail-on-growth", "150%"]);
    assert_eq!(pct.status.code(), Some(0), "103% is under 150%");
    let pct = run(&[GO_BEFORE, GO_AFTER, "--no-svg", "--fail-on-growth", "100%"]);
    assert_eq!(pct.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&pct.stderr).contains("more than --fail-on-growth 100% of 3.2 MiB")
    );

    let line = run(&[
        GO_BEFORE,
        GO_AFTER,
        "--no-svg",
        "--fail-on-line-growth",
        "2MiB",
    ]);
    assert_eq!(line.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&line.stderr).contains(
            "heapdiff: fail: net/textproto.readMIMEHeader /usr/lib/go-1.19/src/net/textproto/reader.go:547 grew by +3.8 MiB, more than --fail-on-line-growth 2.0 MiB"
        )
    );
    let fine = run(&[
        GO_BEFORE,
        GO_AFTER,
        "--no-svg",
        "--fail-on-line-growth",
        "4MiB",
    ]);
    assert_eq!(fine.status.code(), Some(0));
}

/// A loopback HTTP server answering each request with the next of
/// `responses` (status, body); returns its URL.
fn serve(responses: Vec<(u16, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/debug/pprof/heap", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for (status, body) in responses {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

#[test]
fn live_capture_fetches_saves_and_compares() {
    let read = |p: &str| std::fs::read(repo_root().join(p)).unwrap();
    let url = serve(vec![(200, read(GO_BEFORE)), (200, read(GO_AFTER))]);
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        &url,
        "--interval",
        "50ms",
        "--save-dir",
        dir.path().to_str().unwrap(),
        "--no-svg",
        "--format",
        "json",
        "--top",
        "0",
    ]);
    let live: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let files: Value = serde_json::from_str(&stdout_of(&run(&[
        GO_BEFORE, GO_AFTER, "--no-svg", "--format", "json", "--top", "0",
    ])))
    .unwrap();
    assert_eq!(live["rows"], files["rows"]);
    assert_eq!(
        std::fs::read(dir.path().join("heap-1.pb.gz")).unwrap(),
        read(GO_BEFORE)
    );
    assert_eq!(
        std::fs::read(dir.path().join("heap-2.pb.gz")).unwrap(),
        read(GO_AFTER)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("fetched {url} (1 of 2")),
        "{stderr}"
    );

    // Three fetches make a trend.
    let snaps = [
        "fixtures/go-trend/snap-1.pb.gz",
        "fixtures/go-trend/snap-3.pb.gz",
        "fixtures/go-trend/snap-5.pb.gz",
    ];
    let url = serve(snaps.iter().map(|s| (200, read(s))).collect());
    let trend: Value = serde_json::from_str(&stdout_of(&run(&[
        &url,
        "--interval",
        "10ms",
        "--count",
        "3",
        "--no-svg",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(trend["kind"], "trend");
    assert_eq!(trend["files"][2], format!("{url} #3"));
}

#[test]
fn live_capture_errors_name_the_url() {
    let url = serve(vec![(404, b"not found".to_vec())]) + "?gc=1";
    let out = run(&[&url, "--no-svg"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        // The server's own words follow the status.
        format!("heapdiff: error: {url}: the server answered HTTP 404 Not Found: not found")
    );
    let url = serve(vec![(
        200,
        b"<html><body>pprof index</body></html>".to_vec(),
    )]) + "?gc=1";
    let out = run(&[&url, "--no-svg"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "heapdiff: error: {url}: text, not a heap profile heapdiff knows; its first line \
             reads \"<html><body>pprof index</body></html>\""
        )),
        "{err}"
    );
    let out = run(&["https://127.0.0.1:9/heap", "--no-svg"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("heapdiff: error: https://127.0.0.1:9/heap: cannot fetch: "),
        "{err}"
    );
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let out = stdout_of(&run(&["completions", shell]));
        assert!(out.contains("fail-on-growth"), "{shell}");
        assert!(out.contains("flame-style"), "{shell}");
    }
    let man = stdout_of(&run(&["man"]));
    assert!(
        man.starts_with(".ie") || man.contains(".TH heapdiff 1"),
        "{man}"
    );
    assert!(man.contains("fail\\-on\\-growth"));
    let help = stdout_of(&run(&["--help"]));
    assert!(help.contains("Examples:") && help.contains("heapdiff completions"));
}

#[test]
fn the_number_of_threads_changes_nothing_but_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let outputs: Vec<(String, Vec<u8>)> = [("--threads", "1"), ("--threads", "4"), ("", "3")]
        .iter()
        .enumerate()
        .map(|(i, (flag, n))| {
            let svg = dir.path().join(format!("{i}.svg"));
            let mut cmd = heapdiff();
            cmd.args([
                GO_BEFORE, GO_AFTER, "--format", "json", "--top", "0", "--svg",
            ])
            .arg(&svg);
            if flag.is_empty() {
                cmd.env("HEAPDIFF_THREADS", n);
            } else {
                cmd.args([flag, n]);
            }
            let out = cmd.output().unwrap();
            (stdout_of(&out), std::fs::read(&svg).unwrap())
        })
        .collect();
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
    let out = run(&[GO_BEFORE, GO_AFTER, "--threads", "0", "--no-svg"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--threads"), "{err}");
}
