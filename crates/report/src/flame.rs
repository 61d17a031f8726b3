//! The differential flame graph, drawn by inferno (Gregg's semantics).
//!
//! inferno reads folded lines `root;…;leaf before after` and sizes frames by
//! *after*, colouring each line's leaf by its delta (red grew, blue shrank).
//! Its input parser has sharp edges (DESIGN.md §6), so the lines are built
//! from the diff tree to avoid all of them: one line per distinct stack
//! (duplicates merged), always both columns, frame names with `;` and
//! non-XML characters replaced, negative values (delta profiles) clamped to
//! zero, lines sorted so that the output is byte-identical across runs.

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

/// Image width (inferno's default) minus its side padding, in pixels.
const FRAMES_WIDTH_PX: f64 = 1180.0;
/// inferno's minimum drawn frame width, in pixels.
const MIN_WIDTH_PX: f64 = 0.1;

/// The folded lines inferno draws: `frame;frame;… before after`, sorted,
/// one per distinct stack.
///
/// Frames too narrow to be drawn (under 0.1 px of the 1180 px graph, judged
/// by their *after* width as inferno sizes them) are folded into their
/// nearest drawn ancestor, which keeps every drawn frame's width exact and
/// keeps inferno's work proportional to what it can show: a profile with
/// hundreds of thousands of distinct stacks yields a few thousand lines.
pub fn folded_lines(diff: &Diff) -> Vec<String> {
    let tree = &diff.tree;
    let nodes = tree.nodes();
    // Clamped (delta profiles can be negative) self and subtree values.
    let mut own: Vec<(i64, i64)> = nodes
        .iter()
        .map(|n| (n.self_values.before.max(0), n.self_values.after.max(0)))
        .collect();
    let mut subtree = own.clone();
    for id in tree.node_ids().skip(1).rev() {
        let (i, p) = (id.index(), nodes[id.index()].parent.index());
        subtree[p].0 = subtree[p].0.saturating_add(subtree[i].0);
        subtree[p].1 = subtree[p].1.saturating_add(subtree[i].1);
    }
    let threshold = subtree[0].1 as f64 * MIN_WIDTH_PX / FRAMES_WIDTH_PX;
    let visible = |i: usize| subtree[i].1 > 0 && subtree[i].1 as f64 >= threshold;
    for id in tree.node_ids().skip(1) {
        let (i, p) = (id.index(), nodes[id.index()].parent.index());
        if p != 0 && visible(p) && !visible(i) {
            own[p].0 = own[p].0.saturating_add(subtree[i].0);
            own[p].1 = own[p].1.saturating_add(subtree[i].1);
        }
    }

    let labels: Vec<String> = diff.keys().map(|(_, key)| frame_label(diff, key)).collect();
    let mut stacks: Vec<(String, i64, i64)> = Vec::new();
    for id in tree.node_ids().skip(1) {
        let (before, after) = own[id.index()];
        if !visible(id.index()) || (before == 0 && after == 0) {
            continue;
        }
        let mut line = String::new();
        for (depth, key) in tree.path(id).into_iter().enumerate() {
            if depth > 0 {
                line.push(';');
            }
            line.push_str(&labels[key.index()]);
        }
        stacks.push((line, before, after));
    }
    // Distinct keys can share a label (same function and line in two files
    // of the same name): merge them, as inferno would mishandle duplicates.
    stacks.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut lines: Vec<String> = Vec::with_capacity(stacks.len());
    let mut merged: Option<(String, i64, i64)> = None;
    for (stack, b, a) in stacks {
        match &mut merged {
            Some((s, mb, ma)) if *s == stack => {
                *mb = mb.saturating_add(b);
                *ma = ma.saturating_add(a);
            }
            _ => {
                if let Some((s, b, a)) = merged.replace((stack, b, a)) {
                    lines.push(format!("{s} {b} {a}"));
                }
            }
        }
    }
    if let Some((s, b, a)) = merged {
        lines.push(format!("{s} {b} {a}"));
    }
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
