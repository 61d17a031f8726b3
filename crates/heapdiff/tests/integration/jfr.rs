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

#[test]
fn garbage_after_the_magic_is_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // Deterministic noise: every byte value, in a scrambled order.
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut header = b"FLR\0\0\x02\0\x01".to_vec();
    header.extend(1000i64.to_be_bytes());
    for (name, bytes) in [
        ("noise.jfr", [&b"FLR\0"[..], &noise].concat()),
        ("header.jfr", [&header[..], &noise].concat()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = run(&[path.to_str().unwrap(), AFTER, "--no-svg"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(name) && err.contains("JFR recording: chunk 1"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn whole_recordings_do_not_warn() {
    let out = run(&[BEFORE, AFTER, "--no-svg"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
