//! The renderers on the real Go fixture pair.

use std::path::Path;

use heapdiff_diff::{Options, diff};
use heapdiff_report::{
    Inputs, TableOptions, folded_lines, render_flamegraph, render_json, render_table,
};

fn go_diff() -> heapdiff_diff::Diff {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/go");
    let before = heapdiff_profile::open(&dir.join("before.pb.gz")).unwrap();
    let after = heapdiff_profile::open(&dir.join("after.pb.gz")).unwrap();
    diff(&before, &after, &Options::default()).unwrap()
}

fn inputs() -> Inputs {
    Inputs {
        before: "before.pb.gz".into(),
        after: "after.pb.gz".into(),
    }
}

#[test]
fn table_top_and_footer() {
    let d = go_diff();
    let t = render_table(
        &d,
        &inputs(),
        &TableOptions {
            top: 3,
            width: None,
            color: false,
        },
    );
    let lines: Vec<&str> = t.lines().collect();
    assert!(lines[0].starts_with("heapdiff: inuse_space (bytes) by line"));
    assert!(lines[6].contains("+3.8 MiB") && lines[6].contains("net/textproto.readMIMEHeader"));
    assert!(t.ends_with("(--top 0 shows all).\n"), "{t}");
}

#[test]
fn json_rows_sum_to_growth() {
    let d = go_diff();
    let v: serde_json::Value = serde_json::from_str(&render_json(&d, &inputs(), 0, &[])).unwrap();
    let grown: i64 = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["delta"].as_i64().unwrap())
        .filter(|d| *d > 0)
        .sum();
    assert_eq!(grown, v["growth_total"].as_i64().unwrap());
}

#[test]
fn flame_graph_widths_add_up_to_the_after_total() {
    let d = go_diff();
    let after: i64 = folded_lines(&d)
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(after, d.totals.after);
    let svg = render_flamegraph(&d, &inputs()).unwrap();
    assert!(svg.starts_with(b"<?xml"));
}
