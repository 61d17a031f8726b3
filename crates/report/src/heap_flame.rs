//! heapdiff's own differential flame graph, drawn from the diff tree: what
//! grew *and* what shrank, readable as a static image.
//!
//! - **Width** of a frame: the larger of its before and after cumulative
//!   values, so shrinking and vanished paths stay visible. Where memory
//!   moved between children (one grew, a sibling shrank) the children's
//!   widths add up to more than the parent's larger value; the parent is
//!   then widened to hold them, so children always nest inside it.
//! - **After bar**: a thin bar along the bottom of each frame, as wide as
//!   the frame's after value.
//! - **Colour**: every frame, parents included, by its cumulative change:
//!   red grew, blue shrank, neutral unchanged, on a logarithmic scale over
//!   three decades of the largest change in the graph (a change of a
//!   thousandth of it or less is neutral), so one huge frame does not wash
//!   out the rest. New frames (nothing before) are outlined, vanished ones
//!   (nothing after) hatched.
//! - **Static first**: title, totals, sample type and a legend are drawn in
//!   the image, and every label carries its change where it fits, so a
//!   reader of the image in a bug report (GitHub shows SVGs without
//!   scripts) needs no hovering. In a browser a small embedded script adds
//!   tooltips' details line, click-to-zoom and search; nothing is loaded
//!   from anywhere.
//! - **Bounded**: frames narrower than `min_width` pixels are not drawn (and
//!   counted in the subtitle), which bounds the file however many stacks
//!   the profiles have.

use std::fmt::Write as _;

use heapdiff_diff::{Diff, Granularity, NodeId, Tree};

use crate::Inputs;
use crate::flame::{FlameError, frame_label};
use crate::units::{format_percent, format_value, relative_change};

/// Which way the call tree grows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Orientation {
    /// Roots at the top, callees below (the default: a heap call tree reads
    /// top-down like a call tree, and the entry points sit next to the
    /// title and legend).
    #[default]
    Icicle,
    /// Roots at the bottom (Gregg's flame graph).
    Flame,
}

/// Layout options of the heap flame graph.
#[derive(Clone, Debug, PartialEq)]
pub struct HeapFlameOptions {
    /// Image width in pixels.
    pub width: u32,
    /// Frames narrower than this many pixels are not drawn.
    pub min_width: f64,
    /// Roots at the top or at the bottom.
    pub orientation: Orientation,
}

impl Default for HeapFlameOptions {
    fn default() -> Self {
        HeapFlameOptions {
            width: 880,
            min_width: 1.0,
            orientation: Orientation::Icicle,
        }
    }
}

const PAD: f64 = 10.0;
const FRAME_HEIGHT: f64 = 18.0;
const FONT_SIZE: f64 = 11.0;
/// Advance of one character of the monospace font, in pixels.
const CHAR_WIDTH: f64 = FONT_SIZE * 0.61;
/// The font of every text, set as a presentation attribute so that a viewer
/// that drops `<style>` (GitHub serves SVGs with `default-src 'none'`) draws
/// the same picture. DejaVu Sans Mono is the font the PNG is drawn with.
const FONT_FAMILY: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";
const HEADER_HEIGHT: f64 = 108.0;
const FOOTER_HEIGHT: f64 = 28.0;
/// Height of the after bar along each frame's bottom.
const BAR_HEIGHT: f64 = 3.0;

const NEUTRAL: [f64; 3] = [228.0, 226.0, 218.0];
const GREW: [f64; 3] = [206.0, 32.0, 41.0];
const SHRANK: [f64; 3] = [33.0, 102.0, 172.0];
/// Decades of the largest change that the colour scale spans.
const DECADES: f64 = 3.0;

/// Removes what XML 1.0 cannot carry and escapes what it must.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20
                || matches!(c, '\u{7f}'..='\u{9f}' | '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

/// Colour intensity of a change: 1 for the largest, falling by a third per
/// decade, 0 at a thousandth of it and below.
pub(crate) fn intensity(delta: i64, max_abs: i64) -> f64 {
    if delta == 0 || max_abs <= 0 {
        return 0.0;
    }
    let ratio = (delta.unsigned_abs() as f64) / (max_abs as f64);
    (1.0 + ratio.log10() / DECADES).clamp(0.0, 1.0)
}

/// The fill of a frame whose cumulative value changed by `delta`.
pub(crate) fn fill(delta: i64, max_abs: i64) -> [u8; 3] {
    let t = intensity(delta, max_abs);
    let target = if delta > 0 { GREW } else { SHRANK };
    let mut rgb = [0u8; 3];
    for i in 0..3 {
        rgb[i] = (NEUTRAL[i] + (target[i] - NEUTRAL[i]) * t).round() as u8;
    }
    rgb
}

/// Dark or light text, whichever reads on `rgb`.
fn text_colour(rgb: [u8; 3]) -> &'static str {
    let [r, g, b] = rgb.map(f64::from);
    if 0.299 * r + 0.587 * g + 0.114 * b < 140.0 {
        "#fff"
    } else {
        "#111"
    }
}

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// The characters of `label` that fit in `px` pixels, with `…` when cut;
/// empty when not even three characters fit.
fn fit_label(label: &str, px: f64) -> String {
    let room = ((px - 6.0) / CHAR_WIDTH).floor();
    if room < 3.0 {
        return String::new();
    }
    let room = room as usize;
    if label.chars().count() <= room {
        return label.to_owned();
    }
    let mut cut: String = label.chars().take(room - 1).collect();
    cut.push('…');
    cut
}

/// Where every frame goes, in value units (before the pixel scale). Widths
/// are computed for every node (one bottom-up pass); positions, depths and
/// child order only for the frames that are drawn, so a tree of millions of
/// nodes costs little more than its visible part.
struct Layout {
    /// Width of each node: max(before, after), widened to hold its children.
    width: Vec<f64>,
    /// Drawn frames in pre-order: (node, left edge, depth).
    drawn: Vec<(NodeId, f64, u32)>,
    /// Frames not drawn (narrower than the minimum; a pruned subtree counts
    /// once) and their summed change.
    pruned: (usize, i64),
    /// Whether stacks deeper than [`MAX_DEPTH`] were cut.
    cut: bool,
}

/// The deepest level drawn: deeper frames (a runaway recursion) are left
/// out, and the subtitle says so.
pub(crate) const MAX_DEPTH: u32 = 1000;

/// Lays the tree out; frames narrower than `min_fraction` of the root are
/// not drawn.
fn layout(diff: &Diff, labels: &[String], min_fraction: f64) -> Layout {
    let tree = &diff.tree;
    let nodes = tree.nodes();
    // Children come after their parent: walked backwards, each node's
    // slot holds the sum of its children's widths until the node itself is
    // reached, and its own width after.
    let mut width = vec![0.0f64; nodes.len()];
    for id in tree.node_ids().rev() {
        let i = id.index();
        let node = &nodes[i];
        let own = node.total.before.max(node.total.after).max(0) as f64;
        width[i] = own.max(width[i]);
        if i != 0 {
            width[node.parent.index()] += width[i];
        }
    }
    let min_units = width[0] * min_fraction;
    let label_of = |id: NodeId| {
        nodes[id.index()]
            .key()
            .map_or("", |k| labels[k.index()].as_str())
    };
    let mut drawn = Vec::new();
    let mut pruned = (0usize, 0i64);
    let mut cut = false;
    let mut stack = vec![(Tree::ROOT, 0.0f64, 0u32)];
    let mut children = Vec::new();
    while let Some((id, x, depth)) = stack.pop() {
        drawn.push((id, x, depth));
        if depth >= MAX_DEPTH {
            cut |= !tree.children(id).is_empty();
            continue;
        }
        children.clear();
        children.extend_from_slice(tree.children(id));
        children.sort_by(|a, b| label_of(*a).cmp(label_of(*b)).then(a.cmp(b)));
        let first = stack.len();
        let mut at = x;
        for &c in &children {
            let w = width[c.index()];
            if w < min_units || w <= 0.0 {
                if w > 0.0 || nodes[c.index()].total.delta() != 0 {
                    pruned.0 += 1;
                    pruned.1 = pruned.1.saturating_add(nodes[c.index()].total.delta());
                }
            } else {
                stack.push((c, at, depth + 1));
            }
            at += w;
        }
        // Children are visited left to right.
        stack[first..].reverse();
    }
    Layout {
        width,
        drawn,
        pruned,
        cut,
    }
}

/// Renders the heap flame graph as SVG bytes.
pub fn render_heap_flamegraph(
    diff: &Diff,
    inputs: &Inputs,
    options: &HeapFlameOptions,
) -> Result<Vec<u8>, FlameError> {
    let nodes = diff.tree.nodes();
    let labels: Vec<String> = diff.keys().map(|(_, key)| frame_label(diff, key)).collect();
    let image_width = f64::from(options.width.max(200));
    let frames_width = image_width - 2.0 * PAD;
    let lay = layout(diff, &labels, options.min_width / frames_width);
    let total = lay.width[0];
    if total <= 0.0 {
        return Err(FlameError::Blank);
    }
    let max_depth = lay.drawn.iter().map(|d| d.2).max().unwrap_or(0);
    let max_abs = lay
        .drawn
        .iter()
        .map(|(id, _, _)| nodes[id.index()].total.delta().unsigned_abs())
        .max()
        .unwrap_or(0)
        .min(i64::MAX as u64) as i64;
    let graph_height = f64::from(max_depth + 1) * FRAME_HEIGHT;
    let d = Drawing {
        diff,
        labels: &labels,
        lay: &lay,
        unit: diff.sample_type.unit.as_str(),
        orientation: options.orientation,
        image_width,
        frames_width,
        height: HEADER_HEIGHT + graph_height + FOOTER_HEIGHT,
        total,
        scale: frames_width / total,
        max_depth,
        max_abs,
    };

    let mut svg = String::with_capacity(4096 + lay.drawn.len() * 400);
    svg_head(&mut svg, &d);
    heading(&mut svg, &d, inputs, options.min_width);
    let _ = writeln!(svg, r#"<g id="frames">"#);
    for &(id, left, depth) in &lay.drawn {
        frame(&mut svg, &d, id, left, depth);
    }
    svg.push_str("</g>\n");
    svg_tail(&mut svg, &d);
    Ok(svg.into_bytes())
}

/// What the parts of one heap flame graph share: the diff, its frame
/// labels and layout, and the sizes and scales that place frames in pixels.
struct Drawing<'a> {
    /// The diff drawn.
    diff: &'a Diff,
    /// Frame label of each key, by key index.
    labels: &'a [String],
    /// Where every frame goes, in value units.
    lay: &'a Layout,
    /// Unit of the sample type.
    unit: &'a str,
    /// Roots at the top or at the bottom.
    orientation: Orientation,
    /// Width of the image in pixels.
    image_width: f64,
    /// Width of the frames' area: the image less its padding.
    frames_width: f64,
    /// Height of the image: header, frames and footer.
    height: f64,
    /// Width of the root, in value units.
    total: f64,
    /// Pixels per value unit.
    scale: f64,
    /// The deepest drawn level.
    max_depth: u32,
    /// The largest change of a drawn frame: the ends of the colour scale.
    max_abs: i64,
}

impl Drawing<'_> {
    /// The top edge of a frame at `depth`.
    fn y_of(&self, depth: u32) -> f64 {
        match self.orientation {
            Orientation::Icicle => HEADER_HEIGHT + f64::from(depth) * FRAME_HEIGHT,
            Orientation::Flame => HEADER_HEIGHT + f64::from(self.max_depth - depth) * FRAME_HEIGHT,
        }
    }
}

/// The subtitle: sample type, both totals and the change, the granularity,
/// whether the sides are averages of merged profiles, and what was left out
/// (stacks cut, frames too narrow to draw).
fn subtitle(d: &Drawing<'_>, min_width: f64) -> String {
    let (diff, unit) = (d.diff, d.unit);
    let t = &diff.totals;
    let change = match relative_change(t.before, t.after) {
        Some(r) => format!(
            "{}, {}",
            format_value(t.delta(), unit, true),
            format_percent(r, true)
        ),
        None => format_value(t.delta(), unit, true),
    };
    let by = match diff.options.granularity {
        Granularity::Line => "line",
        Granularity::Function => "function",
        Granularity::File => "file",
    };
    let mut subtitle = format!(
        "{}: {} → {} ({change}) · frames by {by}",
        diff.sample_type.name,
        format_value(t.before, unit, false),
        format_value(t.after, unit, false),
    );
    if let Some(averages) = crate::table::averages(diff.merged) {
        let _ = write!(subtitle, " · {averages}");
    }
    if d.lay.cut {
        let _ = write!(subtitle, " · stacks cut at {MAX_DEPTH} frames");
    }
    let (pruned_frames, pruned_delta) = d.lay.pruned;
    if pruned_frames > 0 {
        let _ = write!(
            subtitle,
            " · {pruned_frames} frame{} narrower than {} px not drawn ({})",
            if pruned_frames == 1 { "" } else { "s" },
            trim_float(min_width),
            format_value(pruned_delta, unit, true)
        );
    }
    subtitle
}

/// The start of the SVG document: the root element with the data the
/// script reads, the hatch pattern of vanished frames, the styles and the
/// background.
fn svg_head(svg: &mut String, d: &Drawing<'_>) {
    let _ = write!(
        svg,
        r##"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" data-frames-width="{fw}" data-total="{total}" data-pad="{pad}" data-char="{cw}" data-orient="{orient}" data-unit="{unit}" font-family="{FONT_FAMILY}" font-size="{fs}">
<defs>
<pattern id="gone" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="2" height="6" fill="#000" fill-opacity="0.22"/></pattern>
</defs>
<style>
.f {{ cursor: pointer; }}
.f:hover > rect.r {{ stroke: #000; stroke-width: 0.8; }}
.f.hit > rect.r {{ stroke: #e0a000; stroke-width: 2; }}
.f.hidden {{ display: none; }}
.f.anc > rect.r {{ fill-opacity: 0.55; }}
.ctl {{ cursor: pointer; }}
</style>
<rect width="100%" height="100%" fill="#fcfcfa"/>
"##,
        w = d.image_width,
        h = d.height,
        fw = d.frames_width,
        total = d.total,
        pad = PAD,
        cw = CHAR_WIDTH,
        fs = FONT_SIZE,
        orient = match d.orientation {
            Orientation::Icicle => "icicle",
            Orientation::Flame => "flame",
        },
        unit = xml_escape(d.unit),
    );
}

/// The header above the frames: title, subtitle, legend, and the reset and
/// search controls.
fn heading(svg: &mut String, d: &Drawing<'_>, inputs: &Inputs, min_width: f64) {
    let _ = writeln!(
        svg,
        r#"<text x="{PAD}" y="22" font-size="16" font-weight="bold">{}</text>"#,
        xml_escape(&format!("heapdiff: {} → {}", inputs.before, inputs.after))
    );
    let _ = writeln!(
        svg,
        r##"<text x="{PAD}" y="40" font-size="12" fill="#333">{}</text>"##,
        xml_escape(&subtitle(d, min_width))
    );
    legend(svg, d.max_abs, d.unit);
    let _ = writeln!(
        svg,
        r##"<g id="controls" display="none" font-size="12" fill="#1a4fa0"><text id="reset" class="ctl" x="{}" y="22" text-anchor="end" opacity="0">Reset zoom</text><text id="search" class="ctl" x="{}" y="40" text-anchor="end">Search</text></g>"##,
        d.image_width - PAD - 70.0,
        d.image_width - PAD
    );
}

/// One frame: a group carrying its data and tooltip, its rectangle (outlined
/// when new, hatched when gone), its after bar and its label.
fn frame(svg: &mut String, d: &Drawing<'_>, id: NodeId, left: f64, depth: u32) {
    let diff = d.diff;
    let i = id.index();
    let node = &diff.tree.nodes()[i];
    let (b, a) = (node.total.before.max(0), node.total.after.max(0));
    let delta = node.total.delta();
    let name = match node.key() {
        Some(k) => d.labels[k.index()].as_str(),
        None => "all",
    };
    let x = PAD + left * d.scale;
    let w = d.lay.width[i] * d.scale;
    let y = d.y_of(depth);
    // The root of a graph where some paths grew and others shrank shows
    // both, red for the growth and blue for the shrinkage beside it, so a
    // leak under a shrinking total is not painted blue.
    let mixed = id == Tree::ROOT && diff.path_growth > 0 && diff.path_shrinkage < 0;
    let rgb = fill(if mixed { diff.path_growth } else { delta }, d.max_abs);
    let suffix = if mixed {
        format!(
            " {} ({} grew, {} shrank)",
            format_value(delta, d.unit, true),
            format_value(diff.path_growth, d.unit, true),
            format_value(diff.path_shrinkage, d.unit, true)
        )
    } else if delta == 0 {
        String::new()
    } else {
        format!(" {}", format_value(delta, d.unit, true))
    };
    let _ = write!(
        svg,
        r#"<g class="f" data-x="{:.6}" data-w="{:.6}" data-d="{}" data-b="{b}" data-a="{a}" data-l="{}" data-s="{}"{}><title>{}</title>"#,
        left / d.total,
        d.lay.width[i] / d.total,
        depth,
        xml_escape(name),
        xml_escape(&suffix),
        if text_colour(rgb) == "#fff" {
            r#" data-dark="1""#
        } else {
            ""
        },
        xml_escape(&frame_title(diff, node.key(), name, b, a, d.unit)),
    );
    let mut rect = format!(
        r#"<rect class="r" x="{x:.2}" y="{y:.1}" width="{w:.2}" height="{:.1}" fill="{}""#,
        FRAME_HEIGHT - 1.0,
        hex(rgb)
    );
    if b == 0 && a > 0 {
        rect.push_str(r##" stroke="#5a0008" stroke-width="1.5""##);
    }
    rect.push_str("/>");
    svg.push_str(&rect);
    if mixed {
        let growth = diff.path_growth as f64;
        let shrinkage = diff.path_shrinkage.unsigned_abs() as f64;
        let part = w * shrinkage / (growth + shrinkage);
        let _ = write!(
            svg,
            r#"<rect class="p" x="{:.2}" y="{y:.1}" width="{part:.2}" height="{:.1}" fill="{}"/>"#,
            x + w - part,
            FRAME_HEIGHT - 1.0,
            hex(fill(diff.path_shrinkage, d.max_abs))
        );
    }
    if a == 0 && b > 0 {
        let _ = write!(
            svg,
            r#"<rect class="h" x="{x:.2}" y="{y:.1}" width="{w:.2}" height="{:.1}" fill="url(#gone)"/>"#,
            FRAME_HEIGHT - 1.0
        );
    }
    if a > 0 && a as f64 * d.scale >= 0.5 {
        let _ = write!(
            svg,
            r##"<rect class="a" x="{x:.2}" y="{:.1}" width="{:.2}" height="{BAR_HEIGHT}" fill="#222" fill-opacity="0.45"/>"##,
            y + FRAME_HEIGHT - 1.0 - BAR_HEIGHT,
            a as f64 * d.scale
        );
    }
    let text = frame_text(name, &suffix, w);
    if !text.is_empty() {
        let user = node.key().is_some_and(|k| !diff.is_library(k));
        let _ = write!(
            svg,
            r#"<text x="{:.2}" y="{:.1}" fill="{}" textLength="{:.2}" lengthAdjust="spacingAndGlyphs"{}>{}</text>"#,
            x + 3.0,
            y + FRAME_HEIGHT - 6.0,
            text_colour(rgb),
            text.chars().count() as f64 * CHAR_WIDTH,
            if user { r#" font-weight="bold""# } else { "" },
            xml_escape(&text)
        );
    }
    svg.push_str("</g>\n");
}

/// A frame's hover title: its [`tooltip`], then whose code it is.
fn frame_title(
    diff: &Diff,
    key: Option<heapdiff_diff::KeyId>,
    label: &str,
    before: i64,
    after: i64,
    unit: &str,
) -> String {
    format!(
        "{}\n{}",
        tooltip(diff, key, label, before, after, unit),
        match key {
            Some(k) if diff.is_library(k) => "library code",
            Some(_) => "your code",
            None => "all memory",
        }
    )
}

/// A frame's label: its name and change when both fit in `w` pixels, else
/// the name cut to fit, empty when not even that fits.
fn frame_text(name: &str, suffix: &str, w: f64) -> String {
    let full = format!("{name}{suffix}");
    if (full.chars().count() as f64) * CHAR_WIDTH + 6.0 <= w {
        full
    } else {
        fit_label(name, w)
    }
}

/// The end of the SVG document: the details and search-match lines the
/// script fills, and the script.
fn svg_tail(svg: &mut String, d: &Drawing<'_>) {
    let _ = writeln!(
        svg,
        r##"<g fill="#333"><text id="details" x="{PAD}" y="{:.1}"> </text><text id="matched" x="{:.1}" y="{:.1}" text-anchor="end"> </text></g>"##,
        d.height - 10.0,
        d.image_width - PAD,
        d.height - 10.0
    );
    let _ = writeln!(svg, "<script><![CDATA[{SCRIPT}]]></script>\n</svg>");
}

/// `1` for `1.0`, `0.5` for `0.5`.
fn trim_float(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The tooltip of a frame: name, place, both values, change and share.
fn tooltip(
    diff: &Diff,
    key: Option<heapdiff_diff::KeyId>,
    label: &str,
    before: i64,
    after: i64,
    unit: &str,
) -> String {
    let mut out = String::new();
    match key.map(|k| diff.key(k)) {
        Some(k) => {
            out.push_str(k.function.as_deref().unwrap_or(label));
            if let Some(file) = &k.file {
                let _ = write!(out, "\n{file}");
                if let Some(line) = k.line {
                    let _ = write!(out, ":{line}");
                }
            }
        }
        None => out.push_str("all"),
    }
    let delta = after.saturating_sub(before);
    let _ = write!(
        out,
        "\n{} → {}  ({}",
        format_value(before, unit, false),
        format_value(after, unit, false),
        format_value(delta, unit, true)
    );
    if let Some(r) = relative_change(before, after) {
        let _ = write!(out, ", {}", format_percent(r, true));
    }
    out.push(')');
    if delta > 0 && diff.path_growth > 0 {
        let _ = write!(
            out,
            "\n{} of all growth",
            format_percent(delta as f64 / diff.path_growth as f64, false)
        );
    } else if delta < 0 && diff.path_shrinkage < 0 {
        let _ = write!(
            out,
            "\n{} of all shrinkage",
            format_percent(delta as f64 / diff.path_shrinkage as f64, false)
        );
    }
    if before == 0 && after > 0 {
        out.push_str("\nnew: nothing here before");
    } else if after == 0 && before > 0 {
        out.push_str("\ngone: nothing here after");
    }
    out
}

/// The legend: the colour ramp with its values, new, gone and the after bar.
fn legend(svg: &mut String, max_abs: i64, unit: &str) {
    let y = 54.0;
    let swatch = 18.0;
    let mut x = PAD;
    let _ = write!(
        svg,
        r##"<g id="legend" fill="#333"><text x="{x}" y="{:.1}">shrank</text>"##,
        y + 12.0
    );
    x += 48.0;
    // Seven steps each side: -max .. -max/1000, 0, +max/1000 .. +max.
    let steps: Vec<i64> = (0..=6)
        .map(|k| -(max_abs as f64 * 10f64.powf(-(f64::from(k)) / 2.0)) as i64)
        .chain(std::iter::once(0))
        .chain(
            (0..=6)
                .rev()
                .map(|k| (max_abs as f64 * 10f64.powf(-(f64::from(k)) / 2.0)) as i64),
        )
        .collect();
    for (n, &d) in steps.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{y}" width="{swatch}" height="14" fill="{}"/>"#,
            x + n as f64 * swatch,
            hex(fill(d, max_abs))
        );
    }
    let ramp_end = x + steps.len() as f64 * swatch;
    let labels = [
        (x, format_value(-max_abs, unit, true), "start"),
        (x + 7.5 * swatch, "0".to_owned(), "middle"),
        (ramp_end, format_value(max_abs, unit, true), "end"),
    ];
    for (lx, text, anchor) in labels {
        let _ = write!(
            svg,
            r#"<text x="{lx:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            y + 27.0,
            xml_escape(&text)
        );
    }
    x = ramp_end + 6.0;
    let _ = write!(svg, r#"<text x="{x:.1}" y="{:.1}">grew</text>"#, y + 12.0);
    x += 44.0;
    let _ = write!(
        svg,
        r##"<rect x="{x:.1}" y="{y}" width="28" height="14" fill="{}" stroke="#5a0008" stroke-width="1.5"/><text x="{:.1}" y="{:.1}">new</text>"##,
        hex(fill(max_abs / 10, max_abs)),
        x + 34.0,
        y + 12.0
    );
    x += 70.0;
    let _ = write!(
        svg,
        r##"<rect x="{x:.1}" y="{y}" width="28" height="14" fill="{}"/><rect x="{x:.1}" y="{y}" width="28" height="14" fill="url(#gone)"/><text x="{:.1}" y="{:.1}">gone</text>"##,
        hex(fill(-max_abs / 10, max_abs)),
        x + 34.0,
        y + 12.0
    );
    x += 74.0;
    let _ = write!(
        svg,
        r##"<rect x="{x:.1}" y="{y}" width="40" height="14" fill="{n}"/><rect x="{x:.1}" y="{:.1}" width="26" height="{BAR_HEIGHT}" fill="#222" fill-opacity="0.45"/><text x="{:.1}" y="{:.1}">bar: after size</text>"##,
        y + 14.0 - BAR_HEIGHT,
        x + 46.0,
        y + 12.0,
        n = hex(NEUTRAL.map(|c| c as u8)),
    );
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}">width: the larger of before and after · colour: how much the frame and its callees grew (red) or shrank (blue) · bold: your code</text></g>"#,
        PAD,
        y + 44.0
    );
}

/// Zoom, search and the details line. Frames carry their position as
/// fractions of the root (`data-x`, `data-w`) and depth (`data-d`), their
/// values (`data-b`, `data-a`) and label parts (`data-l`, `data-s`).
const SCRIPT: &str = r#"
(function () {
  var svg = document.documentElement;
  var W = parseFloat(svg.getAttribute('data-frames-width'));
  var PAD = parseFloat(svg.getAttribute('data-pad'));
  var CW = parseFloat(svg.getAttribute('data-char'));
  var TOTAL = parseFloat(svg.getAttribute('data-total'));
  var frames = Array.prototype.slice.call(document.querySelectorAll('g.f'));
  var details = document.getElementById('details');
  var matched = document.getElementById('matched');
  var reset = document.getElementById('reset');
  document.getElementById('controls').removeAttribute('display');
  var info = frames.map(function (g) {
    return { g: g, x: +g.getAttribute('data-x'), w: +g.getAttribute('data-w'),
             d: +g.getAttribute('data-d'), b: +g.getAttribute('data-b'), a: +g.getAttribute('data-a'),
             l: g.getAttribute('data-l'), s: g.getAttribute('data-s'),
             dark: g.getAttribute('data-dark') === '1' };
  });
  function label(f, px) {
    var full = f.l + f.s;
    if (full.length * CW + 6 <= px) return full;
    var room = Math.floor((px - 6) / CW);
    if (room < 3) return '';
    return f.l.length <= room ? f.l : f.l.slice(0, room - 1) + '\u2026';
  }
  function place(f, x0, w0) {
    var x = PAD + (f.x - x0) / w0 * W, w = f.w / w0 * W;
    var rects = f.g.getElementsByTagName('rect');
    for (var i = 0; i < rects.length; i++) {
      var r = rects[i];
      if (r.getAttribute('class') === 'p') continue;
      r.setAttribute('x', x.toFixed(2));
      var bar = r.getAttribute('class') === 'a';
      r.setAttribute('width', (bar ? f.a * W / (w0 * TOTAL) : w).toFixed(2));
    }
    var t = f.g.getElementsByTagName('text')[0];
    var text = label(f, w);
    if (!t && text) {
      t = document.createElementNS('http://www.w3.org/2000/svg', 'text');
      t.setAttribute('y', (+rects[0].getAttribute('y') + 12).toFixed(1));
      t.setAttribute('fill', f.dark ? '#fff' : '#111');
      t.setAttribute('lengthAdjust', 'spacingAndGlyphs');
      f.g.appendChild(t);
    }
    if (t) setText(t, x + 3, text);
  }
  // A label's textLength holds it to the width it was fitted for, whatever
  // font the viewer has.
  function setText(t, x, text) {
    t.setAttribute('x', x.toFixed(2));
    t.setAttribute('textLength', (text.length * CW).toFixed(2));
    t.textContent = text;
  }
  var root = info.filter(function (f) { return f.d === 0; })[0];
  function zoom(target) {
    var x0 = target.x, w0 = target.w, eps = 1e-9;
    info.forEach(function (f) {
      var inside = f.x >= x0 - eps && f.x + f.w <= x0 + w0 + eps;
      var ancestor = f.d < target.d && f.x <= x0 + eps && f.x + f.w >= x0 + w0 - eps;
      f.g.classList.toggle('hidden', !(inside && f.d >= target.d) && !ancestor);
      f.g.classList.toggle('anc', ancestor);
      if (ancestor) placeFull(f); else if (inside) place(f, x0, w0);
    });
    reset.setAttribute('opacity', target.d === 0 ? '0' : '1');
  }
  function placeFull(f) {
    var rects = f.g.getElementsByTagName('rect');
    for (var i = 0; i < rects.length; i++) {
      if (rects[i].getAttribute('class') === 'r' || rects[i].getAttribute('class') === 'h') {
        rects[i].setAttribute('x', PAD.toFixed(2));
        rects[i].setAttribute('width', W.toFixed(2));
      }
    }
    var t = f.g.getElementsByTagName('text')[0];
    if (t) setText(t, PAD + 3, label(f, W));
  }
  function unzoom() { if (root) zoom(root); }
  function frameOf(e) {
    var n = e.target;
    while (n && n !== svg) {
      if (n.classList && n.classList.contains('f')) return n;
      n = n.parentNode;
    }
    return null;
  }
  var byElement = new Map();
  info.forEach(function (f) { byElement.set(f.g, f); });
  svg.addEventListener('click', function (e) {
    if (e.target === reset) { unzoom(); return; }
    if (e.target.id === 'search') { search(); return; }
    var g = frameOf(e);
    if (g) zoom(byElement.get(g));
  });
  svg.addEventListener('mouseover', function (e) {
    var g = frameOf(e);
    if (g) details.textContent = g.getElementsByTagName('title')[0].textContent.replace(/\n/g, '  \u00b7  ');
  });
  svg.addEventListener('mouseout', function () { details.textContent = ' '; });
  function search(term) {
    if (term === undefined) term = prompt('Search for (regular expression):', '');
    info.forEach(function (f) { f.g.classList.remove('hit'); });
    if (!term) { matched.textContent = ' '; return 0; }
    var re;
    try { re = new RegExp(term); } catch (err) { matched.textContent = 'invalid regular expression'; return 0; }
    var hits = info.filter(function (f) { return f.d > 0 && re.test(f.l); });
    hits.forEach(function (f) { f.g.classList.add('hit'); });
    // Count each path once: only hits with no hit above them.
    var top = hits.filter(function (f) {
      return !hits.some(function (h) { return h !== f && h.d < f.d && h.x <= f.x + 1e-9 && h.x + h.w >= f.x + f.w - 1e-9; });
    });
    var a = 0, b = 0;
    top.forEach(function (f) { a += f.a; b += f.b; });
    var share = root && root.a > 0 ? (100 * a / root.a).toFixed(1) : '0.0';
    matched.textContent = 'Matched: ' + share + '% of after (' + hits.length + ' frames)';
    return hits.length;
  }
  window.heapdiff = { zoom: function (i) { zoom(info[i]); }, unzoom: unzoom, search: search, frames: info };
  document.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); search(); }
    if (e.key === 'Escape') { unzoom(); search(''); }
  });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{inputs, profile_at};
    use heapdiff_diff::{Options, diff};
    use heapdiff_profile::Profile;

    fn profile(stacks: &[(&str, i64)]) -> Profile {
        profile_at(stacks, "", 0)
    }

    fn render(before: &[(&str, i64)], after: &[(&str, i64)], options: &HeapFlameOptions) -> String {
        // As the command line does: no folding when every frame is wanted.
        let fold = Options {
            tree_fold_ppm: if options.min_width == 0.0 { 0 } else { 10 },
            ..Options::default()
        };
        let d = diff(&profile(before), &profile(after), &fold).unwrap();
        String::from_utf8(render_heap_flamegraph(&d, &inputs(), options).unwrap()).unwrap()
    }

    /// `(label, data-x, data-w, data-d)` of every drawn frame.
    fn frames(svg: &str) -> Vec<(String, f64, f64, u32)> {
        svg.split("<g class=\"f\" ")
            .skip(1)
            .map(|g| {
                let attr = |name: &str| {
                    let start = g.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                    let end = start + g[start..].find('"').unwrap();
                    g[start..end].to_owned()
                };
                (
                    attr("data-l"),
                    attr("data-x").parse().unwrap(),
                    attr("data-w").parse().unwrap(),
                    attr("data-d").parse().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn widths_are_the_larger_side_and_children_nest() {
        // main: 100 -> 300; leak 0 -> 250 (new); old 100 -> 0 (gone); keep 0 -> 50.
        let svg = render(
            &[("main|old", 100)],
            &[("main|leak", 250), ("main|keep", 50)],
            &HeapFlameOptions::default(),
        );
        let f = frames(&svg);
        let names: Vec<&str> = f.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(
            names,
            ["all", "main", "keep", "leak", "old"],
            "children by label"
        );
        // Children's larger sides add up to 400 > main's 300: main widens to 400.
        let w = |n: &str| f.iter().find(|x| x.0 == n).unwrap().2;
        let x = |n: &str| f.iter().find(|x| x.0 == n).unwrap().1;
        assert_eq!(w("all"), 1.0);
        assert_eq!(w("main"), 1.0);
        assert_eq!(w("keep"), 0.125);
        assert_eq!(w("leak"), 0.625);
        assert_eq!(w("old"), 0.25, "a vanished path keeps its before width");
        assert_eq!((x("keep"), x("leak"), x("old")), (0.0, 0.125, 0.75));
        assert!(f.iter().all(|x| x.3 <= 2));
    }

    #[test]
    fn parents_are_coloured_by_their_cumulative_change() {
        let svg = render(
            &[("main|a", 1000), ("other", 1000)],
            &[("main|a", 5000), ("other", 1000)],
            &HeapFlameOptions::default(),
        );
        let frame = |label: &str| {
            svg.split("<g class=\"f\" ")
                .find(|g| g.contains(&format!("data-l=\"{label}\"")))
                .unwrap()
                .to_owned()
        };
        let red = hex(fill(4000, 4000));
        assert!(
            frame("main").contains(&format!("fill=\"{red}\"")),
            "{}",
            frame("main")
        );
        assert!(frame("a").contains(&format!("fill=\"{red}\"")));
        assert!(frame("other").contains(&format!("fill=\"{}\"", hex(fill(0, 4000)))));
        assert!(
            frame("main").contains(">main +3.9 KiB</text>"),
            "label with its change"
        );
    }

    /// A colour as a reader with no green (deuteranopia) or no red
    /// (protanopia) cones sees it: the matrices of Machado, Oliveira and
    /// Fernandes (2009) at full severity, applied in linear RGB.
    fn as_seen_without(cone: usize, rgb: [u8; 3]) -> [f64; 3] {
        const DEUTERANOPIA: [[f64; 3]; 3] = [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ];
        const PROTANOPIA: [[f64; 3]; 3] = [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ];
        let m = [DEUTERANOPIA, PROTANOPIA][cone];
        let linear = rgb.map(|c| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        });
        let mut out = [0.0; 3];
        for (o, row) in out.iter_mut().zip(m) {
            let l: f64 = row.iter().zip(linear).map(|(a, b)| a * b).sum();
            let l = l.clamp(0.0, 1.0);
            *o = 255.0
                * if l <= 0.0031308 {
                    12.92 * l
                } else {
                    1.055 * l.powf(1.0 / 2.4) - 0.055
                };
        }
        out
    }

    #[test]
    fn grew_and_shrank_stay_apart_for_colour_blind_readers() {
        // From a hundredth of the largest change up: red and blue, never
        // the red and green that both of these readers confuse.
        for cone in 0..2 {
            for ratio in [100, 10, 1] {
                let grew = as_seen_without(cone, fill(1000 / ratio, 1000));
                let shrank = as_seen_without(cone, fill(-1000 / ratio, 1000));
                let apart = grew
                    .iter()
                    .zip(shrank)
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>();
                assert!(
                    apart.sqrt() > 40.0 && shrank[2] > grew[2] + 40.0,
                    "cone {cone}, 1/{ratio} of the largest change: {grew:?} and {shrank:?}"
                );
            }
        }
    }

    #[test]
    fn a_root_over_growth_and_shrinkage_shows_both() {
        let svg = render(
            &[("main|leak", 1000), ("main|cache", 9000)],
            &[("main|leak", 5000), ("main|cache", 1000)],
            &HeapFlameOptions::default(),
        );
        let root = svg
            .split("<g class=\"f\" ")
            .find(|g| g.contains("data-l=\"all\""))
            .unwrap();
        // The net change shrank, but the root is red where it grew and blue
        // where it shrank, in proportion.
        assert!(
            root.contains(&format!("fill=\"{}\"", hex(fill(4000, 8000)))),
            "{root}"
        );
        assert!(
            root.contains(&format!(
                r#"<rect class="p" x="{:.2}" y="108.0" width="{:.2}" height="17.0" fill="{}"/>"#,
                PAD + 860.0 * 4.0 / 12.0,
                860.0 * 8.0 / 12.0,
                hex(fill(-8000, 8000))
            )),
            "{root}"
        );
        assert!(
            root.contains(">all -3.9 KiB (+3.9 KiB grew, -7.8 KiB shrank)</text>"),
            "{root}"
        );
        // Where everything grew, the root is one colour.
        let svg = render(
            &[("main", 1000)],
            &[("main", 5000)],
            &HeapFlameOptions::default(),
        );
        assert!(!svg.contains(r#"class="p""#));
    }

    #[test]
    fn colour_scale_is_logarithmic_over_three_decades() {
        assert_eq!(intensity(1000, 1000), 1.0);
        assert!((intensity(100, 1000) - 2.0 / 3.0).abs() < 1e-12);
        assert!((intensity(-10, 1000) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(intensity(1, 1000), 0.0);
        assert_eq!(intensity(0, 1000), 0.0);
        assert_eq!(intensity(5, 0), 0.0);
        assert_eq!(fill(0, 10), [228, 226, 218]);
        assert_eq!(fill(10, 10), [206, 32, 41]);
        assert_eq!(fill(-10, 10), [33, 102, 172]);
    }

    #[test]
    fn new_frames_are_outlined_and_vanished_ones_hatched() {
        let svg = render(
            &[("main|old", 100)],
            &[("main|new", 100)],
            &HeapFlameOptions::default(),
        );
        let frame = |label: &str| {
            svg.split("<g class=\"f\" ")
                .find(|g| g.contains(&format!("data-l=\"{label}\"")))
                .unwrap()
                .to_owned()
        };
        assert!(frame("new").contains("stroke=\"#5a0008\""));
        assert!(!frame("new").contains("url(#gone)"));
        assert!(frame("old").contains("fill=\"url(#gone)\""));
        assert!(
            !frame("old").contains("class=\"a\""),
            "no after bar when nothing is left"
        );
        assert!(frame("main").contains("class=\"a\""));
    }

    #[test]
    fn narrow_frames_are_pruned_and_counted() {
        let svg = render(
            &[],
            &[
                ("main|big", 1_000_000),
                ("main|tiny", 10),
                ("main|tiny|deeper", 10),
            ],
            &HeapFlameOptions::default(),
        );
        let names: Vec<String> = frames(&svg).into_iter().map(|f| f.0).collect();
        assert_eq!(names, ["all", "main", "big"]);
        assert!(
            svg.contains("1 frame narrower than 1 px not drawn (+20 B)"),
            "subtitle counts the pruned subtree once"
        );
        let all = render(
            &[],
            &[("main|big", 1_000_000), ("main|tiny", 10)],
            &HeapFlameOptions {
                min_width: 0.0,
                ..Default::default()
            },
        );
        assert_eq!(frames(&all).len(), 4);
    }

    #[test]
    fn orientation_puts_roots_at_the_top_or_bottom() {
        let y_of = |svg: &str, label: &str| -> f64 {
            let g = svg
                .split("<g class=\"f\" ")
                .find(|g| g.contains(&format!("data-l=\"{label}\"")))
                .unwrap();
            let at = g.find("<rect class=\"r\"").unwrap();
            let y = &g[at..];
            let start = y.find("y=\"").unwrap() + 3;
            y[start..start + y[start..].find('"').unwrap()]
                .parse()
                .unwrap()
        };
        let icicle = render(&[], &[("main|leaf", 10)], &HeapFlameOptions::default());
        assert!(y_of(&icicle, "all") < y_of(&icicle, "leaf"));
        let flame = render(
            &[],
            &[("main|leaf", 10)],
            &HeapFlameOptions {
                orientation: Orientation::Flame,
                ..Default::default()
            },
        );
        assert!(y_of(&flame, "all") > y_of(&flame, "leaf"));
    }

    #[test]
    fn labels_are_cut_to_fit() {
        assert_eq!(fit_label("main.remember", 1000.0), "main.remember");
        assert_eq!(fit_label("main.remember", 6.0 + 5.0 * CHAR_WIDTH), "main…");
        assert_eq!(fit_label("main.remember", 6.0 + 2.0 * CHAR_WIDTH), "");
    }

    #[test]
    fn everything_outside_xml_is_removed_and_markup_escaped() {
        assert_eq!(
            xml_escape("a<b>&\"c\"'\u{1b}[31m\u{0}\u{fffe}\u{85}ok\t"),
            "a&lt;b&gt;&amp;&quot;c&quot;&#39;[31mok\t"
        );
    }

    #[test]
    fn nothing_on_either_side_is_an_error() {
        let d = diff(&profile(&[]), &profile(&[]), &Options::default()).unwrap();
        assert!(matches!(
            render_heap_flamegraph(&d, &inputs(), &HeapFlameOptions::default()),
            Err(FlameError::Blank)
        ));
        // Only a before side still draws (everything vanished).
        let svg = render(&[("main", 5)], &[], &HeapFlameOptions::default());
        assert!(svg.contains("data-l=\"main\""));
    }
}
