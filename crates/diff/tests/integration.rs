//! The differ on the real Go fixture pair (the binary's tests compare the
//! same numbers with go tool pprof's; these pin the library's view).

use std::path::Path;

use heapdiff_diff::{Granularity, Options, RankBy, Status, Tree, diff};

fn go_pair() -> (heapdiff_profile::Profile, heapdiff_profile::Profile) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/go");
    (
        heapdiff_profile::open(&dir.join("before.pb.gz")).unwrap(),
        heapdiff_profile::open(&dir.join("after.pb.gz")).unwrap(),
    )
}

#[test]
fn the_leak_ranks_first_and_the_reload_shows_as_gone() {
    let (before, after) = go_pair();
    let d = diff(&before, &after, &Options::default()).unwrap();
    assert_eq!(d.sample_type.name, "inuse_space");
    assert_eq!(d.totals.delta(), 3_484_624);
    let top = d.key(d.rows[0].key);
    assert_eq!(
        top.function.as_deref(),
        Some("net/textproto.readMIMEHeader")
    );
    assert_eq!(top.line, Some(547));
    let last = d.changed_rows().last().unwrap();
    assert_eq!(d.key(last.key).function.as_deref(), Some("bytes.Repeat"));
    assert_eq!(d.status(last), Status::Gone);
    // Growth minus shrinkage is the total change.
    assert_eq!(d.growth + d.shrinkage, d.totals.delta());
}

#[test]
fn cumulative_by_function_puts_the_handler_chain_on_top() {
    let (before, after) = go_pair();
    let opts = Options {
        granularity: Granularity::Function,
        rank_by: RankBy::Cumulative,
        ..Options::default()
    };
    let d = diff(&before, &after, &opts).unwrap();
    let names: Vec<_> = d.changed_rows()[..3]
        .iter()
        .map(|r| d.key(r.key).function.clone().unwrap())
        .collect();
    assert_eq!(names[0], "net/http.(*conn).serve");
    let remember = d
        .rows
        .iter()
        .find(|r| d.key(r.key).function.as_deref() == Some("main.(*headerCache).remember"))
        .unwrap();
    assert!(remember.cum.delta() > remember.flat.delta());
}

#[test]
fn tree_totals_equal_profile_totals() {
    let (before, after) = go_pair();
    let d = diff(&before, &after, &Options::default()).unwrap();
    let root = d.tree.node(Tree::ROOT).total;
    assert_eq!((root.before, root.after), (d.totals.before, d.totals.after));
    for id in d.tree.node_ids().skip(1) {
        let n = d.tree.node(id);
        let children: i64 = d
            .tree
            .children(id)
            .iter()
            .map(|c| d.tree.node(*c).total.after)
            .sum();
        assert_eq!(n.total.after, n.self_values.after + children);
    }
}
