//! heapdiff's profile model and its decoders.
//!
//! This crate turns the bytes of a heap profile into a [`Profile`]: sample
//! types, interned strings and frames, and per-sample stacks and values. It
//! depends on no other heapdiff crate; the symbolizer, the differ and the
//! renderers all build on it.
//!
//! # Design constraints
//!
//! - **Big inputs.** Real heap profiles have hundreds of thousands of samples
//!   with stacks a hundred frames deep. The model allocates nothing per
//!   sample: stacks are slices of one frame-id vector, values slices of one
//!   `i64` vector, and every string and frame is interned once.
//! - **Hostile inputs.** Profiles arrive attached to bug reports. Every index
//!   and id read from a file is checked before use and every failure is an
//!   [`Error`] that says what was expected; nothing here panics on bad input.
//! - **Producers disagree.** Decoders accept what real producers write (packed
//!   and unpacked protobuf fields, invalid UTF-8 in names, gzip or raw) and
//!   keep what later stages need (addresses and mappings of frames without
//!   names, for the symbolizer).
//!
//! # Example
//!
//! ```
//! use heapdiff_profile::{decode, pprof::proto};
//! use prost::Message;
//!
//! // A one-sample pprof profile, as Go would write it (minus gzip).
//! let pb = proto::Profile {
//!     sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
//!     sample: vec![proto::Sample { location_id: vec![1], value: vec![4096], label: vec![] }],
//!     location: vec![proto::Location {
//!         id: 1,
//!         line: vec![proto::Line { function_id: 1, line: 27, column: 0 }],
//!         ..Default::default()
//!     }],
//!     function: vec![proto::Function { id: 1, name: 3, filename: 4, ..Default::default() }],
//!     string_table: ["", "inuse_space", "bytes", "main.leak", "main.go"]
//!         .map(|s| s.as_bytes().to_vec())
//!         .to_vec(),
//!     ..Default::default()
//! };
//! let profile = decode(&pb.encode_to_vec()).unwrap();
//! assert_eq!(profile.header.sample_types[0].name, "inuse_space");
//! let sample = profile.samples().next().unwrap();
//! let leaf = profile.frame(sample.stack.at(0));
//! assert_eq!(profile.str(leaf.function), "main.leak");
//! assert_eq!(leaf.line, 27);
//! assert_eq!(sample.values, &[4096]);
//! ```

mod decode;
mod error;
mod model;

pub use decode::budget::Budget;
pub use decode::format::{is_gzip, sniff};
pub use decode::legacy::DecodeOptions;
pub use decode::{
    DEFAULT_MAX_INPUT, decode, decode_with, gunzip, gunzip_limited, open, open_with, pprof,
    snapshots_in,
};
pub use error::Error;
pub use model::{
    Format, Frame, FrameId, Frames, FramesIter, Header, Limits, MAX_FRAMES, Mapping, MappingId,
    Profile, ProfileBuilder, Sample, Sampling, StackFrame, StrId, SymbolFrame, ValueType,
};
