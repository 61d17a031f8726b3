//! The stores as sources. Pyroscope: against a loopback server that implements the
//! two calls heapdiff makes as `querier.v1` (api/querier/v1/querier.proto)
//! defines them, over the Connect protocol: a POST of the protobuf request
//! with `Content-Type: application/proto`, the protobuf answer, and errors
//! as Connect's JSON. The requests are decoded and checked (a wrong field
//! number, type or content type fails), and the profiles served are the Go
//! fixture's. Parca: against a loopback REST gateway (see [`parca`]),
//! serving the same profiles, and how many profiles each window merged.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use prost::Message;

use crate::common::*;

/// `querier.v1.SelectMergeStacktracesRequest` (fields 1–6; 7 and on are
/// selectors heapdiff does not send).
#[derive(Clone, PartialEq, Message)]
struct SelectMergeStacktracesRequest {
    #[prost(string, tag = "1")]
    profile_type_id: String,
    #[prost(string, tag = "2")]
    label_selector: String,
    #[prost(int64, tag = "3")]
    start: i64,
    #[prost(int64, tag = "4")]
    end: i64,
    #[prost(int64, optional, tag = "5")]
    max_nodes: Option<i64>,
    #[prost(int32, tag = "6")]
    format: i32,
}

/// `querier.v1.SelectMergeProfileRequest` (fields 1–5).
#[derive(Clone, PartialEq, Message)]
struct SelectMergeProfileRequest {
    #[prost(string, tag = "1")]
    profile_type_id: String,
    #[prost(string, tag = "2")]
    label_selector: String,
    #[prost(int64, tag = "3")]
    start: i64,
    #[prost(int64, tag = "4")]
    end: i64,
    #[prost(int64, optional, tag = "5")]
    max_nodes: Option<i64>,
}

/// `querier.v1.SelectMergeStacktracesResponse`: `flamegraph` (1, a
/// `FlameGraph` of which only `total`, 3, is set here) and `pprof` (5).
#[derive(Clone, PartialEq, Message)]
struct SelectMergeStacktracesResponse {
    #[prost(message, optional, tag = "1")]
    flamegraph: Option<FlameGraph>,
    #[prost(message, optional, tag = "5")]
    pprof: Option<PprofProfile>,
}

#[derive(Clone, PartialEq, Message)]
struct FlameGraph {
    #[prost(int64, tag = "3")]
    total: i64,
}

#[derive(Clone, PartialEq, Message)]
struct PprofProfile {
    #[prost(bytes = "vec", tag = "1")]
    profile: Vec<u8>,
}

/// 2026-12-01T10:00Z and 12:00Z: the before and after windows served.
const BEFORE_MS: i64 = 1_796_119_200_000;
const AFTER_MS: i64 = 1_796_126_400_000;
const WINDOWS: [&str; 4] = [
    "--window",
    "2026-12-01T10:00/1h",
    "--window",
    "2026-12-01T12:00/1h",
];

/// How the server behaves.
#[derive(Clone, Copy, PartialEq)]
enum Server {
    /// Answers SelectMergeStacktraces with PROFILE_FORMAT_PPROF.
    Current,
    /// Predates PROFILE_FORMAT_PPROF: a flame graph, then SelectMergeProfile.
    Legacy,
    /// Requires tenant `t1` and basic auth `u:p`.
    Tenant,
    /// Has nothing in the windows.
    Empty,
}

/// A loopback Pyroscope that answers `connections` requests; its URL.
fn pyroscope(kind: Server, connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections).flatten() {
            std::thread::spawn(move || answer(kind, stream));
        }
    });
    format!("http://{addr}")
}

/// Reads a request: path, headers (lower-case names) and body.
fn read(stream: &TcpStream) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("POST"), "{line}");
    let path = words.next().unwrap().to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let Some((k, v)) = line.trim_end().split_once(": ") else {
            break;
        };
        headers.push((k.to_ascii_lowercase(), v.to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (path, headers, body)
}

fn respond(mut stream: TcpStream, status: &str, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// A Connect error answer.
fn error(stream: TcpStream, status: &str, code: &str, message: &str) {
    let body = format!(r#"{{"code":"{code}","message":"{message}"}}"#);
    respond(stream, status, "application/json", body.as_bytes());
}

/// The Go fixture's profile for a window, decompressed (a pprof message).
fn profile_for(start: i64) -> Vec<u8> {
    let path = if start == BEFORE_MS {
        GO_BEFORE
    } else {
        GO_AFTER
    };
    heapdiff_profile::gunzip(&std::fs::read(repo_root().join(path)).unwrap()).unwrap()
}

fn answer(kind: Server, stream: TcpStream) {
    let (path, headers, body) = read(&stream);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if header("content-type") != Some("application/proto") {
        return error(
            stream,
            "415 Unsupported Media Type",
            "unknown",
            "content type",
        );
    }
    if kind == Server::Tenant
        && (header("x-scope-orgid") != Some("t1") || header("authorization") != Some("Basic dTpw"))
    {
        return error(
            stream,
            "401 Unauthorized",
            "unauthenticated",
            "no org id or credentials",
        );
    }
    let (type_id, selector, start, end) = match path.as_str() {
        "/querier.v1.QuerierService/SelectMergeStacktraces" => {
            let r = SelectMergeStacktracesRequest::decode(&body[..]).unwrap();
            assert_eq!(r.format, 4, "PROFILE_FORMAT_PPROF");
            (r.profile_type_id, r.label_selector, r.start, r.end)
        }
        "/querier.v1.QuerierService/SelectMergeProfile" if kind == Server::Legacy => {
            let r = SelectMergeProfileRequest::decode(&body[..]).unwrap();
            (r.profile_type_id, r.label_selector, r.start, r.end)
        }
        _ => {
            return error(
                stream,
                "404 Not Found",
                "unimplemented",
                "no such procedure",
            );
        }
    };
    assert_eq!(type_id, "memory:inuse_space:bytes:space:bytes");
    assert_eq!(selector, r#"{service_name="leaky"}"#);
    assert_eq!(end - start, 3_600_000);
    assert!((BEFORE_MS..=AFTER_MS).contains(&start), "{start}");
    if kind == Server::Empty {
        let empty = SelectMergeStacktracesResponse {
            flamegraph: None,
            pprof: Some(PprofProfile {
                // A profile with a sample type and no samples.
                profile: b"\x0a\x04\x08\x01\x10\x02\x32\x00\x32\x05space\x32\x05bytes".to_vec(),
            }),
        };
        return respond(
            stream,
            "200 OK",
            "application/proto",
            &empty.encode_to_vec(),
        );
    }
    let profile = profile_for(start);
    let out = if path.ends_with("SelectMergeProfile") {
        profile
    } else if kind == Server::Legacy {
        SelectMergeStacktracesResponse {
            flamegraph: Some(FlameGraph { total: 1 }),
            pprof: None,
        }
        .encode_to_vec()
    } else {
        SelectMergeStacktracesResponse {
            flamegraph: None,
            pprof: Some(PprofProfile { profile }),
        }
        .encode_to_vec()
    };
    respond(stream, "200 OK", "application/proto", &out);
}

fn source(base: &str) -> String {
    format!("pyroscope+{base}/?query={{service_name=\"leaky\"}}&type=memory:inuse_space")
}

#[test]
fn a_pyroscope_pair_is_the_pair_of_files_it_serves() {
    let files = json(&[GO_BEFORE, GO_AFTER]);
    for kind in [Server::Current, Server::Legacy] {
        let connections = if kind == Server::Legacy { 4 } else { 2 };
        let src = source(&pyroscope(kind, connections));
        let mut args = vec![src.as_str()];
        args.extend(WINDOWS);
        let j = json(&args);
        assert_eq!(j["rows"], files["rows"]);
        assert_eq!(j["delta_total"], files["delta_total"]);
    }
}

#[test]
fn tenants_credentials_and_errors_in_the_stores_words() {
    let base = pyroscope(Server::Tenant, 3);
    let with = |src: &str| {
        let mut args = vec![src, "--no-svg"];
        args.extend(WINDOWS);
        run(&args)
    };
    let out = with(&source(&base));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("HTTP 401 Unauthorized: unauthenticated: no org id or credentials"),
        "{err}"
    );
    let authed = source(&base.replace("http://", "http://u:p@")) + "&tenant=t1";
    let out = with(&authed);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        !err.contains("u:p@") && !String::from_utf8_lossy(&out.stdout).contains("u:p@"),
        "{err}"
    );
    assert!(
        err.contains("Pyroscope does not say how many profiles it merged: the windows' sums"),
        "{err}"
    );
}

#[test]
fn empty_merges_and_unequal_windows_are_refused() {
    let src = source(&pyroscope(Server::Empty, 1));
    let mut args = vec![src.as_str(), "--no-svg"];
    args.extend(WINDOWS);
    let err = String::from_utf8_lossy(&run(&args).stderr).into_owned();
    assert!(
        err.contains("Pyroscope has no memory:inuse_space:bytes:space:bytes profiles matching"),
        "{err}"
    );
    let out = run(&[
        &src,
        "--no-svg",
        "--window",
        "now-2h/1h",
        "--window",
        "now-1h/30m",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("differ in length"), "{err}");
    let out = run(&[&src, "--no-svg", "--window", "now-1h/1h"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --window twice"));
}

/// A loopback Parca: its REST gateway's `GET /api/profiles/query` and
/// `GET /api/profiles/query_range`, as grpc-gateway maps
/// `parca.query.v1alpha1.QueryService/Query` and `QueryRange` (query
/// parameters by field path, timestamps in RFC 3339, durations as `"60s"`;
/// answers in protobuf's JSON mapping: bytes in base64, lowerCamel names,
/// 64-bit integers as strings); its URL.
/// `counts`: how many profiles it holds in each window (before, after),
/// in two series each.
fn parca(counts: Counts, connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections).flatten() {
            std::thread::spawn(move || parca_answer(counts, stream));
        }
    });
    format!("http://{addr}")
}

/// `%XX` and `+` decoded, as a form's query string.
fn form_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// The Parca query the tests ask for.
const PARCA_QUERY: &str = r#"memory:inuse_space:bytes:space:bytes{job="leaky"}"#;

/// Profiles per series, in the before and the after window.
type Counts = [(u32, u32); 2];

/// One profile in each window: what merging leaves as it is.
const ONE_EACH: Counts = [(1, 0), (0, 1)];

/// 12 profiles before (5 and 7), 30 after (14 and 16).
const FLEET: Counts = [(5, 7), (14, 16)];

fn parca_answer(counts: Counts, stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("GET"), "{line}");
    let target = words.next().unwrap().to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let params: Vec<(String, String)> = query
        .split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (form_decode(k), form_decode(v))
        })
        .collect();
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let ms = |k: &str| {
        get(k)
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond()
    };
    let (query, start, end) = match path {
        "/api/profiles/query" => {
            assert_eq!(get("mode"), Some("MODE_MERGE"));
            assert_eq!(get("reportType"), Some("REPORT_TYPE_PPROF"));
            (get("merge.query"), ms("merge.start"), ms("merge.end"))
        }
        "/api/profiles/query_range" => {
            // google.protobuf.Duration's JSON: seconds with an "s".
            let step = get("step").unwrap();
            let seconds: f64 = step.strip_suffix('s').unwrap().parse().unwrap();
            let (start, end) = (ms("start"), ms("end"));
            assert_eq!((seconds * 1000.0) as i64, end - start, "one step");
            (get("query"), start, end)
        }
        _ => return error(stream, "404 Not Found", "5", "Not Found"),
    };
    if query != Some(PARCA_QUERY) {
        let body = br#"{"code":3,"message":"parse query: unexpected token","details":[]}"#;
        return respond(stream, "400 Bad Request", "application/json", body);
    }
    // The before window's profile, else the after window's (--step's later
    // windows too).
    let before = start == BEFORE_MS;
    assert!(start >= BEFORE_MS, "{start}");
    assert!(end > start);
    let (a, b) = counts[usize::from(!before)];
    if a + b == 0 {
        // Parca's querier: gRPC NotFound, which the gateway makes a 404.
        let body = br#"{"code":5,"message":"No data found for the query, try a different query or time range or no data has been written to be queried yet.","details":[]}"#;
        return respond(stream, "404 Not Found", "application/json", body);
    }
    let body = if path.ends_with("query_range") {
        // A series without profiles in the window has no sample.
        let sample = |count: u32| match count {
            0 => String::new(),
            _ => format!(
                r#"{{"timestamp":"2026-12-01T10:00:00Z","value":"1","valuePerSecond":1,"duration":"0","count":{count}}}"#
            ),
        };
        format!(
            r#"{{"series":[{{"labelset":{{"labels":[{{"name":"pod","value":"a"}}]}},"samples":[{}]}},{{"labelset":{{"labels":[{{"name":"pod","value":"b"}}]}},"samples":[{}]}}]}}"#,
            sample(a),
            sample(b)
        )
    } else {
        use base64::Engine as _;
        let file = if before { GO_BEFORE } else { GO_AFTER };
        let pprof = base64::engine::general_purpose::STANDARD
            .encode(std::fs::read(repo_root().join(file)).unwrap());
        format!(r#"{{"pprof":"{pprof}","total":"1","filtered":"0"}}"#)
    };
    respond(stream, "200 OK", "application/json", body.as_bytes());
}

/// Before, an hour from 10:00; after, two hours from 12:00.
const PARCA_WINDOWS: [&str; 4] = [
    "--window",
    "2026-12-01T10:00/1h",
    "--window",
    "2026-12-01T12:00/2h",
];

#[test]
fn a_parca_pair_is_the_pair_of_files_it_serves() {
    let files = json(&[GO_BEFORE, GO_AFTER]);
    let src = format!("parca+{}/?query={PARCA_QUERY}", parca(ONE_EACH, 4));
    let mut args = vec![src.as_str()];
    args.extend(WINDOWS);
    let j = json(&args);
    assert_eq!(j["rows"], files["rows"]);
    assert_eq!(j["delta_total"], files["delta_total"]);
    assert_eq!(
        (&j["merged_before"], &j["merged_after"]),
        (&1.into(), &1.into())
    );
}

#[test]
fn a_parca_pair_is_averaged_over_what_each_window_merged() {
    let files = json(&[GO_BEFORE, GO_AFTER]);
    let averaged = json(&[GO_BEFORE, GO_AFTER, "--merged", "12,30"]);
    let base = parca(FLEET, 5);
    let src = format!("parca+{base}/?query={PARCA_QUERY}");
    let mut args = vec![src.as_str()];
    args.extend(PARCA_WINDOWS);
    let j = json(&args);
    assert_eq!(
        (&j["merged_before"], &j["merged_after"]),
        (&12.into(), &30.into())
    );
    assert_eq!(j["rows"], averaged["rows"]);
    let total = |j: &serde_json::Value, k: &str| j[k].as_i64().unwrap();
    assert_eq!(
        total(&j, "before_total"),
        total(&files, "before_total") / 12
    );
    assert_eq!(total(&j, "after_total"), total(&files, "after_total") / 30);
    assert!(
        j["warnings"][0]
            .as_str()
            .unwrap()
            .contains("the before side averages 12 profiles and the after side 30"),
        "{}",
        j["warnings"]
    );
    let wrong = format!("parca+{base}/?query=memory{{job=");
    let mut args = vec![wrong.as_str(), "--no-svg"];
    args.extend(PARCA_WINDOWS);
    let err = String::from_utf8_lossy(&run(&args).stderr).into_owned();
    assert!(
        err.contains("HTTP 400 Bad Request: parse query: unexpected token"),
        "{err}"
    );
}

#[test]
fn a_parca_trend_averages_each_window() {
    let src = format!("parca+{}/?query={PARCA_QUERY}", parca(FLEET, 6));
    let j = json(&[&src, "--window", "2026-12-01T10:00/3h", "--step", "3"]);
    assert_eq!(j["kind"], "trend");
    assert_eq!(j["merged"], serde_json::json!([12, 30, 30]));
    let files = json(&[GO_BEFORE, GO_AFTER]);
    let total = |j: &serde_json::Value, k: &str, i: usize| j[k][i].as_i64().unwrap();
    assert_eq!(
        total(&j, "totals", 0),
        files["before_total"].as_i64().unwrap() / 12
    );
    assert_eq!(
        total(&j, "totals", 2),
        files["after_total"].as_i64().unwrap() / 30
    );
    let src = format!("parca+{}/?query={PARCA_QUERY}", parca(FLEET, 6));
    let out = run(&[
        &src,
        "--no-svg",
        "--window",
        "2026-12-01T10:00/3h",
        "--step",
        "3",
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("(average of 30 merged)"), "{table}");
}

#[test]
fn a_parca_window_without_profiles_is_refused_in_parcas_words() {
    let src = format!("parca+{}/?query={PARCA_QUERY}", parca([(0, 0); 2], 1));
    let mut args = vec![src.as_str(), "--no-svg"];
    args.extend(WINDOWS);
    let out = run(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("HTTP 404 Not Found: No data found for the query, try a different query"),
        "{err}"
    );
}

#[test]
fn saved_merges_compare_again_with_their_counts() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("parca+{}/?query={PARCA_QUERY}", parca(FLEET, 4));
    let saved = dir.path().to_str().unwrap();
    let mut args = vec![
        src.as_str(),
        "--no-svg",
        "--format",
        "json",
        "--top",
        "0",
        "--save-dir",
        saved,
    ];
    args.extend(PARCA_WINDOWS);
    let out = run(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("12 profiles merged") && err.contains("30 profiles merged"),
        "{err}"
    );
    let again = err
        .lines()
        .find_map(|l| l.split_once("to compare the saved files again: heapdiff "))
        .map(|(_, command)| command.to_owned())
        .unwrap_or_else(|| panic!("{err}"));
    let again: Vec<&str> = again.split(' ').collect();
    assert_eq!(again[2..], ["--merged", "12,30"]);
    let rerun = json(&again);
    let fetched: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rerun["rows"], fetched["rows"]);
    assert_eq!(rerun["before_total"], fetched["before_total"]);
}

#[test]
fn step_splits_one_window_into_a_trend() {
    let src = source(&pyroscope(Server::Current, 3));
    let j = json(&[&src, "--window", "2026-12-01T10:00/3h", "--step", "3"]);
    assert_eq!(j["kind"], "trend");
    let files = j["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    assert!(
        files[1]
            .as_str()
            .unwrap()
            .ends_with("2026-12-01T10:00/3h (2/3)"),
        "{files:?}"
    );
    let out = run(&[
        &src,
        "--no-svg",
        "--window",
        "now-1h/1h",
        "--window",
        "now/1h",
        "--step",
        "2",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--step N splits one --window into N"));
}
