//! Reports to share: GitHub-flavoured markdown for a bug report or a pull
//! request comment, and CSV for spreadsheets.

use heapdiff_diff::{Diff, Row, Status};

use crate::Inputs;
use crate::escape::{csv_text, markdown_code as code, markdown_text as cell};
use crate::table::{SourceText, footer_text, notes, noun, source_of, via_text};
use crate::units::{format_count, format_percent, format_value, relative_change};

/// Renders the diff as markdown: a title, the totals, the top `top` rows
/// (0 = all) with their source lines where `source` has them, and, when
/// `svg` names the flame graph, a line embedding it.
pub fn render_markdown(
    diff: &Diff,
    inputs: &Inputs,
    top: usize,
    svg: Option<&str>,
    source: &SourceText,
) -> String {
    let mut out = markdown_heading(diff, inputs);
    out.push_str(&markdown_totals(diff));

    let changed = diff.changed_rows();
    let shown = if top == 0 {
        changed
    } else {
        &changed[..changed.len().min(top)]
    };
    if changed.is_empty() {
        out.push_str(&format!("No {} changed.\n", noun(diff.options.granularity)));
    } else {
        out.push_str(&markdown_rows_header(diff));
        for row in shown {
            out.push_str(&markdown_row(diff, row, source));
        }
        if let Some(f) = footer_text(
            diff,
            &changed[shown.len()..],
            noun(diff.options.granularity),
        ) {
            out.push_str(&format!("\n{}\n", cell(&f)));
        }
    }
    if let Some(svg) = svg {
        out.push_str(&format!(
            "\n![differential flame graph: red grew, blue shrank]({})\n",
            svg.replace(' ', "%20")
                .replace(')', "%29")
                .replace('(', "%28")
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
fn markdown_totals(diff: &Diff) -> String {
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
    out.push('\n');
    out
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
        location.push_str(&code(f));
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
