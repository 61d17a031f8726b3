//! heaptrack captures (`heaptrack.<app>.<pid>.zst`, or `.gz`), as
//! `heaptrack_interpret` writes them: text lines, every number in hex.
//!
//! - `v VERSION FILE_VERSION`, `X command line`, `I page_size pages`.
//! - `s LEN STRING` (file version 3; the rest of the line before it): the
//!   string table, from 1.
//! - `i IP MODULE [FUNCTION FILE LINE]…`: an instruction pointer, from 1:
//!   its module's string and its frames, innermost first, the first the
//!   function the address is in and the rest those it was inlined into;
//!   none when it could not be symbolized, a function string 0 when only
//!   the file is known.
//! - `t IP PARENT`: a trace, from 1: an instruction pointer and the trace of
//!   its caller (0 for none), so a trace is a stack, leaf first.
//! - `a SIZE TRACE`: an allocation info, from 0.
//! - `+ INFO`, `- INFO`: an allocation and a deallocation of an info's
//!   size; `c TIME`, `R PAGES`, `#` comments, `S` suppressions, `A` attached.
//!
//! Four sample types, as `heaptrack_print` computes them per trace:
//! `leaked` (bytes still allocated at the end, the default), `peak` (bytes
//! the trace held when the whole heap first reached its largest),
//! `allocations` and `temporary` (allocations freed by the very next
//! event: heaptrack's rule, which also counts a `- 0` that follows a
//! deallocation, since it starts from info 0). Like `heaptrack_print`,
//! traces whose strings match a leak suppression (heaptrack's built-in
//! ones and the capture's `S leak:` lines) leak nothing, and an `operator
//! new` frame at the leaf is dropped. An address heaptrack could not name
//! is `?? (module)`: addresses differ between runs, and `heaptrack_print
//! -d` compares them by module, as this does.

use regex::Regex;
use rustc_hash::FxHashMap;

use crate::Format;
use crate::error::Error;
use crate::model::{Frame, FrameId, Profile, ProfileBuilder, StrId, ValueType};

/// The newest file version read.
const FILE_VERSION: u64 = 3;

/// The sample types, in order.
const SAMPLE_TYPES: [(&str, &str); 4] = [
    ("leaked", "bytes"),
    ("peak", "bytes"),
    ("allocations", "count"),
    ("temporary", "count"),
];

/// The leak suppressions built into heaptrack (1.4).
const BUILTIN_SUPPRESSIONS: &[&str] = &[
    "__nss_module_allocate",
    "__gconv_read_conf",
    "__new_exitfn",
    "tzset_internal",
    "dl_open_worker",
    "g_main_context_new",
    "g_thread_self",
];

/// The names heaptrack drops from the leaf of a trace.
const OPERATOR_NEW: &[&str] = &[
    "operator new(unsigned long)",
    "operator new[](unsigned long)",
    "operator new(unsigned int)",
    "operator new[](unsigned int)",
];

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid {
        format: Format::Heaptrack,
        message: message.into(),
    }
}

/// Whether `bytes` start like a heaptrack capture: a `v` line of hex
/// numbers, then the command line.
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    let mut lines = bytes.split(|&b| b == b'\n');
    let version = lines.next().unwrap_or_default();
    let Some(numbers) = version.strip_prefix(b"v ") else {
        return false;
    };
    !numbers.is_empty()
        && numbers.iter().all(|b| b.is_ascii_hexdigit() || *b == b' ')
        && lines.take(3).any(|l| l.starts_with(b"X "))
}

/// One instruction pointer: its module and its frames (a range of
/// [`Capture::frames`]).
struct Ip {
    module: usize,
    frames: std::ops::Range<usize>,
}

/// A frame: function, file, line (string indices from 1; 0 for none).
#[derive(Clone, Copy)]
struct IpFrame {
    function: usize,
    file: usize,
    line: u32,
}

/// Per trace, heaptrack's four costs.
#[derive(Clone, Copy, Default)]
struct Cost {
    leaked: i64,
    /// `leaked` at the heap's largest so far, once `peak_seen` is the
    /// number of times the heap grew past its largest; until then, `leaked`
    /// itself is (it has not changed since).
    peak: i64,
    peak_seen: u64,
    allocations: i64,
    temporary: i64,
}

impl Cost {
    /// Adds `bytes` (a negative number frees), after keeping the bytes
    /// held at the heap's largest (the `peaks`-th time it grew past it).
    fn hold(&mut self, bytes: i64, peaks: u64) {
        if self.peak_seen != peaks {
            self.peak = self.leaked;
            self.peak_seen = peaks;
        }
        self.leaked += bytes;
    }
}

/// What the first pass over the lines gathers.
#[derive(Default)]
struct Capture<'a> {
    version: u64,
    strings: Vec<&'a str>,
    ips: Vec<Ip>,
    frames: Vec<IpFrame>,
    /// Trace `n` (from 1) is `traces[n - 1]`: instruction pointer, parent.
    traces: Vec<(usize, usize)>,
    /// Info `n` (from 0): size, trace.
    infos: Vec<(i64, usize)>,
    /// Costs by trace (from 1; 0 unused).
    costs: Vec<Cost>,
    suppressions: Vec<String>,
    command: Option<&'a str>,
    /// How many times the heap grew past its largest.
    peaks: u64,
    unknown_lines: usize,
}

/// A line's fields after its mode letter.
struct Fields<'a> {
    rest: &'a [u8],
    line_no: usize,
}

impl Fields<'_> {
    /// The next hex number.
    fn hex(&mut self) -> Result<u64, Error> {
        self.maybe_hex()?
            .ok_or_else(|| invalid(format!("line {}: a number is missing", self.line_no)))
    }

    /// The next hex number, if any.
    fn maybe_hex(&mut self) -> Result<Option<u64>, Error> {
        let start = self.rest.iter().position(|&b| b != b' ');
        let Some(start) = start else {
            return Ok(None);
        };
        let word = &self.rest[start..];
        let end = word.iter().position(|&b| b == b' ').unwrap_or(word.len());
        let (word, rest) = word.split_at(end);
        self.rest = rest;
        let mut n = 0u64;
        for &b in word {
            let digit = (b as char).to_digit(16).filter(|_| n >> 60 == 0);
            let Some(digit) = digit else {
                return Err(invalid(format!(
                    "line {}: {:?} is not a hex number below 2^64",
                    self.line_no,
                    String::from_utf8_lossy(word)
                )));
            };
            n = n << 4 | u64::from(digit);
        }
        Ok(Some(n))
    }

    /// The next number as an index of at most `count` (from 1, 0 for none).
    fn index(&mut self, count: usize, what: &str) -> Result<usize, Error> {
        let n = self.hex()?;
        self.checked(n, count, what)
    }

    /// `n` as an index of at most `count` (from 1, 0 for none).
    fn checked(&self, n: u64, count: usize, what: &str) -> Result<usize, Error> {
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= count)
            .ok_or_else(|| {
                invalid(format!(
                    "line {}: {what} {n:#x} of {count:#x}",
                    self.line_no
                ))
            })
    }
}

/// Decodes a heaptrack capture.
pub(crate) fn decode(bytes: &[u8], limits: &crate::Limits) -> Result<Profile, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(format!("not UTF-8 text: {e}")))?;
    let mut capture = read_lines(text)?;
    for cost in &mut capture.costs {
        cost.hold(0, capture.peaks);
    }
    let suppressed = suppress(&mut capture)?;
    let mut b = ProfileBuilder::new(
        Format::Heaptrack,
        SAMPLE_TYPES
            .iter()
            .map(|&(name, unit)| ValueType::new(name, unit))
            .collect(),
    );
    b.set_limits(*limits);
    let h = b.header_mut();
    h.default_sample_type = Some("leaked".into());
    if let Some(command) = capture.command {
        h.comments.push(format!("heaptrack capture of {command}"));
    }
    if suppressed > 0 {
        b.warn(format!(
            "{suppressed} bytes leaked where heaptrack's leak suppressions match \
             (known leaks of system libraries) count as not leaked, as heaptrack_print counts them"
        ));
    }
    if capture.unknown_lines > 0 {
        b.warn(format!(
            "{} lines of kinds heapdiff does not know were skipped",
            capture.unknown_lines
        ));
    }
    push_samples(&mut b, &capture)?;
    Ok(b.finish())
}

/// Reads every line: strings, instruction pointers, traces, infos, and the
/// costs.
fn read_lines(text: &str) -> Result<Capture<'_>, Error> {
    let mut c = Capture {
        costs: vec![Cost::default()],
        ..Capture::default()
    };
    let mut op_new_strings = Vec::new();
    let mut op_new_ips: Vec<usize> = Vec::new();
    let (mut total, mut top) = (0i64, 0i64);
    let mut last_alloc = 0usize;
    let mut start = 0;
    for (i, end) in memchr::memchr_iter(b'\n', text.as_bytes()).enumerate() {
        let line_no = i + 1;
        // Whole lines of UTF-8 text, split at ASCII newlines.
        let line = &text[start..end];
        start = end + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let Some(mode) = line.chars().next() else {
            continue;
        };
        let mut f = Fields {
            rest: &line.as_bytes()[mode.len_utf8()..],
            line_no,
        };
        match mode {
            'v' => {
                f.hex()?;
                c.version = f.maybe_hex()?.unwrap_or(1);
                if c.version > FILE_VERSION {
                    return Err(invalid(format!(
                        "file version {} (heapdiff reads heaptrack's up to {FILE_VERSION})",
                        c.version
                    )));
                }
            }
            's' => {
                let s = string_of(line, c.version, line_no)?;
                if OPERATOR_NEW.contains(&s) {
                    op_new_strings.push(c.strings.len() + 1);
                }
                c.strings.push(s);
            }
            'i' => {
                f.hex()?; // the address
                let module = f.index(c.strings.len(), "module string")?;
                let start = c.frames.len();
                while let Some(function) = f.maybe_hex()? {
                    let function = f.checked(function, c.strings.len(), "function string")?;
                    // A frame cut short (`_start`, with no file) counts as
                    // heaptrack reads it: the first keeps its function, an
                    // inlined one is dropped.
                    let file = f.maybe_hex()?;
                    let line = f.maybe_hex()?;
                    let (file, line) = match (file, line) {
                        (Some(file), Some(line)) => (file, line),
                        _ if c.frames.len() > start => break,
                        _ => (0, 0),
                    };
                    let file = f.checked(file, c.strings.len(), "file string")?;
                    let line = u32::try_from(line).unwrap_or(0);
                    c.frames.push(IpFrame {
                        function,
                        file,
                        line,
                    });
                }
                if c.frames
                    .get(start)
                    .is_some_and(|fr| op_new_strings.contains(&fr.function))
                {
                    op_new_ips.push(c.ips.len() + 1);
                }
                c.ips.push(Ip {
                    module,
                    frames: start..c.frames.len(),
                });
            }
            't' => {
                let mut ip = f.index(c.ips.len(), "instruction pointer")?;
                let mut parent = f.index(c.traces.len(), "parent trace")?;
                // heaptrack skips operator new at the leaf.
                while op_new_ips.contains(&ip) && parent > 0 {
                    (ip, parent) = c.traces[parent - 1];
                }
                c.traces.push((ip, parent));
                c.costs.push(Cost::default());
            }
            'a' => {
                let size = i64::try_from(f.hex()?).map_err(|_| {
                    invalid(format!("line {line_no}: an allocation size past 2^63"))
                })?;
                let trace = f.index(c.traces.len(), "trace")?;
                c.infos.push((size, trace));
            }
            '+' | '-' => {
                let info = f.hex()?;
                let &(size, trace) = usize::try_from(info)
                    .ok()
                    .and_then(|i| c.infos.get(i))
                    .ok_or_else(|| {
                        invalid(format!(
                            "line {line_no}: allocation info {info:#x} of {:#x}",
                            c.infos.len()
                        ))
                    })?;
                let info = info as usize;
                let cost = &mut c.costs[trace];
                if mode == '+' {
                    cost.hold(size, c.peaks);
                    cost.allocations += 1;
                    total += size;
                    if total > top {
                        top = total;
                        c.peaks += 1;
                    }
                    last_alloc = info;
                } else {
                    cost.hold(-size, c.peaks);
                    total -= size;
                    if last_alloc == info {
                        cost.temporary += 1;
                    }
                    last_alloc = 0;
                }
            }
            'S' => {
                if let Some(pattern) = line[1..].trim().strip_prefix("leak:") {
                    c.suppressions.push(pattern.to_owned());
                }
            }
            'X' => c.command = Some(line[1..].trim()),
            'x' | 'm' => {
                return Err(invalid(
                    "a raw capture (heaptrack -r): interpret it first with \
                     `zstdcat FILE | /usr/lib/heaptrack/libexec/heaptrack_interpret | zstd > FILE.interpreted.zst`",
                ));
            }
            'c' | 'R' | 'I' | 'A' | '#' => {}
            _ => c.unknown_lines += 1,
        }
    }
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(invalid("the last line has no newline (a cut file?)"));
    }
    Ok(c)
}

/// The string of an `s` line: sized in file version 3, the rest of the
/// line before.
fn string_of(line: &str, version: u64, line_no: usize) -> Result<&str, Error> {
    let rest = line.get(2..).unwrap_or_default();
    if version < 3 {
        return Ok(rest);
    }
    let (len, s) = rest.split_once(' ').unwrap_or((rest, ""));
    let len = usize::from_str_radix(len, 16)
        .map_err(|_| invalid(format!("line {line_no}: string length {len:?}")))?;
    if s.len() != len {
        return Err(invalid(format!(
            "line {line_no}: a string of {len} bytes has {}",
            s.len()
        )));
    }
    Ok(s)
}

/// Zeroes the leaks of traces a suppression matches; returns the bytes
/// zeroed.
fn suppress(c: &mut Capture<'_>) -> Result<i64, Error> {
    let patterns: Vec<Regex> = BUILTIN_SUPPRESSIONS
        .iter()
        .map(|s| s.to_string())
        .chain(c.suppressions.iter().cloned())
        .map(|p| suppression_regex(&p))
        .collect::<Result<_, _>>()?;
    let matches = |s: usize| s > 0 && patterns.iter().any(|p| p.is_match(c.strings[s - 1]));
    let ip_matches: Vec<bool> = c
        .ips
        .iter()
        .map(|ip| {
            matches(ip.module)
                || c.frames[ip.frames.clone()]
                    .iter()
                    .any(|f| matches(f.function) || matches(f.file))
        })
        .collect();
    // A trace is suppressed when it or a caller is; parents come first.
    let mut suppressed = vec![false; c.traces.len() + 1];
    for (i, &(ip, parent)) in c.traces.iter().enumerate() {
        suppressed[i + 1] = suppressed[parent] || (ip > 0 && ip_matches[ip - 1]);
    }
    let mut total = 0;
    for (cost, &off) in c.costs.iter_mut().zip(&suppressed) {
        if off {
            total += cost.leaked;
            cost.leaked = 0;
        }
    }
    Ok(total)
}

/// A suppression pattern as heaptrack (after LeakSanitizer) matches it:
/// anywhere in the string, `*` any text, `^` and `$` anchoring it.
fn suppression_regex(pattern: &str) -> Result<Regex, Error> {
    let (start, rest) = match pattern.strip_prefix('^') {
        Some(rest) => ("^", rest),
        None => ("", pattern),
    };
    let (rest, end) = match rest.strip_suffix('$') {
        Some(rest) => (rest, "$"),
        None => (rest, ""),
    };
    let body: Vec<String> = rest.split('*').map(regex::escape).collect();
    Regex::new(&format!("{start}{}{end}", body.join(".*")))
        .map_err(|e| invalid(format!("suppression {pattern:?}: {e}")))
}

/// One sample per trace with a cost.
fn push_samples(b: &mut ProfileBuilder, c: &Capture<'_>) -> Result<(), Error> {
    let mut ip_frames: FxHashMap<usize, Vec<FrameId>> = FxHashMap::default();
    let mut stack = Vec::new();
    for (trace, cost) in c.costs.iter().enumerate().skip(1) {
        let values = [cost.leaked, cost.peak, cost.allocations, cost.temporary];
        if values == [0; 4] {
            continue;
        }
        stack.clear();
        let mut at = trace;
        while at > 0 {
            let (ip, parent) = c.traces[at - 1];
            if ip > 0 {
                let frames = ip_frames
                    .entry(ip)
                    .or_insert_with(|| frames_of(b, c, &c.ips[ip - 1]));
                stack.extend_from_slice(frames);
            }
            at = parent;
        }
        b.push_sample(&stack, &values)?;
    }
    Ok(())
}

/// The frames of an instruction pointer, innermost first.
fn frames_of(b: &mut ProfileBuilder, c: &Capture<'_>, ip: &Ip) -> Vec<FrameId> {
    let string = |b: &mut ProfileBuilder, s: usize| match s {
        0 => StrId::EMPTY,
        s => b.intern(c.strings[s - 1]),
    };
    let module = || {
        let path = ip.module.checked_sub(1).map_or("", |m| c.strings[m]);
        let base = path.rsplit('/').next().unwrap_or(path);
        format!("?? ({base})")
    };
    let frames = &c.frames[ip.frames.clone()];
    if frames.is_empty() {
        let function = b.intern(&module());
        return vec![b.frame(Frame::symbolized(function, StrId::EMPTY, 0))];
    }
    frames
        .iter()
        .map(|f| {
            let function = match f.function {
                0 => b.intern(&module()),
                s => string(b, s),
            };
            let file = string(b, f.file);
            b.frame(Frame::symbolized(function, file, f.line))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capture of two traces under `main`: `leak` keeps 100 bytes, `tmp`
    /// frees at once, and an inlined frame and an unnamed address.
    const CAPTURE: &str = "v 10400 3
X ./app
s 5 ./app
s 4 main
s 6 main.c
s 4 leak
s 3 tmp
s 6 inline
s 9 libc.so.6
i 1000 1 2 3 a
t 1 0
i 1010 1 4 3 14 6 3 15
t 2 1
i 2000 7
t 3 2
a 64 2
a 10 3
+ 0
+ 1
- 1
+ 0
- 0
c 5
";

    fn rows(p: &Profile, t: usize) -> Vec<(Vec<String>, i64)> {
        p.samples()
            .filter(|s| s.values[t] != 0)
            .map(|s| {
                let names = s.stack.iter().map(|f| p.frame_name(p.frame(f))).collect();
                (names, s.values[t])
            })
            .collect()
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_four_costs_of_each_trace_as_heaptrack_print_counts_them() {
        assert!(looks_like(CAPTURE.as_bytes()));
        let p = decode(CAPTURE.as_bytes(), &crate::Limits::default()).unwrap();
        let leak = names(&["leak", "inline", "main"]);
        let tmp = names(&["?? (libc.so.6)", "leak", "inline", "main"]);
        assert_eq!(rows(&p, 0), [(leak.clone(), 100)]);
        // The heap first reached its largest (200) at the second `+ 0`.
        assert_eq!(rows(&p, 1), [(leak.clone(), 200)]);
        assert_eq!(rows(&p, 2), [(leak.clone(), 2), (tmp.clone(), 1)]);
        // `- 1` follows its `+ 1`; `- 0` follows `+ 0`.
        assert_eq!(rows(&p, 3), [(leak, 1), (tmp, 1)]);
        let f = p
            .frames()
            .iter()
            .find(|f| p.str(f.function) == "inline")
            .unwrap();
        assert_eq!((p.str(f.file), f.line), ("main.c", 0x15));
    }

    #[test]
    fn suppressions_match_anywhere_with_wildcards_and_anchors() {
        let r = |p: &str| suppression_regex(p).unwrap();
        assert!(r("tzset_internal").is_match("__tzset_internal_x"));
        assert!(r("^foo*bar$").is_match("foo::x::bar"));
        assert!(!r("^foo*bar$").is_match("xfoo::bar"));
        assert!(r("a.b").is_match("a.b") && !r("a.b").is_match("axb"));
        let with = CAPTURE.replace("X ./app\n", "X ./app\nS leak:inl*ne\n");
        let p = decode(with.as_bytes(), &crate::Limits::default()).unwrap();
        assert!(rows(&p, 0).is_empty(), "{:?}", rows(&p, 0));
        assert!(
            p.warnings[0].starts_with("100 bytes leaked where"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn bad_indices_cut_files_and_raw_captures_are_refused() {
        let err = |text: &str| {
            decode(text.as_bytes(), &crate::Limits::default())
                .unwrap_err()
                .to_string()
        };
        let e = err(&CAPTURE.replace("t 2 1", "t 2 9"));
        assert!(e.contains("line 13: parent trace 0x9 of 0x1"), "{e}");
        let e = err(&CAPTURE.replace("+ 1", "+ 7"));
        assert!(e.contains("allocation info 0x7 of 0x2"), "{e}");
        let e = err(&CAPTURE.replace("s 4 leak", "s 9 leak"));
        assert!(e.contains("a string of 9 bytes has 4"), "{e}");
        let e = err(CAPTURE.trim_end());
        assert!(e.contains("no newline (a cut file?)"), "{e}");
        let e = err("v 10400 3\nX ./app\nm 1 -\n");
        assert!(e.contains("a raw capture (heaptrack -r)"), "{e}");
        let e = err("v 10400 9\nX ./app\n");
        assert!(e.contains("file version 9"), "{e}");
    }
}
