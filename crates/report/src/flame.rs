//! The differential flame graph, drawn by inferno (Gregg's semantics).
//!
//! inferno reads folded lines `root;…;leaf before after` and sizes frames by
//! *after*, colouring each line's leaf by its delta (red grew, blue shrank).
//! Its input parser has sharp edges (DESIGN.md §6), so the lines are built
//! from the diff tree to avoid all of them: one line per distinct stack
//! (duplicates merged), always both columns, frame names with `;` and
//! non-XML characters replaced, negative values (delta profiles) clamped to
//! zero, lines sorted so that the output is byte-identical across runs.

use std::fmt::Write as _;

use heapdiff_diff::{Diff, Granularity, Key};

use crate::Inputs;
use crate::units::{format_percent, format_value, relative_change};

/// Why no flame graph could be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlameError {
    /// Nothing is live in the after profile: every frame would be zero wide.
    #[error("nothing is live in the after profile, so a flame graph sized by it would be empty")]
    Empty,
    /// inferno failed to write.
    #[error("cannot render the flame graph: {0}")]
    Render(std::io::Error),
}

/// The folded lines inferno draws: `frame;frame;… before after`, sorted.
pub fn folded_lines(diff: &Diff) -> Vec<String> {
    let tree = &diff.tree;
    let labels: Vec<String> = diff.keys().map(|(_, key)| frame_label(diff, key)).collect();
    let mut lines = Vec::new();
    for id in tree.node_ids().skip(1) {
        let node = tree.node(id);
        let (before, after) = (
            node.self_values.before.max(0),
            node.self_values.after.max(0),
        );
        if before == 0 && after == 0 {
            continue;
        }
        let mut line = String::new();
        for (depth, key) in tree.path(id).into_iter().enumerate() {
            if depth > 0 {
                line.push(';');
            }
            line.push_str(&labels[key.index()]);
        }
        let _ = write!(line, " {before} {after}");
        lines.push(line);
    }
    lines.sort_unstable();
    lines
}

/// Renders the differential flame graph as SVG bytes.
pub fn render_flamegraph(diff: &Diff, inputs: &Inputs) -> Result<Vec<u8>, FlameError> {
    let lines = folded_lines(diff);
    if !lines.iter().any(|l| !l.ends_with(" 0")) {
        return Err(FlameError::Empty);
    }
    let unit = &diff.sample_type.unit;
    let t = &diff.totals;
    let change = match relative_change(t.before, t.after) {
        Some(r) => format!(
            "{}, {}",
            format_value(t.delta(), unit, true),
            format_percent(r, true)
        ),
        None => format_value(t.delta(), unit, true),
    };
    let mut opt = inferno::flamegraph::Options::default();
    opt.title = sanitize(&format!("heapdiff: {} → {}", inputs.before, inputs.after));
    opt.subtitle = Some(sanitize(&format!(
        "{}: {} → {} ({change}) · width: after · colour: red grew, blue shrank (leaf frames)",
        diff.sample_type.name,
        format_value(t.before, unit, false),
        format_value(t.after, unit, false),
    )));
    opt.count_name = sanitize(unit);
    opt.name_type = match diff.options.granularity {
        Granularity::File => "File:".to_owned(),
        _ => "Function:".to_owned(),
    };
    opt.deterministic = true;
    opt.no_sort = true; // folded_lines sorted them
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut opt, lines.iter().map(String::as_str), &mut svg)
        .map_err(FlameError::Render)?;
    Ok(svg)
}

/// A frame's name in the graph: `function file.go:line` at line
/// granularity (the file's base name), the function or the file otherwise.
fn frame_label(diff: &Diff, key: &Key) -> String {
    let base = |f: &str| f.rsplit('/').next().unwrap_or(f).to_owned();
    let label = match (diff.options.granularity, &key.function, &key.file, key.line) {
        (Granularity::Line, Some(f), Some(file), Some(l)) => format!("{f} {}:{l}", base(file)),
        (Granularity::Line, Some(f), Some(file), None) => format!("{f} {}", base(file)),
        (Granularity::File, _, Some(file), _) => file.clone(),
        (_, Some(f), _, _) => f.clone(),
        _ => "<unknown>".to_owned(),
    };
    let clean = sanitize(&label).replace(';', ",");
    if clean.trim().is_empty() {
        "<unknown>".to_owned()
    } else {
        clean
    }
}

/// Replaces characters XML 1.0 forbids (and other control characters) with
/// U+FFFD, so that the SVG stays well-formed whatever the profile says.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}
