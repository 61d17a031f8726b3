//! The terminal table: a header with the totals, the top rows, and a footer
//! counting what was left out.

use heapdiff_diff::{Diff, Granularity, Precision, RankBy, Row, Status};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::Inputs;
use crate::escape::terminal;
use crate::names::short_function;
use crate::units::{format_count, format_percent, format_value, relative_change};

/// How to lay the table out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableOptions {
    /// How many rows to show; 0 shows all.
    pub top: usize,
    /// Terminal width to fit; `None` never shortens.
    pub width: Option<usize>,
    /// Use ANSI colours.
    pub color: bool,
    /// Source text of lines, by `(file, line)` as the rows name them; each
    /// shown row whose line is here gets it printed under its location.
    pub source: SourceText,
}

/// Source lines to show under rows, by `(file, line)`.
pub type SourceText = std::collections::BTreeMap<(String, u32), String>;

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            top: 20,
            width: None,
            color: false,
            source: SourceText::new(),
        }
    }
}

/// The source line of a row's key, trimmed, when the options carry it.
pub(crate) fn source_of<'a>(source: &'a SourceText, key: &heapdiff_diff::Key) -> Option<&'a str> {
    let (file, line) = (key.file.as_ref()?, key.line?);
    source
        .get(&(file.clone(), line))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// Every line of the table starts with this.
pub(crate) const INDENT: &str = "  ";

/// Shortest a shortened function or path gets.
const MIN_PART: usize = 12;

/// Renders the table. See the module documentation.
pub fn render_table(diff: &Diff, inputs: &Inputs, opts: &TableOptions) -> String {
    let paint = Paint { on: opts.color };
    let mut out = String::new();
    header(&mut out, diff, inputs, opts.width, &paint);

    let changed = diff.changed_rows();
    let shown = if opts.top == 0 {
        changed
    } else {
        &changed[..changed.len().min(opts.top)]
    };
    let noun = noun(diff.options.granularity);
    if changed.is_empty() {
        out.push_str(&format!("\nNo {noun} changed.\n"));
        return out;
    }
    out.push('\n');
    rows(&mut out, diff, shown, opts, &paint);
    footer(&mut out, diff, &changed[shown.len()..], noun);
    out
}

fn header(out: &mut String, diff: &Diff, inputs: &Inputs, width: Option<usize>, paint: &Paint) {
    let unit = &diff.sample_type.unit;
    let ranking = match diff.options.rank_by {
        RankBy::Flat => "flat",
        RankBy::Cumulative => "cumulative",
    };
    let mut title = format!(
        "{} ({}) by {}, {ranking}, sorted by {}",
        terminal(&diff.sample_type.name),
        terminal(unit),
        diff.options.granularity,
        diff.options.sort
    );
    if diff.options.attribute == heapdiff_diff::Attribute::User {
        title.push_str(", charged to your code");
    }
    if let Some(p) = &diff.period {
        let unit = p.period_type.as_ref().map_or("", |t| t.unit.as_str());
        let fmt = |v| format_value(v, unit, false);
        title.push_str(&match (p.before, p.after) {
            (b, a) if b == a => format!("; sampling period {}", fmt(a)),
            (0, a) => format!("; sampling period {} (after only)", fmt(a)),
            (b, 0) => format!("; sampling period {} (before only)", fmt(b)),
            (b, a) => format!("; sampling periods {} before, {} after", fmt(b), fmt(a)),
        });
    }
    for line in wrapped(&format!("heapdiff: {title}"), width, "", INDENT) {
        out.push_str(&paint.bold(&line));
        out.push('\n');
    }
    for note in notes(diff) {
        for line in wrapped(&note, width, INDENT, "    ") {
            out.push_str(&paint.dim(&line));
            out.push('\n');
        }
    }

    let t = &diff.totals;
    let counts = diff.count_type.is_some();
    let percent = relative_change(t.before, t.after)
        .map(|r| format!("({})", format_percent(r, true)))
        .unwrap_or_default();
    let (before, after) = (terminal(&inputs.before), terminal(&inputs.after));
    let lines = [
        (
            "before",
            &*before,
            format_value(t.before, unit, false),
            format_count(t.count_before, false),
            "",
        ),
        (
            "after",
            &*after,
            format_value(t.after, unit, false),
            format_count(t.count_after, false),
            "",
        ),
        (
            "change",
            "",
            format_value(t.delta(), unit, true),
            format_count(t.count_delta(), true),
            percent.as_str(),
        ),
    ];
    let name_w = lines.iter().map(|l| l.1.width()).max().unwrap_or(0);
    let value_w = lines.iter().map(|l| l.2.width()).max().unwrap_or(0);
    let count_w = lines.iter().map(|l| l.3.width()).max().unwrap_or(0);
    for (label, name, value, count, percent) in &lines {
        let mut line = format!(
            "  {label:<6}  {}  {}",
            pad_right(name, name_w),
            pad_left(value, value_w)
        );
        if counts {
            line.push_str(&format!("  {} objects", pad_left(count, count_w)));
        }
        if !percent.is_empty() {
            line.push_str(&format!("  {percent}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// `text` broken to fit `width` columns, at its clauses (`; `) first and
/// then at spaces; the first line indented by `first`, the others by
/// `rest`. A word longer than a line (a path) stays whole.
pub(crate) fn wrapped(text: &str, width: Option<usize>, first: &str, rest: &str) -> Vec<String> {
    let Some(width) = width else {
        return vec![format!("{first}{text}")];
    };
    // A number and its unit (`16.0 KiB`) stay on one line: the space
    // between them is a glue character while the text is broken.
    const GLUE: char = '\u{E000}';
    let chars: Vec<char> = text.chars().collect();
    let glued: String = (0..chars.len())
        .map(|i| match chars[i] {
            ' ' if i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(|c| c.is_alphabetic()) =>
            {
                GLUE
            }
            c => c,
        })
        .collect();
    let mut lines: Vec<String> = Vec::new();
    for clause in glued.split_inclusive("; ") {
        if let Some(last) = lines.last_mut()
            && last.trim_end().width() + 1 + clause.trim_end().width() <= width
        {
            last.truncate(last.trim_end().len());
            last.push(' ');
            last.push_str(clause);
            continue;
        }
        let indent = if lines.is_empty() { first } else { rest };
        let options = textwrap::Options::new(width)
            .initial_indent(indent)
            .subsequent_indent(rest)
            .break_words(false);
        lines.extend(
            textwrap::wrap(clause, options)
                .into_iter()
                .map(|l| l.into_owned()),
        );
    }
    lines
        .iter()
        .map(|l| l.trim_end().replace(GLUE, " "))
        .collect()
}

/// What the reader must know about the numbers: precision, filters,
/// normalization.
pub(crate) fn notes(diff: &Diff) -> Vec<String> {
    let unit = &diff.sample_type.unit;
    let mut notes = Vec::new();
    match diff.precision {
        Precision::Exact => notes.push("exact values: every allocation was recorded".to_owned()),
        Precision::Sampled => notes.push(
            "sampled values: ~ marks a change within sampling noise (at most twice its standard error)"
                .to_owned(),
        ),
        Precision::Unknown => {}
    }
    let filters = diff.options.filters.describe();
    if !filters.is_empty() {
        let list: Vec<String> = filters
            .iter()
            .map(|(k, v)| format!("--{} {v:?}", k.replace('_', "-")))
            .collect();
        let mut note = format!("filtered: {}", list.join(" "));
        match &diff.unfiltered_totals {
            Some(u) => note.push_str(&format!(
                "; totals are what the filters kept (whole profiles: {} → {})",
                format_value(u.before, unit, false),
                format_value(u.after, unit, false)
            )),
            None => note.push_str("; totals are the whole profiles' (--relative)"),
        }
        notes.push(note);
    }
    if let Some(f) = diff.normalized {
        notes.push(format!(
            "normalized: before scaled by {f:.4} to after's total"
        ));
    }
    if let Some(note) = averages(diff.merged) {
        notes.push(note);
    }
    if diff.below_min_delta > 0 {
        notes.push(format!(
            "{} {} below --min-delta left out",
            diff.below_min_delta,
            if diff.below_min_delta == 1 {
                "row"
            } else {
                "rows"
            }
        ));
    }
    notes
}

/// Which sides are averages of merged profiles, and of how many.
pub(crate) fn averages(merged: [Option<u64>; 2]) -> Option<String> {
    let sides: Vec<String> = ["before", "after"]
        .iter()
        .zip(merged)
        .filter_map(|(side, n)| n.filter(|&n| n > 1).map(|n| format!("{side} {n}")))
        .collect();
    (!sides.is_empty()).then(|| {
        format!(
            "per-profile averages of merged profiles ({})",
            sides.join(", ")
        )
    })
}

fn rows(out: &mut String, diff: &Diff, shown: &[Row], opts: &TableOptions, paint: &Paint) {
    let unit = &diff.sample_type.unit;
    let counts = diff.count_type.is_some();
    let delta_title = match unit.as_str() {
        "bytes" => "Δ bytes".to_owned(),
        "count" => format!("Δ {}", terminal(&diff.sample_type.name)),
        other => format!("Δ {}", terminal(other)),
    };
    let mut header = vec![delta_title, "share".into(), "before".into(), "after".into()];
    if counts {
        header.push("Δ objects".into());
    }
    let cells: Vec<Vec<String>> = shown
        .iter()
        .map(|row| {
            let v = diff.ranked(row);
            let noise = if row.within_noise(diff.options.rank_by) {
                "~"
            } else {
                ""
            };
            let mut c = vec![
                format!("{noise}{}", format_value(v.delta(), unit, true)),
                diff.share(row)
                    .map_or_else(String::new, |s| format_percent(s, false)),
                format_value(v.before, unit, false),
                format_value(v.after, unit, false),
            ];
            if counts {
                c.push(format_count(v.count_delta(), true));
            }
            c
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].width())
                .chain([header[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Numbers, then the 4-wide new/gone marker, then the location.
    let prefix: usize = INDENT.len() + widths.iter().map(|w| w + 2).sum::<usize>() + 4 + 2;

    let mut head = String::from(INDENT);
    for (h, w) in header.iter().zip(&widths) {
        head.push_str(&format!("{}  ", pad_left(h, *w)));
    }
    head.push_str("      location");
    out.push_str(&paint.dim(&head));
    out.push('\n');

    for (row, cells) in shown.iter().zip(&cells) {
        let delta = diff.ranked(row).delta();
        let mut line = String::from(INDENT);
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let padded = pad_left(cell, *w);
            line.push_str(&match i {
                0 if row.within_noise(diff.options.rank_by) => paint.dim(&padded),
                0 if delta > 0 => paint.red(&padded),
                0 => paint.blue(&padded),
                _ => padded,
            });
            line.push_str("  ");
        }
        line.push_str(&match diff.status(row) {
            Status::New => paint.yellow("new "),
            Status::Gone => paint.dim("gone"),
            _ => "    ".to_owned(),
        });
        line.push_str("  ");
        let at = finish_row(out, line, diff.key(row.key), prefix, opts.width, paint);
        row_details(
            out,
            diff.key(row.key),
            Some((diff, row)),
            (at, prefix),
            opts,
            paint,
        );
    }
}

/// The lines under a row's location, which starts at column `at` (`prefix`
/// when it is beside the numbers): its source text, and the user frame its
/// `pair` row goes through.
pub(crate) fn row_details(
    out: &mut String,
    key: &heapdiff_diff::Key,
    pair: Option<(&Diff, &Row)>,
    (at, prefix): (usize, usize),
    opts: &TableOptions,
    paint: &Paint,
) {
    let source = source_of(&opts.source, key).map(terminal);
    if let Some(text) = source.as_deref() {
        let room = opts.width.map_or(usize::MAX, |w| w.saturating_sub(at + 2));
        if room >= 8 {
            out.push_str(&" ".repeat(at + 2));
            out.push_str(&paint.dim(&shorten_right(text, room)));
            out.push('\n');
        }
    }
    let room = opts.width.map(|w| w.saturating_sub(at + 2));
    if let Some(via) = pair.and_then(|(diff, row)| via_line(diff, row, room, at != prefix)) {
        out.push_str(&" ".repeat(at));
        out.push_str(&paint.yellow("↳ "));
        out.push_str(&via);
        out.push('\n');
    }
}

/// Keeps the start of `s`, ending it with `…`, to fit `width` columns.
fn shorten_right(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_owned();
    }
    let mut cut = String::new();
    for c in s.chars() {
        if cut.width() + c.width().unwrap_or(0) + 1 > width {
            break;
        }
        cut.push(c);
    }
    cut.push('…');
    cut
}

/// The `↳` line of a row: the user frame's function and place, fitted to
/// `room` columns by dropping the path's directories first and the
/// function's start last, so the function stays readable. `short` (a
/// narrow table) keeps only the file name from the start.
fn via_line(diff: &Diff, row: &Row, room: Option<usize>, short: bool) -> Option<String> {
    if diff.options.attribute != heapdiff_diff::Attribute::Leaf {
        return None;
    }
    let via = row.via?;
    let (function, mut place) = location(diff.key(via.key));
    let share = match row.via_share() {
        Some(share) if share < 0.995 => format!(" ({})", format_percent(share, false)),
        _ => String::new(),
    };
    let text = |f: &str, p: &str| {
        [f, p]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
            + &share
    };
    let room = room.unwrap_or(usize::MAX);
    if short || text(&function, &place).width() > room {
        place = file_name(&place).to_owned();
    }
    let fitted = text(&function, &place);
    if fitted.width() <= room || room <= MIN_PART {
        return Some(fitted);
    }
    let keep = room
        .saturating_sub(text("", &place).width() + 1)
        .max(MIN_PART);
    Some(text(&shorten_left(&function, keep), &place))
}

/// `main.go:42` of `/src/app/main.go:42`.
fn file_name(place: &str) -> &str {
    place.rsplit('/').next().unwrap_or(place)
}

/// `function file:line` of the user frame a library row goes through, with
/// its share of the row's change when other user frames carry some too.
pub(crate) fn via_text(diff: &Diff, row: &Row) -> Option<String> {
    via_line(diff, row, None, false)
}

/// Ends a row started in `line` (its numbers) with the key's location,
/// laid out by [`layout`], continuation lines included. Returns the column
/// the location's last line starts at.
pub(crate) fn finish_row(
    out: &mut String,
    mut line: String,
    key: &heapdiff_diff::Key,
    prefix: usize,
    width: Option<usize>,
    paint: &Paint,
) -> usize {
    let (function, place) = location(key);
    let mut at = prefix;
    for (i, (indent, function, place)) in layout(&function, &place, prefix, width)
        .into_iter()
        .enumerate()
    {
        at = indent;
        if i > 0 {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
        }
        line.push_str(&paint.bold(&function));
        if !function.is_empty() && !place.is_empty() {
            line.push_str("  ");
        }
        line.push_str(&paint.dim(&place));
    }
    out.push_str(line.trim_end());
    out.push('\n');
    at
}

/// Narrowest location column worth using on the row itself.
const MIN_LOCATION: usize = 48;

/// Lays a location out as one or more `(indent, function, place)` pieces:
/// on the row when it fits; otherwise the function on the row and the path
/// on a continuation line under it; when even the function has no room, the
/// whole location on a continuation line. Each piece fits `width`.
pub(crate) fn layout(
    function: &str,
    place: &str,
    prefix: usize,
    width: Option<usize>,
) -> Vec<(usize, String, String)> {
    let Some(width) = width else {
        return vec![(prefix, function.to_owned(), place.to_owned())];
    };
    let avail = width.saturating_sub(prefix);
    let sep = if function.is_empty() || place.is_empty() {
        0
    } else {
        2
    };
    if function.width() + sep + place.width() <= avail {
        return vec![(prefix, function.to_owned(), place.to_owned())];
    }
    if avail >= MIN_LOCATION {
        let mut pieces = vec![(prefix, shorten_left(function, avail), String::new())];
        if !place.is_empty() {
            pieces.push((prefix, String::new(), shorten_left(place, avail)));
        }
        return pieces;
    }
    let indent = INDENT.len() * 3;
    let (f, p) = fit(function, place, Some(width.saturating_sub(indent)));
    vec![(prefix, String::new(), String::new()), (indent, f, p)]
}

pub(crate) fn footer_text(diff: &Diff, hidden: &[Row], noun: &str) -> Option<String> {
    let mut out = String::new();
    footer(&mut out, diff, hidden, noun);
    let text = out.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn footer(out: &mut String, diff: &Diff, hidden: &[Row], noun: &str) {
    let unit = &diff.sample_type.unit;
    let (mut grew, mut grew_by, mut shrank, mut shrank_by) = (0usize, 0i64, 0usize, 0i64);
    for r in hidden {
        let d = diff.ranked(r).delta();
        if d > 0 {
            grew += 1;
            grew_by = grew_by.saturating_add(d);
        } else {
            shrank += 1;
            shrank_by = shrank_by.saturating_add(d);
        }
    }
    // Cumulative deltas overlap (a caller's includes its callees'), so only
    // flat deltas are summed.
    let flat = diff.options.rank_by == RankBy::Flat;
    let by = |v: i64| {
        if flat {
            format!(" by {}", format_value(v, unit, true))
        } else {
            String::new()
        }
    };
    let mut parts = Vec::new();
    if grew > 0 {
        parts.push(format!(
            "{grew} more {} grew{}",
            plural(noun, grew),
            by(grew_by)
        ));
    }
    if shrank > 0 {
        parts.push(format!(
            "{shrank} more {} shrank{}",
            plural(noun, shrank),
            by(shrank_by)
        ));
    }
    if !parts.is_empty() {
        out.push_str(&format!("\n{} (--top 0 shows all).\n", parts.join("; ")));
    }
}

/// `(function, file:line)` as shown for a key at a granularity.
pub(crate) fn location(key: &heapdiff_diff::Key) -> (String, String) {
    let function = key
        .function
        .as_deref()
        .map(short_function)
        .unwrap_or_default();
    let function = terminal(&function).into_owned();
    let place = match (key.file.as_deref().map(terminal), key.line) {
        (Some(f), Some(l)) => format!("{f}:{l}"),
        (Some(f), None) => f.into_owned(),
        (None, Some(l)) => format!(":{l}"),
        (None, None) if function.is_empty() => "<unknown>".to_owned(),
        (None, None) => String::new(),
    };
    (function, place)
}

/// Shortens the location to `avail` columns: the path loses its start first
/// (`…/http/header.go:114`), then the function loses its start too.
fn fit(function: &str, place: &str, avail: Option<usize>) -> (String, String) {
    let Some(avail) = avail else {
        return (function.to_owned(), place.to_owned());
    };
    let (fw, pw) = (function.width(), place.width());
    let sep = if fw > 0 && pw > 0 { 2 } else { 0 };
    if fw + sep + pw <= avail {
        return (function.to_owned(), place.to_owned());
    }
    let place_budget = avail.saturating_sub(fw + sep).max(MIN_PART.min(pw));
    let place = shorten_left(place, place_budget);
    let function_budget = avail
        .saturating_sub(place.width() + sep)
        .max(MIN_PART.min(fw));
    (shorten_left(function, function_budget), place)
}

/// Keeps the end of `s`, replacing the start with `…`, to fit `width` columns.
pub(crate) fn shorten_left(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_owned();
    }
    let mut kept = Vec::new();
    let mut used = 1; // the ellipsis
    for c in s.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        kept.push(c);
    }
    std::iter::once('…').chain(kept.into_iter().rev()).collect()
}

pub(crate) fn pad_left(s: &str, width: usize) -> String {
    format!("{}{s}", " ".repeat(width.saturating_sub(s.width())))
}

pub(crate) fn pad_right(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(s.width())))
}

pub(crate) fn noun(g: Granularity) -> &'static str {
    match g {
        Granularity::Line => "line",
        Granularity::Function => "function",
        Granularity::File => "file",
    }
}

pub(crate) fn plural(noun: &str, n: usize) -> String {
    if n == 1 {
        noun.to_owned()
    } else {
        format!("{noun}s")
    }
}

/// ANSI styling that is a no-op when colour is off.
pub(crate) struct Paint {
    pub(crate) on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on && !s.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub(crate) fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    pub(crate) fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    /// Shrinkage: blue, as in the flame graph (red and green are the pair
    /// colour-blind readers confuse); bright, to read on dark terminals.
    pub(crate) fn blue(&self, s: &str) -> String {
        self.wrap("94", s)
    }
    pub(crate) fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_keeps_the_end() {
        assert_eq!(
            shorten_left("/usr/lib/go/src/net/http/header.go:114", 20),
            "…/http/header.go:114"
        );
        assert_eq!(shorten_left("short", 20), "short");
        assert_eq!(shorten_left("abcdef", 1), "…");
    }

    #[test]
    fn fit_shortens_path_before_function() {
        let (f, p) = fit(
            "net/http.Header.Clone",
            "/usr/lib/go-1.19/src/net/http/header.go:114",
            Some(50),
        );
        assert_eq!(f, "net/http.Header.Clone");
        assert_eq!(p, "…src/net/http/header.go:114");
        assert_eq!(f.width() + 2 + p.width(), 50);
        let (f, p) = fit(
            "a_really_long_function_name_that_goes_on",
            "/some/long/path/file.rs:1",
            Some(30),
        );
        assert_eq!(p.width(), 12);
        assert_eq!(f.width(), 16);
        assert!(f.starts_with('…') && f.ends_with("goes_on"));
        let (f, p) = fit("f", "x.go:1", None);
        assert_eq!((f.as_str(), p.as_str()), ("f", "x.go:1"));
    }

    #[test]
    fn layout_moves_what_does_not_fit_to_continuation_lines() {
        let f = "net/http.Header.Clone";
        let p = "/usr/lib/go-1.19/src/net/http/header.go:114";
        assert_eq!(
            layout(f, p, 60, None),
            vec![(60, f.to_owned(), p.to_owned())]
        );
        assert_eq!(
            layout(f, p, 60, Some(200)),
            vec![(60, f.to_owned(), p.to_owned())]
        );
        let two = layout(f, p, 60, Some(108));
        assert_eq!(two[0], (60, f.to_owned(), String::new()));
        assert_eq!(two[1], (60, String::new(), p.to_owned()));
        let three = layout(f, p, 60, Some(70));
        assert_eq!(three[0].1, "");
        assert_eq!(three[1].0, 6);
        assert!(
            three[1].1.width() + 2 + three[1].2.width() <= 64,
            "{three:?}"
        );
    }

    #[test]
    fn averaged_sides_are_named_with_their_counts() {
        assert_eq!(averages([None, None]), None);
        assert_eq!(
            averages([Some(1), Some(1)]),
            None,
            "one profile is no average"
        );
        assert_eq!(
            averages([Some(12), Some(30)]).unwrap(),
            "per-profile averages of merged profiles (before 12, after 30)"
        );
        assert_eq!(
            averages([None, Some(30)]).unwrap(),
            "per-profile averages of merged profiles (after 30)"
        );
    }

    #[test]
    fn padding_counts_display_width() {
        assert_eq!(pad_left("Δ", 3), "  Δ");
        assert_eq!(pad_right("Δ", 3), "Δ  ");
    }

    #[test]
    fn header_lines_wrap_at_clauses_then_words_keeping_numbers_with_units() {
        let title = "heapdiff: a b c; sampling period 16.0 KiB";
        assert_eq!(wrapped(title, None, "", "  "), vec![title.to_owned()]);
        assert_eq!(wrapped(title, Some(60), "", "  "), vec![title.to_owned()]);
        assert_eq!(
            wrapped(title, Some(20), "", "  "),
            vec!["heapdiff: a b c;", "  sampling period", "  16.0 KiB"]
        );
        assert_eq!(
            wrapped("x; y; z", Some(5), "", " "),
            vec!["x; y;", " z"],
            "clauses share a line while they fit"
        );
    }

    #[test]
    fn the_user_frame_keeps_its_function_and_loses_its_path_first() {
        use heapdiff_profile::{Format, Frame, ProfileBuilder, ValueType};
        let profile = |bytes| {
            let mut b =
                ProfileBuilder::new(Format::Pprof, vec![ValueType::new("inuse_space", "bytes")]);
            let mut frame = |function, file, line| {
                let (function, file) = (b.intern(function), b.intern(file));
                b.frame(Frame::symbolized(function, file, line))
            };
            let leaf = frame(
                "net/http.Header.Clone",
                "/usr/lib/go-1.19/src/net/http/header.go",
                114,
            );
            let caller = frame("main.remember", "/src/app/cache.go", 42);
            b.push_sample(&[leaf, caller], &[bytes]).unwrap();
            b.finish()
        };
        let d = heapdiff_diff::diff(
            &profile(100),
            &profile(900),
            &heapdiff_diff::Options::default(),
        )
        .unwrap();
        let row = &d.changed_rows()[0];
        let line = |room, short| via_line(&d, row, room, short).unwrap();
        assert_eq!(line(None, false), "main.remember /src/app/cache.go:42");
        assert_eq!(line(Some(40), false), "main.remember /src/app/cache.go:42");
        assert_eq!(line(Some(30), false), "main.remember cache.go:42");
        assert_eq!(line(None, true), "main.remember cache.go:42");
        assert_eq!(line(Some(24), false), "…in.remember cache.go:42");
        // Never shorter than twelve columns of function.
        assert_eq!(line(Some(20), false), "…in.remember cache.go:42");
    }

    #[test]
    fn paint_is_inert_without_colour() {
        assert_eq!(Paint { on: false }.red("x"), "x");
        assert_eq!(Paint { on: true }.red("x"), "\x1b[31mx\x1b[0m");
        assert_eq!(Paint { on: true }.red(""), "");
    }
}
