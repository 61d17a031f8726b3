//! The profile model every decoder produces and every later stage reads.
//!
//! A [`Profile`] is built for millions of samples: strings are interned once
//! ([`StrId`]), frames are interned once ([`FrameId`]), every sample's stack is
//! a slice of one shared `Vec<FrameId>`, and every sample's values are a slice
//! of one shared `Vec<i64>`. Nothing is allocated per sample or per frame
//! occurrence.
//!
//! Stacks are stored **leaf first**, with inlined frames expanded innermost
//! first, exactly the order of pprof's `Sample.location_id` and
//! `Location.line`.

use std::fmt;

use crate::error::Error;

mod builder;

pub(crate) use builder::SampleBatch;
pub use builder::{Limits, MAX_FRAMES, ProfileBuilder};

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
    /// V8 sampling heap profile (`.heapprofile` JSON: Node, Chrome).
    V8HeapProfile,
    /// Valgrind massif output (`massif.out.<pid>`).
    Massif,
    /// speedscope JSON (memray, py-spy, dotnet-trace).
    Speedscope,
    /// JDK Flight Recorder recording (`.jfr`).
    Jfr,
    /// heaptrack capture (`heaptrack.<app>.<pid>.zst`).
    Heaptrack,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
            Format::V8HeapProfile => "V8 sampling heap profile",
            Format::Massif => "massif output",
            Format::Speedscope => "speedscope JSON",
            Format::Jfr => "JFR recording",
            Format::Heaptrack => "heaptrack capture",
        })
    }
}

/// An interned string of one [`Profile`]. `StrId::EMPTY` is always `""`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrId(u32);

impl StrId {
    /// The empty string, present in every profile.
    pub const EMPTY: StrId = StrId(0);

    /// Whether this is the empty string.
    pub fn is_empty(self) -> bool {
        self == StrId::EMPTY
    }
}

/// An interned frame of one [`Profile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameId(u32);

impl FrameId {
    /// The frame at position `index` of its profile's frames.
    pub(crate) fn from_index(index: u32) -> Self {
        FrameId(index)
    }

    /// The frame's position in [`Profile::frames`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A mapping (an executable or shared object) of one [`Profile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MappingId(u32);

impl MappingId {
    #[cfg(test)]
    pub(crate) fn from_index(i: usize) -> Self {
        MappingId(to_u32(i))
    }

    /// The mapping's position in [`Profile::mappings`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A sample type or period type: what is measured, in which unit
/// (`inuse_space`/`bytes`, `alloc_objects`/`count`, `cpu`/`nanoseconds`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueType {
    /// The measured quantity, e.g. `inuse_space`.
    pub name: String,
    /// Its unit, e.g. `bytes`.
    pub unit: String,
}

impl ValueType {
    /// A value type from its name and unit.
    pub fn new(name: impl Into<String>, unit: impl Into<String>) -> Self {
        ValueType {
            name: name.into(),
            unit: unit.into(),
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.name, self.unit)
    }
}

/// One frame of a call stack.
///
/// A symbolized frame has a function name, usually a file and a line; its
/// identity is `(function, file, line)`. A frame the producer could not
/// symbolize has an empty `function` and keeps its `address` and `mapping`
/// so that a symbolizer can name it later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Function name, or [`StrId::EMPTY`] when unknown.
    pub function: StrId,
    /// Source file, or [`StrId::EMPTY`] when unknown.
    pub file: StrId,
    /// Source line, or 0 when unknown.
    pub line: u32,
    /// Instruction address; only kept for frames without a function name.
    pub address: u64,
    /// The mapping the address belongs to; only kept for frames without a
    /// function name.
    pub mapping: Option<MappingId>,
}

impl Frame {
    /// A symbolized frame.
    pub fn symbolized(function: StrId, file: StrId, line: u32) -> Self {
        Frame {
            function,
            file,
            line,
            address: 0,
            mapping: None,
        }
    }

    /// A frame known only by its address.
    pub fn unsymbolized(address: u64, mapping: Option<MappingId>) -> Self {
        Frame {
            function: StrId::EMPTY,
            file: StrId::EMPTY,
            line: 0,
            address,
            mapping,
        }
    }

    /// Whether the frame has a function name.
    pub fn is_symbolized(&self) -> bool {
        !self.function.is_empty()
    }
}

/// An executable or shared object the profiled process had mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mapping {
    /// First address of the mapping.
    pub start: u64,
    /// One past the last address of the mapping.
    pub limit: u64,
    /// File offset that `start` maps.
    pub offset: u64,
    /// Path of the mapped file.
    pub path: StrId,
    /// Build ID of the mapped file, when the producer recorded it.
    pub build_id: StrId,
    /// The producer resolved function names for this mapping.
    pub has_functions: bool,
    /// The producer resolved file names for this mapping.
    pub has_filenames: bool,
    /// The producer resolved line numbers for this mapping.
    pub has_line_numbers: bool,
    /// The producer expanded inlined frames for this mapping.
    pub has_inline_frames: bool,
}

/// How a sampled profile's raw values become estimates of the real ones.
///
/// jemalloc and tcmalloc record an allocation with probability
/// `1 - exp(-size / rate)` (a Poisson process with mean `rate` bytes between
/// samples). Their dumps hold the raw sampled counts and sizes; an estimate of
/// the real values multiplies both by `1 / (1 - exp(-(size / count) / rate))`,
/// computed from the row's own average size. The raw values stay in the
/// profile (the number of samples behind a row tells how noisy it is); the
/// differ applies [`Sampling::scale`] as it sums, in floating point, and
/// truncates the sums, as `jeprof` does.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampling {
    /// Mean bytes between samples.
    pub rate: i64,
    /// `(count type, size type)` index pairs that are scaled together, e.g.
    /// `(inuse_objects, inuse_space)`.
    pub pairs: Vec<(usize, usize)>,
}

impl Sampling {
    /// The factor that turns the raw value of `type_index` in a sample with
    /// these raw `values` into an estimate. 1 for types outside every pair,
    /// for empty rows, and when the rate is below 1.
    ///
    /// ```
    /// use heapdiff_profile::Sampling;
    /// let s = Sampling { rate: 4096, pairs: vec![(0, 1)] };
    /// // 10 sampled objects of 4 KiB each: each had a 1 - e^-1 chance.
    /// let f = s.scale(&[10, 40960], 1);
    /// assert!((f - 1.0 / (1.0 - (-1.0f64).exp())).abs() < 1e-12);
    /// assert_eq!(s.scale(&[0, 0], 0), 1.0);
    /// ```
    pub fn scale(&self, values: &[i64], type_index: usize) -> f64 {
        let Some(&(count, size)) = self
            .pairs
            .iter()
            .find(|&&(c, s)| c == type_index || s == type_index)
        else {
            return 1.0;
        };
        let (n, bytes) = (values[count], values[size]);
        if n <= 0 || bytes <= 0 || self.rate < 1 {
            return 1.0;
        }
        let ratio = (bytes as f64 / n as f64) / self.rate as f64;
        1.0 / (1.0 - (-ratio).exp())
    }
}

impl Mapping {
    /// A mapping of `path` from `start` to `limit`, at file `offset`, with
    /// no build ID and nothing resolved by the producer.
    pub fn new(start: u64, limit: u64, offset: u64, path: StrId) -> Self {
        Mapping {
            start,
            limit,
            offset,
            path,
            build_id: StrId::EMPTY,
            has_functions: false,
            has_filenames: false,
            has_line_numbers: false,
            has_inline_frames: false,
        }
    }
}

/// What a profile says about itself, beside its samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    /// The quantities each sample carries, in order.
    pub sample_types: Vec<ValueType>,
    /// The sample type the producer suggests showing first.
    pub default_sample_type: Option<String>,
    /// What the sampling period counts (for Go heap profiles `space/bytes`).
    pub period_type: Option<ValueType>,
    /// The sampling period, in units of `period_type` (0 when unknown).
    pub period: i64,
    /// Collection time, nanoseconds since the Unix epoch (0 when unknown).
    pub time_nanos: i64,
    /// Collection duration in nanoseconds (0 when unknown).
    pub duration_nanos: i64,
    /// Free-form comments the producer attached.
    pub comments: Vec<String>,
    /// Documentation URL the producer attached.
    pub doc_url: Option<String>,
    /// Present when the values are raw samples still to be scaled
    /// (jemalloc, tcmalloc `heap_v2`); `None` when they are exact or were
    /// already scaled by the producer (Go).
    pub sampling: Option<Sampling>,
}

/// One sample: a stack and its values, borrowed from the [`Profile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample<'a> {
    /// The call stack, leaf first.
    pub stack: Frames<'a>,
    /// Where `stack` starts in [`Profile::stack_frames`].
    pub offset: usize,
    /// One value per sample type.
    pub values: &'a [i64],
}

/// A run of stack frames (leaf first), borrowed from a [`Profile`]: two
/// bytes a frame while the profile has at most 65,536 distinct frames (as
/// nearly every profile has), four bytes otherwise. Read it by value
/// ([`get`](Self::get), [`iter`](Self::iter)), or match it to work on the
/// slice itself.
#[derive(Clone, Copy, Debug)]
pub enum Frames<'a> {
    /// Frames as 16-bit [`FrameId`] indices.
    Narrow(&'a [u16]),
    /// Frames as [`FrameId`]s.
    Wide(&'a [FrameId]),
}

impl<'a> Frames<'a> {
    /// Number of frames.
    pub fn len(self) -> usize {
        match self {
            Frames::Narrow(f) => f.len(),
            Frames::Wide(f) => f.len(),
        }
    }

    /// No frames.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Frame `i` (0 is the leaf), if there is one.
    pub fn get(self, i: usize) -> Option<FrameId> {
        match self {
            Frames::Narrow(f) => f.get(i).map(|&n| FrameId(u32::from(n))),
            Frames::Wide(f) => f.get(i).copied(),
        }
    }

    /// Frame `i` (0 is the leaf).
    ///
    /// # Panics
    /// If there are no more than `i` frames, as indexing a slice does.
    pub fn at(self, i: usize) -> FrameId {
        match self {
            Frames::Narrow(f) => FrameId(u32::from(f[i])),
            Frames::Wide(f) => f[i],
        }
    }

    /// Frames `range` of these.
    ///
    /// # Panics
    /// If `range` is out of bounds, as slicing does.
    pub fn slice(self, range: std::ops::Range<usize>) -> Frames<'a> {
        match self {
            Frames::Narrow(f) => Frames::Narrow(&f[range]),
            Frames::Wide(f) => Frames::Wide(&f[range]),
        }
    }

    /// The frames, leaf first.
    pub fn iter(self) -> FramesIter<'a> {
        match self {
            Frames::Narrow(f) => FramesIter::Narrow(f.iter()),
            Frames::Wide(f) => FramesIter::Wide(f.iter()),
        }
    }

    /// The frames, leaf first, in a vector of their own.
    pub fn to_vec(self) -> Vec<FrameId> {
        self.iter().collect()
    }
}

impl PartialEq for Frames<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Frames::Narrow(a), Frames::Narrow(b)) => a == b,
            (Frames::Wide(a), Frames::Wide(b)) => a == b,
            _ => self.len() == other.len() && self.iter().eq(other.iter()),
        }
    }
}

impl Eq for Frames<'_> {}

impl<'a> IntoIterator for Frames<'a> {
    type Item = FrameId;
    type IntoIter = FramesIter<'a>;

    fn into_iter(self) -> FramesIter<'a> {
        self.iter()
    }
}

/// The iterator of [`Frames::iter`].
#[derive(Clone, Debug)]
pub enum FramesIter<'a> {
    /// Over 16-bit indices.
    Narrow(std::slice::Iter<'a, u16>),
    /// Over [`FrameId`]s.
    Wide(std::slice::Iter<'a, FrameId>),
}

impl Iterator for FramesIter<'_> {
    type Item = FrameId;

    #[inline]
    fn next(&mut self) -> Option<FrameId> {
        match self {
            FramesIter::Narrow(i) => i.next().map(|&n| FrameId(u32::from(n))),
            FramesIter::Wide(i) => i.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.len();
        (n, Some(n))
    }
}

impl DoubleEndedIterator for FramesIter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<FrameId> {
        match self {
            FramesIter::Narrow(i) => i.next_back().map(|&n| FrameId(u32::from(n))),
            FramesIter::Wide(i) => i.next_back().copied(),
        }
    }
}

impl ExactSizeIterator for FramesIter<'_> {
    fn len(&self) -> usize {
        match self {
            FramesIter::Narrow(i) => i.len(),
            FramesIter::Wide(i) => i.len(),
        }
    }
}

/// A frame as stored in a stack, narrow or wide: what code generic over
/// [`Frames`]' two slices needs.
pub trait StackFrame: Copy + Eq + Send + Sync + 'static {
    /// The frame's position in [`Profile::frames`].
    fn index(self) -> usize;

    /// The frame `id` at this width. A decoder writing stacks is handed a two-byte
    /// buffer only while every interned frame's id fits in two bytes.
    fn of(id: FrameId) -> Self;
}

impl StackFrame for u16 {
    #[inline(always)]
    fn index(self) -> usize {
        usize::from(self)
    }

    #[inline(always)]
    fn of(id: FrameId) -> Self {
        debug_assert!(
            id.0 <= u32::from(u16::MAX),
            "a narrow store holds two-byte ids"
        );
        id.0 as u16
    }
}

impl StackFrame for FrameId {
    #[inline(always)]
    fn index(self) -> usize {
        self.0 as usize
    }

    #[inline(always)]
    fn of(id: FrameId) -> Self {
        id
    }
}

/// Writes one sample's stack, leaf first, straight into a profile's frame
/// buffer at the width the profile stores frames (see
/// [`ProfileBuilder::push_sample_written`]): no per-sample copy. It may
/// only write frames interned before the sample is pushed.
pub(crate) trait StackWriter {
    /// Appends the stack's frames to `frames` (whatever is there already
    /// belongs to earlier samples), or fails, failing the push.
    fn write<F: StackFrame>(self, frames: &mut Vec<F>) -> Result<(), Error>;
}

/// The most frames a profile may intern and still store stacks at two bytes
/// a frame.
const NARROW_FRAMES: usize = u16::MAX as usize + 1;

/// Stack frames back to back, two bytes each until a frame id needs more.
#[derive(Clone, Debug)]
enum FrameStore {
    Narrow(Vec<u16>),
    Wide(Vec<FrameId>),
}

impl Default for FrameStore {
    fn default() -> Self {
        FrameStore::Narrow(Vec::new())
    }
}

impl FrameStore {
    fn len(&self) -> usize {
        self.view().len()
    }

    fn view(&self) -> Frames<'_> {
        match self {
            FrameStore::Narrow(f) => Frames::Narrow(f),
            FrameStore::Wide(f) => Frames::Wide(f),
        }
    }

    fn reserve(&mut self, frames: usize) {
        match self {
            FrameStore::Narrow(f) => f.reserve(frames),
            FrameStore::Wide(f) => f.reserve(frames),
        }
    }

    /// Four bytes a frame from now on.
    fn widen(&mut self) {
        if let FrameStore::Narrow(f) = self {
            let mut wide = Vec::with_capacity(f.capacity());
            wide.extend(f.iter().map(|&n| FrameId(u32::from(n))));
            *self = FrameStore::Wide(wide);
        }
    }

    /// Appends frames, widening first if one of them needs it.
    fn extend(&mut self, frames: &[FrameId]) {
        if let FrameStore::Narrow(f) = self {
            if frames.iter().all(|id| id.0 <= u32::from(u16::MAX)) {
                f.extend(frames.iter().map(|id| id.0 as u16));
                return;
            }
            self.widen();
        }
        if let FrameStore::Wide(f) = self {
            f.extend_from_slice(frames);
        }
    }

    /// Appends another store's frames.
    fn append(&mut self, other: &FrameStore) {
        match (&mut *self, other.view()) {
            (FrameStore::Narrow(f), Frames::Narrow(o)) => f.extend_from_slice(o),
            (FrameStore::Wide(f), Frames::Wide(o)) => f.extend_from_slice(o),
            (FrameStore::Wide(f), Frames::Narrow(o)) => {
                f.extend(o.iter().map(|&n| FrameId(u32::from(n))));
            }
            (FrameStore::Narrow(_), Frames::Wide(o)) => {
                self.widen();
                if let FrameStore::Wide(f) = self {
                    f.extend_from_slice(o);
                }
            }
        }
    }
}

/// A decoded heap (or other) profile.
///
/// Build one with [`ProfileBuilder`]; read it with [`Profile::samples`],
/// [`Profile::frame`] and [`Profile::str`].
#[derive(Clone, Debug)]
pub struct Profile {
    /// Sample types, period and other metadata.
    pub header: Header,
    /// The format the profile was decoded from.
    pub format: Format,
    /// Problems that did not stop decoding (shown to the user as warnings).
    pub warnings: Vec<String>,
    /// How many profiles this one is the sum of, where known: a store's
    /// merge over a time window, or `--merged`. The differ compares such
    /// profiles as averages, their sums divided by this.
    pub merged: Option<u64>,
    strings: Vec<Box<str>>,
    mappings: Vec<Mapping>,
    frames: Vec<Frame>,
    stack_frames: FrameStore,
    stack_ends: Vec<usize>,
    values: Vec<i64>,
}

impl Profile {
    /// The string an id stands for.
    pub fn str(&self, id: StrId) -> &str {
        &self.strings[id.0 as usize]
    }

    /// A frame by id.
    pub fn frame(&self, id: FrameId) -> &Frame {
        &self.frames[id.index()]
    }

    /// Every distinct frame, indexable by [`FrameId::index`].
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Every sample's stack (leaf first), back to back, in sample order.
    pub fn stack_frames(&self) -> Frames<'_> {
        self.stack_frames.view()
    }

    /// A mapping by id.
    pub fn mapping(&self, id: MappingId) -> &Mapping {
        &self.mappings[id.index()]
    }

    /// Every mapping, indexable by [`MappingId::index`].
    pub fn mappings(&self) -> &[Mapping] {
        &self.mappings
    }

    /// Number of samples.
    pub fn sample_count(&self) -> usize {
        self.stack_ends.len()
    }

    /// The samples, in the order the producer wrote them.
    pub fn samples(&self) -> impl ExactSizeIterator<Item = Sample<'_>> + '_ {
        let width = self.header.sample_types.len();
        (0..self.stack_ends.len()).map(move |i| {
            let start = if i == 0 { 0 } else { self.stack_ends[i - 1] };
            Sample {
                stack: self.stack_frames.view().slice(start..self.stack_ends[i]),
                offset: start,
                values: &self.values[i * width..(i + 1) * width],
            }
        })
    }

    /// Sum of one sample type over all samples (saturating).
    pub fn total(&self, sample_type: usize) -> i64 {
        self.samples()
            .fold(0i64, |acc, s| acc.saturating_add(s.values[sample_type]))
    }

    /// Index of the sample type with this name, if any.
    pub fn sample_type_index(&self, name: &str) -> Option<usize> {
        self.header.sample_types.iter().position(|t| t.name == name)
    }

    /// A human-readable name for a frame: its function; for a frame with a
    /// source location but no function (tracemalloc), `file:line`; for an
    /// unsymbolized frame its address and mapping (`0x4b3c30 (leaky)`).
    pub fn frame_name(&self, frame: &Frame) -> String {
        if frame.is_symbolized() {
            return self.str(frame.function).to_owned();
        }
        if !frame.file.is_empty() {
            return format!("{}:{}", self.str(frame.file), frame.line);
        }
        match frame.mapping.map(|m| self.str(self.mapping(m).path)) {
            Some(path) if !path.is_empty() => {
                let base = path.rsplit('/').next().unwrap_or(path);
                format!("{:#x} ({base})", frame.address)
            }
            _ => format!("{:#x}", frame.address),
        }
    }

    /// Replaces frames by what a symbolizer found. `replacement` is asked
    /// once per frame; `Some(frames)` (innermost first, inlined functions
    /// expanded) replaces every occurrence of that frame in every stack, in
    /// place; `None` keeps it. Strings and frames are interned as usual.
    pub fn replace_frames(
        &mut self,
        mut replacement: impl FnMut(FrameId, &Frame) -> Option<Vec<SymbolFrame>>,
    ) {
        let mut found: Vec<Option<Vec<SymbolFrame>>> = Vec::with_capacity(self.frames.len());
        for (i, frame) in self.frames.iter().enumerate() {
            found.push(replacement(FrameId(to_u32(i)), frame));
        }
        if found.iter().all(Option::is_none) {
            return;
        }
        // Re-intern into a builder that keeps every existing id.
        let header = std::mem::take(&mut self.header);
        let mut b = ProfileBuilder::new(self.format, Vec::new());
        b.profile.header = header;
        b.profile.warnings = std::mem::take(&mut self.warnings);
        b.profile.merged = self.merged;
        for s in self.strings.iter().skip(1) {
            b.intern(s);
        }
        b.profile.mappings = std::mem::take(&mut self.mappings);
        for frame in &self.frames {
            // Keep ids stable: push without interning (duplicates are harmless).
            let id = FrameId(to_u32(b.profile.frames.len()));
            b.profile.frames.push(*frame);
            b.frame_ids.entry(*frame).or_insert(id);
        }
        // What each old frame becomes.
        let mut expansion: Vec<(u32, u32)> = Vec::with_capacity(found.len());
        let mut expanded: Vec<FrameId> = Vec::new();
        for (i, f) in found.into_iter().enumerate() {
            let start = expanded.len() as u32;
            match f {
                Some(frames) if !frames.is_empty() => {
                    for sf in frames {
                        let function = b.intern(&sf.function);
                        let file = b.intern(&sf.file);
                        expanded.push(b.frame(Frame::symbolized(function, file, sf.line)));
                    }
                }
                _ => expanded.push(FrameId(to_u32(i))),
            }
            expansion.push((start, expanded.len() as u32));
        }
        let mut stack_frames = FrameStore::default();
        stack_frames.reserve(self.stack_frames.len());
        let mut stack_ends = Vec::with_capacity(self.stack_ends.len());
        let mut start = 0;
        let mut stack = Vec::new();
        let all = self.stack_frames.view();
        for &end in &self.stack_ends {
            stack.clear();
            for f in all.slice(start..end) {
                let (a, z) = expansion[f.index()];
                stack.extend_from_slice(&expanded[a as usize..z as usize]);
            }
            stack_frames.extend(&stack);
            stack_ends.push(stack_frames.len());
            start = end;
        }
        let mut rebuilt = b.finish();
        rebuilt.stack_frames = stack_frames;
        rebuilt.stack_ends = stack_ends;
        rebuilt.values = std::mem::take(&mut self.values);
        *self = rebuilt;
    }
}

impl Profile {
    /// Merges profiles of the same kind (one per process, pod or thread)
    /// into one: every sample of each, strings, frames and mappings
    /// re-interned. They must have the same sample types and the same
    /// sampling; the header (period, comments, time) is the first's, the
    /// warnings are everyone's.
    pub fn merge(mut profiles: Vec<Profile>) -> Result<Profile, Error> {
        if profiles.len() <= 1 {
            return profiles.pop().ok_or(Error::NoSampleTypes);
        }
        let first = &profiles[0];
        for (i, p) in profiles.iter().enumerate().skip(1) {
            let types = |p: &Profile| {
                p.header
                    .sample_types
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if p.header.sample_types != first.header.sample_types {
                return Err(Error::Merge(format!(
                    "profile {} has sample types {} but profile 1 has {}",
                    i + 1,
                    types(p),
                    types(first)
                )));
            }
            if p.header.sampling != first.header.sampling {
                return Err(Error::Merge(format!(
                    "profile {} is sampled differently from profile 1 (rates {} and {})",
                    i + 1,
                    p.header.sampling.as_ref().map_or(0, |s| s.rate),
                    first.header.sampling.as_ref().map_or(0, |s| s.rate)
                )));
            }
        }
        let mut b = ProfileBuilder::new(first.format, Vec::new());
        b.profile.header = first.header.clone();
        // The sum of sums: known only where every part's count is.
        b.profile.merged = profiles
            .iter()
            .try_fold(0u64, |n, p| n.checked_add(p.merged?));
        let samples: usize = profiles.iter().map(Profile::sample_count).sum();
        let frames: usize = profiles.iter().map(|p| p.stack_frames.len()).sum();
        b.reserve(samples, frames);
        for p in &profiles {
            b.profile.warnings.extend(p.warnings.iter().cloned());
            let strings: Vec<StrId> = p.strings.iter().map(|s| b.intern(s)).collect();
            let mappings: Vec<MappingId> = p
                .mappings
                .iter()
                .map(|m| {
                    b.add_mapping(Mapping {
                        path: strings[m.path.0 as usize],
                        build_id: strings[m.build_id.0 as usize],
                        ..*m
                    })
                })
                .collect();
            let frame_ids: Vec<FrameId> = p
                .frames
                .iter()
                .map(|f| {
                    b.frame(Frame {
                        function: strings[f.function.0 as usize],
                        file: strings[f.file.0 as usize],
                        mapping: f.mapping.map(|m| mappings[m.index()]),
                        ..*f
                    })
                })
                .collect();
            for sample in p.samples() {
                b.push_sample_with(sample.values, |out| {
                    out.extend(sample.stack.iter().map(|f| frame_ids[f.index()]));
                })?;
            }
        }
        Ok(b.finish())
    }
}

/// A frame found by a symbolizer, for [`Profile::replace_frames`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SymbolFrame {
    /// Function name (demangled).
    pub function: String,
    /// Source file, or empty when unknown.
    pub file: String,
    /// Source line, or 0 when unknown.
    pub line: u32,
}

/// Ids are `u32`: a profile with more than 4 billion distinct strings, frames
/// or mappings cannot be decoded into memory anyway.
pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("more than u32::MAX distinct strings, frames or mappings")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_types() -> Vec<ValueType> {
        vec![
            ValueType::new("inuse_objects", "count"),
            ValueType::new("inuse_space", "bytes"),
        ]
    }

    #[test]
    fn strings_and_frames_are_interned_once() {
        let mut b = ProfileBuilder::new(Format::Pprof, two_types());
        let a = b.intern("main.a");
        assert_eq!(b.intern("main.a"), a);
        assert_eq!(b.intern(""), StrId::EMPTY);
        let file = b.intern("a.go");
        let f1 = b.frame(Frame::symbolized(a, file, 3));
        let f2 = b.frame(Frame {
            address: 0x1234,
            ..Frame::symbolized(a, file, 3)
        });
        assert_eq!(
            f1, f2,
            "a symbolized frame's address is not part of its identity"
        );
        let u1 = b.frame(Frame::unsymbolized(0x10, None));
        let u2 = b.frame(Frame::unsymbolized(0x20, None));
        assert_ne!(u1, u2, "unsymbolized frames are told apart by address");
        assert_eq!(b.finish().frames().len(), 3);
    }

    #[test]
    fn samples_come_back_in_order_with_their_values() {
        let mut b = ProfileBuilder::new(Format::Pprof, two_types());
        let s = b.intern("f");
        let f = b.frame(Frame::symbolized(s, StrId::EMPTY, 0));
        b.push_sample(&[f], &[1, 100]).unwrap();
        b.push_sample(&[], &[2, 200]).unwrap();
        b.push_sample(&[f, f], &[3, 300]).unwrap();
        let p = b.finish();
        let got: Vec<_> = p
            .samples()
            .map(|s| (s.stack.len(), s.values.to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![(1, vec![1, 100]), (0, vec![2, 200]), (2, vec![3, 300])]
        );
        assert_eq!(p.total(1), 600);
        assert_eq!(p.sample_type_index("inuse_space"), Some(1));
    }

    #[test]
    fn wrong_value_count_is_refused() {
        let mut b = ProfileBuilder::new(Format::Pprof, two_types());
        let err = b.push_sample(&[], &[1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sample 0 has 1 values but the profile has 2 sample types"
        );
    }

    #[test]
    fn replacing_frames_expands_inlined_frames_in_every_stack() {
        let mut b = ProfileBuilder::new(Format::JemallocHeap, two_types());
        let main = b.intern("main");
        let m = b.frame(Frame::symbolized(main, StrId::EMPTY, 1));
        let raw = b.frame(Frame::unsymbolized(0x10, None));
        let kept = b.frame(Frame::unsymbolized(0x20, None));
        b.push_sample(&[raw, m], &[1, 10]).unwrap();
        b.push_sample(&[kept, raw, raw, m], &[2, 20]).unwrap();
        let mut p = b.finish();
        p.merged = Some(12);
        let sym = |f: &str, l| SymbolFrame {
            function: f.into(),
            file: "a.c".into(),
            line: l,
        };
        p.replace_frames(|_, f| {
            (f.address == 0x10).then(|| vec![sym("inner", 3), sym("outer", 9)])
        });
        let names: Vec<Vec<String>> = p
            .samples()
            .map(|s| s.stack.iter().map(|f| p.frame_name(p.frame(f))).collect())
            .collect();
        assert_eq!(names[0], ["inner", "outer", "main"]);
        assert_eq!(
            names[1],
            ["0x20", "inner", "outer", "inner", "outer", "main"]
        );
        assert_eq!(p.total(1), 30);
        assert_eq!(
            p.str(p.frame(p.samples().next().unwrap().stack.at(0)).file),
            "a.c"
        );
        assert_eq!(p.merged, Some(12), "what the profile sums is kept");
    }

    #[test]
    fn totals_saturate_instead_of_overflowing() {
        let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("x", "count")]);
        b.push_sample(&[], &[i64::MAX]).unwrap();
        b.push_sample(&[], &[i64::MAX]).unwrap();
        assert_eq!(b.finish().total(0), i64::MAX);
    }

    #[test]
    fn unsymbolized_frames_are_named_by_address_and_mapping() {
        let mut b = ProfileBuilder::new(Format::Pprof, two_types());
        let path = b.intern("/usr/lib/libfoo.so.1");
        let m = b.add_mapping(Mapping::new(0x1000, 0x2000, 0, path));
        let f = b.frame(Frame::unsymbolized(0x1234, Some(m)));
        let bare = b.frame(Frame::unsymbolized(0x99, None));
        let p = b.finish();
        assert_eq!(p.frame_name(p.frame(f)), "0x1234 (libfoo.so.1)");
        assert_eq!(p.frame_name(p.frame(bare)), "0x99");
    }

    #[test]
    fn merging_reinterns_and_keeps_every_sample() {
        let one = |name: &str, bytes: i64| {
            let mut b = ProfileBuilder::new(Format::JemallocHeap, two_types());
            let f = b.intern(name);
            let path = b.intern("/bin/app");
            let m = b.add_mapping(Mapping::new(0x1000, 0x2000, 0, path));
            let leaf = b.frame(Frame::symbolized(f, StrId::EMPTY, 3));
            let raw = b.frame(Frame::unsymbolized(0x1234, Some(m)));
            b.push_sample(&[leaf, raw], &[1, bytes]).unwrap();
            b.warn(format!("{name} warns"));
            b.finish()
        };
        let p = Profile::merge(vec![one("a", 10), one("b", 20), one("a", 5)]).unwrap();
        assert_eq!(p.sample_count(), 3);
        assert_eq!(p.total(1), 35);
        let names: Vec<String> = p
            .samples()
            .map(|s| p.frame_name(p.frame(s.stack.at(0))))
            .collect();
        assert_eq!(names, ["a", "b", "a"]);
        let raw = p.frame(p.samples().nth(1).unwrap().stack.at(1));
        assert_eq!(
            p.frame_name(raw),
            "0x1234 (app)",
            "mappings follow their frames"
        );
        assert_eq!(p.warnings.len(), 3);
        assert_eq!(p.merged, None);

        let counted = |n: u64| {
            let mut p = one("a", 1);
            p.merged = Some(n);
            p
        };
        let both = Profile::merge(vec![counted(12), counted(30)]).unwrap();
        assert_eq!(both.merged, Some(42), "a sum of sums");
        let unknown = Profile::merge(vec![counted(12), one("a", 1)]).unwrap();
        assert_eq!(unknown.merged, None, "one part's count is unknown");
        let huge = Profile::merge(vec![counted(u64::MAX), counted(1)]).unwrap();
        assert_eq!(huge.merged, None, "no count past u64");

        let other =
            ProfileBuilder::new(Format::Pprof, vec![ValueType::new("cpu", "nanoseconds")]).finish();
        let err = Profile::merge(vec![one("a", 1), other]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot merge: profile 2 has sample types cpu/nanoseconds but profile 1 has inuse_objects/count, inuse_space/bytes"
        );
    }

    #[test]
    fn frames_read_the_same_narrow_or_wide() {
        let narrow = [3u16, 0, 65_535];
        let wide = [3u32, 0, 65_535].map(FrameId);
        let (n, w) = (Frames::Narrow(&narrow), Frames::Wide(&wide));
        assert_eq!(n, w);
        assert_ne!(n.slice(0..2), w.slice(1..3));
        assert_eq!(n.to_vec(), wide);
        assert_eq!(
            n.iter().rev().collect::<Vec<_>>(),
            w.iter().rev().collect::<Vec<_>>()
        );
        assert_eq!((n.get(2), n.get(3)), (Some(FrameId(65_535)), None));
        assert_eq!((n.at(1), n.len(), n.iter().len()), (FrameId(0), 3, 3));
        assert!(n.slice(1..1).is_empty());
    }
}
