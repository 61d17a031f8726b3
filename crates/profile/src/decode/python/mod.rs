//! Python's `tracemalloc` snapshots.

mod pickle;
mod tracemalloc;

pub(crate) use tracemalloc::{decode, decode_reader};
