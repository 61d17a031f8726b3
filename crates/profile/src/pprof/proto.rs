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
/// only the rest (locations, functions, strings: small) is copied for prost.
pub struct SplitProfile {
    input: bytes::Bytes,
    /// Everything but the samples (unless [`Self::samples`] is empty: then
    /// the samples too, as prost read them).
    pub rest: LazyProfile,
    /// Each sample's bytes in the input.
    samples: Vec<std::ops::Range<usize>>,
}

impl SplitProfile {
    /// Decodes `input`, a `Profile` message. One that cannot be split at
    /// its top-level fields (truncated, or holding groups) is decoded by
    /// prost whole, which then says what is wrong with it.
    pub fn decode(input: bytes::Bytes) -> Result<Self, prost::DecodeError> {
        use prost::Message as _;
        match split(&input) {
            Some((rest, samples)) => Ok(SplitProfile {
                rest: LazyProfile::decode(&rest[..])?,
                input,
                samples,
            }),
            None => Ok(SplitProfile {
                rest: LazyProfile::decode(input.clone())?,
                input,
                samples: Vec::new(),
            }),
        }
    }

    /// Each encoded sample, in order.
    pub fn samples(&self) -> Vec<&[u8]> {
        if self.samples.is_empty() {
            self.rest.sample.iter().map(|s| &s[..]).collect()
        } else {
            self.samples
                .iter()
                .map(|r| &self.input[r.clone()])
                .collect()
        }
    }
}

/// The top-level fields of a message but its `sample`s (field 2,
/// length-delimited), copied, and where each sample is; `None` if a field
/// cannot be delimited.
fn split(mut buf: &[u8]) -> Option<(Vec<u8>, Vec<std::ops::Range<usize>>)> {
    let whole = buf.len();
    let (mut rest, mut samples) = (Vec::new(), Vec::new());
    while !buf.is_empty() {
        let field = buf;
        let key = super::sample::varint(&mut buf).ok()?;
        match key & 7 {
            0 => drop(super::sample::varint(&mut buf).ok()?),
            1 => buf = buf.get(8..)?,
            2 => {
                let len = usize::try_from(super::sample::varint(&mut buf).ok()?).ok()?;
                let body = buf.get(..len)?;
                if key >> 3 == 2 {
                    let start = whole - buf.len();
                    samples.push(start..start + body.len());
                    buf = &buf[len..];
                    continue;
                }
                buf = &buf[len..];
            }
            5 => buf = buf.get(4..)?,
            _ => return None,
        }
        rest.extend_from_slice(&field[..field.len() - buf.len()]);
    }
    Some((rest, samples))
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
        let samples = p.samples().iter().map(|s| s.to_vec()).collect();
        let mut rest = p.rest.clone();
        rest.sample.clear();
        (samples, rest)
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
    fn a_message_that_cannot_be_split_is_read_whole_or_refused_as_prost_does() {
        let mut bytes = profile().encode_to_vec();
        // An unknown group (field 20, start and end): prost skips it.
        bytes.extend([0xa3, 0x01, 0xa4, 0x01]);
        let split = SplitProfile::decode(bytes::Bytes::from(bytes.clone())).unwrap();
        assert_eq!(split.samples().len(), 5);
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
                assert_eq!(ours.samples(), want, "cut at {cut}");
            }
        }
        // A sample field of the wrong wire type is prost's error.
        let mut bad = profile().encode_to_vec();
        bad.extend([0x10, 0x01]);
        assert!(SplitProfile::decode(bytes::Bytes::from(bad)).is_err());
    }
}
