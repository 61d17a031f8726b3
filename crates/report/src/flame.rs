//! The classic differential flame graph (`--flame-style classic`), drawn by
//! inferno with Gregg's semantics.
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
use crate::heap_flame::MAX_DEPTH;
use crate::names::short_function;
use crate::units::{format_percent, format_value, relative_change};

/// Why no flame graph could be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlameError {
    /// Nothing is live in the after profile: every frame would be zero wide.
    #[error("nothing is live in the after profile, so a flame graph sized by it would be empty")]
    Empty,
    /// Neither profile holds anything: there is nothing to draw.
    #[error("neither profile holds anything to draw")]
    Blank,
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
    folded_stacks(diff).0
}

/// [`folded_lines`], and whether stacks deeper than [`MAX_DEPTH`] were cut.
fn folded_stacks(diff: &Diff) -> (Vec<String>, bool) {
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

    // Stacks are cut where the heap graph cuts them: a chain of D frames
    // would otherwise be D lines of up to D frames each (a 1 KB profile, a
    // 200 MB graph). A deeper frame's value is its ancestor's at the cut.
    let mut cut = false;
    let mut depth = vec![0u32; nodes.len()];
    let mut drawn_as: Vec<usize> = (0..nodes.len()).collect();
    for id in tree.node_ids().skip(1) {
        let (i, p) = (id.index(), nodes[id.index()].parent.index());
        depth[i] = depth[p] + 1;
        if depth[i] > MAX_DEPTH {
            cut = true;
            drawn_as[i] = drawn_as[p];
            if visible(i) {
                let top = drawn_as[i];
                own[top].0 = own[top].0.saturating_add(own[i].0);
                own[top].1 = own[top].1.saturating_add(own[i].1);
            }
        }
    }

    let labels: Vec<String> = diff.keys().map(|(_, key)| frame_label(diff, key)).collect();
    let mut stacks: Vec<(String, i64, i64)> = Vec::new();
    for id in tree.node_ids().skip(1) {
        let (before, after) = own[id.index()];
        if !visible(id.index()) || depth[id.index()] > MAX_DEPTH || (before == 0 && after == 0) {
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
    (lines, cut)
}

/// Renders Gregg's differential flame graph with inferno, as SVG bytes:
/// `width` pixels wide, roots at the bottom unless `icicle`.
pub fn render_classic_flamegraph(
    diff: &Diff,
    inputs: &Inputs,
    width: u32,
    icicle: bool,
) -> Result<Vec<u8>, FlameError> {
    let (lines, cut) = folded_stacks(diff);
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
    let cut = if cut {
        format!(" · stacks cut at {MAX_DEPTH} frames")
    } else {
        String::new()
    };
    let averages = crate::table::averages(diff.merged)
        .map(|a| format!(" · {a}"))
        .unwrap_or_default();
    opt.subtitle = Some(sanitize(&format!(
        "{}: {} → {} ({change}){averages} · width: after · colour: red grew, blue shrank (leaf frames){cut}",
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
    opt.image_width = Some(width as usize);
    if icicle {
        opt.direction = inferno::flamegraph::Direction::Inverted;
    }
    opt.no_sort = true; // folded_lines sorted them
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut opt, lines.iter().map(String::as_str), &mut svg)
        .map_err(FlameError::Render)?;
    Ok(svg)
}

/// A frame's name in the graph: `function file.go:line` at line
/// granularity (the file's base name), the function or the file otherwise.
pub(crate) fn frame_label(diff: &Diff, key: &Key) -> String {
    let base = |f: &str| f.rsplit('/').next().unwrap_or(f).to_owned();
    let function = key.function.as_deref().map(short_function);
    let label = match (diff.options.granularity, function, &key.file, key.line) {
        (Granularity::Line, Some(f), Some(file), Some(l)) => format!("{f} {}:{l}", base(file)),
        (Granularity::Line, Some(f), Some(file), None) => format!("{f} {}", base(file)),
        (Granularity::File, _, Some(file), _) => file.clone(),
        (_, Some(f), _, _) => f.into_owned(),
        // No function (a Python frame, a stripped binary): where it is, as
        // the table says.
        (_, None, Some(file), Some(l)) => format!("{}:{l}", base(file)),
        (_, None, Some(file), None) => base(file),
        _ => "<unknown>".to_owned(),
    };
    let clean = sanitize(&label).replace(';', ",");
    if clean.trim().is_empty() {
        "<unknown>".to_owned()
    } else {
        clean
    }
}

/// Removes the characters XML 1.0 forbids (and every other control
/// character), so that the SVG stays well-formed whatever the profile says.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|&c| !(c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{inputs, profile_at};
    use heapdiff_diff::{Options, diff};
    use heapdiff_profile::Profile;

    fn profile(stacks: &[(&str, i64)]) -> Profile {
        profile_at(stacks, "src/m.go", 7)
    }

    #[test]
    fn frames_without_a_function_are_labelled_by_place_and_cpp_names_short() {
        let d = diff(
            &profile_at(&[("", 100)], "/srv/app/handlers.py", 42),
            &profile_at(&[("", 300)], "/srv/app/handlers.py", 42),
            &Options::default(),
        )
        .unwrap();
        let (_, key) = d.keys().next().unwrap();
        assert_eq!(frame_label(&d, key), "handlers.py:42");
        let d = diff(
            &profile_at(&[("Cache::put(std::string const&)", 1)], "cache.cc", 9),
            &profile_at(&[("Cache::put(std::string const&)", 2)], "cache.cc", 9),
            &Options::default(),
        )
        .unwrap();
        let (_, key) = d.keys().next().unwrap();
        assert_eq!(frame_label(&d, key), "Cache::put cache.cc:9");
    }

    #[test]
    fn lines_have_both_columns_and_base_names() {
        let d = diff(
            &profile(&[("main|leak", 100)]),
            &profile(&[("main|leak", 300), ("main|new", 50)]),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(
            folded_lines(&d),
            [
                "main m.go:7;leak m.go:7 100 300",
                "main m.go:7;new m.go:7 0 50"
            ]
        );
    }

    #[test]
    fn sub_pixel_frames_fold_into_their_parent() {
        // 1 byte of 1,000,001 is far below 0.1 px of 1180 px.
        let d = diff(
            &profile(&[]),
            &profile(&[("main|big", 1_000_000), ("main|tiny", 1)]),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(
            folded_lines(&d),
            ["main m.go:7 0 1", "main m.go:7;big m.go:7 0 1000000"]
        );
    }

    #[test]
    fn vanished_paths_fold_and_negative_values_clamp() {
        let d = diff(
            &profile(&[("main|gone", 500), ("main|kept", 10)]),
            &profile(&[("main|kept", 10), ("main|neg", -5)]),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(
            folded_lines(&d),
            ["main m.go:7 500 0", "main m.go:7;kept m.go:7 10 10"]
        );
    }

    #[test]
    fn names_are_made_safe_for_folded_input_and_xml() {
        let d = diff(
            &profile(&[]),
            &profile(&[("main|<script>alert(1)</script>|x\u{1b}[31m|[u8; 8]", 64)]),
            &Options::default(),
        )
        .unwrap();
        let lines = folded_lines(&d);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].matches(';').count(), 3, "{lines:?}");
        assert!(lines[0].contains("x[31m m.go:7"), "{lines:?}");
        assert!(lines[0].contains("[u8, 8] m.go:7"), "{lines:?}");
        let svg = String::from_utf8(render_classic_flamegraph(&d, &inputs(), 1200, false).unwrap())
            .unwrap();
        assert!(!svg.contains("<script>alert"), "names are escaped");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!svg.contains('\u{1b}'));
    }

    #[test]
    fn nothing_live_after_is_an_error() {
        let d = diff(&profile(&[("main", 5)]), &profile(&[]), &Options::default()).unwrap();
        assert!(matches!(
            render_classic_flamegraph(&d, &inputs(), 1200, false),
            Err(FlameError::Empty)
        ));
    }

    #[test]
    fn rendering_is_deterministic() {
        let d = diff(
            &profile(&[("main|a", 10), ("main|b", 20)]),
            &profile(&[("main|a", 30), ("main|c", 5), ("main|b", 1)]),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(
            render_classic_flamegraph(&d, &inputs(), 1200, false).unwrap(),
            render_classic_flamegraph(&d, &inputs(), 1200, false).unwrap()
        );
    }

    #[test]
    fn sanitize_removes_control_characters() {
        assert_eq!(sanitize("a\u{0}b\tc\u{fffe}\u{85}d"), "abcd");
        assert_eq!(sanitize("plain → text"), "plain → text");
    }
}
