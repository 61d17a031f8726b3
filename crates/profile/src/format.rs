//! Recognising a profile's format from its first bytes.
//!
//! Text formats announce themselves in their first line; pprof does not (a
//! protobuf has no magic number), so pprof is what remains when nothing else
//! matched. gzip is a wrapper, not a format: [`crate::decode`] unwraps it first
//! and sniffs what is inside.

use std::fmt;

/// The input formats heapdiff recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// pprof `profile.proto` (Go, jemalloc_pprof, pprof-rs, …).
    Pprof,
    /// jemalloc `heap_v2/N` profile dump.
    JemallocHeap,
    /// gperftools / tcmalloc `heap profile:` dump.
    GperftoolsHeap,
    /// Go `debug=1` text heap profile (`heap profile: … @ heap/N`).
    GoHeapText,
    /// Python `tracemalloc.Snapshot.dump()` pickle.
    Tracemalloc,
    /// dhat / dhat-rs JSON.
    Dhat,
    /// memray binary capture.
    Memray,
    /// memray `transform csv` output.
    MemrayCsv,
    /// Folded stacks (`a;b;c 123` per line).
    Folded,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Pprof => "pprof protobuf",
            Format::JemallocHeap => "jemalloc heap_v2 dump",
            Format::GperftoolsHeap => "gperftools heap profile",
            Format::GoHeapText => "Go debug=1 text heap profile",
            Format::Tracemalloc => "tracemalloc snapshot (pickle)",
            Format::Dhat => "dhat JSON",
            Format::Memray => "memray capture",
            Format::MemrayCsv => "memray CSV",
            Format::Folded => "folded stacks",
        })
    }
}

/// Whether `bytes` start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Recognises a (decompressed) input by its first bytes. Returns `None` when
/// no text or pickle signature matches; the caller then tries pprof.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(b"memray\0") || bytes.starts_with(b"memray") {
        return Some(Format::Memray);
    }
    // An LZ4 frame: memray's default (compressed) capture.
    if bytes.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
        return Some(Format::Memray);
    }
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
    if line.starts_with(crate::memray::HEADER) {
        return Some(Format::MemrayCsv);
    }
    if crate::folded::looks_folded(bytes) {
        return Some(Format::Folded);
    }
    None
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
            (b"\x04\x22\x4d\x18\x40\x40", Some(Format::Memray)),
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
