//! `tracemalloc.Snapshot.dump()` files.
//!
//! `dump()` pickles a `Snapshot` whose state is `{"traces": _Traces,
//! "traceback_limit": int}`; the `_Traces` state is `{"_traces": [...]}`, a
//! list of raw traces `(domain, size, frames, total_nframe)` (Python 3.9+;
//! three fields before), `frames` a tuple of `(filename, lineno)` most recent
//! first. Each trace is one live memory block, so a trace is one object of
//! `size` bytes. Identical tracebacks are one shared tuple in the pickle; they
//! become one sample here, their traces summed.
//!
//! Frames have a file and a line but no function: tracemalloc never recorded
//! one. The symbolizer names them from the source when it can read it.

use std::io::Read;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::pickle::{self, Arena, Class, Items, Value};
use crate::Format;
use crate::decode::lines::LineReader;
use crate::error::Error;
use crate::model::{Frame, FrameId, Profile, ProfileBuilder, StrId, ValueType};

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid {
        format: Format::Tracemalloc,
        message: message.into(),
    }
}

/// The state dict of an object of `class`.
fn state(arena: &Arena, value: Value, class: Class, what: &str) -> Result<u32, Error> {
    let Value::Object(id) = value else {
        return Err(invalid(format!(
            "{what} is {}, expected a {class:?} object",
            value.kind()
        )));
    };
    let object = arena.object(id);
    if object.class != class {
        return Err(invalid(format!(
            "{what} is a {:?}, expected a {class:?}",
            object.class
        )));
    }
    match object.state {
        Some(Value::Dict(d)) => Ok(d),
        Some(other) => Err(invalid(format!(
            "{what} has {} for its state, expected a dict",
            other.kind()
        ))),
        None => Err(invalid(format!("{what} has no state"))),
    }
}

fn int(value: Value, what: impl FnOnce() -> String) -> Result<i64, Error> {
    match value {
        Value::Int(v) => Ok(v),
        Value::Bool(b) => Ok(i64::from(b)),
        other => Err(invalid(format!(
            "{} is {}, expected an int",
            what(),
            other.kind()
        ))),
    }
}

/// Why list item `i`, which the unpickler did not count as a trace, is not
/// one.
fn not_a_trace(arena: &Arena, i: usize, item: Value) -> Error {
    let fields = match item {
        Value::Tuple(t) => arena.tuple(t).to_vec(),
        Value::Pair(..) => {
            return invalid(format!("trace {i} has 2 fields, expected 3 or 4"));
        }
        other => {
            return invalid(format!(
                "trace {i} is {}, expected a tuple (domain, size, frames[, total_nframe])",
                other.kind()
            ));
        }
    };
    let what = |field: &str| format!("trace {i} {field}");
    let (domain, size, frames, total) = match fields[..] {
        [d, s, f] => (d, s, f, None),
        [d, s, f, n] => (d, s, f, Some(n)),
        _ => {
            return invalid(format!(
                "trace {i} has {} fields, expected 3 or 4",
                fields.len()
            ));
        }
    };
    if let Err(e) = int(domain, || what("domain")) {
        return e;
    }
    match int(size, || what("size")) {
        Err(e) => return e,
        Ok(size) if size < 0 => {
            return invalid(format!("trace {i} has a negative size {size}"));
        }
        Ok(_) => {}
    }
    if !matches!(frames, Value::Tuple(_)) {
        return invalid(format!(
            "trace {i} frames are {}, expected a tuple",
            frames.kind()
        ));
    }
    if let Some(Err(e)) = total.map(|t| int(t, || what("total_nframe"))) {
        return e;
    }
    invalid(format!("trace {i} is not a trace"))
}

/// Decodes a `Snapshot.dump()` pickle held in memory.
pub(crate) fn decode(bytes: &[u8], limits: &crate::Limits) -> Result<Profile, Error> {
    decode_reader(
        &mut LineReader::new(Vec::new(), bytes, u64::MAX, None),
        limits,
    )
}

/// Decodes a `Snapshot.dump()` pickle as it is read.
pub(crate) fn decode_reader<R: Read>(
    input: &mut LineReader<R>,
    limits: &crate::Limits,
) -> Result<Profile, Error> {
    let (arena, root) = pickle::load_from(input)?;
    let snapshot = state(&arena, root, Class::Snapshot, "the pickled object")?;
    let traces = arena
        .dict_get(snapshot, "traces")
        .ok_or_else(|| invalid("the snapshot has no `traces`"))?;
    let traces = state(&arena, traces, Class::Traces, "snapshot.traces")?;
    let Some(Value::List(list)) = arena.dict_get(traces, "_traces") else {
        return Err(invalid("snapshot.traces has no `_traces` list"));
    };
    let limit = match arena.dict_get(snapshot, "traceback_limit") {
        Some(v) => Some(int(v, || "snapshot.traceback_limit".into())?),
        None => None,
    };

    // The unpickler counted the traces as it read them; whatever it kept
    // is not a trace.
    let list = arena.list(list);
    if let (Some(&item), Some(&i)) = (list.items.first(), list.positions.first()) {
        return Err(not_a_trace(&arena, i, item));
    }
    let (groups, truncated) = (&list.traces, list.truncated);

    let mut b = ProfileBuilder::new(
        Format::Tracemalloc,
        vec![
            ValueType::new("inuse_objects", "count"),
            ValueType::new("inuse_space", "bytes"),
        ],
    );
    b.set_limits(*limits);
    // Each traceback, numbered in the order it first appears.
    let mut number = vec![u32::MAX; arena.tuple_count()];
    let mut order: Vec<u32> = Vec::new();
    let mut traceback_of: Vec<u32> = Vec::with_capacity(groups.len());
    for g in groups {
        let n = &mut number[g.frames as usize];
        if *n == u32::MAX {
            *n = index(order.len());
            order.push(g.frames);
        }
        traceback_of.push(*n);
    }
    drop(number);
    // The tracebacks' frames are found in parts of about as many frames,
    // all at once, each part numbering its (file, line) pairs; the pairs
    // then become the profile's frames, part after part: the order reading
    // them one by one would give.
    let starts = part_starts(&arena, &order);
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .copied()
        .chain([order.len()])
        .collect();
    let mut parts: Vec<Tracebacks> = starts
        .par_iter()
        .zip(ends.par_iter())
        .map(|(&lo, &hi)| Tracebacks::read(&arena, &order[lo..hi]))
        .collect();
    let mut files = Files::default();
    let frames: Vec<Vec<FrameId>> = parts
        .iter()
        .map(|t| {
            t.pairs
                .iter()
                .map(|&(file, line)| files.frame(&arena, &mut b, file, line))
                .collect()
        })
        .collect();
    // The first traceback that is not one, as the parts found it.
    let mut failed = parts
        .iter_mut()
        .zip(&starts)
        .find_map(|(part, &lo)| part.failed.take().map(|(i, e)| (lo + i, e)));
    let mut domains: FxHashMap<i64, (i64, i64)> = FxHashMap::default();
    for (g, &t) in groups.iter().zip(&traceback_of) {
        let t = t as usize;
        if failed.as_ref().is_some_and(|(f, _)| *f == t) {
            return Err(failed.take().expect("checked").1);
        }
        let k = starts.partition_point(|&lo| lo <= t) - 1;
        let (part, frames, i) = (&parts[k], &frames[k], t - starts[k]);
        let start = if i == 0 { 0 } else { part.ends[i - 1] };
        let ids = &part.ids[start..part.ends[i]];
        b.push_sample_with(&[g.count, g.size], |stack| {
            stack.extend(ids.iter().map(|&l| frames[l as usize]));
        })?;
        let d = domains.entry(g.domain).or_default();
        d.0 += g.count;
        d.1 = d.1.saturating_add(g.size);
    }

    let other: Vec<_> = domains.into_iter().filter(|&(d, _)| d != 0).collect();
    if let Some(note) = other_domains_note(other) {
        b.header_mut().comments.push(note.clone());
        // Said where the user sees it, too: it is part of every total.
        b.warn(note);
    }
    if let Some(limit) = limit {
        b.header_mut()
            .comments
            .push(format!("traceback_limit {limit}"));
    }
    if limit == Some(1) {
        b.warn(
            "the snapshot's stacks are one frame deep (tracemalloc.start() keeps one frame): \
             call tracemalloc.start(25) to record call paths",
        );
    } else if truncated > 0 {
        b.warn(format!(
            "{truncated} traces have stacks cut at traceback_limit {}: their outermost callers are missing",
            limit.unwrap_or(0)
        ));
    }
    Ok(b.finish())
}

/// How many domains [`other_domains_note`] names when there are more.
const DOMAIN_EXAMPLES: usize = 3;

/// One note on the memory of domains other than Python's (0), given as
/// `(domain, (blocks, bytes))`: an extension's own tracing, part of every
/// total. One note for them all, however many there are (a snapshot may
/// hold a domain per trace), naming the largest few.
fn other_domains_note(mut other: Vec<(i64, (i64, i64))>) -> Option<String> {
    let describe = |&(domain, (count, size)): &(i64, (i64, i64))| {
        format!("domain {domain}: {count} blocks, {size} bytes")
    };
    match other.len() {
        0 => None,
        1 => Some(format!(
            "tracemalloc {} (memory traced by an extension, not by Python's allocator)",
            describe(&other[0])
        )),
        n => {
            let count: i64 = other.iter().map(|(_, (c, _))| c).sum();
            let size = other
                .iter()
                .fold(0i64, |sum, (_, (_, s))| sum.saturating_add(*s));
            // Largest first; equal sizes by domain, for a stable message.
            other.sort_unstable_by_key(|&(d, (_, s))| (std::cmp::Reverse(s), d));
            let examples: Vec<String> = other.iter().take(DOMAIN_EXAMPLES).map(describe).collect();
            let more = if n > DOMAIN_EXAMPLES { ", …" } else { "" };
            Some(format!(
                "tracemalloc: {n} domains other than Python's hold {count} blocks, {size} bytes \
                 (memory traced by extensions, not by Python's allocator); the largest: {}{more}",
                examples.join("; ")
            ))
        }
    }
}

/// The pickle's file names as interned strings, and its `(file, line)`
/// pairs as frames.
#[derive(Default)]
struct Files {
    names: FxHashMap<u32, StrId>,
    frames: FxHashMap<(u32, u32), FrameId>,
}

impl Files {
    /// The frame of line `line` of the file named by pickle string `file`,
    /// interned once.
    fn frame(&mut self, arena: &Arena, b: &mut ProfileBuilder, file: u32, line: u32) -> FrameId {
        if let Some(&id) = self.frames.get(&(file, line)) {
            return id;
        }
        let name = *self
            .names
            .entry(file)
            .or_insert_with(|| b.intern(arena.str(file)));
        let id = b.frame(Frame::symbolized(StrId::EMPTY, name, line));
        self.frames.insert((file, line), id);
        id
    }
}

/// Where the parts of the tracebacks `order` read at once start: about as
/// many frames each, one part per thread, none of fewer than
/// [`PART_FRAMES`] frames.
fn part_starts(arena: &Arena, order: &[u32]) -> Vec<usize> {
    let total: usize = order.iter().map(|&t| arena.tuple(t).len()).sum();
    let parts = (total / PART_FRAMES).clamp(1, rayon::current_num_threads());
    let mut starts = vec![0];
    let mut seen = 0;
    for (i, &t) in order.iter().enumerate() {
        if seen * parts >= starts.len() * total && starts.len() < parts {
            starts.push(i);
        }
        seen += arena.tuple(t).len();
    }
    starts
}

/// The fewest frames read as a part of their own.
const PART_FRAMES: usize = 1 << 17;

/// Tracebacks read as runs of numbers of their `(file, line)` pairs.
struct Tracebacks {
    /// Each number's pair: the file's pickle string and the line.
    pairs: Vec<(u32, u32)>,
    /// The tracebacks' pair numbers, leaf first, back to back.
    ids: Vec<u32>,
    /// Where each traceback ends in `ids`.
    ends: Vec<usize>,
    /// The first traceback (by position) that is not one, and why: those
    /// after it are not read.
    failed: Option<(usize, Error)>,
}

impl Tracebacks {
    /// Reads the traceback tuples `tuples`, in order.
    fn read(arena: &Arena, tuples: &[u32]) -> Tracebacks {
        let mut t = Tracebacks {
            pairs: Vec::new(),
            ids: Vec::new(),
            ends: Vec::with_capacity(tuples.len()),
            failed: None,
        };
        let mut numbers: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        for (i, &tuple) in tuples.iter().enumerate() {
            if let Err(e) = t.read_one(arena, tuple, &mut numbers) {
                t.failed = Some((i, e));
                break;
            }
            t.ends.push(t.ids.len());
        }
        t
    }

    /// Appends one traceback's pair numbers.
    fn read_one(
        &mut self,
        arena: &Arena,
        tuple: u32,
        numbers: &mut FxHashMap<(u32, u32), u32>,
    ) -> Result<(), Error> {
        let mut number = |file: u32, line: i64| {
            // Line 0 is tracemalloc's "unknown"; lines past u32 do not exist.
            let pair = (file, u32::try_from(line).unwrap_or(0));
            *numbers.entry(pair).or_insert_with(|| {
                self.pairs.push(pair);
                index(self.pairs.len() - 1)
            })
        };
        match arena.tuple(tuple) {
            // What CPython writes: every frame a (str, int) pair, kept inline.
            Items::Pairs(pairs) => {
                self.ids.reserve(pairs.len());
                for &(file, line) in pairs {
                    let n = number(file, i64::from(line));
                    self.ids.push(n);
                }
            }
            Items::Values(values) => {
                for &frame in values {
                    let (file, line) = match frame {
                        Value::Pair(file, line) => (file, i64::from(line)),
                        Value::Tuple(f) => match arena.tuple(f) {
                            Items::Values(&[Value::Str(file), Value::Int(line)]) => (file, line),
                            _ => return Err(not_a_frame(frame)),
                        },
                        _ => return Err(not_a_frame(frame)),
                    };
                    let n = number(file, line);
                    self.ids.push(n);
                }
            }
        }
        Ok(())
    }
}

/// A count as a 32-bit number: the pairs of a pickle read whole number
/// fewer than its bytes.
fn index(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 tracebacks and pairs")
}

fn not_a_frame(frame: Value) -> Error {
    invalid(format!(
        "a traceback frame is not a (filename, lineno) pair but {}",
        frame.kind()
    ))
}

#[cfg(test)]
mod tests {
    use super::super::pickle::tests::Writer;
    use super::*;

    /// Decodes `bytes` on one thread and on four (the tracebacks then read
    /// in parts, if there are frames enough).
    fn decode_both_ways(bytes: &[u8]) -> [Result<Profile, Error>; 2] {
        [1, 4].map(|threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| decode(bytes))
        })
    }

    /// The decoder with the default limits.
    fn decode(bytes: &[u8]) -> Result<Profile, Error> {
        super::decode(bytes, &crate::Limits::default())
    }

    /// A snapshot pickle as CPython 3.11 writes it, for `traces`: each
    /// `(domain, size, frames index)`; `frames[i]` a list of
    /// `(file, line)`, memoized so that traces share it.
    fn snapshot(limit: i64, frames: &[&[(&str, i64)]], traces: &[(i64, i64, usize)]) -> Vec<u8> {
        let mut w = Writer::default()
            .proto(5)
            .global("tracemalloc", "Snapshot")
            .op(b')')
            .op(0x81)
            .op(b'}')
            .op(b'(')
            .str("traces")
            .global("tracemalloc", "_Traces")
            .op(b')')
            .op(0x81)
            .op(b'}')
            .str("_traces")
            .op(b']')
            .op(b'(');
        // Memo slots: none used before this point, so traceback i is slot i.
        let mut stored = 0usize;
        for &(domain, size, f) in traces {
            w = w.op(b'(').int(domain).int(size);
            if f < stored {
                w = w.get(f as u8);
            } else {
                assert_eq!(f, stored, "tracebacks are introduced in order");
                w = w.op(b'(');
                for &(file, line) in frames[f] {
                    w = match file {
                        // Not a frame: a bare int, or a bare str.
                        "" => w.int(line),
                        "!" => w.str("!"),
                        _ => w.str(file).int(line).op(0x86),
                    };
                }
                w = w.op(b't').memoize();
                stored += 1;
            }
            w = w.int(frames[f].len() as i64).op(b't');
        }
        w.op(b'e')
            .op(b's')
            .op(b'b')
            .str("traceback_limit")
            .int(limit)
            .op(b'u')
            .op(b'b')
            .stop()
    }

    fn rows(p: &Profile) -> Vec<(Vec<String>, Vec<i64>)> {
        p.samples()
            .map(|s| {
                let names = s
                    .stack
                    .iter()
                    .map(|f| {
                        let f = p.frame(f);
                        format!("{}:{}", p.str(f.file), f.line)
                    })
                    .collect();
                (names, s.values.to_vec())
            })
            .collect()
    }

    #[test]
    fn traces_with_a_shared_traceback_are_one_sample() {
        let leak: &[(&str, i64)] = &[("/srv/lib/headers.py", 42), ("/srv/app.py", 10)];
        let other: &[(&str, i64)] = &[("/srv/app.py", 12)];
        let bytes = snapshot(25, &[leak, other], &[(0, 100, 0), (0, 60, 1), (0, 28, 0)]);
        let p = decode(&bytes).unwrap();
        assert_eq!(p.format, Format::Tracemalloc);
        assert_eq!(p.header.sample_types[1].name, "inuse_space");
        assert_eq!(
            rows(&p),
            vec![
                (
                    vec!["/srv/lib/headers.py:42".into(), "/srv/app.py:10".into()],
                    vec![2, 128]
                ),
                (vec!["/srv/app.py:12".into()], vec![1, 60]),
            ]
        );
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.header.comments, ["traceback_limit 25"]);
        let leaf = p.frame(p.samples().next().unwrap().stack.at(0));
        assert!(!leaf.is_symbolized(), "tracemalloc frames have no function");
        assert_eq!(p.frame_name(leaf), "/srv/lib/headers.py:42");
    }

    #[test]
    fn other_domains_are_reported_in_the_header() {
        let f: &[(&str, i64)] = &[("a.py", 1)];
        let bytes = snapshot(
            25,
            &[f],
            &[(0, 10, 0), (389047, 4096, 0), (389047, 4096, 0)],
        );
        let p = decode(&bytes).unwrap();
        assert_eq!(rows(&p).len(), 2, "domains are not merged");
        assert_eq!(p.warnings.len(), 1, "the user is told: {:?}", p.warnings);
        assert_eq!(p.total(1), 8202);
        assert!(
            p.header.comments[0].starts_with("tracemalloc domain 389047: 2 blocks, 8192 bytes"),
            "{:?}",
            p.header.comments
        );
    }

    #[test]
    fn many_domains_are_one_warning() {
        let f: &[(&str, i64)] = &[("a.py", 1)];
        let traces: Vec<(i64, i64, usize)> = (1..=1000).map(|d| (d, 16 + d % 7, 0)).collect();
        let p = decode(&snapshot(25, &[f], &traces)).unwrap();
        assert_eq!(
            p.warnings.len(),
            1,
            "{:?}",
            &p.warnings[..p.warnings.len().min(3)]
        );
        assert_eq!(p.header.comments.len(), 2, "the note and traceback_limit");
        let warning = &p.warnings[0];
        assert!(
            warning.starts_with("tracemalloc: 1000 domains other than Python's hold 1000 blocks"),
            "{warning}"
        );
        assert!(
            warning.ends_with("the largest: domain 6: 1 blocks, 22 bytes; domain 13: 1 blocks, 22 bytes; domain 20: 1 blocks, 22 bytes, …"),
            "{warning}"
        );
    }

    #[test]
    fn one_frame_snapshots_warn() {
        let f: &[(&str, i64)] = &[("a.py", 1)];
        let p = decode(&snapshot(1, &[f], &[(0, 10, 0)])).unwrap();
        assert_eq!(p.warnings.len(), 1);
        assert!(
            p.warnings[0].contains("tracemalloc.start(25)"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn three_field_traces_of_python_3_8() {
        // (domain, size, frames) without total_nframe.
        let bytes = Writer::default()
            .proto(4)
            .global("tracemalloc", "Snapshot")
            .op(b')')
            .op(0x81)
            .op(b'}')
            .str("traces")
            .global("tracemalloc", "_Traces")
            .op(b')')
            .op(0x81)
            .op(b'}')
            .str("_traces")
            .op(b']')
            .int(0)
            .int(1 << 33)
            .str("big.py")
            .int(7)
            .op(0x86)
            .op(0x85)
            .op(0x87)
            .op(b'a')
            .op(b's')
            .op(b'b')
            .op(b's')
            .op(b'b')
            .stop();
        let p = decode(&bytes).unwrap();
        assert_eq!(rows(&p), vec![(vec!["big.py:7".into()], vec![1, 1 << 33])]);
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn wrong_shapes_say_where() {
        let not_snapshot = Writer::default().proto(5).op(b']').stop();
        let err = decode(&not_snapshot).unwrap_err().to_string();
        assert_eq!(
            err,
            "tracemalloc snapshot (pickle): the pickled object is a list, expected a Snapshot object"
        );
        let f: &[(&str, i64)] = &[("a.py", 1)];
        let mut bytes = snapshot(25, &[f], &[(0, 10, 0)]);
        // Turn the size (BININT1 10) into a string.
        let at = bytes.windows(2).position(|w| w == [b'K', 10]).unwrap();
        bytes.splice(at..at + 2, [0x8c, 1, b'x']);
        let err = decode(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("trace 0 size is a str, expected an int"),
            "{err}"
        );
    }

    #[test]
    fn tracebacks_read_in_parts_make_the_same_profile() {
        // Tracebacks sharing frames across the parts, traces sharing
        // tracebacks, in and out of order.
        // Deep enough for three parts.
        let tb: Vec<Vec<(String, i64)>> = (0..40)
            .map(|i| {
                (0..(i % 7 + 1) * 3000)
                    .map(|d| match d % 2 {
                        // Frames shared by tracebacks in both halves, and
                        // frames of one traceback only.
                        0 => (format!("/srv/m{}.py", (i + d) % 5), 10 + (i * d) % 9),
                        _ => (format!("/srv/only{i}.py"), d),
                    })
                    .collect()
            })
            .collect();
        let frames: Vec<Vec<(&str, i64)>> = tb
            .iter()
            .map(|t| t.iter().map(|(f, l)| (f.as_str(), *l)).collect())
            .collect();
        let frames: Vec<&[(&str, i64)]> = frames.iter().map(|f| &f[..]).collect();
        let traces: Vec<(i64, i64, usize)> = (0..40)
            .flat_map(|i| [(0, 8 * i + 1, i as usize), (i % 3, 5, (i / 2) as usize)])
            .collect();
        let bytes = snapshot(25, &frames, &traces);
        let [one, two] = decode_both_ways(&bytes).map(Result::unwrap);
        assert_eq!(rows(&one), rows(&two));
        assert_eq!(rows(&one).len(), 40 + 2 * 13);
        // The frames are numbered in the same order: as they first appear.
        assert_eq!(format!("{one:?}"), format!("{two:?}"));
        let mut seen = std::collections::HashSet::new();
        let first_seen: Vec<usize> = one
            .samples()
            .flat_map(|s| s.stack.iter().collect::<Vec<_>>())
            .filter(|f| seen.insert(*f))
            .map(|f| f.index())
            .collect();
        assert_eq!(first_seen, (0..first_seen.len()).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_traceback_that_is_not_one_is_reported_however_read() {
        // Good tracebacks deep enough for the bad ones to be in parts of
        // their own.
        let deep: Vec<(&str, i64)> = (0..100_000).map(|i| ("a.py", i % 50)).collect();
        let good: &[(&str, i64)] = &deep;
        let bad_int: &[(&str, i64)] = &[("a.py", 1), ("", 5)];
        let bad_str: &[(&str, i64)] = &[("!", 0)];
        let expect_int = "a traceback frame is not a (filename, lineno) pair but an int";
        let expect_str = "a traceback frame is not a (filename, lineno) pair but a str";
        // One bad traceback in each of two parts: the earlier one is
        // reported.
        let frames = [good, bad_int, good, good, good, bad_str, good];
        let traces: Vec<_> = (0..frames.len()).map(|i| (0, 10, i)).collect();
        for p in decode_both_ways(&snapshot(25, &frames, &traces)) {
            let err = p.unwrap_err().to_string();
            assert!(err.contains(expect_int), "{err}");
        }
        // Only in a later part.
        let frames = [good, good, good, good, good, bad_str, good];
        for p in decode_both_ways(&snapshot(25, &frames, &traces)) {
            let err = p.unwrap_err().to_string();
            assert!(err.contains(expect_str), "{err}");
        }
    }
}
