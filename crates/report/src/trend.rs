//! Trend reports: the table and JSON of a [`Trend`] over N snapshots.

use heapdiff_diff::{Diff, Precision, Trend, TrendRow};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::TableOptions;
use crate::json::SCHEMA;
use crate::table::{INDENT, Paint, finish_row, noun, pad_left, pad_right, plural, row_details};
use crate::units::{format_count, format_percent, format_value, relative_change};

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of a series: the lowest value `▁`, the highest `█`, a flat
/// series all `▄`.
pub fn sparkline(series: &[i64]) -> String {
    let (Some(&min), Some(&max)) = (series.iter().min(), series.iter().max()) else {
        return String::new();
    };
    if min == max {
        return std::iter::repeat_n(BARS[3], series.len()).collect();
    }
    let span = (max as f64) - (min as f64);
    series
        .iter()
        .map(|&v| {
            let level = (((v as f64) - (min as f64)) / span * 7.0).round() as usize;
            BARS[level.min(7)]
        })
        .collect()
}

/// Renders a trend as a table: the snapshots with their totals, then the
/// top rows by leak score, with their source text and, from `pair` (the
/// first snapshot against the last), the user frame a library row goes
/// through.
pub fn render_trend_table(
    trend: &Trend,
    pair: Option<&Diff>,
    files: &[String],
    opts: &TableOptions,
) -> String {
    let paint = Paint { on: opts.color };
    let mut out = trend_heading(trend, &paint);
    out.push_str(&snapshot_totals(trend, files));

    let rows: Vec<&TrendRow> = trend
        .rows
        .iter()
        .filter(|r| r.score > 0 || r.growth() != 0)
        .collect();
    let noun_s = noun(trend.options.granularity);
    if rows.is_empty() {
        out.push_str(&format!("\nNo {noun_s} changed.\n"));
        return out;
    }
    let shown = if opts.top == 0 {
        &rows[..]
    } else {
        &rows[..rows.len().min(opts.top)]
    };
    out.push_str(&score_table(trend, pair, shown, opts, &paint));
    let hidden = rows.len() - shown.len();
    if hidden > 0 {
        out.push_str(&format!(
            "\n{hidden} more {} (--top 0 shows all).\n",
            plural(noun_s, hidden)
        ));
    }
    out
}

/// The title line of a trend table and, when the values are exact or
/// sampled, a note saying so.
fn trend_heading(trend: &Trend, paint: &Paint) -> String {
    let mut out = String::new();
    let ranking = match trend.options.rank_by {
        heapdiff_diff::RankBy::Flat => "flat",
        heapdiff_diff::RankBy::Cumulative => "cumulative",
    };
    out.push_str(&paint.bold(&format!(
        "heapdiff: {} ({}) by {}, {ranking}, {} snapshots, ranked by leak score",
        crate::escape::terminal(&trend.sample_type.name),
        crate::escape::terminal(&trend.sample_type.unit),
        trend.options.granularity,
        trend.snapshots()
    )));
    out.push('\n');
    match trend.precision {
        Precision::Exact => out.push_str(&paint.dim("  exact values: every allocation was recorded\n")),
        Precision::Sampled => out.push_str(&paint.dim(
            "  sampled values: steps smaller than the sampling error can reverse a trend; read steady with care\n",
        )),
        Precision::Unknown => {}
    }
    out
}

/// One line per snapshot with its file and total (and object count where
/// the profiles have one), then the change from the first to the last.
fn snapshot_totals(trend: &Trend, files: &[String]) -> String {
    let unit = &trend.sample_type.unit;
    let mut out = String::new();
    let files: Vec<_> = files.iter().map(|f| crate::escape::terminal(f)).collect();
    let name_w = files.iter().map(|f| f.width()).max().unwrap_or(0);
    for (i, (file, total)) in files.iter().zip(&trend.totals).enumerate() {
        let mut line = format!(
            "  {:>2}  {}  {}",
            i + 1,
            pad_right(file, name_w),
            pad_left(&format_value(*total, unit, false), 10)
        );
        if let Some(c) = &trend.count_totals {
            line.push_str(&format!(
                "  {} objects",
                pad_left(&format_count(c[i], false), 10)
            ));
        }
        if let Some(n) = trend.merged.get(i).copied().flatten().filter(|&n| n > 1) {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            line.push_str(&format!("  (average of {} merged)", format_count(n, false)));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if let (Some(first), Some(last)) = (trend.totals.first(), trend.totals.last()) {
        let pct = relative_change(*first, *last)
            .map(|r| format!("  ({})", format_percent(r, true)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  first → last  {}{pct}\n",
            format_value(last - first, unit, true)
        ));
    }
    out
}

/// Column headings of the score table.
const SCORE_HEADER: [&str; 7] = [
    "leak score",
    "Δ first→last",
    "per step",
    "steady",
    "trend",
    "first",
    "last",
];

/// The cells of the score table's rows, one array per row in the order of
/// [`SCORE_HEADER`].
fn score_cells(trend: &Trend, shown: &[&TrendRow]) -> Vec<[String; 7]> {
    let unit = &trend.sample_type.unit;
    let steps = trend.snapshots().saturating_sub(1);
    shown
        .iter()
        .map(|r| {
            [
                format_value(r.score, unit, false),
                format_value(r.growth(), unit, true),
                format_value(r.slope as i64, unit, true),
                format!("{}/{steps}", r.steps_up),
                sparkline(&r.series),
                format_value(r.series[0], unit, false),
                format_value(*r.series.last().unwrap_or(&0), unit, false),
            ]
        })
        .collect()
}

/// The width of each column: its widest cell or its heading.
fn column_widths(cells: &[[String; 7]]) -> Vec<usize> {
    (0..SCORE_HEADER.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].width())
                .chain([SCORE_HEADER[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// The score table: a blank line, the headings, then one line per shown
/// row with its location.
fn score_table(
    trend: &Trend,
    pair: Option<&Diff>,
    shown: &[&TrendRow],
    opts: &TableOptions,
    paint: &Paint,
) -> String {
    // The pair's rows by key, for the user frames.
    let pair_rows: std::collections::HashMap<&heapdiff_diff::Key, &heapdiff_diff::Row> = pair
        .map(|d| d.rows.iter().map(|r| (d.key(r.key), r)).collect())
        .unwrap_or_default();
    let mut out = String::new();
    let cells = score_cells(trend, shown);
    let widths = column_widths(&cells);
    let prefix = INDENT.len() + widths.iter().map(|w| w + 2).sum::<usize>() + 2;
    out.push('\n');
    let mut head = String::from(INDENT);
    for (h, w) in SCORE_HEADER.iter().zip(&widths) {
        head.push_str(&pad_left(h, *w));
        head.push_str("  ");
    }
    head.push_str("  location");
    out.push_str(&paint.dim(&head));
    out.push('\n');
    for (row, cells) in shown.iter().zip(&cells) {
        let mut line = String::from(INDENT);
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let padded = if i == 4 {
                pad_right(cell, *w)
            } else {
                pad_left(cell, *w)
            };
            line.push_str(&match i {
                0 if row.score > 0 => paint.red(&padded),
                1 if row.growth() < 0 => paint.blue(&padded),
                _ => padded,
            });
            line.push_str("  ");
        }
        line.push_str("  ");
        let key = trend.key(row.key);
        let at = finish_row(&mut out, line, key, prefix, opts.width, paint);
        let via = pair.zip(pair_rows.get(key).copied());
        row_details(&mut out, key, via, (at, prefix), opts, paint);
    }
    out
}

#[derive(Serialize)]
struct Report<'a> {
    schema: u32,
    kind: &'static str,
    files: &'a [String],
    sample_type: &'a str,
    unit: &'a str,
    count_type: Option<&'a str>,
    granularity: &'a str,
    rank_by: &'a str,
    precision: &'static str,
    totals: &'a [i64],
    #[serde(skip_serializing_if = "Option::is_none")]
    count_totals: Option<&'a [i64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merged: Option<&'a [Option<u64>]>,
    rows_shown: usize,
    rows: Vec<Row<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Row<'a> {
    function: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<u32>,
    score: i64,
    growth: i64,
    slope: f64,
    steps_up: usize,
    series: &'a [i64],
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<&'a [i64]>,
}

/// Renders a trend as JSON: every snapshot's total and, for the top `top`
/// rows (0 = all), the whole series.
pub fn render_trend_json(
    trend: &Trend,
    files: &[String],
    top: usize,
    warnings: &[String],
) -> String {
    let rows: Vec<&TrendRow> = trend
        .rows
        .iter()
        .filter(|r| r.score > 0 || r.growth() != 0)
        .collect();
    let shown = if top == 0 {
        &rows[..]
    } else {
        &rows[..rows.len().min(top)]
    };
    let report = Report {
        schema: SCHEMA,
        kind: "trend",
        files,
        sample_type: &trend.sample_type.name,
        unit: &trend.sample_type.unit,
        count_type: trend.count_type.as_ref().map(|c| c.name.as_str()),
        granularity: trend.options.granularity.as_str(),
        rank_by: trend.options.rank_by.as_str(),
        precision: trend.precision.as_str(),
        totals: &trend.totals,
        count_totals: trend.count_totals.as_deref(),
        merged: trend
            .merged
            .iter()
            .any(Option::is_some)
            .then_some(&trend.merged[..]),
        rows_shown: shown.len(),
        rows: shown
            .iter()
            .map(|r| {
                let key = trend.key(r.key);
                Row {
                    function: key.function.as_deref(),
                    file: key.file.as_deref(),
                    line: key.line,
                    score: r.score,
                    growth: r.growth(),
                    slope: (r.slope * 100.0).round() / 100.0,
                    steps_up: r.steps_up,
                    series: &r.series,
                    counts: r.counts.as_deref(),
                }
            })
            .collect(),
        warnings,
    };
    let mut out = serde_json::to_string_pretty(&report).expect("the report serializes");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_span_the_series() {
        assert_eq!(sparkline(&[1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█");
        assert_eq!(sparkline(&[0, 0, 100, 0]), "▁▁█▁");
        assert_eq!(sparkline(&[5, 5, 5]), "▄▄▄");
        assert_eq!(sparkline(&[-10, 0, 10]), "▁▅█");
        assert_eq!(sparkline(&[]), "");
    }
}
