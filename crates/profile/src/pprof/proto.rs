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
    /// The whole profile with each sample left encoded: decoding a `Bytes`
    /// input keeps each sample as a zero-copy slice, decoded later into one
    /// reused [`Sample`], so that no vectors are allocated per sample.
    LazyProfile,
    #[prost(bytes = "bytes", repeated, tag = "2")]
    bytes::Bytes
);

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
