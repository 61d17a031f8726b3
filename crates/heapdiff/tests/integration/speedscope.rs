//! speedscope JSON (`memray transform speedscope`) against an independent
//! sum of the same files (`fixtures/speedscope/reference.py`).

use crate::common::*;

#[test]
fn a_memray_pair_equals_an_independent_sum() {
    matches_independent_sum(
        "fixtures/speedscope/before.speedscope.json",
        "fixtures/speedscope/after.speedscope.json",
        "fixtures/speedscope/reference/flat-by-line.txt",
    );
}

#[test]
fn the_leak_is_the_line_tracemalloc_names() {
    // The same service under tracemalloc (fixtures/python) leads with the
    // same line.
    let j = json(&[
        "fixtures/speedscope/before.speedscope.json",
        "fixtures/speedscope/after.speedscope.json",
    ]);
    let first = &j["rows"][0];
    assert_eq!(first["function"], "copy_from");
    assert_eq!(first["file"], "/srv/shop/headerlib/multidict.py");
    assert_eq!(first["line"], 53);
    assert_eq!(j["count_type"], "objects");
}
