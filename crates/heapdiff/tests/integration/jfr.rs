//! Java: JDK Flight Recorder recordings against an independent sum of what
//! the JDK's own reader prints (`jfr print --json`, summed by
//! `fixtures/jfr/reference.py`).

use crate::common::*;

const BEFORE: &str = "fixtures/jfr/before.jfr.gz";
const AFTER: &str = "fixtures/jfr/after.jfr.gz";

#[test]
fn every_sample_type_equals_the_jdk_readers_sum() {
    for sample_type in ["alloc_space", "tlab_space", "live_objects"] {
        matches_independent_sum_of(
            sample_type,
            BEFORE,
            AFTER,
            &format!("fixtures/jfr/reference/{sample_type}.txt"),
        );
    }
}

#[test]
fn live_objects_are_the_default_and_the_leaking_method_leads() {
    let j = json(&[BEFORE, AFTER, "--attribute", "user"]);
    assert_eq!(j["sample_type"], "live_objects");
    let first = &j["rows"][0];
    assert_eq!(first["function"], "Leak$HeaderCache.remember", "{first}");
    assert_eq!(first["file"], "Leak.java", "{first}");
    // Without attribution the JDK frame that allocated leads, and the
    // table names the method of yours it was called from.
    let table = stdout_of(&run(&[BEFORE, AFTER, "--no-svg", "--no-source"]));
    let leaf = table
        .lines()
        .position(|l| l.contains("java.lang.StringUTF16.compress"))
        .expect("the JDK's frame");
    assert!(
        table
            .lines()
            .nth(leaf + 1)
            .unwrap()
            .contains("↳ Leak$HeaderCache.remember Leak.java:21"),
        "{table}"
    );
}

#[test]
fn cut_recordings_fail_with_the_chunk_and_byte() {
    let whole = heapdiff_profile::gunzip(&std::fs::read(repo_root().join(AFTER)).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for keep in [40, 5000, whole.len() / 2, whole.len() - 1] {
        let cut = dir.path().join("cut.jfr");
        std::fs::write(&cut, &whole[..keep]).unwrap();
        let out = run(&[cut.to_str().unwrap(), AFTER, "--no-svg"]);
        assert_eq!(out.status.code(), Some(2), "kept {keep}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cut.jfr") && err.contains("chunk "),
            "kept {keep}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
