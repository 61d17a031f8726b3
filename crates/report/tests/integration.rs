//! The renderers on the real Go fixture pair.

use std::path::Path;

use heapdiff_diff::{Options, diff};
use heapdiff_report::{
    HeapFlameOptions, Inputs, TableOptions, folded_lines, render_classic_flamegraph,
    render_heap_flamegraph, render_json, render_table,
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
            ..TableOptions::default()
        },
    );
    let lines: Vec<&str> = t.lines().collect();
    assert!(lines[0].starts_with("heapdiff: inuse_space (bytes) by line"));
    assert!(lines[1].contains("sampled values"), "{t}");
    assert!(lines[7].contains("+3.8 MiB") && lines[7].contains("net/textproto.readMIMEHeader"));
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
    let svg = render_classic_flamegraph(&d, &inputs(), 1200, false).unwrap();
    assert!(svg.starts_with(b"<?xml"));
}

/// A drawn frame of the heap flame graph: label, fill, depth, x, width, and
/// whether it is hatched (gone).
struct Drawn {
    label: String,
    fill: [u8; 3],
    depth: u32,
    x: f64,
    w: f64,
    gone: bool,
}

fn drawn_frames(svg: &str) -> Vec<Drawn> {
    let doc = roxmltree::Document::parse(svg).expect("the heap flame graph is well-formed XML");
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("f"))
        .map(|g| {
            let rect = g
                .children()
                .find(|c| c.attribute("class") == Some("r"))
                .unwrap();
            let hex = rect.attribute("fill").unwrap();
            let byte = |i: usize| u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap();
            Drawn {
                label: g.attribute("data-l").unwrap().to_owned(),
                fill: [byte(0), byte(1), byte(2)],
                depth: g.attribute("data-d").unwrap().parse().unwrap(),
                x: g.attribute("data-x").unwrap().parse().unwrap(),
                w: g.attribute("data-w").unwrap().parse().unwrap(),
                gone: g.children().any(|c| c.attribute("class") == Some("h")),
            }
        })
        .collect()
}

#[test]
fn heap_flame_graph_of_the_go_leak_is_red_root_to_leaf_and_shows_the_freed_path() {
    let d = go_diff();
    let svg = render_heap_flamegraph(&d, &inputs(), &HeapFlameOptions::default()).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    let frames = drawn_frames(&svg);
    let red = |f: &Drawn| f.fill[0] > f.fill[2] + 40;
    let blue = |f: &Drawn| f.fill[2] > f.fill[0] + 40;
    // The leak: the handler, the cache insert, the header clone; every
    // ancestor of the clone under remember is red.
    let clone = frames
        .iter()
        .find(|f| {
            f.label.starts_with("net/http.Header.Clone")
                && frames.iter().any(|p| {
                    p.label.starts_with("main.(*headerCache).remember")
                        && p.depth + 1 == f.depth
                        && p.x <= f.x
                        && f.x + f.w <= p.x + p.w + 1e-6
                })
        })
        .expect("Header.Clone under remember is drawn");
    let path: Vec<&Drawn> = frames
        .iter()
        .filter(|f| {
            f.depth <= clone.depth && f.x <= clone.x + 1e-9 && clone.x + clone.w <= f.x + f.w + 1e-6
        })
        .collect();
    assert_eq!(
        path.len() as u32,
        clone.depth + 1,
        "one frame per level from the root"
    );
    for f in &path {
        assert!(red(f), "{} is not red: {:?}", f.label, f.fill);
    }
    let labels: Vec<&str> = path.iter().map(|f| f.label.as_str()).collect();
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("main.(*server).handle")),
        "{labels:?}"
    );
    // The freed start-up cache: still drawn, blue and hatched.
    let freed = frames
        .iter()
        .find(|f| f.label.starts_with("bytes.Repeat"))
        .expect("the freed path stays visible");
    assert!(blue(freed) && freed.gone, "{:?}", freed.fill);
    assert!(freed.w > 0.2, "as wide as it was before: {}", freed.w);
    assert!(svg.contains("inuse_space: 3.2 MiB → 6.5 MiB (+3.3 MiB, +103.4%)"));
}

#[test]
fn heap_flame_graph_is_well_formed_with_hostile_names() {
    use heapdiff_profile::{Format, Frame, ProfileBuilder, ValueType};
    let names = [
        "<script>alert(1)</script>",
        "a & b \"quoted\" 'single'",
        "semi;colon;name",
        "ctl\u{1b}[31m\u{0}\u{7}\u{85}end",
        "\u{fffe}\u{ffff}bad",
        "lossy \u{fffd} from invalid UTF-8",
        "]]> cdata end",
    ];
    let profile = |scale: i64| {
        let mut b =
            ProfileBuilder::new(Format::Pprof, vec![ValueType::new("inuse_space", "bytes")]);
        let file = b.intern("src/<odd>&.rs");
        let root = b.intern("main");
        let root = b.frame(Frame::symbolized(root, file, 1));
        for (i, n) in names.iter().enumerate() {
            let f = b.intern(n);
            let leaf = b.frame(Frame::symbolized(f, file, i as u32 + 2));
            b.push_sample(&[leaf, root], &[(i as i64 + 1) * 1000 * scale])
                .unwrap();
        }
        b.finish()
    };
    let d = diff(&profile(1), &profile(2), &Options::default()).unwrap();
    let hostile = Inputs {
        before: "before <1>.pb".into(),
        after: "after & \u{1b}.pb".into(),
    };
    let svg = render_heap_flamegraph(&d, &hostile, &HeapFlameOptions::default()).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    let frames = drawn_frames(&svg);
    assert_eq!(frames.len(), 2 + names.len());
    assert!(
        frames
            .iter()
            .any(|f| f.label == "<script>alert(1)</script> <odd>&.rs:2")
    );
    assert!(frames.iter().any(|f| f.label.starts_with("ctl[31mend")));
    assert!(!svg.contains('\u{1b}') && !svg.contains('\u{0}'));
}
