//! Why two profiles cannot be compared.

/// A comparison that cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The chosen sample type is missing on one side.
    #[error(
        "sample type {name:?} is not in both profiles (before has: {before}; after has: {after}); \
         choose one with --sample-type"
    )]
    MissingSampleType {
        /// The sample type looked for.
        name: String,
        /// The before profile's sample types.
        before: String,
        /// The after profile's sample types.
        after: String,
    },

    /// A `--sample-type` index past the end.
    #[error("sample type index {index} is out of range (the after profile has: {available})")]
    SampleTypeIndex {
        /// The index given.
        index: usize,
        /// The after profile's sample types.
        available: String,
    },

    /// The same sample type is measured in different units.
    #[error("sample type {name} is in {before} before but in {after} after")]
    UnitMismatch {
        /// The sample type.
        name: String,
        /// Its unit in the before profile.
        before: String,
        /// Its unit in the after profile.
        after: String,
    },

    /// A trend needs snapshots.
    #[error("a trend needs at least 2 snapshots, got {count}")]
    TooFewSnapshots {
        /// How many were given.
        count: usize,
    },

    /// A trend snapshot lacks the compared sample type.
    #[error("snapshot {snapshot} has no sample type {name:?}")]
    SnapshotSampleType {
        /// 1-based position of the snapshot.
        snapshot: usize,
        /// The sample type looked for.
        name: String,
    },
}
