//! heapdiff's integration tests: the built binary run on real fixtures.
//!
//! Grouped by theme, one module each. Golden files live in `tests/golden/`;
//! when an intended change alters output, re-bless them with
//! `HEAPDIFF_BLESS=1 cargo test --workspace` and review the diff.

mod analysis;
mod attribution;
mod browser;
mod common;
mod errors;
mod fixtures;
mod golden;
mod habits;
mod heaptrack;
mod hostile_decoders;
mod hostile_inputs;
mod hostile_live;
mod hostile_memory;
mod hostile_outputs;
mod hostile_symbols;
mod images;
mod interchange;
mod jfr;
mod massif;
mod native;
mod node;
mod order;
mod pprof_reference;
mod pprof_rs;
mod practice;
mod python;
mod speedscope;
mod stores;
mod tls;
