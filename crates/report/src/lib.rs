//! heapdiff's renderers: a [`Diff`](heapdiff_diff::Diff) in, text or SVG out.
//!
//! - [`render_table`]: the terminal table (header with totals, top rows,
//!   footer counting the rest), optionally coloured and fitted to a width;
//! - [`render_json`]: one JSON object with stable field order;
//! - [`render_markdown`], [`render_csv`]: reports to paste into an issue or a
//!   spreadsheet;
//! - [`render_trend_table`], [`render_trend_json`]: the same for a trend over
//!   N snapshots, with a sparkline per row;
//! - [`render_heap_flamegraph`]: heapdiff's differential flame graph (SVG):
//!   frames as wide as the larger side, every frame coloured by its change,
//!   legend and totals in the image, zoom and search in a browser;
//! - [`render_classic_flamegraph`]: Gregg's differential flame graph via
//!   inferno.
//!
//! Rendering only: every number was computed by the differ, and nothing here
//! writes to files or stdout — the binary does. All output is deterministic:
//! the same diff renders to the same bytes.
//!
//! # Example
//!
//! ```
//! use heapdiff_diff::{diff, Options};
//! use heapdiff_profile::{Format, Frame, ProfileBuilder, ValueType};
//! use heapdiff_report::{render_table, Inputs, TableOptions};
//!
//! let profile = |bytes: i64| {
//!     let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("inuse_space", "bytes")]);
//!     let (f, file) = (b.intern("main.remember"), b.intern("main.go"));
//!     let leaf = b.frame(Frame::symbolized(f, file, 42));
//!     b.push_sample(&[leaf], &[bytes]).unwrap();
//!     b.finish()
//! };
//! let d = diff(&profile(1 << 20), &profile(3 << 20), &Options::default()).unwrap();
//! let inputs = Inputs { before: "before.pb.gz".into(), after: "after.pb.gz".into() };
//! let table = render_table(&d, &inputs, &TableOptions::default());
//! assert!(table.contains("+2.0 MiB  100.0%  1.0 MiB  3.0 MiB"));
//! assert!(table.contains("main.remember  main.go:42"));
//! ```

pub mod escape;
mod flame;
mod heap_flame;
mod json;
mod names;
mod png;
pub mod redact;
mod share;
mod table;
#[cfg(test)]
mod test_support;
mod trend;
pub mod units;

pub use flame::{FlameError, folded_lines, render_classic_flamegraph, sanitize};
pub use heap_flame::{HeapFlameOptions, Orientation, render_heap_flamegraph};
pub use json::{SCHEMA as JSON_SCHEMA, render_json};
pub use png::{MAX_PNG_PIXELS, PngError, render_png};
pub use share::{Image, MarkdownOptions, render_csv, render_markdown};
pub use table::{SourceText, TableOptions, render_table};
pub use trend::{render_trend_json, render_trend_table, sparkline};

/// How the two inputs are named in every output (as the user gave them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// The before profile's name.
    pub before: String,
    /// The after profile's name.
    pub after: String,
}
