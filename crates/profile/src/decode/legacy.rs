//! The legacy text heap formats: jemalloc `heap_v2/N` dumps, gperftools and
//! tcmalloc `heap profile:` dumps, and Go's `debug=1` text heap profile.
//!
//! All three list stacks as raw return addresses, leaf first, followed by a
//! copy of `/proc/<pid>/maps` after `MAPPED_LIBRARIES:` (Go's text instead
//! names every frame on `#` lines). Every one becomes the same four sample
//! types, `alloc_objects`, `alloc_space`, `inuse_objects`, `inuse_space`
//! (pprof's order, so that the default rule picks `inuse_space`).
//!
//! **Return addresses.** A stack holds the address *after* each call, the
//! first one included (jemalloc's stacks start inside jemalloc, gperftools'
//! at malloc's caller). Every address is moved back by one byte so that it
//! falls inside the call instruction and symbolizes to the calling line, as
//! Go's pprof does. (`jeprof` and gperftools' `pprof` leave the first
//! address alone, which for gperftools names the line *after* the
//! allocating call when the compiler starts a new line there.)
//!
//! **Sampling.** jemalloc and tcmalloc `heap_v2` values are raw samples; the
//! profile says so with [`Sampling`] and the differ scales them, summing in
//! floating point as `jeprof` does. Go's text values are scaled here, each
//! sample truncated to an integer, which is what Go's runtime does when it
//! writes the same profile as protobuf.
//!
//! **Cut files.** A dump cut short still parses up to the cut, so each is
//! checked for the signs its producer leaves (one `truncated? …` warning):
//! gperftools, tcmalloc and Go write header totals that equal the sum of
//! the rows exactly (in use and allocated), and end with a trailer
//! (`MAPPED_LIBRARIES:`, or Go's `# runtime.MemStats`); jemalloc ends with
//! `MAPPED_LIBRARIES:` too, but its header totals are counted before
//! jemalloc 5.3's unbiasing and differ from its stacks' sum in real dumps,
//! so they are not compared. A last line without its newline is a sign in
//! every one (and an error about it says so).
//!
//! **Negative values.** No producer writes one (jemalloc prints unsigned
//! counters, gperftools and Go counts that only grow or shrink to zero); a
//! dump that has them was edited or damaged. It is decoded as written, with
//! one warning naming the first line that has one: refusing would hide the
//! rest of a profile that may still be worth reading.

use std::io::Read;

use rustc_hash::FxHashMap;

use crate::Format;
use crate::decode::lines::{CutSigns, LineReader};
use crate::error::Error;
use crate::model::{
    Frame, FrameId, Mapping, MappingId, Profile, ProfileBuilder, Sampling, ValueType,
};

/// Options for formats that hold more than one view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// jemalloc dumps: read this thread's rows (`tN:`) instead of the whole
    /// process's (`t*:`).
    pub jemalloc_thread: Option<u32>,
    /// Folded stacks: the unit of the counts (`bytes` when `None`; `count`,
    /// `objects` or any other name).
    pub unit: Option<String>,
    /// The largest input accepted, in bytes after decompression
    /// ([`crate::DEFAULT_MAX_INPUT`] when `None`).
    pub max_input: Option<u64>,
    /// Bounds on samples, frames, stack depth and names.
    pub limits: crate::Limits,
    /// The memory the decoders may grow into, with every other use of the
    /// run's memory.
    pub budget: crate::Budget,
    /// Files of several snapshots (massif): which one (`FILE#N` sets it;
    /// `None`: the peak, else the last).
    pub snapshot: Option<u32>,
}

/// The four sample types of every heap format, in pprof's order.
fn heap_types() -> Vec<ValueType> {
    vec![
        ValueType::new("alloc_objects", "count"),
        ValueType::new("alloc_space", "bytes"),
        ValueType::new("inuse_objects", "count"),
        ValueType::new("inuse_space", "bytes"),
    ]
}

/// `(alloc_objects, alloc_space)` and `(inuse_objects, inuse_space)`.
const PAIRS: [(usize, usize); 2] = [(0, 1), (2, 3)];

/// `<objs>: <bytes> [<alloc objs>: <alloc bytes>]` as the four values in
/// sample-type order.
fn parse_counts(s: &str) -> Option<[i64; 4]> {
    let (inuse, rest) = s.split_once('[')?;
    let alloc = rest.trim_end().strip_suffix(']')?;
    let pair = |p: &str| -> Option<(i64, i64)> {
        let (n, b) = p.split_once(':')?;
        Some((n.trim().parse().ok()?, b.trim().parse().ok()?))
    };
    let (n, b) = pair(inuse)?;
    let (an, ab) = pair(alloc)?;
    Some([an, ab, n, b])
}

/// Four values as the dumps write them: `objs: bytes [aobjs: abytes]`.
fn show_counts(v: [i64; 4]) -> String {
    format!("{}: {} [{}: {}]", v[2], v[3], v[0], v[1])
}

/// The first line with a negative value, for one warning per profile.
#[derive(Default)]
struct FirstNegative(Option<usize>);

impl FirstNegative {
    fn check(&mut self, values: &[i64], line: usize) {
        if self.0.is_none() && values.iter().any(|&v| v < 0) {
            self.0 = Some(line);
        }
    }

    /// The warning, if a value was negative, for a dump of `format`.
    fn warning(&self, format: Format) -> Option<String> {
        self.0.map(|line| {
            format!(
                "negative counts or sizes (first on line {line}): a {format} never has them \
                 (edited or damaged?); kept as written"
            )
        })
    }
}

/// Records each warning there is.
fn warn_all(b: &mut ProfileBuilder, warnings: impl IntoIterator<Item = Option<String>>) {
    for warning in warnings.into_iter().flatten() {
        b.warn(warning);
    }
}

/// The end of the rows of a dump: the `MAPPED_LIBRARIES:` copy of the
/// maps, which jemalloc and gperftools always write.
const MAPS_TRAILER_MISSING: &str = "the dump ends without its `MAPPED_LIBRARIES:` section";

fn parse_address(s: &str) -> Option<u64> {
    parse_hex(s.as_bytes())
}

/// The value of each hexadecimal digit; `NOT_HEX` for other bytes.
const HEX: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut c = 0;
    while c < 10 {
        t[b'0' as usize + c] = c as u8;
        c += 1;
    }
    let mut c = 0;
    while c < 6 {
        t[b'a' as usize + c] = 10 + c as u8;
        t[b'A' as usize + c] = 10 + c as u8;
        c += 1;
    }
    t
};
const NOT_HEX: u8 = 0xff;

/// A hexadecimal number with an optional `0x`: what `u64::from_str_radix`
/// accepts after the prefix (a leading `+`, any number of leading zeros, at
/// most 16 significant digits), a table lookup per digit.
fn parse_hex(s: &[u8]) -> Option<u64> {
    let s = match s {
        [b'0', b'x' | b'X', rest @ ..] => rest,
        _ => s,
    };
    let s = s.strip_prefix(b"+").unwrap_or(s);
    if s.is_empty() {
        return None;
    }
    let mut value = 0u64;
    let mut significant = 0;
    for &c in s {
        let d = HEX[c as usize];
        if d == NOT_HEX {
            return None;
        }
        significant += usize::from(value != 0 || d != 0);
        value = value << 4 | u64::from(d);
    }
    (significant <= 16).then_some(value)
}

/// The whitespace-separated hexadecimal addresses of `s`, into `out`
/// (cleared first).
fn parse_addresses_into(s: &str, line: usize, out: &mut Vec<u64>) -> Result<(), Error> {
    out.clear();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // What every producer writes, `0x` and up to 16 digits, in one pass.
        if b[i] == b'0' && b.get(i + 1) == Some(&b'x') {
            let mut j = i + 2;
            let mut value = 0u64;
            while let Some(&c) = b.get(j) {
                let d = HEX[c as usize];
                if d == NOT_HEX {
                    break;
                }
                value = value << 4 | u64::from(d);
                j += 1;
            }
            if (1..=16).contains(&(j - i - 2)) && b.get(j).is_none_or(u8::is_ascii_whitespace) {
                out.push(value);
                i = j;
                continue;
            }
        }
        let end = b[i..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(b.len(), |e| i + e);
        let token = &b[i..end];
        out.push(parse_hex(token).ok_or_else(|| Error::Text {
            line,
            message: format!(
                "expected a hexadecimal address, found {:?}",
                String::from_utf8_lossy(token)
            ),
        })?);
        i = end;
    }
    Ok(())
}

/// Moves every return address back into its call instruction.
fn adjust_return_addresses(addrs: &mut [u64]) {
    for a in addrs.iter_mut() {
        *a = a.saturating_sub(1);
    }
}

fn text_error(line: usize, message: impl Into<String>) -> Error {
    Error::Text {
        line,
        message: message.into(),
    }
}

/// Stacks of raw addresses, collected before the maps (which come last).
#[derive(Default)]
struct RawSamples {
    addrs: Vec<u64>,
    ends: Vec<usize>,
    values: Vec<[i64; 4]>,
}

impl RawSamples {
    fn push(&mut self, addrs: &[u64], values: [i64; 4]) {
        self.addrs.extend_from_slice(addrs);
        self.ends.push(self.addrs.len());
        self.values.push(values);
    }

    /// Turns addresses into frames against the maps and fills the profile.
    fn into_profile(self, mut b: ProfileBuilder, maps: &Maps) -> Result<Profile, Error> {
        let mut frames: FxHashMap<u64, FrameId> = FxHashMap::default();
        b.reserve(self.ends.len(), self.addrs.len());
        let mut start = 0;
        for (end, values) in self.ends.iter().zip(&self.values) {
            let addrs = &self.addrs[start..*end];
            start = *end;
            let mut stack = Vec::with_capacity(addrs.len());
            for &a in addrs {
                let id = *frames
                    .entry(a)
                    .or_insert_with(|| b.frame(Frame::unsymbolized(a, maps.find(a))));
                stack.push(id);
            }
            b.push_sample(&stack, values)?;
        }
        Ok(b.finish())
    }
}

/// The executable entries of a `/proc/<pid>/maps` copy.
pub(crate) struct Maps {
    /// `(start, end, mapping)`, sorted by start.
    ranges: Vec<(u64, u64, MappingId)>,
}

impl Maps {
    /// Parses the rest of `lines` as maps lines: `/proc/<pid>/maps` copies
    /// (`start-end perms offset dev inode path`) and the brief form of
    /// google/pprof's legacy dumps (`start-end[:] [perms] path [(@offset)]`,
    /// after `name=value` lines whose `$name` later lines use). Executable
    /// mappings of files are kept; ` (deleted)` is stripped from paths.
    /// Other lines are skipped.
    fn parse(lines: &mut LineReader<impl Read>, b: &mut ProfileBuilder) -> Result<Maps, Error> {
        let mut maps = Maps { ranges: Vec::new() };
        let mut names: Vec<(String, String)> = Vec::new();
        while let Some((_, line)) = lines.next_line()? {
            let mut line = line.to_string();
            for (name, value) in &names {
                line = line.replace(name.as_str(), value);
            }
            match proc_maps_line(&line).or_else(|| brief_maps_line(&line)) {
                Some(entry) => maps.add(entry, b),
                None => {
                    if let Some((name, value)) = line.trim().split_once('=')
                        && !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        names.push((format!("${name}"), value.trim().to_owned()));
                    }
                }
            }
        }
        maps.ranges.sort_unstable_by_key(|r| r.0);
        Ok(maps)
    }

    /// Adds one entry, if it is an executable mapping of a file.
    fn add(&mut self, entry: MapsEntry<'_>, b: &mut ProfileBuilder) {
        let MapsEntry {
            start,
            end,
            offset,
            executable,
            path,
        } = entry;
        let path = path.strip_suffix(" (deleted)").unwrap_or(path);
        if !executable || start >= end || path.is_empty() || path.starts_with('[') {
            return; // data, anonymous, [vdso], [stack], …
        }
        let path = b.intern(path);
        let id = b.add_mapping(Mapping::new(start, end, offset, path));
        self.ranges.push((start, end, id));
    }

    fn find(&self, addr: u64) -> Option<MappingId> {
        let i = self.ranges.partition_point(|r| r.0 <= addr);
        let (start, end, id) = *self.ranges.get(i.checked_sub(1)?)?;
        (start <= addr && addr < end).then_some(id)
    }
}

/// One line of a memory map.
struct MapsEntry<'a> {
    start: u64,
    end: u64,
    offset: u64,
    executable: bool,
    path: &'a str,
}

/// `start-end perms offset dev inode path` (`/proc/<pid>/maps`).
fn proc_maps_line(line: &str) -> Option<MapsEntry<'_>> {
    let mut fields = line.split_ascii_whitespace();
    let (range, perms, offset, _dev, _inode) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let (start, end) = range.split_once('-')?;
    let (start, end, offset) = (
        parse_address(start)?,
        parse_address(end)?,
        parse_address(offset)?,
    );
    if !perms.chars().all(|c| "-rwxsp".contains(c)) {
        return None;
    }
    // The path is the rest of the line (it may contain spaces).
    let path = line
        .splitn(6, |c: char| c.is_ascii_whitespace())
        .last()
        .map(str::trim)
        .unwrap_or("");
    Some(MapsEntry {
        start,
        end,
        offset,
        executable: perms.contains('x'),
        path,
    })
}

/// `start-end[:] [perms] path [(@offset)] [build id]`, the brief form of
/// google/pprof's legacy profiles.
fn brief_maps_line(line: &str) -> Option<MapsEntry<'_>> {
    let mut fields = line.split_ascii_whitespace().peekable();
    let range = fields.next()?.trim_end_matches(':');
    let (start, end) = range.split_once('-')?;
    let (start, end) = (parse_address(start)?, parse_address(end)?);
    let perms = fields.next_if(|f| f.chars().all(|c| "-rwxsp".contains(c)));
    let path = fields.next()?;
    let offset = match fields
        .next()
        .and_then(|f| f.strip_prefix("(@")?.strip_suffix(')'))
    {
        Some(hex) => parse_address(hex)?,
        None => 0,
    };
    Some(MapsEntry {
        start,
        end,
        offset,
        executable: perms.is_none_or(|p| p.contains('x')),
        path,
    })
}

fn is_maps_sentinel(line: &str) -> bool {
    line.starts_with("MAPPED_LIBRARIES:") || line.starts_with("--- Memory map:")
}

/// Decodes a jemalloc `heap_v2/N` dump held in a string.
#[cfg(test)]
pub(crate) fn decode_jemalloc(text: &str, opts: &DecodeOptions) -> Result<Profile, Error> {
    decode_jemalloc_lines(&mut LineReader::of_str(text), opts)
}

/// Decodes a jemalloc `heap_v2/N` dump, line by line.
pub(crate) fn decode_jemalloc_lines(
    lines: &mut LineReader<impl Read>,
    opts: &DecodeOptions,
) -> Result<Profile, Error> {
    read_jemalloc(lines, opts).map_err(|e| lines.explain_cut(e))
}

fn read_jemalloc(
    lines: &mut LineReader<impl Read>,
    opts: &DecodeOptions,
) -> Result<Profile, Error> {
    let (_, header) = lines.next_line()?.ok_or(Error::Empty)?;
    let rate: i64 = header
        .trim()
        .strip_prefix("heap_v2/")
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| {
            text_error(
                1,
                format!("expected `heap_v2/<sample period>`, found {header:?}"),
            )
        })?;
    let mut b = ProfileBuilder::new(Format::JemallocHeap, heap_types());
    b.set_limits(opts.limits);
    set_heap_header(&mut b, rate, true);

    let wanted = match opts.jemalloc_thread {
        Some(t) => format!("t{t}"),
        None => "t*".to_owned(),
    };
    let mut raw = RawSamples::default();
    // The current stack's addresses (a buffer reused from stack to stack),
    // whether there is one, and whether its wanted row was seen.
    let mut addrs: Vec<u64> = Vec::new();
    let mut stack: Option<bool> = None;
    let mut negative = FirstNegative::default();
    let mut cut = CutSigns::default();
    cut.add(MAPS_TRAILER_MISSING);
    while let Some((n, line)) = lines.next_line()? {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if is_maps_sentinel(t) {
            cut = CutSigns::default();
            break;
        }
        if let Some(rest) = t.strip_prefix('@') {
            parse_addresses_into(rest, n, &mut addrs)?;
            adjust_return_addresses(&mut addrs);
            stack = Some(false);
            continue;
        }
        let Some((thread, counts)) = t.split_once(':').filter(|(th, _)| th.starts_with('t')) else {
            return Err(text_error(
                n,
                format!("expected `@ <addresses>` or a `t*:` row, found {t:?}"),
            ));
        };
        let values = parse_counts(counts).ok_or_else(|| {
            text_error(
                n,
                format!(
                    "expected `{thread}: <objects>: <bytes> [<objects>: <bytes>]`, found {t:?}"
                ),
            )
        })?;
        negative.check(&values, n);
        // Rows before the first stack are the process and thread totals.
        if let Some(seen) = &mut stack
            && thread == wanted
            && !*seen
        {
            *seen = true;
            raw.push(&addrs, values);
        }
    }
    let maps = Maps::parse(lines, &mut b)?;
    cut.check_last_line(lines);
    warn_all(
        &mut b,
        [negative.warning(Format::JemallocHeap), cut.warning()],
    );
    raw.into_profile(b, &maps)
}

fn set_heap_header(b: &mut ProfileBuilder, rate: i64, sampled: bool) {
    let h = b.header_mut();
    h.period_type = Some(ValueType::new("space", "bytes"));
    h.period = rate;
    if sampled {
        h.sampling = Some(Sampling {
            rate,
            pairs: PAIRS.to_vec(),
        });
    }
}

/// Which flavour of `heap profile:` a header announces.
enum HeapKind {
    /// gperftools' heap profiler: exact.
    Exact,
    /// tcmalloc sampled heap (`heap_v2/N`): raw samples, rate N.
    Sampled(i64),
    /// Go `debug=1` (`heap/N`): rate N/2, scaled here.
    Go(i64),
}

/// Decodes a `heap profile:` dump: gperftools `heapprofile`, tcmalloc
/// `heap_v2/N`, or Go `heap/N` text.
#[cfg(test)]
pub(crate) fn decode_heap_profile(text: &str, limits: &crate::Limits) -> Result<Profile, Error> {
    decode_heap_profile_lines(&mut LineReader::of_str(text), limits)
}

/// Decodes a `heap profile:` dump, line by line.
pub(crate) fn decode_heap_profile_lines(
    lines: &mut LineReader<impl Read>,
    limits: &crate::Limits,
) -> Result<Profile, Error> {
    read_heap_profile(lines, limits).map_err(|e| lines.explain_cut(e))
}

/// A `heap profile:` header: its flavour and its totals (in sample-type
/// order), when they parse.
fn parse_heap_header(header: &str) -> Result<(HeapKind, Option<[i64; 4]>), Error> {
    let parsed = header
        .trim()
        .strip_prefix("heap profile:")
        .and_then(|h| h.split_once('@'))
        .and_then(|(totals, kind)| {
            let kind = kind.trim();
            let (name, period) = kind.split_once('/').unwrap_or((kind, ""));
            let period = period.parse::<i64>().ok();
            let kind = match (name, period) {
                ("heapprofile", _) => HeapKind::Exact,
                ("heap_v2" | "heapz_v2", Some(p)) => HeapKind::Sampled(p),
                ("heap", Some(p)) => HeapKind::Go(p / 2),
                _ => return None,
            };
            Some((kind, parse_counts(totals)))
        });
    parsed.ok_or_else(|| {
        text_error(
            1,
            format!(
                "expected `heap profile: … @ heapprofile`, `@ heap_v2/<period>` or \
                 `@ heap/<period>`, found {header:?}"
            ),
        )
    })
}

/// The size of the buffer gperftools' heap profiler writes a dump into: it
/// stops writing rows when the next does not fit (the header's totals
/// still count them).
const GPERFTOOLS_BUFFER: u64 = 1 << 20;

/// How far below [`GPERFTOOLS_BUFFER`] a dump cut by it may end: a row's
/// length.
const GPERFTOOLS_ROW_SLACK: u64 = 4 << 10;

/// The signs that a `heap profile:` dump is cut: its header's totals
/// against the sum of its rows, and its trailer.
struct HeapProfileEnd {
    header: Option<[i64; 4]>,
    rows: [i128; 4],
    trailer: bool,
}

impl HeapProfileEnd {
    fn add_row(&mut self, values: [i64; 4]) {
        for (sum, v) in self.rows.iter_mut().zip(values) {
            *sum += i128::from(v);
        }
    }

    /// The signs, for a dump of `kind` of `size` bytes.
    fn signs(&self, kind: &HeapKind, size: u64) -> CutSigns {
        let mut cut = CutSigns::default();
        if self.header.is_none() {
            // Every producer writes them: without them a cut after a whole
            // row could not be told.
            cut.add("the header has no totals (`N: B [aN: aB]`) to check the rows against");
        }
        if let Some(header) = self.header
            && header.map(i128::from) != self.rows
        {
            let rows = self.rows.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
            cut.add(format!(
                "the header's totals ({}) differ from the rows' ({})",
                show_counts(header),
                show_counts(rows)
            ));
            let near_buffer = GPERFTOOLS_BUFFER - GPERFTOOLS_ROW_SLACK..=GPERFTOOLS_BUFFER;
            if matches!(kind, HeapKind::Exact) && near_buffer.contains(&size) {
                cut.set_cause("gperftools writes at most 1 MiB per dump (HEAPPROFILE's buffer)");
            }
        }
        if !self.trailer {
            cut.add(match kind {
                HeapKind::Go(_) => "the profile ends without Go's `# runtime.MemStats` trailer",
                _ => MAPS_TRAILER_MISSING,
            });
        }
        cut
    }
}

fn read_heap_profile(
    lines: &mut LineReader<impl Read>,
    limits: &crate::Limits,
) -> Result<Profile, Error> {
    let (_, header) = lines.next_line()?.ok_or(Error::Empty)?;
    let (kind, totals) = parse_heap_header(&header)?;
    let format = match kind {
        HeapKind::Go(_) => Format::GoHeapText,
        _ => Format::GperftoolsHeap,
    };
    let mut b = ProfileBuilder::new(format, heap_types());
    b.set_limits(*limits);
    match kind {
        HeapKind::Exact => set_heap_header(&mut b, 0, false),
        HeapKind::Sampled(rate) => set_heap_header(&mut b, rate, true),
        HeapKind::Go(rate) => {
            set_heap_header(&mut b, rate, false);
            // Go writes MemProfileRate * 2 in the header; the period is the rate.
        }
    }
    let mut end = HeapProfileEnd {
        header: totals,
        rows: [0; 4],
        trailer: false,
    };
    let mut negative = FirstNegative::default();

    let mut raw = RawSamples::default();
    let mut go_stacks: Vec<Vec<FrameId>> = Vec::new();
    let mut go_values: Vec<[i64; 4]> = Vec::new();
    // A Go record whose `#` frame lines may follow: its addresses, values
    // and the frames read so far.
    let mut pending: Option<([i64; 4], Vec<FrameId>)> = None;
    let mut addrs: Vec<u64> = Vec::new();
    let mut finish_go = |pending: Option<([i64; 4], Vec<FrameId>)>,
                         addrs: &mut Vec<u64>,
                         b: &mut ProfileBuilder| {
        let (HeapKind::Go(rate), Some((values, mut stack))) = (&kind, pending) else {
            return;
        };
        if stack.is_empty() {
            adjust_return_addresses(addrs);
            stack = addrs
                .iter()
                .map(|&a| b.frame(Frame::unsymbolized(a, None)))
                .collect();
        }
        // Go's protobuf writer leaves out records with nothing in them; so
        // does this decoder, so that both forms agree.
        if values != [0; 4] {
            go_stacks.push(stack);
            go_values.push(scale_go(values, *rate));
        }
    };
    while let Some((n, line)) = lines.next_line()? {
        // `#\t<pc>\t<function>+<offset>\t<file>:<line>`, one per frame,
        // right after a Go record.
        if let Some((_, stack)) = &mut pending
            && line.starts_with("#\t")
        {
            stack.push(go_frame(&line, &mut b));
            continue;
        }
        finish_go(pending.take(), &mut addrs, &mut b);
        let t = line.trim();
        if t.starts_with("# runtime.MemStats") {
            end.trailer = true;
        }
        if t.is_empty() || (t.starts_with('#') && !line.starts_with("#\t")) {
            // Go's trailing `# runtime.MemStats` block and other comments.
            continue;
        }
        if is_maps_sentinel(t) {
            end.trailer = true;
            break;
        }
        let (counts, rest) = t.split_once('@').ok_or_else(|| {
            text_error(
                n,
                format!(
                    "expected `<objects>: <bytes> [<objects>: <bytes>] @ <addresses>`, found {t:?}"
                ),
            )
        })?;
        let values = parse_counts(counts).ok_or_else(|| {
            text_error(
                n,
                format!("expected `<objects>: <bytes> [<objects>: <bytes>]`, found {counts:?}"),
            )
        })?;
        negative.check(&values, n);
        end.add_row(values);
        parse_addresses_into(rest, n, &mut addrs)?;
        match kind {
            HeapKind::Go(_) => pending = Some((values, Vec::new())),
            _ => {
                adjust_return_addresses(&mut addrs);
                raw.push(&addrs, values);
            }
        }
    }
    finish_go(pending.take(), &mut addrs, &mut b);
    let maps = match kind {
        HeapKind::Go(_) => None,
        _ => Some(Maps::parse(lines, &mut b)?),
    };
    let mut cut = end.signs(&kind, lines.offset());
    cut.check_last_line(lines);
    warn_all(&mut b, [negative.warning(format), cut.warning()]);
    let Some(maps) = maps else {
        for (stack, values) in go_stacks.iter().zip(&go_values) {
            b.push_sample(stack, values)?;
        }
        return Ok(b.finish());
    };
    raw.into_profile(b, &maps)
}

/// A Go `#` line as a symbolized frame (or by address if it names none).
fn go_frame(line: &str, b: &mut ProfileBuilder) -> FrameId {
    let mut fields = line.split('\t').map(str::trim).filter(|f| !f.is_empty());
    let _hash = fields.next();
    let pc = fields.next().and_then(parse_address).unwrap_or(0);
    let function = fields.next().unwrap_or("");
    let function = function.rfind("+0x").map_or(function, |i| &function[..i]);
    let (file, line) = fields
        .next()
        .and_then(|fl| fl.rsplit_once(':'))
        .map_or(("", 0), |(f, l)| (f, l.parse().unwrap_or(0)));
    if function.is_empty() {
        return b.frame(Frame::unsymbolized(pc, None));
    }
    let (function, file) = (b.intern(function), b.intern(file));
    b.frame(Frame::symbolized(function, file, line))
}

/// Go's runtime scaling (and pprof's for `heap/N` text): each pair scaled by
/// `1 / (1 - exp(-(size / count) / rate))`, truncated per sample; no scaling
/// at a rate of 1 or below.
fn scale_go(values: [i64; 4], rate: i64) -> [i64; 4] {
    let mut out = values;
    for (c, s) in PAIRS {
        let (n, bytes) = (values[c], values[s]);
        if n == 0 || bytes == 0 || rate <= 1 {
            continue;
        }
        let scale = 1.0 / (1.0 - (-(bytes as f64 / n as f64) / rate as f64).exp());
        out[c] = (n as f64 * scale) as i64;
        out[s] = (bytes as f64 * scale) as i64;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JEMALLOC: &str = "heap_v2/4096
  t*: 7: 4160 [0: 0]
  t0: 5: 4096 [0: 0]
  t1: 2: 64 [0: 0]
@ 0x7f00000010 0x55000000a0 0x55000000b0
  t*: 4: 4096 [0: 0]
  t0: 4: 4096 [0: 0]
@ 0x7f00000010 0x55000000c0
  t*: 3: 64 [0: 0]
  t1: 3: 64 [0: 0]

MAPPED_LIBRARIES:
5500000000-5500001000 r-xp 00001000 fe:00 42                         /opt/app/bin/server
7f00000000-7f00010000 r-xp 00000000 fe:00 43                         /usr/lib/libjemalloc.so.2 (deleted)
7f00010000-7f00020000 rw-p 00000000 00:00 0
";

    fn frames(p: &Profile, sample: usize) -> Vec<(u64, String)> {
        let s = p.samples().nth(sample).unwrap();
        s.stack
            .iter()
            .map(|f| {
                let fr = p.frame(f);
                let path = fr
                    .mapping
                    .map(|m| p.str(p.mapping(m).path).to_owned())
                    .unwrap_or_default();
                (fr.address, path)
            })
            .collect()
    }

    #[test]
    fn jemalloc_stacks_values_maps_and_sampling() {
        let p = decode_jemalloc(JEMALLOC, &DecodeOptions::default()).unwrap();
        assert_eq!(p.format, Format::JemallocHeap);
        assert_eq!(p.sample_count(), 2);
        assert_eq!(
            frames(&p, 0),
            [
                (0x7f0000000f, "/usr/lib/libjemalloc.so.2".to_owned()),
                (0x550000009f, "/opt/app/bin/server".to_owned()),
                (0x55000000af, "/opt/app/bin/server".to_owned()),
            ],
            "return addresses moved back one byte, (deleted) stripped"
        );
        let first = p.samples().next().unwrap();
        assert_eq!(first.values, [0, 0, 4, 4096]);
        assert_eq!(p.header.period, 4096);
        let sampling = p.header.sampling.as_ref().unwrap();
        assert_eq!(sampling.rate, 4096);
        assert_eq!(p.mappings().len(), 2, "only executable file mappings");
    }

    #[test]
    fn jemalloc_thread_rows_on_request() {
        let opts = DecodeOptions {
            jemalloc_thread: Some(1),
            ..DecodeOptions::default()
        };
        let p = decode_jemalloc(JEMALLOC, &opts).unwrap();
        assert_eq!(p.sample_count(), 1);
        assert_eq!(p.samples().next().unwrap().values, [0, 0, 3, 64]);
    }

    #[test]
    fn jemalloc_errors_name_the_line() {
        let err = decode_jemalloc("heap_v2/x\n", &DecodeOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: expected `heap_v2/<sample period>`, found \"heap_v2/x\""
        );
        let err = decode_jemalloc("heap_v2/1\n@ 0x1 zz\n", &DecodeOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: expected a hexadecimal address, found \"zz\""
        );
        let err = decode_jemalloc("heap_v2/1\n@ 0x1\n  t*: 1 2\n", &DecodeOptions::default())
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 3: expected `t*: <objects>"),
            "{err}"
        );
        let err = decode_jemalloc("heap_v2/1\nhello\n", &DecodeOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 2: expected `@ <addresses>`"),
            "{err}"
        );
    }

    #[test]
    fn gperftools_exact_profile() {
        let text = "heap profile:    3:   300 [   4:   400] @ heapprofile
     2:   200 [     3:   300] @ 0x5500000010 0x5500000020
     1:   100 [     1:   100] @ 0x5500000030

MAPPED_LIBRARIES:
5500000000-5500001000 r-xp 00000000 00:00 7      /opt/app
";
        let p = decode_heap_profile(text, &crate::Limits::default()).unwrap();
        assert_eq!(p.format, Format::GperftoolsHeap);
        assert!(p.header.sampling.is_none());
        assert_eq!(p.header.period, 0);
        assert_eq!(p.samples().next().unwrap().values, [3, 300, 2, 200]);
        assert_eq!(frames(&p, 0)[1], (0x550000001f, "/opt/app".to_owned()));
    }

    #[test]
    fn tcmalloc_sampled_profile_keeps_raw_values() {
        let text = "heap profile: 1: 1024 [1: 1024] @ heap_v2/524288\n 1: 1024 [ 1: 1024] @ 0x10\n";
        let p = decode_heap_profile(text, &crate::Limits::default()).unwrap();
        assert_eq!(p.header.sampling.as_ref().unwrap().rate, 524288);
        assert_eq!(p.samples().next().unwrap().values, [1, 1024, 1, 1024]);
        assert!(
            p.frame(p.samples().next().unwrap().stack.at(0))
                .mapping
                .is_none()
        );
    }

    #[test]
    fn go_text_uses_hash_lines_and_go_scaling() {
        let text = "heap profile: 2: 8192 [2: 8192] @ heap/1048576
2: 8192 [2: 8192] @ 0x4b3c31 0x437452
#\t0x4b3c30\tmain.alloc+0x50\t\t/tmp/gohp/main.go:12
#\t0x437451\truntime.main+0x211\t/usr/lib/go-1.19/src/runtime/proc.go:250

# runtime.MemStats
# Alloc = 9541776
";
        let p = decode_heap_profile(text, &crate::Limits::default()).unwrap();
        assert_eq!(p.format, Format::GoHeapText);
        assert_eq!(p.header.period, 524288);
        assert!(p.header.sampling.is_none(), "Go text is scaled on decoding");
        let s = p.samples().next().unwrap();
        let names: Vec<String> = s
            .stack
            .iter()
            .map(|f| format!("{}:{}", p.str(p.frame(f).function), p.frame(f).line))
            .collect();
        assert_eq!(names, ["main.alloc:12", "runtime.main:250"]);
        // 2 objects of 4096 bytes at rate 524288: scale = 1/(1-e^(-1/128)).
        let scale = 1.0 / (1.0 - (-(4096.0f64) / 524288.0).exp());
        assert_eq!(s.values[3], (8192.0 * scale) as i64);
        assert_eq!(s.values[2], (2.0 * scale) as i64);
    }

    const GPERFTOOLS: &str = "heap profile:    3:   300 [   4:   400] @ heapprofile
     2:   200 [     3:   300] @ 0x5500000010 0x5500000020
     1:   100 [     1:   100] @ 0x5500000030

MAPPED_LIBRARIES:
5500000000-5500001000 r-xp 00000000 00:00 7      /opt/app
";

    const GO: &str = "heap profile: 2: 8192 [3: 8200] @ heap/1048576
2: 8192 [2: 8192] @ 0x4b3c31
#\t0x4b3c30\tmain.alloc+0x50\t\t/tmp/gohp/main.go:12

0: 0 [1: 8] @ 0x4b3c41
#\t0x4b3c40\tmain.init+0x50\t\t/tmp/gohp/main.go:20

# runtime.MemStats
# Alloc = 9541776
";

    fn heap_warnings(text: &str) -> Vec<String> {
        decode_heap_profile(text, &crate::Limits::default())
            .unwrap()
            .warnings
    }

    #[test]
    fn whole_dumps_have_no_warning() {
        assert_eq!(heap_warnings(GPERFTOOLS), [""; 0]);
        assert_eq!(heap_warnings(GO), [""; 0]);
        let p = decode_jemalloc(JEMALLOC, &DecodeOptions::default()).unwrap();
        assert_eq!(p.warnings, [""; 0]);
    }

    #[test]
    fn header_totals_against_the_rows() {
        let cut = GPERFTOOLS.replace("     1:   100 [     1:   100] @ 0x5500000030\n", "");
        assert_eq!(
            heap_warnings(&cut),
            [
                "truncated? the header's totals (3: 300 [4: 400]) differ from the rows' (2: 200 [3: 300])"
            ]
        );
        let go = GO.replace("[3: 8200]", "[2: 8192]");
        assert_eq!(
            heap_warnings(&go),
            [
                "truncated? the header's totals (2: 8192 [2: 8192]) differ from the rows' (2: 8192 [3: 8200])"
            ],
            "the allocated totals are compared too"
        );
    }

    #[test]
    fn a_header_without_totals_is_a_sign() {
        let first = GPERFTOOLS.lines().next().unwrap();
        let bare = GPERFTOOLS.replacen(first, "heap profile: @ heapprofile", 1);
        assert_eq!(
            heap_warnings(&bare),
            ["truncated? the header has no totals (`N: B [aN: aB]`) to check the rows against"]
        );
    }

    #[test]
    fn a_missing_trailer_or_newline_is_a_sign() {
        let end = GPERFTOOLS.find("MAPPED").unwrap();
        assert_eq!(
            heap_warnings(&GPERFTOOLS[..end]),
            ["truncated? the dump ends without its `MAPPED_LIBRARIES:` section"]
        );
        let end = GO.find("# runtime").unwrap();
        assert_eq!(
            heap_warnings(&GO[..end]),
            ["truncated? the profile ends without Go's `# runtime.MemStats` trailer"]
        );
        assert_eq!(
            heap_warnings(&GO[..GO.len() - 3]),
            ["truncated? the last line (9) ends without a newline"]
        );
        // A period cut short (`heap_v2/4096` to `heap_v2/40`) shows only as
        // a header without its newline.
        let p = decode_jemalloc("heap_v2/40", &DecodeOptions::default()).unwrap();
        assert_eq!(
            p.warnings,
            [
                "truncated? the dump ends without its `MAPPED_LIBRARIES:` section; \
              the last line (1) ends without a newline"
            ]
        );
        let cut = &JEMALLOC[..JEMALLOC.find("MAPPED").unwrap()];
        let p = decode_jemalloc(cut, &DecodeOptions::default()).unwrap();
        assert_eq!(
            p.warnings,
            ["truncated? the dump ends without its `MAPPED_LIBRARIES:` section"]
        );
    }

    #[test]
    fn a_cut_row_that_does_not_parse_is_an_error_that_says_so() {
        let cut = &GPERFTOOLS[..GPERFTOOLS.find("[     1").unwrap() + 3];
        let err = decode_heap_profile(cut, &crate::Limits::default()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("(the last line, without a newline: truncated?)"),
            "{err}"
        );
    }

    #[test]
    fn gperftools_one_mib_buffer_is_named() {
        let row = "     1:   100 [     1:   100] @ 0x5500000030 0x5500000040\n";
        let rows = (GPERFTOOLS_BUFFER as usize - 80) / row.len();
        let header = format!(
            "heap profile: {0}: {1} [{0}: {1}] @ heapprofile\n",
            rows + 10,
            (rows + 10) * 100
        );
        let text = header + &row.repeat(rows);
        assert!(text.len() as u64 > GPERFTOOLS_BUFFER - GPERFTOOLS_ROW_SLACK);
        let warnings = heap_warnings(&text);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with(
                "truncated? gperftools writes at most 1 MiB per dump (HEAPPROFILE's buffer); \
                 the header's totals"
            ),
            "{warnings:?}"
        );
    }

    #[test]
    fn negative_values_are_one_warning() {
        let text = GPERFTOOLS
            .replace("2:   200 [     3:   300]", "2:  -200 [     3:   300]")
            .replace("1:   100 [     1:   100]", "-1:   100 [     1:   100]");
        let warnings = heap_warnings(&text);
        assert!(
            warnings[0].starts_with("negative counts or sizes (first on line 2): a gperftools heap profile never has them"),
            "{warnings:?}"
        );
        let p = decode_jemalloc(
            &JEMALLOC.replace("t*: 4: 4096", "t*: 4: -4096"),
            &DecodeOptions::default(),
        )
        .unwrap();
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(
            p.warnings[0].contains("first on line 6"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn heap_profile_header_errors() {
        let err = decode_heap_profile(
            "heap profile: 1: 2 [3: 4] @ growthz\n",
            &crate::Limits::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 1: expected `heap profile:"),
            "{err}"
        );
        let err = decode_heap_profile(
            "heap profile: 1: 2 [3: 4] @ heapprofile\n1: 2 @ 0x1\n",
            &crate::Limits::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 2: expected `<objects>: <bytes> [<objects>: <bytes>]`"),
            "{err}"
        );
    }

    #[test]
    fn counts_and_maps_lookup() {
        assert_eq!(parse_counts(" 1: 2 [3: 4]"), Some([3, 4, 1, 2]));
        assert_eq!(parse_counts("1: 2"), None);
        let mut b = ProfileBuilder::new(Format::JemallocHeap, heap_types());
        let text = "10-20 r-xp 0 0 1 /a\n20-30 r-xp 0 0 1 /b c\n30-40 r--p 0 0 1 /d\n";
        let maps = Maps::parse(&mut LineReader::of_str(text), &mut b).unwrap();
        assert!(maps.find(0xf).is_none());
        assert_eq!(maps.find(0x10), Some(MappingId::from_index(0)));
        assert_eq!(maps.find(0x2f), Some(MappingId::from_index(1)));
        assert!(maps.find(0x30).is_none(), "not executable");
        let p = b.finish();
        assert_eq!(p.str(p.mappings()[1].path), "/b c");
    }

    #[test]
    fn brief_maps_with_names_as_google_pprof_writes_them() {
        // profile/testdata/cppbench.heap's memory map.
        let mut b = ProfileBuilder::new(Format::GperftoolsHeap, heap_types());
        let text = "\tsource=/home\n  00400000-00fcb000: $source/cppbench_server_main\n  \
                    7f47a4b73000-7f47a4d21000: /lib/libc-2.15.so\n  \
                    7f0000000000-7f0000001000 r--p /lib/data.so\n";
        let maps = Maps::parse(&mut LineReader::of_str(text), &mut b).unwrap();
        assert_eq!(maps.find(0x42ecc3), Some(MappingId::from_index(0)));
        assert_eq!(maps.find(0x7f47a4b80000), Some(MappingId::from_index(1)));
        assert!(maps.find(0x7f0000000010).is_none(), "not executable");
        let p = b.finish();
        assert_eq!(p.str(p.mappings()[0].path), "/home/cppbench_server_main");
    }

    #[test]
    fn addresses_parse_as_from_str_radix_does() {
        let cases = [
            "0",
            "0x0",
            "0X1f",
            "ff",
            "FFFFFFFFFFFFFFFF",
            "0x00000000000000000001",
            "10000000000000000",
            "+1",
            "0x+a",
            "+",
            "",
            "0x",
            "-1",
            "0xg",
            "1 2",
            "7f3a\u{e9}",
        ];
        for c in cases {
            let hex = c
                .strip_prefix("0x")
                .or_else(|| c.strip_prefix("0X"))
                .unwrap_or(c);
            let want = u64::from_str_radix(hex, 16).ok();
            assert_eq!(parse_address(c), want, "{c:?}");
        }
        let mut out = vec![9];
        parse_addresses_into(" 0x10\t0x20  30 ", 3, &mut out).unwrap();
        assert_eq!(out, [0x10, 0x20, 0x30]);
        for c in cases.iter().filter(|c| !c.is_empty() && !c.contains(' ')) {
            let got =
                parse_addresses_into(&format!("0x1 {c}\t0x2"), 1, &mut out).map(|()| out.clone());
            let want = parse_address(c).map(|v| vec![1, v, 2]);
            assert_eq!(got.ok(), want, "{c:?}");
        }
        parse_addresses_into("0x12345678901234567 0x0000000000000000001", 1, &mut out).unwrap_err();
        parse_addresses_into("0x00000000000000000001 0x", 1, &mut out).unwrap_err();
        parse_addresses_into("0x00000000000000000001 0xffffffffffffffff", 1, &mut out).unwrap();
        assert_eq!(out, [1, u64::MAX]);
        let err = parse_addresses_into("0x10 zz", 3, &mut out).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3: expected a hexadecimal address, found \"zz\""
        );
    }
}
