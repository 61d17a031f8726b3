//! The JSON report: one object, fields in a fixed order, integers in the
//! profile's unit. The schema is documented in `docs/formats.md`
//! ("JSON output"); `schema` is bumped when a field changes meaning.

use heapdiff_diff::{Diff, Row};
use serde::Serialize;

use crate::Inputs;

/// Version of the JSON layout.
pub const SCHEMA: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    schema: u32,
    before_file: &'a str,
    after_file: &'a str,
    sample_type: &'a str,
    unit: &'a str,
    count_type: Option<&'a str>,
    granularity: &'a str,
    sort: &'a str,
    rank_by: &'a str,
    attribute: &'static str,
    period: Option<Period<'a>>,
    before_total: i64,
    after_total: i64,
    delta_total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_before_total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_after_total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_delta_total: Option<i64>,
    growth_total: i64,
    shrinkage_total: i64,
    path_growth_total: i64,
    path_shrinkage_total: i64,
    precision: &'static str,
    normalized: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merged_before: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merged_after: Option<u64>,
    filters: std::collections::BTreeMap<&'static str, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unfiltered_before_total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unfiltered_after_total: Option<i64>,
    rows_below_min_delta: usize,
    rows_changed: usize,
    rows_shown: usize,
    rows: Vec<JsonRow<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Period<'a> {
    r#type: Option<&'a str>,
    unit: Option<&'a str>,
    before: i64,
    after: i64,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    function: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<u32>,
    status: &'static str,
    before: i64,
    after: i64,
    delta: i64,
    share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_before: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_after: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_delta: Option<i64>,
    cum_before: i64,
    cum_after: i64,
    cum_delta: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cum_error: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    within_noise: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<JsonVia<'a>>,
}

#[derive(Serialize)]
struct JsonVia<'a> {
    function: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<u32>,
    share: Option<f64>,
}

/// Renders the top `top` changed rows (0 = all) as pretty-printed JSON,
/// with a trailing newline. `warnings` are the decoders' and the differ's.
pub fn render_json(diff: &Diff, inputs: &Inputs, top: usize, warnings: &[String]) -> String {
    let changed = diff.changed_rows();
    let shown = if top == 0 {
        changed
    } else {
        &changed[..changed.len().min(top)]
    };
    let counts = diff.count_type.is_some();
    let t = &diff.totals;
    let if_counts = |v: i64| counts.then_some(v);
    let report = Report {
        schema: SCHEMA,
        before_file: &inputs.before,
        after_file: &inputs.after,
        sample_type: &diff.sample_type.name,
        unit: &diff.sample_type.unit,
        count_type: diff.count_type.as_ref().map(|c| c.name.as_str()),
        granularity: diff.options.granularity.as_str(),
        sort: diff.options.sort.as_str(),
        rank_by: diff.options.rank_by.as_str(),
        attribute: diff.options.attribute.as_str(),
        period: diff.period.as_ref().map(|p| Period {
            r#type: p.period_type.as_ref().map(|t| t.name.as_str()),
            unit: p.period_type.as_ref().map(|t| t.unit.as_str()),
            before: p.before,
            after: p.after,
        }),
        before_total: t.before,
        after_total: t.after,
        delta_total: t.delta(),
        count_before_total: if_counts(t.count_before),
        count_after_total: if_counts(t.count_after),
        count_delta_total: if_counts(t.count_delta()),
        growth_total: diff.growth,
        shrinkage_total: diff.shrinkage,
        path_growth_total: diff.path_growth,
        path_shrinkage_total: diff.path_shrinkage,
        precision: diff.precision.as_str(),
        normalized: diff.normalized,
        merged_before: diff.merged[0],
        merged_after: diff.merged[1],
        filters: diff.options.filters.describe().into_iter().collect(),
        unfiltered_before_total: diff.unfiltered_totals.map(|u| u.before),
        unfiltered_after_total: diff.unfiltered_totals.map(|u| u.after),
        rows_below_min_delta: diff.below_min_delta,
        rows_changed: changed.len(),
        rows_shown: shown.len(),
        rows: shown.iter().map(|r| row(diff, r, counts)).collect(),
        warnings,
    };
    let mut out = serde_json::to_string_pretty(&report).expect("the report serializes");
    out.push('\n');
    out
}

fn row<'a>(diff: &'a Diff, r: &Row, counts: bool) -> JsonRow<'a> {
    let key = diff.key(r.key);
    let f = &r.flat;
    JsonRow {
        function: key.function.as_deref(),
        file: key.file.as_deref(),
        line: key.line,
        status: diff.status(r).as_str(),
        before: f.before,
        after: f.after,
        delta: f.delta(),
        share: diff.share(r),
        count_before: counts.then_some(f.count_before),
        count_after: counts.then_some(f.count_after),
        count_delta: counts.then_some(f.count_delta()),
        cum_before: r.cum.before,
        cum_after: r.cum.after,
        cum_delta: r.cum.delta(),
        error: r.flat_error,
        cum_error: r.cum_error,
        within_noise: r.flat_error.map(|_| r.within_noise(diff.options.rank_by)),
        via: r.via.map(|v| {
            let k = diff.key(v.key);
            JsonVia {
                function: k.function.as_deref(),
                file: k.file.as_deref(),
                line: k.line,
                share: r.via_share(),
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapdiff_diff::{Granularity, Options, diff};
    use heapdiff_profile::{Format, Frame, Profile, ProfileBuilder, ValueType};
    use serde_json::Value;

    fn profile(types: &[(&str, &str)], values: &[i64]) -> Profile {
        let mut b = ProfileBuilder::new(
            Format::Pprof,
            types.iter().map(|(n, u)| ValueType::new(*n, *u)).collect(),
        );
        let (f, file) = (b.intern("main.leak"), b.intern("main.go"));
        let leaf = b.frame(Frame::symbolized(f, file, 9));
        b.push_sample(&[leaf], values).unwrap();
        b.finish()
    }

    fn text(d: &Diff) -> String {
        let inputs = Inputs {
            before: "b".into(),
            after: "a".into(),
        };
        render_json(d, &inputs, 0, &["careful".into()])
    }

    fn json(d: &Diff) -> Value {
        serde_json::from_str(&text(d)).unwrap()
    }

    #[test]
    fn fields_and_their_order() {
        let t = [("inuse_objects", "count"), ("inuse_space", "bytes")];
        let d = diff(
            &profile(&t, &[1, 10]),
            &profile(&t, &[4, 70]),
            &Options::default(),
        )
        .unwrap();
        let v = json(&d);
        let raw = text(&d);
        let mut keys: Vec<(usize, &str)> = v
            .as_object()
            .unwrap()
            .keys()
            .map(|k| (raw.find(&format!("\n  \"{k}\":")).unwrap(), k.as_str()))
            .collect();
        keys.sort();
        let keys: Vec<&str> = keys.into_iter().map(|(_, k)| k).collect();
        assert_eq!(
            keys,
            [
                "schema",
                "before_file",
                "after_file",
                "sample_type",
                "unit",
                "count_type",
                "granularity",
                "sort",
                "rank_by",
                "attribute",
                "period",
                "before_total",
                "after_total",
                "delta_total",
                "count_before_total",
                "count_after_total",
                "count_delta_total",
                "growth_total",
                "shrinkage_total",
                "path_growth_total",
                "path_shrinkage_total",
                "precision",
                "normalized",
                "filters",
                "rows_below_min_delta",
                "rows_changed",
                "rows_shown",
                "rows",
                "warnings"
            ]
        );
        let row = &v["rows"][0];
        assert_eq!(row["function"], "main.leak");
        assert_eq!(row["line"], 9);
        assert_eq!(row["delta"], 60);
        assert_eq!(row["count_delta"], 3);
        assert_eq!(row["share"], 1.0);
        assert_eq!(row["status"], "grew");
        assert_eq!(v["warnings"][0], "careful");
        assert_eq!(v["period"], Value::Null);
    }

    #[test]
    fn counts_are_absent_without_a_count_type_and_parts_null_by_granularity() {
        let t = [("space", "bytes")];
        let opts = Options {
            granularity: Granularity::Function,
            ..Options::default()
        };
        let d = diff(&profile(&t, &[0]), &profile(&t, &[8]), &opts).unwrap();
        let v = json(&d);
        assert!(v.get("count_before_total").is_none());
        assert!(v["rows"][0].get("count_delta").is_none());
        assert_eq!(v["count_type"], Value::Null);
        assert_eq!(v["rows"][0]["file"], Value::Null);
        assert_eq!(v["rows"][0]["line"], Value::Null);
        assert_eq!(v["rows"][0]["status"], "new");
    }
}
