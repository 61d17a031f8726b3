//! Recognising a profile's format from its first bytes.
//!
//! Text formats announce themselves in their first line; pprof does not (a
//! protobuf has no magic number), so pprof is what remains when nothing else
//! matched. gzip is a wrapper, not a format: [`crate::decode`] unwraps it first
//! and sniffs what is inside.
//!
//! **Misleading starts.** Anything unrecognised falls to pprof, whose
//! protobuf error says nothing useful about a file that is really a zstd,
//! bzip2, xz, zip or LZ4 container, or UTF-16 text. [`needs_conversion`]
//! names those by their magic numbers, with the command that converts them;
//! files heapdiff recognises but does not read (V8 heap snapshots and CPU
//! profiles, Java heap dumps, JFR recordings, heapz/growthz dumps) by name,
//! with what to give heapdiff instead; and any other text by its first line.
//! A UTF-8 byte-order mark before text or JSON is skipped: the text decoders
//! skip it too.

use crate::Format;
use crate::error::Error;

/// Whether `bytes` start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The UTF-8 byte-order mark some Windows editors put before text.
pub(crate) const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// `bytes` without a leading UTF-8 byte-order mark.
pub(crate) fn skip_utf8_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

/// The magic number of an LZ4 frame.
const LZ4_MAGIC: &[u8] = &[0x04, 0x22, 0x4d, 0x18];

/// Whether an LZ4 frame is plausibly memray's compressed capture: its
/// first block starts with memray's magic, left as literals (the frame
/// header and a block's first token come before it).
fn is_memray_lz4(bytes: &[u8]) -> bool {
    bytes.starts_with(LZ4_MAGIC)
        && bytes[..bytes.len().min(64)]
            .windows(6)
            .any(|w| w == b"memray")
}

/// Recognises a (decompressed) input by its first bytes. Returns `None` when
/// no text or pickle signature matches; the caller then tries pprof.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(b"memray\0") || bytes.starts_with(b"memray") {
        return Some(Format::Memray);
    }
    // memray's default (LZ4-compressed) capture.
    if is_memray_lz4(bytes) {
        return Some(Format::Memray);
    }
    let bytes = skip_utf8_bom(bytes);
    if bytes.starts_with(&[0x80, 0x04]) || bytes.starts_with(&[0x80, 0x05]) {
        return Some(Format::Tracemalloc);
    }
    let head = &bytes[..bytes.len().min(256)];
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let first_line = String::from_utf8_lossy(first_line);
    let line = first_line.trim();
    if line.starts_with("heap_v2/") {
        return Some(Format::JemallocHeap);
    }
    if line.starts_with("heap profile:") {
        return Some(if line.contains("@ heap/") {
            Format::GoHeapText
        } else {
            Format::GperftoolsHeap
        });
    }
    let trimmed = head.trim_ascii_start();
    if trimmed.starts_with(b"{") && head.windows(15).any(|w| w == b"dhatFileVersion") {
        return Some(Format::Dhat);
    }
    if crate::decode::v8::looks_like(head) {
        return Some(Format::V8HeapProfile);
    }
    if crate::decode::heaptrack::looks_like(head) {
        return Some(Format::Heaptrack);
    }
    if crate::decode::jfr::looks_like(head) {
        return Some(Format::Jfr);
    }
    if crate::decode::massif::looks_like(head) {
        return Some(Format::Massif);
    }
    if crate::decode::speedscope::looks_like(head) {
        return Some(Format::Speedscope);
    }
    if line.starts_with(crate::decode::memray::HEADER) {
        return Some(Format::MemrayCsv);
    }
    if crate::decode::folded::looks_folded(bytes) {
        return Some(Format::Folded);
    }
    None
}

/// Containers recognised by their magic numbers: what the file is, and
/// what to do about it.
const CONTAINERS: &[(&[u8], &str)] = &[
    (
        &[0x28, 0xb5, 0x2f, 0xfd],
        // Seen only inside another compression: zstd itself is read.
        "zstd-compressed inside another compression: decompress the outer one first",
    ),
    (
        b"BZh",
        "bzip2-compressed: decompress it first (`bunzip2 -k FILE`)",
    ),
    (
        &[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
        "xz-compressed: decompress it first (`xz -dk FILE`)",
    ),
    (
        b"PK\x03\x04",
        "a zip archive: extract the profile first (`unzip FILE`)",
    ),
    (
        LZ4_MAGIC,
        "LZ4-compressed: decompress it first (`lz4 -d FILE`)",
    ),
    (
        // Seen only once the outer gzip is gone.
        &[0x1f, 0x8b],
        "gzip-compressed twice: decompress it once (`gunzip -c FILE > ONCE.gz`) and pass that",
    ),
];

/// Files recognised by their start that heapdiff does not read: what the
/// file is, and what to do instead. JSON ones are matched with whitespace
/// removed from their start.
const FOREIGN: &[(&[u8], &str)] = &[
    (
        b"{\"snapshot\":{\"meta\"",
        "a V8 heap snapshot (.heapsnapshot): an object graph, which compares by constructor \
         (Chrome DevTools' Comparison view), not by allocation site; for what allocated the \
         memory, give heapdiff two sampling heap profiles (node --heap-prof, or DevTools' \
         Allocation sampling)",
    ),
    (
        b"{\"nodes\":[{\"id\":",
        "a V8 CPU profile (.cpuprofile): time, not memory; for memory take sampling heap \
         profiles (node --heap-prof)",
    ),
    (
        b"JAVA PROFILE 1.0.",
        "a Java heap dump (.hprof): an object graph, compared by class (Eclipse MAT, VisualVM), \
         not by allocation site; allocation sites come from JDK Flight Recorder \
         recordings (`jcmd PID JFR.dump filename=FILE.jfr`), which heapdiff reads",
    ),
    (
        b"--- heapz",
        "a Java heapz dump: convert it with `go tool pprof -proto FILE > FILE.pb.gz` and pass that",
    ),
    (
        b"--- growthz",
        "a Java growthz dump: convert it with `go tool pprof -proto FILE > FILE.pb.gz` and pass \
         that",
    ),
];

/// What a file recognised by its start, but not read, is (see [`FOREIGN`]).
fn foreign(bytes: &[u8]) -> Option<&'static str> {
    let compact: Vec<u8> = bytes
        .iter()
        .take(256)
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    FOREIGN
        .iter()
        .find(|(start, _)| bytes.starts_with(start) || compact.starts_with(start))
        .map(|(_, what)| *what)
}

/// For text that is no format heapdiff reads (an error page, a message
/// saved in place of a profile): its first line, to show. Text here is
/// UTF-8 starting with a printable character, its first 256 bytes free of
/// control characters other than whitespace; a pprof message starts with
/// a newline byte and holds control bytes soon after.
fn text_first_line(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // A multi-byte character cut at the end of the window.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    let first = text.chars().next()?;
    let printable = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
    if first.is_whitespace() || first.is_control() || !text.chars().all(printable) {
        return None;
    }
    let line = text.lines().next().unwrap_or_default().trim_end();
    let mut shown: String = line.chars().take(80).collect();
    if shown.len() < line.len() {
        shown.push('…');
    }
    Some(shown)
}

/// What to say about UTF-16 text.
const UTF16: &str = "UTF-16 text: convert it to UTF-8 first (`iconv -f UTF-16 -t UTF-8 FILE`)";

/// Whether `bytes` look like UTF-16 text: a byte-order mark, or ASCII with
/// a zero byte after (or before) every character in its first 32 bytes.
fn is_utf16(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return true;
    }
    let head = &bytes[..bytes.len().min(32) & !1];
    let ascii_then_zero = |first: usize| {
        head.chunks(2)
            .all(|pair| pair[1 - first] == 0 && pair[first].is_ascii() && pair[first] != 0)
    };
    head.len() >= 8 && (ascii_then_zero(0) || ascii_then_zero(1))
}

/// Why an input that no decoder recognised cannot be read as it stands,
/// when it is a known container (zstd, bzip2, xz, zip, LZ4 other than
/// memray's) or UTF-16 text: an error naming it and the command that
/// converts it. `None` for anything else, which the caller tries as pprof.
pub(crate) fn needs_conversion(bytes: &[u8]) -> Option<Error> {
    if is_memray_lz4(bytes) {
        // A memray capture: [`sniff`] recognises it.
        return None;
    }
    if is_utf16(bytes) {
        return Some(Error::NeedsConversion(UTF16.to_owned()));
    }
    if let Some((_, message)) = CONTAINERS
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
    {
        return Some(Error::NeedsConversion((*message).to_owned()));
    }
    if let Some(what) = foreign(bytes) {
        return Some(Error::NeedsConversion(what.to_owned()));
    }
    if sniff(bytes).is_some() {
        // Text a decoder reads.
        return None;
    }
    text_first_line(bytes).map(|line| {
        Error::NeedsConversion(format!(
            "text, not a heap profile heapdiff knows; its first line reads {line:?}"
        ))
    })
}

/// Up to 16 leading bytes, escaped for an error message.
pub(crate) fn describe_start(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(16)];
    let mut out = String::from("\"");
    for &b in head {
        out.extend(std::ascii::escape_default(b).map(char::from));
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_heapdiff_does_not_read_are_named() {
        for (start, named) in [
            (
                &br#"{"snapshot":{"meta":{"node_fields":["type","name"]"#[..],
                "a V8 heap snapshot",
            ),
            (
                b"{\n  \"snapshot\": {\n    \"meta\": {",
                "a V8 heap snapshot",
            ),
            (
                br#"{"nodes":[{"id":1,"callFrame":{"functionName":"(root)""#,
                "a V8 CPU profile",
            ),
            (
                b"JAVA PROFILE 1.0.2\0\0\0\0\x08",
                "a Java heap dump (.hprof)",
            ),
            (b"--- heapz 1 ---\nformat = java\n", "a Java heapz dump"),
            (
                b"jemalloc profiling not enabled (opt.prof is false)\n",
                r#"text, not a heap profile heapdiff knows; its first line reads "jemalloc profiling not enabled (opt.prof is false)""#,
            ),
            (
                b"<html><body>404 page not found",
                r#"its first line reads "<html><body>404 page not found""#,
            ),
        ] {
            let e = needs_conversion(start)
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(named), "{start:?}: {e}");
        }
        // pprof starts with a newline byte, and control bytes follow.
        assert!(needs_conversion(b"\n\x04\x08\x01\x10\x02").is_none());
        assert!(needs_conversion(b"x\x01y").is_none());
    }

    #[test]
    fn recognises_each_signature() {
        let cases: &[(&[u8], Option<Format>)] = &[
            (
                b"heap_v2/524288\n  t*: 1: 2 [0: 0]\n",
                Some(Format::JemallocHeap),
            ),
            (
                b"heap profile:   3:   300 [   3:   300] @ heapprofile\n",
                Some(Format::GperftoolsHeap),
            ),
            (
                b"heap profile: 1: 2 [3: 4] @ heap_v2/524288\n",
                Some(Format::GperftoolsHeap),
            ),
            (
                b"heap profile: 24: 90624 [24: 90624] @ heap/1048576\n",
                Some(Format::GoHeapText),
            ),
            (b"\x80\x05\x95\x10\x00", Some(Format::Tracemalloc)),
            (b"\x80\x04\x95", Some(Format::Tracemalloc)),
            (
                b"{\"dhatFileVersion\":2,\"mode\":\"rust-heap\"}",
                Some(Format::Dhat),
            ),
            (b"memray\0\x01", Some(Format::Memray)),
            (
                b"\x04\x22\x4d\x18\x40\x40\xc0\x13\x09\x00\x00\xfa\x04memray\0",
                Some(Format::Memray),
            ),
            (b"\x04\x22\x4d\x18\x40\x40", None),
            (b"\xef\xbb\xbfmain;leak 100\n", Some(Format::Folded)),
            (b"\xef\xbb\xbf{\"dhatFileVersion\":2}", Some(Format::Dhat)),
            (b"\xef\xbb\xbfheap_v2/4096\n", Some(Format::JemallocHeap)),
            (b"\x0a\x04\x08\x01\x10\x02", None),
            (b"main;leak 100\n", Some(Format::Folded)),
            (
                b"allocator,num_allocations,size,tid,thread_name,stack_trace\r\n",
                Some(Format::MemrayCsv),
            ),
            (b"allocator,size\n", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(bytes), *want, "input {:?}", describe_start(bytes));
        }
    }

    #[test]
    fn containers_and_utf16_are_named_with_their_conversion() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"\x28\xb5\x2f\xfd\x04\x58",
                "zstd-compressed inside another compression",
            ),
            (
                b"BZh91AY&SY",
                "bzip2-compressed: decompress it first (`bunzip2",
            ),
            (
                b"\xfd7zXZ\x00\x00\x04",
                "xz-compressed: decompress it first (`xz -dk",
            ),
            (
                b"PK\x03\x04\x14\x00",
                "a zip archive: extract the profile first",
            ),
            (
                b"\x04\x22\x4d\x18\x64\x40\xa7",
                "LZ4-compressed: decompress it first",
            ),
            (b"\xff\xfeh\x00e\x00", "UTF-16 text: convert it to UTF-8"),
            (b"\xfe\xff\x00h\x00e", "UTF-16 text"),
            (
                "heap_v2/4096\n  t*: 1"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes)
                    .collect::<Vec<_>>()
                    .leak(),
                "UTF-16 text",
            ),
            (
                "main;leak 100\n"
                    .encode_utf16()
                    .flat_map(u16::to_be_bytes)
                    .collect::<Vec<_>>()
                    .leak(),
                "UTF-16 text",
            ),
            // Inflated once, and gzip still.
            (b"\x1f\x8b\x08\x00", "gzip-compressed twice"),
        ];
        for (bytes, want) in cases {
            let got = needs_conversion(bytes).map(|e| e.to_string());
            assert!(
                got.as_deref().is_some_and(|g| g.starts_with(want)),
                "{}: {got:?}",
                describe_start(bytes)
            );
        }
        let profiles: &[&[u8]] = &[
            b"\x0a\x04\x08\x01\x10\x02\x0a\x04\x08\x03\x10\x04",
            b"heap_v2/4096\n",
            b"\x80\x05\x95",
            b"\x04\x22\x4d\x18\x40\x40\xc0\x13\x09\x00\x00\xfa\x04memray\0",
        ];
        for bytes in profiles {
            assert!(
                needs_conversion(bytes).is_none(),
                "{}",
                describe_start(bytes)
            );
        }
    }

    #[test]
    fn the_memray_fixture_is_plausible_lz4() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/memray/tiny.bin"
        );
        assert_eq!(sniff(&std::fs::read(path).unwrap()), Some(Format::Memray));
    }

    #[test]
    fn gzip_magic() {
        assert!(is_gzip(&[0x1f, 0x8b, 8, 0]));
        assert!(!is_gzip(&[0x1f]));
        assert!(!is_gzip(b"heap"));
    }

    #[test]
    fn start_is_escaped() {
        assert_eq!(describe_start(b"ab\x00\n"), "\"ab\\x00\\n\"");
        assert_eq!(describe_start(&[b'x'; 40]).len(), 18);
    }
}
