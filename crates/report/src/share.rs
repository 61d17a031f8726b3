//! Reports to share: GitHub-flavoured markdown for a bug report or a pull
//! request comment, and CSV for spreadsheets.

use heapdiff_diff::{Diff, Row, Status};

use crate::Inputs;
use crate::escape::{csv_text, markdown_code as code, markdown_text as cell};
use crate::names::short_function;
use crate::table::{SourceText, footer_text, notes, noun, source_of, via_text};
use crate::units::{format_count, format_percent, format_time, format_value, relative_change};

/// What a markdown report says besides the diff: how it was made and
/// where its image is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// How many rows to show; 0 shows all.
    pub top: usize,
    /// Source text to show under rows.
    pub source: SourceText,
    /// When each side was taken (nanoseconds since the Unix epoch), where
    /// the profiles say.
    pub taken: [Option<i64>; 2],
    /// The CI gates' verdict (`passed (…)`, `failed: …`); `None` when no
    /// gate is set.
    pub gate: Option<String>,
    /// The flame graph.
    pub image: Image,
    /// The heapdiff version and command line that made the report.
    pub made_by: Option<(String, String)>,
}

/// The flame graph a markdown report shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Image {
    /// No graph was written.
    #[default]
    None,
    /// A graph written to this file, which the reader still has to attach:
    /// the report says so (a local path would be a broken image).
    Attach(String),
    /// A graph at this address (`--image-url`).
    Url(String),
}

/// Renders the diff as markdown for a bug report: a title, how the rows
/// are charged, the gates' verdict, the totals (and when each side was
/// taken), the top rows with their source lines and user frames, a word on
/// sampling noise, the flame graph, and the version and command line.
pub fn render_markdown(diff: &Diff, inputs: &Inputs, options: &MarkdownOptions) -> String {
    let mut out = markdown_heading(diff, inputs);
    if let Some(gate) = &options.gate {
        let (verdict, rest) = gate.split_once(' ').unwrap_or((gate, ""));
        out.push_str(&format!("**CI gate {}** {}\n\n", cell(verdict), cell(rest)));
    }
    out.push_str(&markdown_totals(diff, options.taken));

    let changed = diff.changed_rows();
    let shown = match options.top {
        0 => changed,
        top => &changed[..changed.len().min(top)],
    };
    if changed.is_empty() {
        out.push_str(&format!("No {} changed.\n", noun(diff.options.granularity)));
    } else {
        out.push_str(&markdown_rows_header(diff));
        for row in shown {
            out.push_str(&markdown_row(diff, row, &options.source));
        }
        if let Some(f) = footer_text(
            diff,
            &changed[shown.len()..],
            noun(diff.options.granularity),
        ) {
            out.push_str(&format!("\n{}\n", cell(&f)));
        }
        let noisy = shown
            .iter()
            .filter(|r| r.within_noise(diff.options.rank_by))
            .count();
        if noisy > 0 {
            out.push_str(&format!(
                "\n{noisy} of the {} rows shown (marked \\~) changed by no more than twice their \
                 sampling error: they may be chance. A longer run, or a lower sampling period, \
                 tells.\n",
                shown.len()
            ));
        }
    }
    match &options.image {
        Image::None => {}
        Image::Url(url) => out.push_str(&format!(
            "\n![differential flame graph: red grew, blue shrank]({})\n",
            url.replace(' ', "%20")
                .replace(')', "%29")
                .replace('(', "%28")
        )),
        Image::Attach(file) => out.push_str(&format!(
            "\n*Flame graph: attach {} here (drag it into the comment), or make the report with \
             `--image-url URL` to link it.*\n",
            code(file)
        )),
    }
    if let Some((version, command)) = &options.made_by {
        out.push_str(&format!(
            "\n<sub>heapdiff {} · {}</sub>\n",
            cell(version),
            code(command)
        ));
    }
    out
}

/// The markdown title, the line naming the sample type, granularity,
/// ranking, sort and sampling period, and the notes as a quote.
fn markdown_heading(diff: &Diff, inputs: &Inputs) -> String {
    let unit = &diff.sample_type.unit;
    let mut out = format!(
        "### heapdiff: {} → {}\n\n",
        code(&inputs.before),
        code(&inputs.after)
    );
    let ranking = match diff.options.rank_by {
        heapdiff_diff::RankBy::Flat => "flat",
        heapdiff_diff::RankBy::Cumulative => "cumulative",
    };
    out.push_str(&format!(
        "**{}** ({unit}) by {}, {ranking}, sorted by {}",
        cell(&diff.sample_type.name),
        diff.options.granularity,
        diff.options.sort
    ));
    if let Some(p) = &diff.period {
        let punit = p.period_type.as_ref().map_or("", |t| t.unit.as_str());
        out.push_str(&format!(
            "; sampling period {}",
            cell(&format_value(p.after.max(p.before), punit, false))
        ));
    }
    out.push_str(match diff.options.attribute {
        heapdiff_diff::Attribute::User => {
            "; each stack charged to its innermost frame in your code (`--attribute user`)"
        }
        heapdiff_diff::Attribute::Leaf => {
            "; each stack charged to its innermost frame, ↳ naming your code under library rows"
        }
    });
    out.push_str("\n\n");
    let notes = notes(diff);
    for n in &notes {
        out.push_str(&format!("> {}\n", cell(n)));
    }
    if !notes.is_empty() {
        out.push('\n');
    }
    out
}

/// The markdown table of totals before and after: the sample type's, and
/// the object count's where the profiles have one.
fn markdown_totals(diff: &Diff, taken: [Option<i64>; 2]) -> String {
    let unit = &diff.sample_type.unit;
    let t = &diff.totals;
    let mut out = String::new();
    let percent = relative_change(t.before, t.after)
        .map(|r| format!(" ({})", format_percent(r, true)))
        .unwrap_or_default();
    out.push_str("| | before | after | change |\n|---|---:|---:|---:|\n");
    out.push_str(&format!(
        "| {} | {} | {} | **{}**{percent} |\n",
        cell(unit),
        cell(&format_value(t.before, unit, false)),
        cell(&format_value(t.after, unit, false)),
        cell(&format_value(t.delta(), unit, true))
    ));
    if diff.count_type.is_some() {
        out.push_str(&format!(
            "| objects | {} | {} | {} |\n",
            format_count(t.count_before, false),
            format_count(t.count_after, false),
            format_count(t.count_delta(), true)
        ));
    }
    if let [Some(before), Some(after)] = taken {
        out.push_str(&format!(
            "| taken | {} | {} | {} |\n",
            format_time(i128::from(before)),
            format_time(i128::from(after)),
            cell(&format_duration_between(before, after))
        ));
    }
    out.push('\n');
    out
}

/// `+0.6s later`, `+1h 5m later`, `-3.0s earlier`.
fn format_duration_between(before: i64, after: i64) -> String {
    let millis = (i128::from(after) - i128::from(before)) / 1_000_000;
    let (sign, word, ms) = if millis < 0 {
        ("-", "earlier", -millis)
    } else {
        ("+", "later", millis)
    };
    let s = ms / 1000;
    let text = match s {
        0..60 => format!("{}.{}s", s, ms % 1000 / 100),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    };
    format!("{sign}{text} {word}")
}

/// The heading and alignment lines of the markdown table of rows.
fn markdown_rows_header(diff: &Diff) -> String {
    let counts = diff.count_type.is_some();
    let mut out = format!(
        "| Δ {} | share | before | after |",
        cell(&diff.sample_type.unit)
    );
    if counts {
        out.push_str(" Δ objects |");
    }
    out.push_str(" | location |\n|---:|---:|---:|---:|");
    if counts {
        out.push_str("---:|");
    }
    out.push_str("---|---|\n");
    out
}

/// One line of the markdown table of rows: the change (bold when it grew
/// beyond the noise, `~` when within it), share, both values, the object
/// change where counted, the status and the location.
fn markdown_row(diff: &Diff, row: &Row, source: &SourceText) -> String {
    let unit = &diff.sample_type.unit;
    let v = diff.ranked(row);
    let noise = if row.within_noise(diff.options.rank_by) {
        "~"
    } else {
        ""
    };
    let delta = format!("{noise}{}", cell(&format_value(v.delta(), unit, true)));
    let delta = if v.delta() > 0 && noise.is_empty() {
        format!("**{delta}**")
    } else {
        delta
    };
    let mut out = format!(
        "| {delta} | {} | {} | {} |",
        diff.share(row)
            .map_or_else(String::new, |s| format_percent(s, false)),
        cell(&format_value(v.before, unit, false)),
        cell(&format_value(v.after, unit, false))
    );
    if diff.count_type.is_some() {
        out.push_str(&format!(" {} |", format_count(v.count_delta(), true)));
    }
    let status = match diff.status(row) {
        Status::New => "new",
        Status::Gone => "gone",
        _ => "",
    };
    let location = markdown_location(diff, row, source);
    out.push_str(&format!(" {status} | {location} |\n"));
    out
}

/// The location cell of a row: function and `file:line` as code, then on
/// their own lines the source line and the user frame a library row goes
/// through.
fn markdown_location(diff: &Diff, row: &Row, source: &SourceText) -> String {
    let key = diff.key(row.key);
    let mut location = String::new();
    if let Some(f) = &key.function {
        location.push_str(&code(&short_function(f)));
    }
    let place = match (&key.file, key.line) {
        (Some(f), Some(l)) => Some(format!("{f}:{l}")),
        (Some(f), None) => Some(f.clone()),
        _ => None,
    };
    if let Some(p) = place {
        if !location.is_empty() {
            location.push(' ');
        }
        location.push_str(&code(&p));
    }
    if let Some(text) = source_of(source, key) {
        location.push_str("<br>");
        location.push_str(&code(text));
    }
    if let Some(via) = via_text(diff, row) {
        location.push_str("<br>↳ ");
        location.push_str(&code(&via));
    }
    location
}

/// Renders the top `top` changed rows (0 = all) as CSV, one header line.
pub fn render_csv(diff: &Diff, top: usize) -> String {
    let changed = diff.changed_rows();
    let shown = if top == 0 {
        changed
    } else {
        &changed[..changed.len().min(top)]
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "function",
        "file",
        "line",
        "status",
        "before",
        "after",
        "delta",
        "share",
        "count_before",
        "count_after",
        "count_delta",
        "cum_before",
        "cum_after",
        "cum_delta",
        "error",
        "within_noise",
    ];
    w.write_record(header).expect("writing to memory");
    let counts = diff.count_type.is_some();
    for row in shown {
        let key = diff.key(row.key);
        let f = &row.flat;
        let opt = |v: Option<i64>| v.map_or_else(String::new, |v| v.to_string());
        let record = [
            csv_text(key.function.as_deref().unwrap_or_default()),
            csv_text(key.file.as_deref().unwrap_or_default()),
            opt(key.line.map(i64::from)),
            diff.status(row).as_str().to_owned(),
            f.before.to_string(),
            f.after.to_string(),
            f.delta().to_string(),
            diff.share(row)
                .map_or_else(String::new, |s| format!("{s:.6}")),
            opt(counts.then_some(f.count_before)),
            opt(counts.then_some(f.count_after)),
            opt(counts.then_some(f.count_delta())),
            row.cum.before.to_string(),
            row.cum.after.to_string(),
            row.cum.delta().to_string(),
            opt(row.flat_error),
            row.flat_error.map_or_else(String::new, |_| {
                row.within_noise(diff.options.rank_by).to_string()
            }),
        ];
        w.write_record(&record).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("flushing to memory")).expect("CSV of UTF-8 is UTF-8")
}
