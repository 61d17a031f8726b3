//! The messages of pprof's `profile.proto`, written by hand for prost so that
//! no `protoc` is needed at build time. Field numbers follow the upstream
//! schema (see `docs/formats.md`).
//!
//! The string table is read as bytes, not `string`, so that a producer that
//! writes invalid UTF-8 (a C++ symbol, a path) does not make the whole profile
//! unreadable; [`super::decode`] converts lossily.
//!
//! prost accepts repeated scalar fields both packed and unpacked, as the
//! protobuf specification requires of parsers.

#![allow(missing_docs)]

/// Declares a Profile message; the two variants differ only in how samples
/// are held.
macro_rules! profile_message {
    ($(#[$doc:meta])* $name:ident, #[$sample_attr:meta] $sample_ty:ty) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct $name {
            #[prost(message, repeated, tag = "1")]
            pub sample_type: Vec<ValueType>,
            #[$sample_attr]
            pub sample: Vec<$sample_ty>,
            #[prost(message, repeated, tag = "3")]
            pub mapping: Vec<Mapping>,
            #[prost(message, repeated, tag = "4")]
            pub location: Vec<Location>,
            #[prost(message, repeated, tag = "5")]
            pub function: Vec<Function>,
            #[prost(bytes = "vec", repeated, tag = "6")]
            pub string_table: Vec<Vec<u8>>,
            #[prost(int64, tag = "7")]
            pub drop_frames: i64,
            #[prost(int64, tag = "8")]
            pub keep_frames: i64,
            #[prost(int64, tag = "9")]
            pub time_nanos: i64,
            #[prost(int64, tag = "10")]
            pub duration_nanos: i64,
            #[prost(message, optional, tag = "11")]
            pub period_type: Option<ValueType>,
            #[prost(int64, tag = "12")]
            pub period: i64,
            #[prost(int64, repeated, tag = "13")]
            pub comment: Vec<i64>,
            #[prost(int64, tag = "14")]
            pub default_sample_type: i64,
            #[prost(int64, tag = "15")]
            pub doc_url: i64,
        }
    };
}

profile_message!(
    /// The whole profile, samples decoded (for writing profiles).
    Profile,
    #[prost(message, repeated, tag = "2")]
    Sample
);

profile_message!(
    /// The whole profile with each sample left encoded: what
    /// [`SplitProfile`] has prost decode (the samples then found apart,
    /// or, for a message that cannot be split, kept as zero-copy slices).
    LazyProfile,
    #[prost(bytes = "bytes", repeated, tag = "2")]
    bytes::Bytes
);

/// A profile message as the decoder reads it: every field but the samples
/// decoded by prost, each sample left encoded where it lies in the input.
/// Finding the samples takes one pass over the message's top-level fields;
/// only the rest (locations, functions, strings: small) is copied for prost,
/// and the samples are not listed: reading them walks the top-level fields
/// again, from the start or from one of a few checkpoints.
pub struct SplitProfile {
    input: bytes::Bytes,
    /// Everything but the samples (unless the message could not be split:
    /// then the samples too, as prost read them).
    pub rest: LazyProfile,
    /// Where the samples are, when the message was split.
    index: Option<SampleIndex>,
}

/// Where a split message's samples are, without a list of them (which
/// would take 16 bytes a sample, as much as a small sample's own): their
/// number, their bytes in all, and for every `every`-th sample where its
/// field starts and the samples' bytes before it.
struct SampleIndex {
    count: usize,
    bytes: usize,
    every: usize,
    /// For samples `0`, `every`, `2 * every`, …: (field start, bytes of the
    /// samples before it).
    checkpoints: Vec<(usize, usize)>,
}

/// How many samples apart the checkpoints are: a profile read in two
/// halves splits at one (the one that halves the samples' bytes most
/// evenly).
const CHECKPOINT_EVERY: usize = 1024;

impl SplitProfile {
    /// Decodes `input`, a `Profile` message. One that cannot be split at
    /// its top-level fields (truncated, or holding groups) is decoded by
    /// prost whole, which then says what is wrong with it.
    pub fn decode(input: bytes::Bytes) -> Result<Self, prost::DecodeError> {
        Self::decode_every(input, CHECKPOINT_EVERY)
    }

    /// [`Self::decode`] with a checkpoint every `every` samples.
    pub(super) fn decode_every(
        input: bytes::Bytes,
        every: usize,
    ) -> Result<Self, prost::DecodeError> {
        use prost::Message as _;
        match split(&input, every.max(1)) {
            Some((rest, index)) => Ok(SplitProfile {
                rest: LazyProfile::decode(&rest[..])?,
                input,
                index: Some(index),
            }),
            None => Ok(SplitProfile {
                rest: LazyProfile::decode(input.clone())?,
                input,
                index: None,
            }),
        }
    }

    /// The number of samples.
    pub fn sample_count(&self) -> usize {
        match &self.index {
            Some(index) => index.count,
            None => self.rest.sample.len(),
        }
    }

    /// Whether the samples were found apart (else prost listed them, and
    /// [`sample_bytes_from`](Self::sample_bytes_from) sums them each time).
    pub fn indexed(&self) -> bool {
        self.index.is_some()
    }

    /// The encoded samples' bytes from sample `from` (a
    /// [`split_point`](Self::split_point)) on.
    pub fn sample_bytes_from(&self, from: usize) -> usize {
        match &self.index {
            Some(index) => index.bytes - index.checkpoint(from).1,
            None => self.rest.sample[from..].iter().map(|s| s.len()).sum(),
        }
    }

    /// How many samples apart the [`split_point`](Self::split_point)s are
    /// (at most).
    pub fn chunk_len(&self) -> usize {
        match &self.index {
            Some(index) => index.every,
            None => CHECKPOINT_EVERY,
        }
    }

    /// The split point that halves the encoded samples' bytes most evenly
    /// (the halves' reading then takes about as long: samples differ in
    /// depth, and deep ones may bunch up at one end).
    pub fn byte_midpoint(&self) -> usize {
        let Some(index) = &self.index else {
            return self.split_point(self.sample_count() / 2);
        };
        let half = index.bytes / 2;
        let above = index
            .checkpoints
            .partition_point(|&(_, before)| before <= half);
        // The last checkpoint at or below the middle, or the next one if it
        // is nearer.
        let below = above.saturating_sub(1);
        let k = match index.checkpoints.get(above) {
            Some(&(_, before)) if before - half < half - index.checkpoints[below].1 => above,
            _ => below,
        };
        (k * index.every).min(index.count)
    }

    /// The sample nearest `near` from below where reading may start.
    pub fn split_point(&self, near: usize) -> usize {
        let near = near.min(self.sample_count());
        match &self.index {
            Some(index) => near - near % index.every,
            None => near,
        }
    }

    /// The encoded samples `range`, in order; `range.start` is a
    /// [`split_point`](Self::split_point).
    pub fn samples(&self, range: std::ops::Range<usize>) -> EncodedSamples<'_> {
        match &self.index {
            Some(_) if range.is_empty() => EncodedSamples::Scan { rest: &[], left: 0 },
            Some(index) => {
                let (at, _) = index.checkpoint(range.start);
                EncodedSamples::Scan {
                    rest: &self.input[at..],
                    left: range.len(),
                }
            }
            None => EncodedSamples::List(self.rest.sample[range].iter()),
        }
    }
}

impl SampleIndex {
    /// The checkpoint of sample `at`, a multiple of `every` (or the count).
    fn checkpoint(&self, at: usize) -> (usize, usize) {
        debug_assert!(
            at.is_multiple_of(self.every) || at == self.count,
            "not a split point"
        );
        match self.checkpoints.get(at / self.every) {
            Some(&c) if at < self.count => c,
            _ => (usize::MAX, self.bytes),
        }
    }
}

/// Encoded samples, in order: found again among the message's top-level
/// fields (which the split has checked), or listed by prost.
pub enum EncodedSamples<'a> {
    /// The top-level fields from a sample's on, `left` samples to go.
    Scan { rest: &'a [u8], left: usize },
    /// The samples prost read.
    List(std::slice::Iter<'a, bytes::Bytes>),
}

impl<'a> Iterator for EncodedSamples<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        match self {
            EncodedSamples::List(samples) => samples.next().map(|s| &s[..]),
            EncodedSamples::Scan { rest, left } => {
                while *left > 0 {
                    match next_field(rest)? {
                        Field::Sample(body) => {
                            *left -= 1;
                            return Some(body);
                        }
                        Field::Other => {}
                    }
                }
                None
            }
        }
    }
}

/// A top-level field: a sample's body, or another field.
enum Field<'a> {
    Sample(&'a [u8]),
    Other,
}

/// Reads the top-level field `buf` starts with; `None` if it cannot be
/// delimited.
fn next_field<'a>(buf: &mut &'a [u8]) -> Option<Field<'a>> {
    let key = super::sample::varint(buf).ok()?;
    match key & 7 {
        0 => drop(super::sample::varint(buf).ok()?),
        1 => *buf = buf.get(8..)?,
        2 => {
            let len = usize::try_from(super::sample::varint(buf).ok()?).ok()?;
            let body = buf.get(..len)?;
            *buf = &buf[len..];
            if key >> 3 == 2 {
                return Some(Field::Sample(body));
            }
        }
        5 => *buf = buf.get(4..)?,
        _ => return None,
    }
    Some(Field::Other)
}

/// Why the first bytes of an input cannot start a `profile.proto` message,
/// if they cannot: read before the rest of a big (or compressed) input, so
/// that what is not pprof (a gzip of zeros, a text file of no known format)
/// is refused before it is read whole. Every top-level field that starts in
/// `head` must have a field number from 1 and a wire type pprof writers
/// use (varint, 64-bit, length-delimited, 32-bit); a field that runs past
/// `head` ends the check.
pub(crate) fn implausible_start(head: &[u8]) -> Option<String> {
    let mut buf = head;
    while !buf.is_empty() {
        let at = head.len() - buf.len();
        let Ok(key) = super::sample::varint(&mut buf) else {
            // A key cut by the end of `head` is not wrong yet.
            return None;
        };
        let (field, wire) = (key >> 3, key & 7);
        if field == 0 {
            return Some(format!("byte {at} holds field number 0"));
        }
        if !matches!(wire, 0 | 1 | 2 | 5) {
            return Some(format!(
                "byte {at} holds wire type {wire}, which pprof never writes"
            ));
        }
        // A field that runs past `head` ends the check.
        next_field_body(key, &mut buf)?;
    }
    None
}

/// Skips the body of a field whose key was `key`; `None` if it runs past
/// `buf`.
fn next_field_body(key: u64, buf: &mut &[u8]) -> Option<()> {
    match key & 7 {
        0 => drop(super::sample::varint(buf).ok()?),
        1 => *buf = buf.get(8..)?,
        2 => {
            let len = usize::try_from(super::sample::varint(buf).ok()?).ok()?;
            *buf = buf.get(len..)?;
        }
        5 => *buf = buf.get(4..)?,
        _ => return None,
    }
    Some(())
}

/// The top-level fields of a message but its `sample`s (field 2,
/// length-delimited), copied, and where the samples are (a checkpoint every
/// `every` samples); `None` if a field cannot be delimited.
fn split(mut buf: &[u8], every: usize) -> Option<(Vec<u8>, SampleIndex)> {
    let whole = buf.len();
    let mut rest = Vec::new();
    let mut index = SampleIndex {
        count: 0,
        bytes: 0,
        every,
        checkpoints: Vec::new(),
    };
    while !buf.is_empty() {
        let field = buf;
        match next_field(&mut buf)? {
            Field::Sample(body) => {
                if index.count.is_multiple_of(every) {
                    index.checkpoints.push((whole - field.len(), index.bytes));
                }
                index.count += 1;
                index.bytes += body.len();
            }
            Field::Other => rest.extend_from_slice(&field[..field.len() - buf.len()]),
        }
    }
    Some((rest, index))
}

/// A sample type or period type, as string-table indices.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct ValueType {
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// One sample: locations leaf first, one value per sample type, labels.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// A string or numeric label of a sample.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Label {
    #[prost(int64, tag = "1")]
    pub key: i64,
    #[prost(int64, tag = "2")]
    pub str: i64,
    #[prost(int64, tag = "3")]
    pub num: i64,
    #[prost(int64, tag = "4")]
    pub num_unit: i64,
}

/// A mapped binary.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Mapping {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(uint64, tag = "2")]
    pub memory_start: u64,
    #[prost(uint64, tag = "3")]
    pub memory_limit: u64,
    #[prost(uint64, tag = "4")]
    pub file_offset: u64,
    #[prost(int64, tag = "5")]
    pub filename: i64,
    #[prost(int64, tag = "6")]
    pub build_id: i64,
    #[prost(bool, tag = "7")]
    pub has_functions: bool,
    #[prost(bool, tag = "8")]
    pub has_filenames: bool,
    #[prost(bool, tag = "9")]
    pub has_line_numbers: bool,
    #[prost(bool, tag = "10")]
    pub has_inline_frames: bool,
}

/// A program location; `line` lists inlined frames innermost first.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Location {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    #[prost(uint64, tag = "3")]
    pub address: u64,
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
    #[prost(bool, tag = "5")]
    pub is_folded: bool,
}

/// A source line within a location.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Line {
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    #[prost(int64, tag = "2")]
    pub line: i64,
    #[prost(int64, tag = "3")]
    pub column: i64,
}

/// A function.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Function {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(int64, tag = "2")]
    pub name: i64,
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    #[prost(int64, tag = "4")]
    pub filename: i64,
    #[prost(int64, tag = "5")]
    pub start_line: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    fn profile() -> Profile {
        Profile {
            sample_type: vec![ValueType { r#type: 1, unit: 2 }],
            sample: (0..5u64)
                .map(|i| Sample {
                    location_id: vec![i + 1, 300],
                    value: vec![i as i64 * 1000],
                    label: vec![],
                })
                .collect(),
            string_table: vec![b"".to_vec(), b"space".to_vec(), b"bytes".to_vec()],
            period: 4096,
            time_nanos: -3,
            ..Default::default()
        }
    }

    /// What a split decode holds: the samples' bytes and the rest.
    fn parts(p: &SplitProfile) -> (Vec<Vec<u8>>, LazyProfile) {
        let samples = p.samples(0..p.sample_count()).map(|s| s.to_vec()).collect();
        let mut rest = p.rest.clone();
        rest.sample.clear();
        (samples, rest)
    }

    #[test]
    fn what_cannot_start_a_profile_is_told_from_its_first_bytes() {
        let real = profile().encode_to_vec();
        for cut in 0..=real.len() {
            assert_eq!(implausible_start(&real[..cut]), None, "cut at {cut}");
        }
        assert_eq!(
            implausible_start(&[0; 4096]).as_deref(),
            Some("byte 0 holds field number 0")
        );
        assert!(implausible_start(b"hello, world").is_some());
        assert!(
            implausible_start(b"\x0b\x00")
                .unwrap()
                .contains("wire type 3")
        );
    }

    #[test]
    fn split_samples_and_the_rest_equal_what_prost_reads() {
        let bytes = bytes::Bytes::from(profile().encode_to_vec());
        let split = SplitProfile::decode(bytes.clone()).unwrap();
        assert!(split.rest.sample.is_empty(), "the samples are not copied");
        let whole = LazyProfile::decode(bytes).unwrap();
        let want: Vec<Vec<u8>> = whole.sample.iter().map(|s| s.to_vec()).collect();
        let (samples, rest) = parts(&split);
        assert_eq!(samples, want);
        assert_eq!(rest.period, 4096);
        assert_eq!(rest.time_nanos, -3);
        assert_eq!(rest.string_table, profile().string_table);
    }

    #[test]
    fn samples_read_from_any_split_point_are_those_prost_lists() {
        // Samples with other top-level fields between them.
        let mut bytes = Vec::new();
        for (i, sample) in profile().sample.iter().enumerate() {
            let one = Profile {
                sample: vec![sample.clone()],
                period: i as i64 + 1,
                ..Default::default()
            };
            bytes.extend(one.encode_to_vec());
        }
        let bytes = bytes::Bytes::from(bytes);
        let prost = LazyProfile::decode(bytes.clone()).unwrap();
        let want: Vec<&[u8]> = prost.sample.iter().map(|s| &s[..]).collect();
        for every in [1, 2, 3, 5, 1024] {
            let split = SplitProfile::decode_every(bytes.clone(), every).unwrap();
            assert_eq!(split.sample_count(), 5);
            assert_eq!(split.rest.period, 5, "the other fields are kept");
            for near in 0..=5 {
                let at = split.split_point(near);
                assert!(at <= near && near - at < every, "{every} {near} {at}");
                let got: Vec<&[u8]> = split.samples(at..5).collect();
                assert_eq!(got, want[at.min(5)..], "every {every} from {at}");
                let bytes: usize = want[at.min(5)..].iter().map(|s| s.len()).sum();
                assert_eq!(
                    split.sample_bytes_from(at),
                    bytes,
                    "every {every} from {at}"
                );
                // A range that ends early stops there.
                let two: Vec<&[u8]> = split.samples(at..(at + 2).min(5)).collect();
                assert_eq!(two, want[at.min(5)..(at + 2).min(5)]);
            }
        }
    }

    #[test]
    fn the_byte_midpoint_halves_the_samples_bytes_most_evenly() {
        // Twelve shallow samples, then four deep ones.
        let stacks: Vec<Vec<u64>> = (0..16u64)
            .map(|i| (0..if i < 12 { 2 } else { 40 }).collect())
            .collect();
        let pb = Profile {
            sample: stacks
                .iter()
                .map(|ids| Sample {
                    location_id: ids.clone(),
                    value: vec![1],
                    label: vec![],
                })
                .collect(),
            ..Default::default()
        };
        let bytes = bytes::Bytes::from(pb.encode_to_vec());
        for every in [1, 2, 3, 4, 5, 16, 1024] {
            let split = SplitProfile::decode_every(bytes.clone(), every).unwrap();
            let total = split.sample_bytes_from(0);
            let imbalance =
                |at: usize| (total as i64 - 2 * split.sample_bytes_from(at) as i64).unsigned_abs();
            let mid = split.byte_midpoint();
            assert_eq!(split.split_point(mid), mid, "a split point ({every})");
            let best = (0..=16)
                .map(|k| split.split_point(k))
                .min_by_key(|&k| imbalance(k))
                .unwrap();
            assert_eq!(
                imbalance(mid),
                imbalance(best),
                "every {every}: {mid} against {best}"
            );
        }
        // By sample count the middle would be sample 8, far from even.
        let split = SplitProfile::decode_every(bytes, 1).unwrap();
        assert!(split.byte_midpoint() > 12);
    }

    #[test]
    fn a_message_that_cannot_be_split_is_read_whole_or_refused_as_prost_does() {
        let mut bytes = profile().encode_to_vec();
        // An unknown group (field 20, start and end): prost skips it.
        bytes.extend([0xa3, 0x01, 0xa4, 0x01]);
        let split = SplitProfile::decode(bytes::Bytes::from(bytes.clone())).unwrap();
        assert_eq!(split.sample_count(), 5);
        assert_eq!(split.rest.period, 4096);
        // Cut anywhere, it fails where prost fails and reads what prost reads.
        let whole = profile().encode_to_vec();
        for cut in 0..whole.len() {
            let part = bytes::Bytes::copy_from_slice(&whole[..cut]);
            let ours = SplitProfile::decode(part.clone());
            let prost = LazyProfile::decode(part);
            assert_eq!(ours.is_ok(), prost.is_ok(), "cut at {cut}");
            if let (Ok(ours), Ok(prost)) = (ours, prost) {
                let want: Vec<&[u8]> = prost.sample.iter().map(|s| &s[..]).collect();
                let got: Vec<&[u8]> = ours.samples(0..ours.sample_count()).collect();
                assert_eq!(got, want, "cut at {cut}");
            }
        }
        // A sample field of the wrong wire type is prost's error.
        let mut bad = profile().encode_to_vec();
        bad.extend([0x10, 0x01]);
        assert!(SplitProfile::decode(bytes::Bytes::from(bad)).is_err());
    }
}
