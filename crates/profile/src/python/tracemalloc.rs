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

use rustc_hash::FxHashMap;

use super::pickle::{self, Arena, Class, Value};
use crate::Format;
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

/// One distinct `(domain, traceback)`: its stack and what its traces sum to.
struct Group {
    frames: u32,
    domain: i64,
    count: i64,
    size: i64,
}

/// Decodes a `Snapshot.dump()` pickle.
pub(crate) fn decode(bytes: &[u8], limits: &crate::Limits) -> Result<Profile, Error> {
    let (arena, root) = pickle::load(bytes)?;
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

    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: FxHashMap<(i64, u32), usize> = FxHashMap::default();
    let mut truncated = 0usize;
    for (i, &trace) in arena.list(list).iter().enumerate() {
        let what = || format!("trace {i}");
        let Value::Tuple(t) = trace else {
            return Err(invalid(format!(
                "trace {i} is {}, expected a tuple (domain, size, frames[, total_nframe])",
                trace.kind()
            )));
        };
        let fields = arena.tuple(t);
        let (domain, size, frames, total) = match *fields {
            [d, s, f] => (d, s, f, None),
            [d, s, f, n] => (d, s, f, Some(n)),
            _ => {
                return Err(invalid(format!(
                    "trace {i} has {} fields, expected 3 or 4",
                    fields.len()
                )));
            }
        };
        let domain = int(domain, || format!("{} domain", what()))?;
        let size = int(size, || format!("{} size", what()))?;
        if size < 0 {
            return Err(invalid(format!("trace {i} has a negative size {size}")));
        }
        let Value::Tuple(frames) = frames else {
            return Err(invalid(format!(
                "trace {i} frames are {}, expected a tuple",
                frames.kind()
            )));
        };
        if let Some(total) = total {
            let total = int(total, || format!("{} total_nframe", what()))?;
            if usize::try_from(total).is_ok_and(|n| n > arena.tuple(frames).len()) {
                truncated += 1;
            }
        }
        let g = *group_of.entry((domain, frames)).or_insert_with(|| {
            groups.push(Group {
                frames,
                domain,
                count: 0,
                size: 0,
            });
            groups.len() - 1
        });
        groups[g].count += 1;
        groups[g].size = groups[g].size.saturating_add(size);
    }

    let mut b = ProfileBuilder::new(
        Format::Tracemalloc,
        vec![
            ValueType::new("inuse_objects", "count"),
            ValueType::new("inuse_space", "bytes"),
        ],
    );
    b.set_limits(*limits);
    let mut stacks: FxHashMap<u32, Vec<FrameId>> = FxHashMap::default();
    let mut files: FxHashMap<u32, StrId> = FxHashMap::default();
    let mut domains: FxHashMap<i64, (i64, i64)> = FxHashMap::default();
    for g in &groups {
        let stack = match stacks.entry(g.frames) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(frames_of(&arena, g.frames, &mut b, &mut files)?)
            }
        };
        b.push_sample(stack, &[g.count, g.size])?;
        let d = domains.entry(g.domain).or_default();
        d.0 += g.count;
        d.1 = d.1.saturating_add(g.size);
    }

    let mut other: Vec<_> = domains.into_iter().filter(|&(d, _)| d != 0).collect();
    other.sort_unstable();
    for (domain, (count, size)) in other {
        let note = format!(
            "tracemalloc domain {domain}: {count} blocks, {size} bytes (memory traced by an extension, not by Python's allocator)"
        );
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

/// A traceback tuple as a leaf-first stack.
fn frames_of(
    arena: &Arena,
    frames: u32,
    b: &mut ProfileBuilder,
    files: &mut FxHashMap<u32, StrId>,
) -> Result<Vec<FrameId>, Error> {
    let mut stack = Vec::with_capacity(arena.tuple(frames).len());
    for &frame in arena.tuple(frames) {
        let fields = match frame {
            Value::Tuple(f) => arena.tuple(f),
            _ => &[],
        };
        let [Value::Str(file), Value::Int(line)] = *fields else {
            return Err(invalid(format!(
                "a traceback frame is not a (filename, lineno) pair but {}",
                frame.kind()
            )));
        };
        let file = *files
            .entry(file)
            .or_insert_with(|| b.intern(arena.str(file)));
        // Line 0 is tracemalloc's "unknown"; lines past u32 do not exist.
        let line = u32::try_from(line).unwrap_or(0);
        stack.push(b.frame(Frame::symbolized(StrId::EMPTY, file, line)));
    }
    Ok(stack)
}

#[cfg(test)]
mod tests {
    use super::super::pickle::tests::Writer;
    use super::*;

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
                    w = w.str(file).int(line).op(0x86);
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
                    .map(|&f| {
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
        let leaf = p.frame(p.samples().next().unwrap().stack[0]);
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
}
