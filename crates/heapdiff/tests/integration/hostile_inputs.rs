//! The generator of the hostile-input suite: profiles a stranger could
//! send, made here from a few parameters so that each test says what it
//! feeds (the issue "Trust a stranger's profile" lists them). Each is the
//! smallest input that shows its point; the amplifications are kilobytes
//! compressed that would be gigabytes in memory.

use std::io::Write;
use std::process::Output;

use heapdiff_profile::pprof::proto;
use prost::Message;

/// Appends `v` as a protobuf varint.
pub(crate) fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a length-delimited field's key and length.
fn delimited(field: u64, len: usize, out: &mut Vec<u8>) {
    varint(field << 3 | 2, out);
    varint(len as u64, out);
}

/// `bytes`, gzip-compressed.
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A pprof message's valid start: one sample type, `inuse_space/bytes`,
/// whose strings are 1 and 2 (the string table follows).
fn pprof_start() -> Vec<u8> {
    let mut out = b"\x0a\x04\x08\x01\x10\x02".to_vec();
    for s in ["", "inuse_space", "bytes"] {
        delimited(6, s.len(), &mut out);
        out.extend_from_slice(s.as_bytes());
    }
    out
}

/// A pprof profile (gzipped) whose string table holds `n` more empty
/// strings: two bytes each on the wire, a heap allocation each decoded.
pub(crate) fn empty_strings(n: usize) -> Vec<u8> {
    let mut raw = pprof_start();
    raw.reserve(2 * n);
    for _ in 0..n {
        raw.extend_from_slice(b"\x32\x00");
    }
    gzip(&raw)
}

/// [`inlined_frames_raw`], gzipped.
pub(crate) fn inlined_frames(lines: usize, refs: usize, samples: usize) -> Vec<u8> {
    gzip(&inlined_frames_raw(lines, refs, samples))
}

/// A pprof profile whose one location has `lines` inlined frames and whose
/// `samples` samples each name it `refs` times: a few bytes a reference,
/// `lines` frames each once expanded.
pub(crate) fn inlined_frames_raw(lines: usize, refs: usize, samples: usize) -> Vec<u8> {
    proto::Profile {
        sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
        sample: (0..samples)
            .map(|_| proto::Sample {
                location_id: vec![1; refs],
                value: vec![1],
                label: vec![],
            })
            .collect(),
        location: vec![proto::Location {
            id: 1,
            line: (0..lines)
                .map(|i| proto::Line {
                    function_id: 1,
                    line: i as i64,
                    column: 0,
                })
                .collect(),
            ..Default::default()
        }],
        function: vec![proto::Function {
            id: 1,
            name: 3,
            filename: 4,
            ..Default::default()
        }],
        string_table: ["", "inuse_space", "bytes", "f", "f.go"]
            .map(|s| s.as_bytes().to_vec())
            .to_vec(),
        ..Default::default()
    }
    .encode_to_vec()
}

/// A gzip bomb that starts like a profile: a valid first field, then
/// `size` zeros in a field no decoder reads.
pub(crate) fn disguised_bomb(size: usize) -> Vec<u8> {
    let mut raw = pprof_start();
    delimited(100, size, &mut raw);
    raw.resize(raw.len() + size, 0);
    gzip(&raw)
}

/// `n` folded lines, every stack distinct (gzipped).
pub(crate) fn distinct_folded_lines(n: usize) -> Vec<u8> {
    let mut text = String::with_capacity(n * 40);
    for i in 0..n {
        text.push_str(&format!(
            "main;handle;cache_{i};alloc_{} {}\n",
            i % 977,
            i % 100 + 1
        ));
    }
    gzip(text.as_bytes())
}

/// Folded stacks of one parent with `n` leaf children, seeded so that
/// before and after differ.
pub(crate) fn siblings(n: usize, seed: u64) -> Vec<u8> {
    let mut text = String::with_capacity(n * 24);
    let mut x = seed;
    for i in 0..n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        text.push_str(&format!("main;leaf{i} {}\n", x >> 54));
    }
    text.into_bytes()
}

/// Folded stacks: one chain `depth` frames deep, of `bytes`.
pub(crate) fn chain(depth: usize, bytes: u64) -> Vec<u8> {
    let frames: Vec<String> = (0..depth).map(|i| format!("f{i}")).collect();
    format!("{} {bytes}\n", frames.join(";")).into_bytes()
}

/// A pprof profile whose leaf functions are named `names` (and whose files
/// are `file`), each `bytes[i]` bytes.
pub(crate) fn named(names: &[&str], file: &str, bytes: &[i64]) -> Vec<u8> {
    let mut strings: Vec<Vec<u8>> = ["", "inuse_space", "bytes"]
        .map(|s| s.as_bytes().to_vec())
        .to_vec();
    strings.push(file.as_bytes().to_vec());
    let mut pb = proto::Profile {
        sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
        ..Default::default()
    };
    for (i, name) in names.iter().enumerate() {
        let id = i as u64 + 1;
        strings.push(name.as_bytes().to_vec());
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
                line: 7,
                column: 0,
            }],
            ..Default::default()
        });
        pb.sample.push(proto::Sample {
            location_id: vec![id],
            value: vec![bytes[i]],
            label: vec![],
        });
    }
    pb.string_table = strings;
    pb.encode_to_vec()
}

/// The peak resident memory (MiB) the run reported with `HEAPDIFF_TIMINGS`
/// set: its own `/proc/self/status` `VmHWM` as it ended.
pub(crate) fn peak_rss_mib(out: &Output) -> u64 {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .rfind(|l| l.contains("timing: exit"))
        .unwrap_or_else(|| panic!("no exit timing in {stderr}"));
    line.rsplit_once("(peak ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak in {line}"))
}
