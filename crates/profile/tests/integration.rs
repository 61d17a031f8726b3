//! The decoder on real producers' files: the Go fixtures and the team's
//! shared samples.

use std::path::{Path, PathBuf};

use heapdiff_profile::{Format, open};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

fn type_names(p: &heapdiff_profile::Profile) -> Vec<String> {
    p.header
        .sample_types
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn go_heap_profile_from_net_http_pprof() {
    let p = open(&fixture("go/after.pb.gz")).unwrap();
    assert_eq!(p.format, Format::Pprof);
    let types = type_names(&p);
    assert_eq!(
        types,
        [
            "alloc_objects/count",
            "alloc_space/bytes",
            "inuse_objects/count",
            "inuse_space/bytes"
        ]
    );
    assert_eq!(
        p.header.period_type.as_ref().unwrap().to_string(),
        "space/bytes"
    );
    assert_eq!(p.header.period, 16384);
    assert!(p.header.time_nanos > 0);
    assert!(p.warnings.is_empty());
    // go tool pprof reports 6854707 B in use for this file.
    assert_eq!(p.total(3), 6_854_707);
    // Every frame is symbolized, with a file and a line.
    for f in p.frames() {
        assert!(
            f.is_symbolized() && !f.file.is_empty() && f.line > 0,
            "{f:?}"
        );
    }
    // Inlined frames are expanded: Header.Clone (inlined) sits under
    // headerCache.remember in some stack.
    let name = |id: &heapdiff_profile::FrameId| p.str(p.frame(*id).function).to_owned();
    let inlined = p.samples().any(|s| {
        s.stack.windows(2).any(|w| {
            name(&w[0]) == "net/http.Header.Clone" && name(&w[1]) == "main.(*headerCache).remember"
        })
    });
    assert!(inlined);
}

#[test]
fn go_sample_from_shared_samples() {
    let p = open(&fixture("samples/sample_go1.19_heap.pb.gz")).unwrap();
    assert_eq!(p.header.sample_types.len(), 4);
    assert_eq!(p.header.period, 524288);
}

#[test]
fn jemalloc_pprof_with_symbolize_feature() {
    let p = open(&fixture(
        "samples/sample_jemalloc_pprof_0.9_symbolize.pb.gz",
    ))
    .unwrap();
    let types = type_names(&p);
    assert_eq!(types, ["inuse_space/bytes"]);
    // Fake mappings (start 0, limit u64::MAX) and demangled Rust names.
    assert!(
        p.mappings()
            .iter()
            .any(|m| m.start == 0 && m.limit == u64::MAX)
    );
    assert!(
        p.frames()
            .iter()
            .any(|f| p.str(f.function).starts_with("tokio::runtime::"))
    );
    let deepest = p.samples().map(|s| s.stack.len()).max().unwrap();
    assert!(
        deepest > 20,
        "inlined lines are expanded ({deepest} frames)"
    );
}

#[test]
fn raw_protobuf_and_gzip_decode_alike() {
    let gz = std::fs::read(fixture("go/before.pb.gz")).unwrap();
    let raw = heapdiff_profile::gunzip(&gz).unwrap();
    let a = heapdiff_profile::decode(&gz).unwrap();
    let b = heapdiff_profile::decode(&raw).unwrap();
    assert_eq!(a.sample_count(), b.sample_count());
    assert_eq!(a.total(3), b.total(3));
}
