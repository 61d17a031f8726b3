//! Decoding errors. Every message says what was expected, so that the
//! binary can print `heapdiff: error: FILE: MESSAGE` on one line.

use crate::Format;

/// Why a profile could not be read or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file (or standard input) could not be read. (Not a `#[source]`:
    /// the message says it once, and an error chain would say it again.)
    #[error("cannot read: {0}")]
    Io(std::io::Error),

    /// Zero bytes of input.
    #[error("the file is empty")]
    Empty,

    /// The input starts like gzip or zstd but does not decompress.
    #[error("corrupt {0} data: {1}")]
    Decompress(&'static str, std::io::Error),

    /// Neither a known text format nor a decodable protobuf.
    #[error(
        "not a heap profile heapdiff knows (starts with {first_bytes}); \
         as pprof protobuf it fails: {pprof}"
    )]
    Unrecognized {
        /// The first bytes of the (decompressed) input, escaped.
        first_bytes: String,
        /// What the pprof decoder said.
        pprof: String,
    },

    /// A format heapdiff recognises but cannot decode (yet, or at all).
    #[error("{format} cannot be read{hint}")]
    Unsupported {
        /// The recognised format.
        format: Format,
        /// Advice, starting with `; ` when present.
        hint: &'static str,
    },

    /// The bytes are not a valid `profile.proto` message.
    #[error("invalid pprof protobuf: {0}")]
    Protobuf(String),

    /// `string_table[0]` must be the empty string.
    #[error("pprof: string_table[0] must be \"\" but is {0:?}")]
    StringTableStart(String),

    /// A string index outside the string table.
    #[error(
        "pprof: string index {index} out of range (the string table has {len} entries) in {field}"
    )]
    StringIndex {
        /// The offending index.
        index: i64,
        /// Size of the string table.
        len: usize,
        /// Where the index was found, e.g. `function 3 name`.
        field: String,
    },

    /// A mapping, location or function with id 0.
    #[error("pprof: a {kind} has id 0 (ids must be non-zero)")]
    ZeroId {
        /// `mapping`, `location` or `function`.
        kind: &'static str,
    },

    /// Two entities of the same kind share an id.
    #[error("pprof: two {kind}s have id {id}")]
    DuplicateId {
        /// `mapping`, `location` or `function`.
        kind: &'static str,
        /// The shared id.
        id: u64,
    },

    /// A reference to an id that does not exist.
    #[error("pprof: {referrer} refers to unknown {kind} id {id}")]
    UnknownId {
        /// `mapping`, `location` or `function`.
        kind: &'static str,
        /// The missing id.
        id: u64,
        /// Who refers to it, e.g. `sample 12`.
        referrer: String,
    },

    /// A sample with a different number of values than sample types.
    #[error("sample {sample} has {got} values but the profile has {want} sample types")]
    ValueCount {
        /// Index of the sample.
        sample: usize,
        /// Number of values it has.
        got: usize,
        /// Number of sample types.
        want: usize,
    },

    /// A line of a text format that does not say what it should.
    #[error("line {line}: {message}")]
    Text {
        /// 1-based line number.
        line: usize,
        /// What was expected and what was found.
        message: String,
    },

    /// A pickle that is malformed, truncated, or asks for more than a
    /// tracemalloc snapshot may.
    #[error("pickle byte {offset}: {message}")]
    Pickle {
        /// Offset of the offending opcode.
        offset: usize,
        /// What is wrong.
        message: String,
    },

    /// A recognised format whose content is not what its producer writes.
    #[error("{format}: {message}")]
    Invalid {
        /// The recognised format.
        format: Format,
        /// What is wrong.
        message: String,
    },

    /// More input than the limit allows.
    #[error(
        "the input is larger than {} (--max-input); raise the limit with --max-input SIZE",
        crate::decode::budget::human(*limit)
    )]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },

    /// A gzip stream that inflates to more than the input limit allows.
    #[error(
        "it decompresses to more than {} (a decompression bomb?); raise the limit with --max-input SIZE",
        crate::decode::budget::human(*limit)
    )]
    InflatesTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },

    /// A profile beyond one of the [`crate::Limits`].
    #[error("more than {limit} {what}; raise the limit with {flag}")]
    Limit {
        /// What is counted.
        what: &'static str,
        /// The limit.
        limit: usize,
        /// The command-line flag that raises it.
        flag: &'static str,
    },

    /// Profiles that cannot be merged into one side.
    #[error("cannot merge: {0}")]
    Merge(String),

    /// A profile with samples but no sample types, or nothing at all.
    #[error("the profile declares no sample types")]
    NoSampleTypes,

    /// Reading on would pass the memory budget ([`crate::Budget`]).
    #[error(
        "it needs more memory than the budget of {} (--max-memory); raise the budget with \
         --max-memory SIZE if the machine has the room",
        crate::decode::budget::human(*limit)
    )]
    OverBudget {
        /// The budget, in bytes.
        limit: u64,
    },

    /// Not a profile as it stands, but perhaps one wrapped (compressed,
    /// archived) or encoded (UTF-16): what it is and the command that
    /// converts it.
    #[error("{0}")]
    NeedsConversion(String),

    /// A file of one profile where one of several snapshots was expected.
    #[error(
        "holds one profile ({0}); a trend over one file needs a file of snapshots (massif); \
         give three or more profiles instead"
    )]
    OneProfile(String),
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}
