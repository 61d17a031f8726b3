//! JDK Flight Recorder recordings (`.jfr`): what every JVM since 11 writes
//! with `-XX:StartFlightRecording` and `jcmd PID JFR.dump`.
//!
//! Four sample types, from four events (see [`reader`] for the format):
//!
//! | type | unit | from |
//! |---|---|---|
//! | `alloc_space` | bytes | `jdk.ObjectAllocationSample`: `weight`, the bytes allocated since the thread's last sample |
//! | `tlab_space` | bytes | `jdk.ObjectAllocationInNewTLAB` and `…OutsideTLAB`: `allocationSize` |
//! | `live_objects` | count | `jdk.OldObjectSample`: sampled objects still live when the recording was dumped |
//! | `live_space` | bytes | `jdk.OldObjectSample`: `objectSize`, on JDKs that record it |
//!
//! The default is live memory where the recording has it (`live_space`,
//! else `live_objects`), else `alloc_space`, else `tlab_space`. A recording
//! dumped twice from one process holds everything since it started: the
//! allocation types of the second minus the first are what was allocated in
//! between, and the live objects of the second minus the first are the
//! sampled objects that were allocated in between and are still live (the
//! JVM writes each old-object sample once, at the first dump after it was
//! taken).
//!
//! A frame is `package.Class.method`, with its line; JFR records no source
//! file, so the file is the one javac names after the top-level class
//! (`java/util/ArrayList.java`). Stacks are leaf first, as JFR writes them.

mod reader;

use rustc_hash::FxHashMap;

use crate::Format;
use crate::error::Error;
use crate::model::{Frame, FrameId, Profile, ProfileBuilder, ValueType};
use reader::{ChunkHeader, Cursor, HEADER_SIZE, Metadata, Text, Value, event_header};

/// The sample types, in order.
const SAMPLE_TYPES: [(&str, &str); 4] = [
    ("alloc_space", "bytes"),
    ("tlab_space", "bytes"),
    ("live_objects", "count"),
    ("live_space", "bytes"),
];
const ALLOC_SPACE: usize = 0;
const TLAB_SPACE: usize = 1;
const LIVE_OBJECTS: usize = 2;
const LIVE_SPACE: usize = 3;

/// The events read, and the field each adds to which sample type.
const EVENTS: &[(&str, &[(&str, usize)])] = &[
    ("jdk.ObjectAllocationSample", &[("weight", ALLOC_SPACE)]),
    ("jdk.ObjectAllocationInNewTLAB", &[("tlabSize", TLAB_SPACE)]),
    (
        "jdk.ObjectAllocationOutsideTLAB",
        &[("allocationSize", TLAB_SPACE)],
    ),
    ("jdk.OldObjectSample", &[("objectSize", LIVE_SPACE)]),
];

/// Whether `bytes` start like a JFR recording.
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    bytes.starts_with(b"FLR\0")
}

/// Decodes a JFR recording, all its chunks.
pub(crate) fn decode(bytes: &[u8], limits: &crate::Limits) -> Result<Profile, Error> {
    let mut b = ProfileBuilder::new(
        Format::Jfr,
        SAMPLE_TYPES
            .iter()
            .map(|&(name, unit)| ValueType::new(name, unit))
            .collect(),
    );
    b.set_limits(*limits);
    let mut recording = Recording::default();
    let mut at = 0;
    let mut chunks = 0;
    while at < bytes.len() {
        let header = ChunkHeader::read(&bytes[at..]).map_err(|e| in_chunk(e, chunks + 1, at))?;
        let chunk = &bytes[at..at + header.size];
        read_chunk(&mut b, &mut recording, chunk, &header)
            .map_err(|e| in_chunk(e, chunks + 1, at))?;
        let end = header.start_nanos.saturating_add(header.duration_nanos);
        b.header_mut().time_nanos = b.header_mut().time_nanos.max(end);
        at += header.size;
        chunks += 1;
    }
    let h = b.header_mut();
    h.comments.push(format!("JFR recording, {chunks} chunks"));
    h.default_sample_type = Some(recording.default_type().to_owned());
    if recording.truncated > 0 {
        b.warn(format!(
            "{} stack traces were cut at the recording's stack depth (-XX:FlightRecorderOptions:stackdepth=…, 64 by default); \
             their callers are missing",
            recording.truncated
        ));
    }
    Ok(b.finish())
}

/// Puts which chunk an error is in before it.
fn in_chunk(e: Error, n: usize, at: usize) -> Error {
    match e {
        Error::Invalid { format, message } => Error::Invalid {
            format,
            message: format!("chunk {n} (at byte {at}): {message}"),
        },
        other => other,
    }
}

/// What the chunks have shown so far.
#[derive(Default)]
struct Recording {
    /// Events read per sample type's source: allocation samples, TLAB
    /// events, old-object samples.
    events: [usize; 4],
    /// Whether old-object samples carry `objectSize`.
    live_sizes: bool,
    truncated: usize,
}

impl Recording {
    fn default_type(&self) -> &'static str {
        if self.events[LIVE_OBJECTS] > 0 {
            return if self.live_sizes {
                "live_space"
            } else {
                "live_objects"
            };
        }
        if self.events[ALLOC_SPACE] > 0 || self.events[TLAB_SPACE] == 0 {
            "alloc_space"
        } else {
            "tlab_space"
        }
    }
}

/// One event to become a sample once the chunk's pools are read.
struct Pending {
    stack: i64,
    values: [i64; 4],
}

/// The pools a stack trace is resolved through.
#[derive(Default)]
struct Pools {
    /// Stack trace → (method, line) leaf first, and whether it was cut.
    stacks: FxHashMap<i64, (Vec<(i64, i32)>, bool)>,
    /// Method → (class, name symbol).
    methods: FxHashMap<i64, (i64, i64)>,
    /// Class → name symbol.
    classes: FxHashMap<i64, i64>,
    symbols: FxHashMap<i64, Text>,
    strings: FxHashMap<i64, Text>,
}

/// The class ids of the pools read, and of the events.
struct Ids {
    stack_trace: Option<i64>,
    method: Option<i64>,
    class: Option<i64>,
    symbol: Option<i64>,
    string: Option<i64>,
    /// Event type → its index in [`EVENTS`].
    events: FxHashMap<i64, usize>,
}

impl Ids {
    fn of(m: &Metadata) -> Ids {
        Ids {
            stack_trace: m.id_of("jdk.types.StackTrace"),
            method: m.id_of("jdk.types.Method"),
            class: m.id_of("java.lang.Class"),
            symbol: m.id_of("jdk.types.Symbol"),
            string: m.id_of("java.lang.String"),
            events: EVENTS
                .iter()
                .enumerate()
                .filter_map(|(i, (name, _))| m.id_of(name).map(|id| (id, i)))
                .collect(),
        }
    }
}

/// Reads one chunk's events into samples.
fn read_chunk(
    b: &mut ProfileBuilder,
    recording: &mut Recording,
    chunk: &[u8],
    header: &ChunkHeader,
) -> Result<(), Error> {
    let metadata = Metadata::read(chunk, header.metadata_offset, header.compressed)?;
    let ids = Ids::of(&metadata);
    let mut pools = Pools::default();
    let mut pending = Vec::new();
    let mut c = Cursor::new(chunk, HEADER_SIZE, header.compressed);
    while c.left() > 0 {
        let (start, end) = event_header(&mut c, chunk.len())?;
        let mut e = Cursor::new(&chunk[..end], start, header.compressed);
        let kind = e.long()?;
        let mut budget = end - start + 16;
        if kind == 1 {
            read_checkpoint(&mut e, &metadata, &ids, &mut pools, &mut budget)?;
        } else if let Some(&event) = ids.events.get(&kind) {
            let value = metadata.value(&mut e, kind, 0, &mut budget)?;
            pending.push(read_event(&metadata, kind, event, &value, recording));
        }
        c = Cursor::new(chunk, end, header.compressed);
    }
    let mut frames: FxHashMap<i64, Vec<FrameId>> = FxHashMap::default();
    for p in pending {
        let stack = frames
            .entry(p.stack)
            .or_insert_with(|| resolve_stack(b, &pools, p.stack, recording));
        b.push_sample(stack, &p.values)?;
    }
    Ok(())
}

/// The values of one event of interest.
fn read_event(
    metadata: &Metadata,
    kind: i64,
    event: usize,
    value: &Value,
    recording: &mut Recording,
) -> Pending {
    let class = &metadata.classes[&kind];
    let field = |name: &str| match value {
        Value::Object(fields) => class.field(name).and_then(|i| fields.get(i)),
        _ => None,
    };
    let mut values = [0i64; 4];
    let (name, sources) = EVENTS[event];
    for &(source, into) in sources {
        if let Some(v) = field(source).and_then(Value::as_int) {
            values[into] = values[into].saturating_add(v);
            if into == LIVE_SPACE {
                recording.live_sizes = true;
            }
        }
    }
    let counted = if name == "jdk.OldObjectSample" {
        values[LIVE_OBJECTS] = 1;
        LIVE_OBJECTS
    } else {
        sources[0].1
    };
    recording.events[counted] += 1;
    Pending {
        stack: field("stackTrace").and_then(Value::as_ref).unwrap_or(0),
        values,
    }
}

/// Reads a checkpoint event's pools, keeping those stacks are made of.
fn read_checkpoint(
    c: &mut Cursor<'_>,
    metadata: &Metadata,
    ids: &Ids,
    pools: &mut Pools,
    budget: &mut usize,
) -> Result<(), Error> {
    c.long()?; // start
    c.long()?; // duration
    c.long()?; // delta to the previous checkpoint
    c.byte()?; // checkpoint type
    let n = c.count()?;
    for _ in 0..n {
        let class = c.long()?;
        let count = c.count()?;
        for _ in 0..count {
            let index = c.long()?;
            let value = metadata.value(c, class, 0, budget)?;
            pools.keep(metadata, ids, class, index, value);
        }
    }
    Ok(())
}

impl Pools {
    /// Keeps a pool entry when stacks are made of its class.
    fn keep(&mut self, metadata: &Metadata, ids: &Ids, class: i64, index: i64, value: Value) {
        let Value::Object(fields) = &value else {
            if Some(class) == ids.string
                && let Value::Text(t) = value
            {
                self.strings.insert(index, t);
            }
            return;
        };
        let c = &metadata.classes[&class];
        let get = |name: &str| c.field(name).and_then(|i| fields.get(i));
        let reference = |name: &str| get(name).and_then(Value::as_ref).unwrap_or(0);
        if Some(class) == ids.stack_trace {
            let frame_class = c
                .field("frames")
                .map(|i| c.fields[i].class)
                .and_then(|id| metadata.classes.get(&id));
            let mut frames = Vec::new();
            if let (Some(Value::Array(items)), Some(fc)) = (get("frames"), frame_class) {
                for item in items {
                    let Value::Object(ff) = item else { continue };
                    let at = |name: &str| fc.field(name).and_then(|i| ff.get(i));
                    let method = at("method").and_then(Value::as_ref).unwrap_or(0);
                    let line = at("lineNumber").and_then(Value::as_int).unwrap_or(0);
                    frames.push((method, i32::try_from(line).unwrap_or(0)));
                }
            }
            let cut = get("truncated").and_then(Value::as_int).unwrap_or(0) != 0;
            self.stacks.insert(index, (frames, cut));
        } else if Some(class) == ids.method {
            self.methods
                .insert(index, (reference("type"), reference("name")));
        } else if Some(class) == ids.class {
            self.classes.insert(index, reference("name"));
        } else if Some(class) == ids.symbol
            && let Some(Value::Text(t)) = get("string")
        {
            self.symbols.insert(index, t.clone());
        }
    }

    fn text(&self, t: &Text) -> String {
        match t {
            Text::Null => String::new(),
            Text::Inline(s) => s.clone(),
            Text::Pooled(i) => match self.strings.get(i) {
                Some(Text::Inline(s)) => s.clone(),
                _ => String::new(),
            },
        }
    }

    fn symbol(&self, index: i64) -> String {
        self.symbols
            .get(&index)
            .map(|t| self.text(t))
            .unwrap_or_default()
    }

    /// `package.Class.method` and the file javac would have named.
    fn method(&self, index: i64) -> (String, String) {
        let Some(&(class, name)) = self.methods.get(&index) else {
            return (
                format!("(method {index} not in the recording)"),
                String::new(),
            );
        };
        let class_name = self
            .classes
            .get(&class)
            .map(|&s| self.symbol(s))
            .unwrap_or_default();
        let method = self.symbol(name);
        let file = source_file(&class_name);
        let class_name = class_name.replace('/', ".");
        if class_name.is_empty() {
            return (method, file);
        }
        (format!("{class_name}.{method}"), file)
    }
}

/// The source file javac names after a class's top-level class:
/// `java/util/HashMap$Node` → `java/util/HashMap.java`.
fn source_file(class_name: &str) -> String {
    if class_name.is_empty() {
        return String::new();
    }
    let top = class_name.split('$').next().unwrap_or(class_name);
    format!("{top}.java")
}

/// The frames of stack trace `index`, leaf first.
fn resolve_stack(
    b: &mut ProfileBuilder,
    pools: &Pools,
    index: i64,
    recording: &mut Recording,
) -> Vec<FrameId> {
    let Some((frames, cut)) = pools.stacks.get(&index).filter(|(f, _)| !f.is_empty()) else {
        // No stack trace, or an empty one (a JVM thread's).
        let none = b.intern("(no stack trace)");
        return vec![b.frame(Frame::symbolized(none, crate::StrId::EMPTY, 0))];
    };
    recording.truncated += usize::from(*cut);
    frames
        .iter()
        .map(|&(method, line)| {
            let (function, file) = pools.method(method);
            let (function, file) = (b.intern(&function), b.intern(&file));
            b.frame(Frame::symbolized(function, file, line.max(0) as u32))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_after_the_top_level_class() {
        assert_eq!(
            source_file("java/util/HashMap$Node"),
            "java/util/HashMap.java"
        );
        assert_eq!(source_file("Leak$HeaderCache"), "Leak.java");
        assert_eq!(source_file(""), "");
    }

    #[test]
    fn the_default_is_live_memory_where_the_recording_has_it() {
        let mut r = Recording::default();
        assert_eq!(r.default_type(), "alloc_space");
        r.events[TLAB_SPACE] = 3;
        assert_eq!(r.default_type(), "tlab_space");
        r.events[ALLOC_SPACE] = 3;
        assert_eq!(r.default_type(), "alloc_space");
        r.events[LIVE_OBJECTS] = 1;
        assert_eq!(r.default_type(), "live_objects");
        r.live_sizes = true;
        assert_eq!(r.default_type(), "live_space");
    }

    #[test]
    fn cut_and_foreign_chunks_are_named() {
        let e = decode(b"FLR\0\0\x02\0\x01", &crate::Limits::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("chunk 1 (at byte 0): a chunk header needs 68 bytes, 8 are left"),
            "{e}"
        );
        let mut header = b"FLR\0\0\x09\0\x00".to_vec();
        header.resize(68, 0);
        let e = decode(&header, &crate::Limits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("format version 9.0"), "{e}");
    }
}
