//! Decoding pprof `profile.proto` into the [`Profile`] model.
//!
//! The message is decoded with prost, validated the way pprof's own parser
//! validates it (string indices in range, `string_table[0] == ""`, non-zero
//! and unique ids, every referenced id defined, one value per sample type),
//! then converted: each location is expanded once into its frames (inlined
//! frames innermost first), and each sample's stack is the concatenation of
//! its locations' frames, leaf first.
//!
//! When the profile carries `drop_frames` (and `keep_frames`), stacks are
//! pruned exactly as `pprof` prunes them on load, so that numbers agree.

pub mod proto;
mod sample;

use rayon::prelude::*;
use regex::Regex;
use rustc_hash::FxHashMap;

use crate::Format;
use crate::error::Error;
use crate::model::{
    Frame, FrameId, Mapping, MappingId, Profile, ProfileBuilder, SampleBatch, StackFrame,
    StackWriter, StrId, ValueType,
};

/// Decodes an uncompressed `profile.proto` message.
pub fn decode(bytes: &[u8]) -> Result<Profile, Error> {
    decode_bytes(bytes::Bytes::copy_from_slice(bytes))
}

/// Decodes an uncompressed `profile.proto` message it may keep slices of.
pub fn decode_bytes(bytes: bytes::Bytes) -> Result<Profile, Error> {
    decode_bytes_with(bytes, &crate::Limits::default())
}

/// Like [`decode_bytes`], within `limits`.
pub fn decode_bytes_with(bytes: bytes::Bytes, limits: &crate::Limits) -> Result<Profile, Error> {
    let pb = proto::SplitProfile::decode(bytes).map_err(protobuf_error)?;
    convert(pb, limits)
}

fn protobuf_error(e: prost::DecodeError) -> Error {
    Error::Protobuf(e.to_string())
}

/// Converts a (lazily) decoded protobuf message into the model, validating
/// it. The message, and the input it slices, is dropped once read.
fn convert(message: proto::SplitProfile, limits: &crate::Limits) -> Result<Profile, Error> {
    let pb = &message.rest;
    let strings = Strings::new(&pb.string_table)?;
    let mut b = builder_with_header(pb, &strings)?;
    b.set_limits(*limits);

    // Intern each string once; the model refers to strings by its own ids.
    let ids: Vec<StrId> = strings.table.iter().map(|s| b.intern(s)).collect();
    let sid = |index: i64, field: &dyn Fn() -> String| -> Result<StrId, Error> {
        strings.check(index, field)?;
        Ok(ids[index as usize])
    };

    let mapping_index = IdIndex::new(pb.mapping.iter().map(|m| m.id), "mapping")?;
    let mut mapping_ids = Vec::with_capacity(pb.mapping.len());
    for m in &pb.mapping {
        mapping_ids.push(b.add_mapping(Mapping {
            start: m.memory_start,
            limit: m.memory_limit,
            offset: m.file_offset,
            path: sid(m.filename, &|| format!("mapping {} filename", m.id))?,
            build_id: sid(m.build_id, &|| format!("mapping {} build_id", m.id))?,
            has_functions: m.has_functions,
            has_filenames: m.has_filenames,
            has_line_numbers: m.has_line_numbers,
            has_inline_frames: m.has_inline_frames,
        }));
    }

    let function_index = IdIndex::new(pb.function.iter().map(|f| f.id), "function")?;
    let mut functions = Vec::with_capacity(pb.function.len());
    for f in &pb.function {
        let name = sid(f.name, &|| format!("function {} name", f.id))?;
        sid(f.system_name, &|| format!("function {} system_name", f.id))?;
        let file = sid(f.filename, &|| format!("function {} filename", f.id))?;
        functions.push((name, file));
    }

    let prune = Pruner::new(pb, &strings, &mut b);
    let location_index = IdIndex::new(pb.location.iter().map(|l| l.id), "location")?;
    let mut loc_frames: Vec<FrameId> = Vec::new();
    let mut loc_ranges: Vec<(u32, u32)> = Vec::with_capacity(pb.location.len());
    for (li, loc) in pb.location.iter().enumerate() {
        let mapping: Option<MappingId> = match loc.mapping_id {
            0 => None,
            id => Some(
                mapping_index
                    .get(id)
                    .map(|i| mapping_ids[i])
                    .ok_or_else(|| Error::UnknownId {
                        kind: "mapping",
                        id,
                        referrer: format!("location {}", loc.id),
                    })?,
            ),
        };
        let start = loc_frames.len();
        let keep_lines = prune.as_ref().map_or(loc.line.len(), |p| p.kept[li]);
        // pprof keeps the outer lines when an inner one matches drop_frames.
        let lines = &loc.line[loc.line.len() - keep_lines..];
        if loc.line.is_empty() {
            loc_frames.push(b.frame(Frame::unsymbolized(loc.address, mapping)));
        }
        for line in lines {
            let frame = match line.function_id {
                0 => Frame::unsymbolized(loc.address, mapping),
                id => {
                    let i = function_index.get(id).ok_or_else(|| Error::UnknownId {
                        kind: "function",
                        id,
                        referrer: format!("location {}", loc.id),
                    })?;
                    let (name, file) = functions[i];
                    if name.is_empty() {
                        Frame::unsymbolized(loc.address, mapping)
                    } else {
                        Frame::symbolized(name, file, clamp_line(line.line))
                    }
                }
            };
            loc_frames.push(b.frame(frame));
        }
        // Lines referring to unknown functions were rejected above even when
        // pruned away, as pprof does.
        for line in &loc.line[..loc.line.len() - keep_lines] {
            if line.function_id != 0 && function_index.get(line.function_id).is_none() {
                return Err(Error::UnknownId {
                    kind: "function",
                    id: line.function_id,
                    referrer: format!("location {}", loc.id),
                });
            }
        }
        loc_ranges.push((start as u32, loc_frames.len() as u32));
    }

    let samples = SampleReader {
        strings: &strings,
        location_index: &location_index,
        loc_frames: &loc_frames,
        loc_ranges: &loc_ranges,
        by_id: location_index.by_id(&loc_frames, &loc_ranges),
        prune: prune.as_ref(),
        room: limits.max_depth.saturating_add(1),
        max_lines: loc_ranges
            .iter()
            .map(|&(from, to)| (to - from) as usize)
            .max()
            .unwrap_or(0)
            .max(1),
    };
    // Every frame is interned by now.
    let batches = read_samples(&mut b, &message, &samples, limits)?;
    // The input is read: freed before the batches are copied.
    drop(message);
    let frames = batches.iter().map(|batch| batch.frame_count()).sum();
    let samples = batches.iter().map(|batch| batch.sample_count()).sum();
    b.reserve(samples, frames);
    for batch in batches {
        b.append(batch)?;
    }
    Ok(b.finish())
}

/// A builder for the message's profile: its sample types and header
/// (period, times, default sample type, doc URL, comments), checked.
fn builder_with_header(
    pb: &proto::LazyProfile,
    strings: &Strings,
) -> Result<ProfileBuilder, Error> {
    if pb.sample_type.is_empty() {
        return Err(Error::NoSampleTypes);
    }
    let value_type = |vt: &proto::ValueType, what: &str| -> Result<ValueType, Error> {
        Ok(ValueType::new(
            strings.get(vt.r#type, || format!("{what} type"))?,
            strings.get(vt.unit, || format!("{what} unit"))?,
        ))
    };
    let sample_types = pb
        .sample_type
        .iter()
        .enumerate()
        .map(|(i, vt)| value_type(vt, &format!("sample_type {i}")))
        .collect::<Result<Vec<_>, _>>()?;

    let mut b = ProfileBuilder::new(Format::Pprof, sample_types);
    {
        let h = b.header_mut();
        h.period_type = pb
            .period_type
            .as_ref()
            .map(|vt| value_type(vt, "period_type"))
            .transpose()?;
        h.period = pb.period;
        h.time_nanos = pb.time_nanos;
        h.duration_nanos = pb.duration_nanos;
        h.default_sample_type = strings.optional(pb.default_sample_type, "default_sample_type")?;
        h.doc_url = strings.optional(pb.doc_url, "doc_url")?;
        h.comments = pb
            .comment
            .iter()
            .map(|&c| strings.get(c, || "comment".to_owned()).map(str::to_owned))
            .collect::<Result<_, _>>()?;
    }
    Ok(b)
}

/// Reads the message's samples in parts at once (see [`part_starts`]):
/// the first into `b`, the others into batches returned in sample order,
/// to append (the same profile as one pass; the first failure in sample
/// order is the one reported).
fn read_samples(
    b: &mut ProfileBuilder,
    message: &proto::SplitProfile,
    samples: &SampleReader<'_>,
    limits: &crate::Limits,
) -> Result<Vec<SampleBatch>, Error> {
    let n = message.sample_count();
    let starts = part_starts(message);
    let ends: Vec<usize> = starts.iter().skip(1).copied().chain([n]).collect();
    let mut batches: Vec<_> = starts[1..].iter().map(|&lo| b.batch(lo)).collect();
    // Each location id takes at least a byte: the encoded samples bound the
    // frames (but for inlining), and reserving them spares the copies of a
    // growing buffer.
    let bytes =
        |lo: usize, hi: usize| message.sample_bytes_from(lo) - message.sample_bytes_from(hi);
    let (first, rest) = rayon::join(
        || {
            b.reserve(ends[0], bytes(0, ends[0]).min(limits.max_frames));
            samples.read(message.samples(0..ends[0]), 0, |values, stack| {
                b.push_sample_written(values, stack)
            })
        },
        || {
            batches
                .par_iter_mut()
                .zip(starts[1..].par_iter().zip(ends[1..].par_iter()))
                .map(|(batch, (&lo, &hi))| {
                    batch.reserve(hi - lo, bytes(lo, hi));
                    samples.read(message.samples(lo..hi), lo, |values, stack| {
                        batch.push_sample_written(values, stack)
                    })
                })
                .collect::<Vec<_>>()
        },
    );
    first?;
    rest.into_iter().collect::<Result<(), Error>>()?;
    Ok(batches)
}

/// Where the parts of a message's samples read at once start: split points
/// about equally far apart, one part per thread, none of fewer than
/// [`PART_SAMPLES`] samples.
fn part_starts(message: &proto::SplitProfile) -> Vec<usize> {
    let n = message.sample_count();
    let parts = (n / PART_SAMPLES).clamp(1, rayon::current_num_threads());
    let mut starts: Vec<usize> = (0..parts)
        .map(|k| message.split_point(k * n / parts))
        .collect();
    starts.dedup();
    starts
}

/// The fewest samples read as a part of their own.
const PART_SAMPLES: usize = 50_000;

/// What reading a sample needs: the validated tables it refers to.
struct SampleReader<'a> {
    strings: &'a Strings,
    location_index: &'a IdIndex,
    loc_frames: &'a [FrameId],
    loc_ranges: &'a [(u32, u32)],
    /// By location id (when ids are dense), a [`ByIdEntry`]: one lookup
    /// for most ids.
    by_id: Vec<u64>,
    prune: Option<&'a Pruner>,
    /// The most frames one stack may get (the builder cuts the rest and
    /// warns).
    room: usize,
    /// The most frames one location has (at least one).
    max_lines: usize,
}

impl SampleReader<'_> {
    /// Reads encoded samples (the first of them number `first` in the
    /// profile) and hands each one's values and stack writer to `push`.
    fn read<'e>(
        &self,
        encoded: impl Iterator<Item = &'e [u8]>,
        first: usize,
        mut push: impl FnMut(&[i64], SampleStack<'_, '_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut locs: Vec<usize> = Vec::new();
        let mut fields: Vec<sample::LocationField<'_>> = Vec::new();
        let mut values: Vec<i64> = Vec::new();
        let mut labels: Vec<sample::LabelStrings> = Vec::new();
        for (i, encoded) in encoded.enumerate() {
            let si = first + i;
            sample::read_fields(encoded, &mut values, &mut labels, &mut fields)?;
            match self.prune {
                // The location ids are read as the stack is written.
                None => push(
                    &values,
                    SampleStack::Encoded {
                        reader: self,
                        fields: &fields,
                        sample: si,
                    },
                )?,
                // Pruning needs the whole stack first.
                Some(p) => {
                    locs.clear();
                    let ids = fields.iter().flat_map(|f| match *f {
                        sample::LocationField::One(id) => LocationIds::One(Some(id)),
                        sample::LocationField::Packed(bytes) => LocationIds::Packed(bytes),
                    });
                    for id in ids {
                        locs.push(self.location(id?, si)?);
                    }
                    let kept = p.kept_locations(&locs);
                    push(&values, SampleStack::Kept { reader: self, kept })?;
                }
            }
            for &[key, str, unit] in &labels {
                self.strings
                    .check(key, &|| format!("sample {si} label key"))?;
                self.strings
                    .check(str, &|| format!("sample {si} label value"))?;
                self.strings
                    .check(unit, &|| format!("sample {si} label unit"))?;
            }
        }
        Ok(())
    }

    /// The position of location `id`, which sample `sample` refers to.
    fn location(&self, id: u64, sample: usize) -> Result<usize, Error> {
        self.location_index.get(id).ok_or_else(|| Error::UnknownId {
            kind: "location",
            id,
            referrer: format!("sample {sample}"),
        })
    }

    /// Appends the frames of location `id` to the stack written from
    /// `start` on (for sample `sample`), if it has room.
    #[inline(always)]
    fn write_id<F: StackFrame>(
        &self,
        id: u64,
        frames: &mut Vec<F>,
        start: usize,
        sample: usize,
    ) -> Result<(), Error> {
        let full = frames.len() - start >= self.room;
        match self.by_id.get(id as usize).map(|&e| ByIdEntry::of(e)) {
            Some(ByIdEntry::Frames { first, two: false }) if !full => {
                frames.push(F::of(FrameId::from_index(first)));
            }
            Some(ByIdEntry::Frames { .. } | ByIdEntry::Location(_)) if full => {}
            Some(ByIdEntry::Location(li)) => self.push_frames(li, frames, start),
            _ => {
                let li = self.location(id, sample)?;
                if !full {
                    self.push_frames(li, frames, start);
                }
            }
        }
        Ok(())
    }

    /// Appends the frames of the packed location ids `bytes` to `frames`,
    /// which has room for all of them (`bytes.len() * max_lines` more
    /// frames, the most they can make: each id takes at least a byte). The
    /// frames are written into a slice grown once (and one frame more),
    /// instead of pushed one by one: the loop keeps the slice and its
    /// position in registers and checks no capacity. A location of one or
    /// two frames writes two and counts one or two, so that whether it has
    /// an inlined frame costs no branch. Not inlined, and the ids of one or
    /// two bytes read here, for the same reason: registers.
    #[inline(never)]
    fn write_packed<F: StackFrame>(
        &self,
        mut bytes: &[u8],
        frames: &mut Vec<F>,
        sample: usize,
    ) -> Result<(), Error> {
        let base = frames.len();
        frames.resize(
            base + bytes.len() * self.max_lines + 1,
            F::of(FrameId::from_index(0)),
        );
        let out = &mut frames[base..];
        let mut n = 0;
        let written = loop {
            if bytes.is_empty() {
                break Ok(());
            }
            let id = match *bytes {
                [b0, ref rest @ ..] if b0 < 0x80 => {
                    bytes = rest;
                    u64::from(b0)
                }
                [b0, b1, ref rest @ ..] if b1 < 0x80 => {
                    bytes = rest;
                    u64::from(b0 & 0x7f) | u64::from(b1) << 7
                }
                _ => {
                    let mut rest = bytes;
                    match sample::varint(&mut rest) {
                        Ok(id) => {
                            bytes = rest;
                            id
                        }
                        Err(e) => break Err(e),
                    }
                }
            };
            let entry = self.by_id.get(id as usize).copied().unwrap_or(UNKNOWN);
            if entry as u32 != SLOW {
                // One or two frames: the second (or a stand-in past the
                // stack) is written either way.
                if let Some([one, two]) = out.get_mut(n..n + 2) {
                    *one = F::of(FrameId::from_index(entry as u32));
                    *two = F::of(FrameId::from_index((entry >> 32) as u32 & !TWO_BIT));
                }
                n += 1 + (entry >> 63) as usize;
                continue;
            }
            let li = match ByIdEntry::of(entry) {
                ByIdEntry::Location(li) => li,
                _ => match self.location(id, sample) {
                    Ok(li) => li,
                    Err(e) => break Err(e),
                },
            };
            let (from, to) = self.loc_ranges[li];
            let lines = &self.loc_frames[from as usize..to as usize];
            for (o, &f) in out[n..n + lines.len()].iter_mut().zip(lines) {
                *o = F::of(f);
            }
            n += lines.len();
        };
        frames.truncate(base + n);
        written
    }

    /// Appends location `li`'s frames (its inlined lines) to the stack
    /// written from `start` on, up to `room` frames in all.
    #[inline]
    fn push_frames<F: StackFrame>(&self, li: usize, frames: &mut Vec<F>, start: usize) {
        let (from, to) = self.loc_ranges[li];
        let left = self.room - (frames.len() - start);
        let lines = &self.loc_frames[from as usize..to as usize];
        frames.extend(lines[..lines.len().min(left)].iter().map(|&f| F::of(f)));
    }
}

/// The location ids of one `location_id` field, decoded as they are read.
enum LocationIds<'a> {
    One(Option<u64>),
    Packed(&'a [u8]),
}

impl Iterator for LocationIds<'_> {
    type Item = Result<u64, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            LocationIds::One(id) => id.take().map(Ok),
            LocationIds::Packed(bytes) => (!bytes.is_empty()).then(|| sample::varint(bytes)),
        }
    }
}

/// One sample's stack, written into the profile by [`StackWriter`]: from
/// its encoded location ids, or from the locations pruning kept.
enum SampleStack<'r, 'a> {
    Encoded {
        reader: &'r SampleReader<'r>,
        fields: &'r [sample::LocationField<'a>],
        sample: usize,
    },
    Kept {
        reader: &'r SampleReader<'r>,
        kept: &'r [usize],
    },
}

impl StackWriter for SampleStack<'_, '_> {
    fn write<F: StackFrame>(self, frames: &mut Vec<F>) -> Result<(), Error> {
        let start = frames.len();
        match self {
            SampleStack::Kept { reader, kept } => {
                frames.reserve(kept.len().min(reader.room));
                for &li in kept {
                    if frames.len() - start >= reader.room {
                        break;
                    }
                    reader.push_frames(li, frames, start);
                }
            }
            SampleStack::Encoded {
                reader,
                fields,
                sample,
            } => {
                // Inlined frames expand a location: never more than `room`
                // frames for one sample; the ids past them are still checked.
                for field in fields {
                    match *field {
                        sample::LocationField::One(id) => {
                            reader.write_id(id, frames, start, sample)?;
                        }
                        sample::LocationField::Packed(bytes)
                            if (frames.len() - start)
                                .saturating_add(bytes.len().saturating_mul(reader.max_lines))
                                <= reader.room =>
                        {
                            reader.write_packed(bytes, frames, sample)?;
                        }
                        sample::LocationField::Packed(mut bytes) => {
                            // Each id takes at least a byte.
                            frames.reserve(bytes.len().min(reader.room));
                            while !bytes.is_empty() {
                                let id = sample::varint(&mut bytes)?;
                                reader.write_id(id, frames, start, sample)?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// An entry of [`SampleReader::by_id`], packed in 64 bits: the first
/// frame in the low 32 and the second (if any) in the next 31, the top bit
/// set when there are two; or [`SLOW`] in the low 32 and the location's
/// position in the high 32 ([`UNKNOWN`] when no location has the id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ByIdEntry {
    /// The location's frames: one, or two with `two`.
    Frames { first: u32, two: bool },
    /// The location at this position, of more frames (or frames whose
    /// indices the entry cannot hold).
    Location(usize),
    /// No location.
    Unknown,
}

/// In [`SampleReader::by_id`]'s low 32 bits: not frames.
const SLOW: u32 = u32::MAX;

/// The bit of an entry's high 32 saying it holds two frames.
const TWO_BIT: u32 = 1 << 31;

/// The entry of an id no location has.
const UNKNOWN: u64 = u64::MAX;

impl ByIdEntry {
    /// The entry for a location at `pos` whose frames are `frames`.
    fn pack(pos: usize, frames: &[FrameId]) -> u64 {
        let small = |f: &FrameId| f.index() < TWO_BIT as usize;
        match *frames {
            [one] if small(&one) => u64::from(one.index() as u32),
            [one, two] if small(&one) && small(&two) => {
                u64::from(one.index() as u32) | u64::from(two.index() as u32 | TWO_BIT) << 32
            }
            _ => match u32::try_from(pos) {
                Ok(pos) if pos != u32::MAX => u64::from(SLOW) | u64::from(pos) << 32,
                _ => UNKNOWN,
            },
        }
    }

    fn of(entry: u64) -> ByIdEntry {
        match (entry as u32, (entry >> 32) as u32) {
            (SLOW, u32::MAX) => ByIdEntry::Unknown,
            (SLOW, pos) => ByIdEntry::Location(pos as usize),
            (first, high) => ByIdEntry::Frames {
                first,
                two: high & TWO_BIT != 0,
            },
        }
    }
}

fn clamp_line(line: i64) -> u32 {
    u32::try_from(line.max(0)).unwrap_or(u32::MAX)
}

/// The string table, validated, with lossy UTF-8 conversion.
struct Strings {
    table: Vec<String>,
}

impl Strings {
    fn new(raw: &[Vec<u8>]) -> Result<Self, Error> {
        let table: Vec<String> = raw
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        match table.first() {
            None => Err(Error::StringTableStart("<no string table>".to_owned())),
            Some(first) if !first.is_empty() => Err(Error::StringTableStart(first.clone())),
            Some(_) => Ok(Strings { table }),
        }
    }

    fn check(&self, index: i64, field: &dyn Fn() -> String) -> Result<(), Error> {
        if index < 0 || index as u64 >= self.table.len() as u64 {
            return Err(Error::StringIndex {
                index,
                len: self.table.len(),
                field: field(),
            });
        }
        Ok(())
    }

    fn get(&self, index: i64, field: impl Fn() -> String) -> Result<&str, Error> {
        self.check(index, &field)?;
        Ok(&self.table[index as usize])
    }

    fn optional(&self, index: i64, field: &str) -> Result<Option<String>, Error> {
        let s = self.get(index, || field.to_owned())?;
        Ok((!s.is_empty()).then(|| s.to_owned()))
    }
}

/// Maps pprof ids (arbitrary non-zero u64) to positions: a vector when the
/// ids are dense (the usual case), a hash map otherwise.
enum IdIndex {
    Dense(Vec<u32>),
    Sparse(FxHashMap<u64, u32>),
}

impl IdIndex {
    fn new(
        ids: impl ExactSizeIterator<Item = u64> + Clone,
        kind: &'static str,
    ) -> Result<Self, Error> {
        let n = ids.len();
        let max = ids.clone().max().unwrap_or(0);
        let dense = max <= (n as u64).saturating_mul(4).saturating_add(64);
        let mut index = if dense {
            IdIndex::Dense(vec![u32::MAX; max as usize + 1])
        } else {
            IdIndex::Sparse(FxHashMap::default())
        };
        for (pos, id) in ids.enumerate() {
            if id == 0 {
                return Err(Error::ZeroId { kind });
            }
            let slot = match &mut index {
                IdIndex::Dense(v) => &mut v[id as usize],
                IdIndex::Sparse(m) => m.entry(id).or_insert(u32::MAX),
            };
            if *slot != u32::MAX {
                return Err(Error::DuplicateId { kind, id });
            }
            *slot = pos as u32;
        }
        Ok(index)
    }

    /// By id, for dense ids: [`SampleReader::by_id`], from each location's
    /// range of frames. Empty for sparse ids.
    fn by_id(&self, frames: &[FrameId], ranges: &[(u32, u32)]) -> Vec<u64> {
        match self {
            IdIndex::Dense(v) => v
                .iter()
                .map(|&pos| match ranges.get(pos as usize) {
                    Some(&(from, to)) => {
                        ByIdEntry::pack(pos as usize, &frames[from as usize..to as usize])
                    }
                    None => UNKNOWN,
                })
                .collect(),
            IdIndex::Sparse(_) => Vec::new(),
        }
    }

    fn get(&self, id: u64) -> Option<usize> {
        let slot = match self {
            IdIndex::Dense(v) => *v.get(usize::try_from(id).ok()?)?,
            IdIndex::Sparse(m) => *m.get(&id)?,
        };
        (id != 0 && slot != u32::MAX).then_some(slot as usize)
    }
}

/// pprof's load-time pruning by the profile's `drop_frames`/`keep_frames`:
/// in each stack, the first location (from the root) that matches cuts off
/// itself and everything below it; a location whose inner inlined line
/// matches keeps only the lines above the match. Locations before the first
/// non-matching one (from the root) are never cut, so a stack is never
/// emptied entirely.
struct Pruner {
    /// Per location: how many lines (counted from the outermost) survive.
    kept: Vec<usize>,
    /// Per location: `Cut` (drop it and below), `Beneath` (keep it, drop
    /// below), or `None`.
    action: Vec<PruneAction>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PruneAction {
    None,
    Cut,
    Beneath,
}

impl Pruner {
    fn new(pb: &proto::LazyProfile, strings: &Strings, b: &mut ProfileBuilder) -> Option<Pruner> {
        let drop_src = strings.table.get(usize::try_from(pb.drop_frames).ok()?)?;
        if drop_src.is_empty() {
            return None;
        }
        let compile = |src: &str, b: &mut ProfileBuilder| match Regex::new(&format!("^(?:{src})$"))
        {
            Ok(rx) => Some(rx),
            Err(e) => {
                b.warn(format!(
                    "ignoring the profile's drop/keep_frames pattern {src:?}: {e}"
                ));
                None
            }
        };
        let drop = compile(drop_src, b)?;
        let keep = strings
            .table
            .get(usize::try_from(pb.keep_frames).ok()?)
            .filter(|s| !s.is_empty())
            .and_then(|src| compile(src, b));
        let functions: FxHashMap<u64, &str> = pb
            .function
            .iter()
            .filter_map(|f| {
                Some((
                    f.id,
                    strings.table.get(usize::try_from(f.name).ok()?)?.as_str(),
                ))
            })
            .collect();
        let matches = |line: &proto::Line| {
            functions.get(&line.function_id).is_some_and(|name| {
                let name = simplify_function_name(name);
                !name.is_empty()
                    && drop.is_match(name)
                    && keep.as_ref().is_none_or(|k| !k.is_match(name))
            })
        };
        let mut kept = Vec::with_capacity(pb.location.len());
        let mut action = Vec::with_capacity(pb.location.len());
        for loc in &pb.location {
            // Scan from the outermost line inwards for the first match.
            match loc.line.iter().rposition(matches) {
                Some(i) if i == loc.line.len() - 1 => {
                    // The whole location goes where a stack is cut; where it
                    // survives (above the first user frame) it is unchanged.
                    kept.push(loc.line.len());
                    action.push(PruneAction::Cut);
                }
                Some(i) => {
                    kept.push(loc.line.len() - i - 1);
                    action.push(PruneAction::Beneath);
                }
                None => {
                    kept.push(loc.line.len());
                    action.push(PruneAction::None);
                }
            }
        }
        Some(Pruner { kept, action })
    }

    fn kept_locations<'a>(&self, locs: &'a [usize]) -> &'a [usize] {
        let mut found_user = false;
        for i in (0..locs.len()).rev() {
            match self.action[locs[i]] {
                PruneAction::None => found_user = true,
                _ if !found_user => {}
                PruneAction::Cut => return &locs[i + 1..],
                PruneAction::Beneath => return &locs[i..],
            }
        }
        locs
    }
}

/// pprof's `simplifyFunc`: drops a leading `.` (PPC64 ELFv1) and an argument
/// list, except inside `(anonymous namespace)` and `operator()`.
fn simplify_function_name(name: &str) -> &str {
    let name = name.strip_prefix('.').unwrap_or(name);
    let mut from = 0;
    while let Some(pos) = name[from..].find('(') {
        let at = from + pos;
        let rest = &name[at..];
        if rest.starts_with("(anonymous namespace)") {
            from = at + "(anonymous namespace)".len();
        } else if at >= "operator".len()
            && name[..at].ends_with("operator")
            && rest.starts_with("()")
        {
            from = at + 2;
        } else {
            return &name[..at];
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::proto::{Function, Label, Line, Location, Sample};
    use super::*;
    use prost::Message as _;

    const STRINGS: &[&str] = &[
        "",
        "inuse_objects",
        "count",
        "inuse_space",
        "bytes",
        "main.leak",
        "main.go",
        "main.main",
        "bytes.Repeat",
        "bytes.go",
        "runtime.main",
        "proc.go",
    ];

    /// main.main (7) -> inlined bytes.Repeat in main.leak -> leaf.
    fn base() -> proto::Profile {
        let f = |id, name, filename| Function {
            id,
            name,
            filename,
            ..Default::default()
        };
        let line = |function_id, line| Line {
            function_id,
            line,
            column: 0,
        };
        proto::Profile {
            sample_type: vec![
                proto::ValueType { r#type: 1, unit: 2 },
                proto::ValueType { r#type: 3, unit: 4 },
            ],
            sample: vec![
                Sample {
                    location_id: vec![1, 2, 3],
                    value: vec![2, 8192],
                    label: vec![],
                },
                Sample {
                    location_id: vec![2, 3],
                    value: vec![1, 100],
                    label: vec![],
                },
            ],
            mapping: vec![proto::Mapping {
                id: 1,
                memory_start: 0x400000,
                memory_limit: 0x500000,
                filename: 6,
                has_functions: true,
                ..Default::default()
            }],
            location: vec![
                // Leaf: bytes.Repeat inlined into main.leak (innermost first).
                Location {
                    id: 1,
                    mapping_id: 1,
                    address: 0x401000,
                    line: vec![line(2, 610), line(1, 12)],
                    is_folded: false,
                },
                Location {
                    id: 2,
                    mapping_id: 1,
                    address: 0x402000,
                    line: vec![line(3, 20)],
                    is_folded: false,
                },
                Location {
                    id: 3,
                    mapping_id: 1,
                    address: 0x403000,
                    line: vec![line(4, 250)],
                    is_folded: false,
                },
            ],
            function: vec![f(1, 5, 6), f(2, 8, 9), f(3, 7, 6), f(4, 10, 11)],
            string_table: STRINGS.iter().map(|s| s.as_bytes().to_vec()).collect(),
            period_type: Some(proto::ValueType { r#type: 3, unit: 4 }),
            period: 524288,
            ..Default::default()
        }
    }

    fn stack_names(p: &Profile, sample: usize) -> Vec<String> {
        let s = p.samples().nth(sample).unwrap();
        s.stack
            .iter()
            .map(|f| {
                let fr = p.frame(f);
                format!("{}:{}", p.frame_name(fr), fr.line)
            })
            .collect()
    }

    fn conv(pb: &proto::Profile) -> Result<Profile, Error> {
        decode(&pb.encode_to_vec())
    }

    /// Decodes on a pool of `threads` threads: the samples read in as many
    /// parts, if there are enough of them.
    fn conv_on(
        pb: &proto::Profile,
        limits: &crate::Limits,
        threads: usize,
    ) -> Result<Profile, Error> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| decode_bytes_with(bytes::Bytes::from(pb.encode_to_vec()), limits))
    }

    /// [`base`] with `n` samples taking `stacks` in turn, the `i`th valued
    /// `(i, 100 * i)`.
    fn with_samples(n: u64, stacks: &[&[u64]]) -> proto::Profile {
        let mut pb = base();
        pb.sample = (0..n)
            .map(|i| Sample {
                location_id: stacks[i as usize % stacks.len()].to_vec(),
                value: vec![i as i64, 100 * i as i64],
                label: vec![],
            })
            .collect();
        pb
    }

    /// Enough samples to be read in three parts on four threads.
    const MANY: u64 = 3 * PART_SAMPLES as u64;

    #[test]
    fn samples_read_in_parts_equal_one_pass() {
        let mut pb = with_samples(MANY, &[&[1, 2, 3], &[2, 3], &[3], &[1, 1, 2, 3]]);
        // Location 4: 20 inlined frames for a one-byte id.
        let lines: Vec<(u64, i64)> = (0..20).map(|i| (1 + i % 4, i as i64)).collect();
        add_location(&mut pb, 4, &lines);
        pb.sample[MANY as usize - 1].location_id = vec![4, 1, 4, 4];
        let all = |p: &Profile| {
            let stacks: Vec<_> = [0, 1, 2, 3, MANY as usize - 1]
                .map(|i| stack_names(p, i))
                .to_vec();
            let values: Vec<_> = p.samples().map(|s| s.values.to_vec()).collect();
            (
                stacks,
                values,
                p.warnings.clone(),
                p.stack_frames().to_vec(),
            )
        };
        let limits = crate::Limits::default();
        let message = proto::SplitProfile::decode(bytes::Bytes::from(pb.encode_to_vec())).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        assert_eq!(pool.install(|| part_starts(&message)).len(), 3);
        assert_eq!(
            all(&conv_on(&pb, &limits, 1).unwrap()),
            all(&conv_on(&pb, &limits, 4).unwrap())
        );
        // Stacks cut at 3 frames: counted in every part, one warning.
        let limits = crate::Limits {
            max_depth: 3,
            ..Default::default()
        };
        let one = all(&conv_on(&pb, &limits, 1).unwrap());
        assert_eq!(one, all(&conv_on(&pb, &limits, 4).unwrap()));
        assert_eq!(one.2.len(), 1, "{:?}", one.2);
        assert!(
            one.2[0].starts_with("75000 stacks deeper than 3 frames"),
            "{:?}",
            one.2
        );

        // The first bad sample in sample order is reported, in any part.
        let err = |pb: &proto::Profile, limits: &crate::Limits, threads| {
            conv_on(pb, limits, threads).unwrap_err().to_string()
        };
        let mut bad = pb.clone();
        let late = MANY as usize - 8;
        bad.sample[late].location_id = vec![99];
        let defaults = crate::Limits::default();
        for threads in [1, 4] {
            let e = err(&bad, &defaults, threads);
            assert!(e.contains(&format!("sample {late}")), "{threads}: {e}");
        }
        bad.sample[2].location_id = vec![99];
        for threads in [1, 4] {
            assert!(
                err(&bad, &defaults, threads).contains("sample 2"),
                "{threads}"
            );
        }
        // Limits hold on the whole, wherever they are crossed.
        for (limits, what) in [
            (
                crate::Limits {
                    max_samples: MANY as usize - 1,
                    ..Default::default()
                },
                "samples",
            ),
            (
                crate::Limits {
                    max_frames: 300_000,
                    ..Default::default()
                },
                "frames in all stacks",
            ),
        ] {
            let one = err(&pb, &limits, 1);
            assert!(one.contains(what), "{one}");
            assert_eq!(one, err(&pb, &limits, 4));
        }
    }

    fn err_of(pb: proto::Profile) -> String {
        conv(&pb).unwrap_err().to_string()
    }

    #[test]
    fn decodes_types_period_and_inline_expanded_stacks() {
        let p = decode(&base().encode_to_vec()).unwrap();
        assert_eq!(
            p.header.sample_types[1],
            ValueType::new("inuse_space", "bytes")
        );
        assert_eq!(
            p.header.period_type,
            Some(ValueType::new("inuse_space", "bytes"))
        );
        assert_eq!(p.header.period, 524288);
        assert_eq!(
            stack_names(&p, 0),
            [
                "bytes.Repeat:610",
                "main.leak:12",
                "main.main:20",
                "runtime.main:250"
            ]
        );
        assert_eq!(p.total(1), 8292);
        assert_eq!(p.frames().len(), 4, "frames are shared between samples");
    }

    /// Adds location `id` (mapping 1) of `lines`, (function id, line)
    /// pairs innermost first.
    fn add_location(pb: &mut proto::Profile, id: u64, lines: &[(u64, i64)]) {
        pb.location.push(Location {
            id,
            mapping_id: 1,
            address: 0x400000 + 0x1000 * id,
            line: lines
                .iter()
                .map(|&(function_id, line)| Line {
                    function_id,
                    line,
                    column: 0,
                })
                .collect(),
            is_folded: false,
        });
    }

    #[test]
    fn locations_of_one_two_and_more_frames_expand_in_any_order() {
        let mut pb = base();
        // Location 4 has three frames (the slow path), 1 has two.
        add_location(&mut pb, 4, &[(2, 1), (1, 2), (3, 3)]);
        let stacks: [&[u64]; 6] = [
            &[1, 1, 2, 3],
            &[2, 1, 3],
            &[4, 1, 2, 4],
            &[1],
            &[3, 2, 1],
            &[4, 4, 1, 1],
        ];
        pb.sample = stacks
            .iter()
            .map(|ids| Sample {
                location_id: ids.to_vec(),
                value: vec![1, 1],
                label: vec![],
            })
            .collect();
        // What each location expands to, innermost first.
        let names = |id: u64| -> Vec<String> {
            let loc = &pb.location[id as usize - 1];
            loc.line
                .iter()
                .map(|l| {
                    let f = &pb.function[l.function_id as usize - 1];
                    format!("{}:{}", STRINGS[f.name as usize], l.line)
                })
                .collect()
        };
        let want = |ids: &[u64], depth: usize| -> Vec<String> {
            let mut all: Vec<String> = ids.iter().flat_map(|&id| names(id)).collect();
            all.truncate(depth);
            all
        };
        for depth in [100, 5, 4, 3] {
            let limits = crate::Limits {
                max_depth: depth,
                ..Default::default()
            };
            let p = conv_on(&pb, &limits, 1).unwrap();
            for (i, ids) in stacks.iter().enumerate() {
                assert_eq!(
                    stack_names(&p, i),
                    want(ids, depth),
                    "sample {i}, depth {depth}"
                );
            }
        }
        // Without any inlined location (every location one frame).
        let mut flat = base();
        flat.location[0].line.truncate(1);
        let p = conv(&flat).unwrap();
        assert_eq!(
            stack_names(&p, 0),
            ["bytes.Repeat:610", "main.main:20", "runtime.main:250"]
        );
        assert_eq!(stack_names(&p, 1), ["main.main:20", "runtime.main:250"]);
    }

    #[test]
    fn by_id_entries_hold_one_or_two_frames_or_a_position() {
        let f = FrameId::from_index;
        for (frames, want) in [
            (
                vec![f(7)],
                ByIdEntry::Frames {
                    first: 7,
                    two: false,
                },
            ),
            (
                vec![f(7), f(9)],
                ByIdEntry::Frames {
                    first: 7,
                    two: true,
                },
            ),
            (vec![f(7), f(9), f(1)], ByIdEntry::Location(3)),
            (vec![], ByIdEntry::Location(3)),
            (vec![f(TWO_BIT)], ByIdEntry::Location(3)),
            (vec![f(1), f(TWO_BIT)], ByIdEntry::Location(3)),
        ] {
            assert_eq!(
                ByIdEntry::of(ByIdEntry::pack(3, &frames)),
                want,
                "{frames:?}"
            );
        }
        let two = ByIdEntry::pack(0, &[f(5), f(TWO_BIT - 1)]);
        assert_eq!(
            (two >> 32) as u32 & !TWO_BIT,
            TWO_BIT - 1,
            "the second frame"
        );
        assert_eq!(
            ByIdEntry::of(ByIdEntry::pack(u32::MAX as usize, &[])),
            ByIdEntry::Unknown
        );
        assert_eq!(ByIdEntry::of(UNKNOWN), ByIdEntry::Unknown);
    }

    #[test]
    fn packed_and_unpacked_repeated_fields_decode_alike() {
        // Sample { location_id: [1, 2, 3] unpacked, value: [2, 8192] unpacked }
        fn varint(mut v: u64, out: &mut Vec<u8>) {
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let mut sample = Vec::new();
        for id in [1u64, 2, 3] {
            sample.push(0x08); // field 1, varint
            varint(id, &mut sample);
        }
        for v in [2u64, 8192] {
            sample.push(0x10); // field 2, varint
            varint(v, &mut sample);
        }
        let mut pb = base();
        pb.sample.truncate(0);
        let mut bytes = pb.encode_to_vec();
        bytes.push(0x12); // field 2 (sample), length-delimited
        varint(sample.len() as u64, &mut bytes);
        bytes.extend(&sample);
        let unpacked = decode(&bytes).unwrap();

        let mut packed = base();
        packed.sample.truncate(1);
        let packed = decode(&packed.encode_to_vec()).unwrap();
        assert_eq!(stack_names(&unpacked, 0), stack_names(&packed, 0));
        assert_eq!(unpacked.total(1), packed.total(1));
    }

    #[test]
    fn string_table_must_start_empty() {
        let mut pb = base();
        pb.string_table[0] = b"x".to_vec();
        assert_eq!(
            err_of(pb),
            "pprof: string_table[0] must be \"\" but is \"x\""
        );
        let mut pb = base();
        pb.string_table.clear();
        assert!(err_of(pb).contains("<no string table>"));
    }

    #[test]
    fn string_index_out_of_range_names_the_field() {
        let mut pb = base();
        pb.function[2].name = 99;
        assert_eq!(
            err_of(pb),
            "pprof: string index 99 out of range (the string table has 12 entries) in function 3 name"
        );
        let mut pb = base();
        pb.sample_type[0].unit = -1;
        assert!(err_of(pb).ends_with("in sample_type 0 unit"));
        let mut pb = base();
        pb.sample[1].label.push(Label {
            key: 1,
            str: 40,
            ..Default::default()
        });
        assert!(err_of(pb).ends_with("in sample 1 label value"));
        let mut pb = base();
        pb.comment = vec![12];
        assert!(err_of(pb).ends_with("in comment"));
    }

    #[test]
    fn unknown_ids_are_refused() {
        let mut pb = base();
        pb.sample[1].location_id.push(77);
        assert_eq!(
            err_of(pb),
            "pprof: sample 1 refers to unknown location id 77"
        );
        let mut pb = base();
        pb.location[1].line[0].function_id = 9;
        assert_eq!(
            err_of(pb),
            "pprof: location 2 refers to unknown function id 9"
        );
        let mut pb = base();
        pb.location[2].mapping_id = 5;
        assert_eq!(
            err_of(pb),
            "pprof: location 3 refers to unknown mapping id 5"
        );
        let mut pb = base();
        pb.sample[0].location_id[0] = 0;
        assert_eq!(
            err_of(pb),
            "pprof: sample 0 refers to unknown location id 0"
        );
    }

    #[test]
    fn deep_stacks_are_cut_inside_inlined_locations_and_checked_past_the_cut() {
        let limits = crate::Limits {
            max_depth: 2,
            ..crate::Limits::default()
        };
        let mut pb = base();
        // Location 1 is two frames: the cut falls after main.leak either way.
        pb.sample[0].location_id = vec![2, 1, 3];
        let p = conv_on(&pb, &limits, 1).unwrap();
        assert_eq!(stack_names(&p, 0), ["main.main:20", "bytes.Repeat:610"]);
        assert_eq!(stack_names(&p, 1), ["main.main:20", "runtime.main:250"]);
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("1 stack deeper than 2"))
        );
        // An unknown id past the cut is still an error.
        pb.sample[0].location_id.push(77);
        let err = conv_on(&pb, &limits, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pprof: sample 0 refers to unknown location id 77"
        );
    }

    #[test]
    fn zero_and_duplicate_ids_are_refused() {
        let mut pb = base();
        pb.function[0].id = 0;
        assert_eq!(
            err_of(pb),
            "pprof: a function has id 0 (ids must be non-zero)"
        );
        let mut pb = base();
        pb.location[2].id = 1;
        assert_eq!(err_of(pb), "pprof: two locations have id 1");
        let mut pb = base();
        pb.mapping.push(pb.mapping[0]);
        assert_eq!(err_of(pb), "pprof: two mappings have id 1");
    }

    #[test]
    fn sparse_ids_work() {
        let mut pb = base();
        for (i, loc) in pb.location.iter_mut().enumerate() {
            loc.id = u64::MAX - i as u64;
        }
        for s in &mut pb.sample {
            for id in &mut s.location_id {
                *id = u64::MAX - (*id - 1);
            }
        }
        let p = conv(&pb).unwrap();
        assert_eq!(stack_names(&p, 1), ["main.main:20", "runtime.main:250"]);
    }

    #[test]
    fn value_count_must_match_sample_types() {
        let mut pb = base();
        pb.sample[1].value.push(3);
        assert_eq!(
            err_of(pb),
            "sample 1 has 3 values but the profile has 2 sample types"
        );
    }

    #[test]
    fn no_sample_types_is_refused() {
        let mut pb = base();
        pb.sample_type.clear();
        assert_eq!(err_of(pb), "the profile declares no sample types");
    }

    #[test]
    fn locations_without_lines_keep_address_and_mapping() {
        let mut pb = base();
        pb.location[0].line.clear();
        pb.location[1].line[0].function_id = 0;
        let p = conv(&pb).unwrap();
        let s = p.samples().next().unwrap();
        let leaf = p.frame(s.stack.at(0));
        assert!(!leaf.is_symbolized());
        assert_eq!(leaf.address, 0x401000);
        assert_eq!(p.str(p.mapping(leaf.mapping.unwrap()).path), "main.go");
        assert_eq!(p.frame_name(p.frame(s.stack.at(1))), "0x402000 (main.go)");
    }

    #[test]
    fn invalid_utf8_in_strings_is_replaced_not_fatal() {
        let mut pb = base();
        pb.string_table[5] = b"main.\xffleak".to_vec();
        let p = conv(&pb).unwrap();
        assert_eq!(stack_names(&p, 0)[1], "main.\u{fffd}leak:12");
    }

    #[test]
    fn optional_header_strings() {
        let mut pb = base();
        pb.default_sample_type = 3;
        pb.doc_url = 6;
        pb.comment = vec![5, 7];
        let p = conv(&pb).unwrap();
        assert_eq!(p.header.default_sample_type.as_deref(), Some("inuse_space"));
        assert_eq!(p.header.doc_url.as_deref(), Some("main.go"));
        assert_eq!(p.header.comments, ["main.leak", "main.main"]);
        assert_eq!(conv(&base()).unwrap().header.default_sample_type, None);
    }

    #[test]
    fn drop_frames_prunes_like_pprof() {
        let mut pb = base();
        pb.string_table.push(b"bytes\\..*".to_vec());
        pb.drop_frames = pb.string_table.len() as i64 - 1;
        let p = conv(&pb).unwrap();
        // The inlined bytes.Repeat line matched: the location keeps the
        // line above it.
        assert_eq!(
            stack_names(&p, 0),
            ["main.leak:12", "main.main:20", "runtime.main:250"]
        );

        // A whole-location match cuts it and everything below it.
        let mut pb = base();
        pb.string_table.push(b"main\\.main".to_vec());
        pb.drop_frames = pb.string_table.len() as i64 - 1;
        let p = conv(&pb).unwrap();
        assert_eq!(stack_names(&p, 0), ["runtime.main:250"]);

        // keep_frames protects a match.
        pb.string_table.push(b"main\\..*".to_vec());
        pb.keep_frames = pb.string_table.len() as i64 - 1;
        let p = conv(&pb).unwrap();
        assert_eq!(stack_names(&p, 0).len(), 4);
    }

    #[test]
    fn drop_frames_never_cuts_above_the_first_user_frame() {
        let mut pb = base();
        pb.string_table.push(b"runtime\\.main|main\\.main".to_vec());
        pb.drop_frames = pb.string_table.len() as i64 - 1;
        let p = conv(&pb).unwrap();
        // From the root, runtime.main and main.main match before any
        // non-matching frame, so nothing is cut.
        assert_eq!(stack_names(&p, 1), ["main.main:20", "runtime.main:250"]);
    }

    #[test]
    fn bad_drop_frames_regex_is_a_warning() {
        let mut pb = base();
        pb.string_table.push(b"(unclosed".to_vec());
        pb.drop_frames = pb.string_table.len() as i64 - 1;
        let p = conv(&pb).unwrap();
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].contains("(unclosed"));
    }

    #[test]
    fn function_names_are_simplified_for_pruning() {
        assert_eq!(simplify_function_name("foo::bar(int)"), "foo::bar");
        assert_eq!(simplify_function_name(".foo"), "foo");
        assert_eq!(
            simplify_function_name("(anonymous namespace)::f(int)"),
            "(anonymous namespace)::f"
        );
        assert_eq!(
            simplify_function_name("X::operator()(int)"),
            "X::operator()"
        );
        assert_eq!(simplify_function_name("main.main"), "main.main");
    }

    #[test]
    fn truncated_protobuf_is_an_error() {
        let bytes = base().encode_to_vec();
        for cut in [1, bytes.len() / 3, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
