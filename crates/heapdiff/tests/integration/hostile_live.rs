//! Live capture against servers that misbehave: deadlines, size limits,
//! redirects, secrets in URLs, captures that never overwrite, and a
//! temporary directory removed on Ctrl-C. Every server here listens on
//! loopback and ends by itself.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;

/// A loopback server that hands each of its first `connections` to
/// `answer`; returns its `host:port`.
fn server(connections: usize, answer: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections).flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    addr
}

/// Reads a request's head.
fn read_request(stream: &TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
}

/// Answers with the Go fixture's after profile.
fn profile(mut stream: TcpStream) {
    read_request(&stream);
    let body = std::fs::read(repo_root().join(GO_AFTER)).unwrap();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

#[test]
fn a_server_that_never_answers_meets_the_deadline() {
    fn silent(stream: TcpStream) {
        read_request(&stream);
        std::thread::sleep(Duration::from_secs(20));
    }
    fn trickle(mut stream: TcpStream) {
        read_request(&stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        for _ in 0..200 {
            if stream.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    for answer in [silent as fn(TcpStream), trickle] {
        let url = format!("http://{}/debug/pprof/heap", server(1, answer));
        let started = Instant::now();
        let out = run(&[&url, "--fetch-timeout", "1s", "--no-svg"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("no complete answer within 1s (--fetch-timeout)"),
            "{stderr}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
}

#[test]
fn the_deadline_follows_the_seconds_asked_for_and_intervals_are_bounded() {
    let out = run(&[
        "http://127.0.0.1:9/heap",
        "--interval",
        "99999999999999999s",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("out of range"));
    let out = run(&["http://127.0.0.1:9/heap", "--interval", "25h"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_body_larger_than_max_input_is_refused() {
    let url = format!("http://{}/debug/pprof/heap", server(1, profile));
    let out = run(&[&url, "--max-input", "1KiB", "--no-svg"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("larger than 1024 bytes (--max-input)"),
        "{stderr}"
    );
}

#[test]
fn a_redirect_names_where_it_points_without_secrets() {
    fn redirect(mut stream: TcpStream) {
        read_request(&stream);
        let _ = stream.write_all(
            b"HTTP/1.1 302 Found\r\nLocation: http://other:8080/heap?token=s3cret\r\n\
              Content-Length: 0\r\n\r\n",
        );
    }
    let url = format!("HTTP://{}/debug/pprof/heap", server(1, redirect));
    let out = run(&[&url, "--no-svg"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("answered HTTP 302 and points to http://other:8080/heap?token=REDACTED"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"));
}

#[test]
fn credentials_in_a_url_are_shown_nowhere() {
    let addr = server(4, profile);
    let url = format!("http://alice:hunter2@{addr}/debug/pprof/heap?gc=1&token=s3cret");
    let dir = tempfile::tempdir().unwrap();
    for format in ["json", "markdown"] {
        let out = heapdiff()
            .current_dir(dir.path())
            .args([&url, "--interval", "10ms", "-f", format])
            .output()
            .unwrap();
        let stdout = stdout_of(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let svg = std::fs::read_to_string(dir.path().join("heapdiff.svg")).unwrap();
        for text in [&stdout, &*stderr, &svg] {
            assert!(
                !text.contains("hunter2") && !text.contains("s3cret"),
                "{text}"
            );
        }
        assert!(stdout.contains(&format!(
            "http://{addr}/debug/pprof/heap?gc=1&token=REDACTED"
        )));
    }
}

#[test]
fn captures_never_overwrite_nor_follow_planted_links() {
    let dir = tempfile::tempdir().unwrap();
    let caps = dir.path().join("caps");
    std::fs::create_dir(&caps).unwrap();
    std::fs::write(dir.path().join("victim"), b"precious").unwrap();
    std::os::unix::fs::symlink("../victim", caps.join("heap-1.pb.gz")).unwrap();
    std::fs::write(caps.join("heap-2.pb.gz"), b"an earlier run").unwrap();
    let url = format!("http://{}/debug/pprof/heap", server(2, profile));
    let out = run(&[
        &url,
        "--interval",
        "10ms",
        "--save-dir",
        caps.to_str().unwrap(),
        "--no-svg",
    ]);
    stdout_of(&out);
    assert_eq!(
        std::fs::read(dir.path().join("victim")).unwrap(),
        b"precious"
    );
    assert_eq!(
        std::fs::read(caps.join("heap-2.pb.gz")).unwrap(),
        b"an earlier run"
    );
    for n in [3, 4] {
        let saved = std::fs::read(caps.join(format!("heap-{n}.pb.gz"))).unwrap();
        assert_eq!(saved, std::fs::read(repo_root().join(GO_AFTER)).unwrap());
    }
}

#[test]
fn ctrl_c_removes_the_temporary_directory() {
    let addr = server(1, profile);
    let url = format!("http://{addr}/debug/pprof/heap");
    let tmp = tempfile::tempdir().unwrap();
    // Waiting for the second fetch when interrupted.
    let child = heapdiff()
        .env("TMPDIR", tmp.path())
        .args([&url, "--interval", "60s", "--no-svg"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let live_dirs = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("heapdiff-live-")
            })
            .count()
    };
    while live_dirs() == 0
        || std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .all(|d| std::fs::read_dir(d.path()).map_or(true, |mut f| f.next().is_none()))
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no capture made"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(live_dirs(), 0, "the temporary directory is left behind");
}
