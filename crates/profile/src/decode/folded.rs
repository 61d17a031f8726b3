//! Folded stacks: one line per stack, frames root first and separated by
//! `;`, then whitespace and a count (`main;serve;copy_headers 4096`).
//!
//! Written by `jeprof --collapsed`, `heaptrack_print -F`, async-profiler's
//! collapsed output, inferno's and FlameGraph's collapsers. The format has
//! no header and no unit: `--unit` says what the counts are (bytes unless
//! told otherwise). A frame is kept as written, except that a trailing
//! `file:line` token (`copy_header leak.c:16`) is read as the frame's file and
//! line, so that `--by line` and `--by file` work on files that carry them.
//!
//! **Cut files.** The format has no header and no trailer: the only sign of
//! a cut is a last line without its newline (`main;a 100\nmain;b 2`, whose
//! `2` may have been `200`), warned about even in a one-line file (every
//! producer ends its lines; a cut in the first line leaves one line), or an
//! error when that line does not parse.
//!
//! **Negative counts.** Folded stacks count what was allocated; a negative
//! count (a differential file, or a damaged one) is kept as written with
//! one warning naming its line.

use std::io::Read;

use crate::Format;
use crate::decode::lines::{CutSigns, LineReader};
use crate::error::Error;
use crate::model::{Frame, FrameId, Profile, ProfileBuilder, StrId, ValueType};

/// The sample type for a `--unit`: bytes and counts get pprof's heap names,
/// so that the default selection rule and the count partner apply.
pub(crate) fn sample_type(unit: &str) -> ValueType {
    match unit {
        "bytes" | "byte" | "B" => ValueType::new("inuse_space", "bytes"),
        "count" | "objects" | "blocks" | "allocations" => ValueType::new("inuse_objects", "count"),
        other => ValueType::new(other, other),
    }
}

/// Whether a line has the shape `STACK COUNT`.
fn count_of(line: &str) -> Option<(&str, i64)> {
    let line = line.trim_end();
    let split = line.rfind([' ', '\t'])?;
    let (stack, count) = (line[..split].trim_end(), &line[split + 1..]);
    if stack.is_empty() {
        return None;
    }
    Some((stack, count.parse().ok()?))
}

/// Whether the start of `bytes` looks like folded stacks: text whose first
/// lines (up to 64 KiB: a deep stack is a long line) all have the shape `STACK COUNT`, or at least half
/// of them do and frames are `;`-separated. A folded file with a bad line
/// near its start is then still read as folded, so that the error names
/// that line (rather than the protobuf decoder failing on text).
pub(crate) fn looks_folded(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 << 10)];
    // Only whole lines: the last one may be cut by the window.
    let head = match head.len() < bytes.len() {
        true => match head.iter().rposition(|&b| b == b'\n') {
            Some(end) => &head[..end],
            None => return false,
        },
        false => head,
    };
    let Ok(text) = std::str::from_utf8(head) else {
        return false;
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return false;
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let shaped = lines.iter().filter(|l| count_of(l).is_some()).count();
    let framed = lines.iter().any(|l| l.contains(';'));
    !lines.is_empty() && (shaped == lines.len() || (framed && 2 * shaped >= lines.len()))
}

/// Splits `name file:line` into its parts when the last token is a
/// `file:line`; otherwise the whole frame is the name.
fn split_frame(frame: &str) -> (&str, &str, u32) {
    if let Some((name, location)) = frame.rsplit_once(' ')
        && let Some((file, line)) = location.rsplit_once(':')
        && !name.trim().is_empty()
        && !file.is_empty()
        && let Ok(line) = line.parse::<u32>()
    {
        return (name.trim_end(), file, line);
    }
    (frame, "", 0)
}

/// Decodes folded stacks held in a string, whose counts are in `unit`.
#[cfg(test)]
pub(crate) fn decode(text: &str, unit: &str, limits: &crate::Limits) -> Result<Profile, Error> {
    decode_lines(&mut LineReader::of_str(text), unit, limits)
}

/// Decodes folded stacks, line by line, whose counts are in `unit`.
pub(crate) fn decode_lines(
    lines: &mut LineReader<impl Read>,
    unit: &str,
    limits: &crate::Limits,
) -> Result<Profile, Error> {
    read(lines, unit, limits).map_err(|e| lines.explain_cut(e))
}

fn read(
    lines: &mut LineReader<impl Read>,
    unit: &str,
    limits: &crate::Limits,
) -> Result<Profile, Error> {
    let mut b = ProfileBuilder::new(Format::Folded, vec![sample_type(unit)]);
    b.set_limits(*limits);
    let mut frames: rustc_hash::FxHashMap<Box<str>, FrameId> = Default::default();
    let mut stack: Vec<FrameId> = Vec::new();
    let mut samples = 0usize;
    let mut first_negative = None;
    // Frames that are bare addresses, in stacks that count something.
    let mut raw: (usize, Option<String>) = (0, None);
    let mut raw_seen: rustc_hash::FxHashSet<FrameId> = Default::default();
    // heaptrack_print -F ends every stack with `;`, and no other producer.
    let mut heaptrack = true;
    while let Some((n, line)) = lines.next_line()? {
        if line.trim().is_empty() {
            continue;
        }
        let Some((folded, count)) = count_of(&line) else {
            let shown: String = line.chars().take(60).collect();
            return Err(Error::Text {
                line: n,
                message: format!("expected `frame;frame;… COUNT`, found {shown:?}"),
            });
        };
        if let Some((_, last)) = folded.rsplit_once([' ', '\t'])
            && last.parse::<i64>().is_ok()
        {
            return Err(Error::Text {
                line: n,
                message: "two counts on one line: a differential folded file (difffolded.pl)? \
                          give heapdiff each side's own folded file"
                    .into(),
            });
        }
        stack.clear();
        heaptrack &= folded.ends_with(';');
        // heaptrack ends every stack with `;`: empty frames are skipped.
        for name in folded.split(';').rev().filter(|f| !f.is_empty()) {
            let id = match frames.get(name) {
                Some(&id) => id,
                None => {
                    let (function, file, line) = split_frame(name);
                    let function = b.intern(function);
                    let file: StrId = b.intern(file);
                    let id = b.frame(Frame::symbolized(function, file, line));
                    frames.insert(name.into(), id);
                    id
                }
            };
            stack.push(id);
            if count != 0 && is_address(name) && raw_seen.insert(id) {
                raw.0 += 1;
                raw.1.get_or_insert_with(|| name.to_owned());
            }
        }
        b.push_sample(&stack, &[count])?;
        samples += 1;
        if count < 0 {
            first_negative.get_or_insert(n);
        }
    }
    if samples == 0 {
        return Err(Error::Invalid {
            format: Format::Folded,
            message: "no stacks".into(),
        });
    }
    if let Some(line) = first_negative {
        b.warn(format!(
            "negative counts (first on line {line}): folded stacks count what was allocated \
             (a differential file?); kept as written"
        ));
    }
    if let (n, Some(example)) = raw {
        b.warn(format!(
            "{n} frame{} {} raw addresses (first: {example}): addresses differ between runs, so \
             the same code can show as different rows; fold symbolized stacks (with the binary's \
             debug info at hand: heaptrack_print, jeprof --collapsed BINARY)",
            if n == 1 { "" } else { "s" },
            if n == 1 { "is a" } else { "are" },
        ));
    }
    if heaptrack {
        b.warn(format!(
            "heaptrack_print -F stacks: each count is the cost its --flamegraph-cost-type named \
             (allocations, a count, unless leaked, peak or temporary was asked for), read here \
             as {unit} (--unit says otherwise); heapdiff reads heaptrack's captures (.zst) \
             themselves, with all four costs"
        ));
    }
    let mut cut = CutSigns::default();
    cut.check_last_line(lines);
    if let Some(warning) = cut.warning() {
        b.warn(warning);
    }
    Ok(b.finish())
}

/// Whether a folded frame is a bare address (`0x7f76eb0a57b9`, perhaps
/// with a file or module after it).
fn is_address(frame: &str) -> bool {
    let word = frame.split(' ').next().unwrap_or("");
    word.strip_prefix("0x")
        .is_some_and(|hex| !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoder with the default limits.
    fn decode(text: &str, unit: &str) -> Result<Profile, Error> {
        super::decode(text, unit, &crate::Limits::default())
    }

    fn names(p: &Profile) -> Vec<(String, i64)> {
        p.samples()
            .map(|s| {
                let names: Vec<String> = s
                    .stack
                    .iter()
                    .map(|f| {
                        let f = p.frame(f);
                        match f.line {
                            0 => p.str(f.function).to_owned(),
                            n => format!("{}@{}:{n}", p.str(f.function), p.str(f.file)),
                        }
                    })
                    .collect();
                (names.join(","), s.values[0])
            })
            .collect()
    }

    #[test]
    fn stacks_are_root_first_and_come_back_leaf_first() {
        let p = decode(
            "main;serve;copy 4096\nmain;idle 10\n\nmain;serve;copy 1\n",
            "bytes",
        )
        .unwrap();
        assert_eq!(
            names(&p),
            [
                ("copy,serve,main".to_owned(), 4096),
                ("idle,main".to_owned(), 10),
                ("copy,serve,main".to_owned(), 1)
            ]
        );
        assert_eq!(
            p.header.sample_types[0],
            ValueType::new("inuse_space", "bytes")
        );
        assert_eq!(p.frames().len(), 4, "frames are interned");
    }

    #[test]
    fn file_and_line_are_read_from_a_trailing_token() {
        let p = decode(
            "main leak.c:40;copy_header leak.c:16 64\nstd::vector<int>::push_back(int const&) 3\nns::f a:b 1\n",
            "count",
        )
        .unwrap();
        assert_eq!(
            names(&p),
            [
                ("copy_header@leak.c:16,main@leak.c:40".to_owned(), 64),
                ("std::vector<int>::push_back(int const&)".to_owned(), 3),
                ("ns::f a:b".to_owned(), 1)
            ]
        );
        assert_eq!(p.header.sample_types[0].name, "inuse_objects");
    }

    #[test]
    fn units_name_the_sample_type() {
        assert_eq!(sample_type("objects").unit, "count");
        assert_eq!(sample_type("samples"), ValueType::new("samples", "samples"));
    }

    #[test]
    fn recognised_by_shape() {
        assert!(looks_folded(b"main;leak 100\n"));
        assert!(looks_folded(b"a 1\r\n\r\nb;c\t-2\n"));
        assert!(looks_folded(b"java.lang.Thread.run_[j];Foo.bar_[i] 7"));
        assert!(!looks_folded(b"main;leak\n"));
        assert!(!looks_folded(b"hello world\n"));
        assert!(!looks_folded(b" 100\n"));
        assert!(!looks_folded(b"\n\n"));
        assert!(!looks_folded(b"\x0a\x04a 1\x12\n"));
        // Mostly folded, with `;` frames: its errors are folded errors.
        assert!(looks_folded(b"main;a 1\nmain;b 2\nmain;c\n"));
        assert!(looks_folded(b"main;a 1\nmain;b 2x\n"));
        assert!(!looks_folded(b"a 1\nhello\n"), "no frames to go by");
        assert!(!looks_folded(b"main;a 1\nx\ny\n"), "mostly not");
        // A long file is judged by its whole first lines.
        let mut long = b"main;f 1\n".repeat(1000);
        long.extend(b"oops\n");
        assert!(looks_folded(&long), "only the first 4 KiB are looked at");
    }

    #[test]
    fn a_cut_last_line_is_a_warning_or_an_error() {
        let p = decode("main;a 100\nmain;b 2", "bytes").unwrap();
        assert_eq!(
            p.warnings,
            ["truncated? the last line (2) ends without a newline"]
        );
        let err = decode("main;a 100\nmain;b", "bytes").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: expected `frame;frame;… COUNT`, found \"main;b\" \
             (the last line, without a newline: truncated?)"
        );
        let one_line = decode("main;a 10", "bytes").unwrap();
        assert_eq!(
            one_line.warnings,
            ["truncated? the last line (1) ends without a newline"]
        );
        let whole = decode("main;a 100\nmain;b 2\n", "bytes").unwrap();
        assert!(whole.warnings.is_empty(), "{:?}", whole.warnings);
    }

    #[test]
    fn raw_addresses_that_count_are_one_warning() {
        let p = decode(
            "main;0x7f76eb0a57b9 3\nmain;0x7f76eb0a57c0 (libc.so.6) 4\nmain;leak 5\n",
            "bytes",
        )
        .unwrap();
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].starts_with("2 frames are raw addresses (first: 0x7f76eb0a57b9)"));
        // heaptrack's zero-count lines, and names that only start like hex, say nothing.
        let p = decode("main;0x7f76eb0a57b9 0\nmain;0xcafe_handler 5\n", "bytes").unwrap();
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn negative_counts_are_one_warning() {
        let p = decode("main;a 1\nmain;b -2\nmain;c -3\n", "bytes").unwrap();
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(
            p.warnings[0].starts_with("negative counts (first on line 2)"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn a_line_without_a_count_says_where() {
        let err = decode("main;a 1\nmain;b\n", "bytes").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: expected `frame;frame;… COUNT`, found \"main;b\""
        );
        let err = decode("main;a 10 12\n", "bytes").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 1: two counts on one line: a differential folded file"),
            "{err}"
        );
        let err = decode("\n\n", "bytes").unwrap_err();
        assert_eq!(err.to_string(), "folded stacks: no stacks");
    }
}
