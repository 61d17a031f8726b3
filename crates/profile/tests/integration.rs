//! The decoder on real producers' files: the Go fixtures and the team's
//! shared samples.

use std::collections::BTreeMap;
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
        s.stack.to_vec().windows(2).any(|w| {
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

/// `(file, line)` -> `(size, count)` of the leaf frames, as tracemalloc's
/// `Snapshot.statistics('lineno')` groups them.
fn by_leaf_line(p: &heapdiff_profile::Profile) -> BTreeMap<(String, u32), (i64, i64)> {
    let objects = p.sample_type_index("inuse_objects").unwrap();
    let space = p.sample_type_index("inuse_space").unwrap();
    let mut out = BTreeMap::new();
    for s in p.samples() {
        let leaf = p.frame(s.stack.at(0));
        let e: &mut (i64, i64) = out
            .entry((p.str(leaf.file).to_owned(), leaf.line))
            .or_default();
        e.0 += s.values[space];
        e.1 += s.values[objects];
    }
    out
}

/// Both snapshots of a tracemalloc pair against every line of
/// `compare_to(old, 'lineno')`: size and count after, and before (size minus
/// size_diff), changed or not.
fn tracemalloc_pair_equals_compare_to(dir: &str, reference: &str) {
    let before = open(&fixture(&format!("{dir}/before.tm"))).unwrap();
    let after = open(&fixture(&format!("{dir}/after.tm"))).unwrap();
    assert_eq!(after.format, Format::Tracemalloc);
    let (b, a) = (by_leaf_line(&before), by_leaf_line(&after));
    let text = std::fs::read_to_string(fixture(reference)).unwrap();
    let mut lines = 0;
    for row in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = row.split('\t').collect();
        let key = (f[0].to_owned(), f[1].parse::<u32>().unwrap());
        let n = |i: usize| f[i].parse::<i64>().unwrap();
        let (size, size_diff, count, count_diff) = (n(2), n(3), n(4), n(5));
        let got_after = a.get(&key).copied().unwrap_or((0, 0));
        let got_before = b.get(&key).copied().unwrap_or((0, 0));
        assert_eq!(got_after, (size, count), "after: {key:?}");
        assert_eq!(
            got_before,
            (size - size_diff, count - count_diff),
            "before: {key:?}"
        );
        lines += 1;
    }
    let keys: std::collections::BTreeSet<_> = a.keys().chain(b.keys()).collect();
    assert_eq!(lines, keys.len(), "compare_to lists every line we have");
}

#[test]
fn tracemalloc_snapshots_equal_compare_to_on_every_line() {
    tracemalloc_pair_equals_compare_to("python", "python/reference/compare_to-lineno.txt");
    let after = open(&fixture("python/after.tm")).unwrap();
    assert!(after.warnings.is_empty(), "{:?}", after.warnings);
    assert!(
        after
            .header
            .comments
            .contains(&"traceback_limit 25".to_owned())
    );
    let deepest = after.samples().map(|s| s.stack.len()).max().unwrap();
    assert!(deepest > 3, "call paths are kept ({deepest} frames)");
}

#[test]
fn tracemalloc_one_frame_snapshots_warn() {
    tracemalloc_pair_equals_compare_to(
        "python/one-frame",
        "python/reference/compare_to-lineno-one-frame.txt",
    );
    let after = open(&fixture("python/one-frame/after.tm")).unwrap();
    assert!(after.samples().all(|s| s.stack.len() <= 1));
    assert_eq!(after.warnings.len(), 1);
    assert!(after.warnings[0].contains("tracemalloc.start(25)"));
}

#[test]
fn tracemalloc_sample_from_shared_samples() {
    let p = open(&fixture("samples/sample_tracemalloc_py3.11.pickle")).unwrap();
    assert_eq!(p.format, Format::Tracemalloc);
    assert_eq!(type_names(&p), ["inuse_objects/count", "inuse_space/bytes"]);
    assert!(p.sample_count() > 0);
}

/// Every fixture, cut at every byte (up to 2 KiB) or at ~1,500 evenly spaced
/// lengths (gzip files and protobufs) or ~400 (the big text files and
/// pickles), decodes or
/// fails with an error: never a panic, and a decoded prefix keeps the
/// model's promises.
#[test]
fn every_truncation_of_every_fixture_fails_cleanly() {
    let mut files = Vec::new();
    for dir in [
        "go",
        "go-trend",
        "rust",
        "c/jemalloc",
        "c/gperftools",
        "python",
        "python/one-frame",
        "memray",
        "dhat",
        "dhat/valgrind",
        "folded/jeprof",
        "folded/heaptrack",
        "jfr",
        "heaptrack",
    ] {
        let Ok(entries) = std::fs::read_dir(fixture(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let profile = path.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                ["gz", "zst", "heap", "tm", "csv", "json", "folded", "txt"].contains(&x)
            });
            if path.is_file() && profile {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 20, "fixtures found: {files:?}");
    let mut decoded = 0usize;
    let mut refused = 0usize;
    for path in &files {
        let whole = std::fs::read(path).unwrap();
        let mut inputs = vec![whole.clone()];
        if heapdiff_profile::is_gzip(&whole) {
            // The protobuf inside, cut at every byte too.
            inputs.push(heapdiff_profile::gunzip(&whole).unwrap());
        }
        for bytes in &inputs {
            let step = match bytes.len() {
                0..=2048 => 1,
                n @ ..=12_288 => n / 1500,
                n => n / 400,
            };
            for cut in (0..bytes.len()).step_by(step) {
                match heapdiff_profile::decode(&bytes[..cut]) {
                    Ok(p) => {
                        decoded += 1;
                        for s in p.samples() {
                            assert_eq!(s.values.len(), p.header.sample_types.len());
                            for f in s.stack {
                                let _ = p.frame_name(p.frame(f));
                            }
                        }
                    }
                    Err(e) => {
                        refused += 1;
                        let message = e.to_string();
                        assert!(
                            !message.is_empty() && !message.contains('\n'),
                            "{}: cut at {cut}: {message:?}",
                            path.display()
                        );
                    }
                }
            }
        }
    }
    // Text formats decode their complete lines; binary ones refuse a cut.
    assert!(
        decoded > 0 && refused > decoded,
        "{decoded} decoded, {refused} refused"
    );
}

/// Every sample as its frames' names and its values.
fn summary(p: &heapdiff_profile::Profile) -> Vec<(Vec<String>, Vec<i64>)> {
    p.samples()
        .map(|s| {
            let names = s.stack.iter().map(|f| p.frame_name(p.frame(f))).collect();
            (names, s.values.to_vec())
        })
        .collect()
}

#[test]
fn streamed_profiles_decode_from_files_and_gzip_as_in_memory() {
    use std::io::Write;
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("streamed");
    std::fs::create_dir_all(&tmp).unwrap();
    let texts = [
        "c/jemalloc/after.heap",
        "c/gperftools/after.heap",
        "folded/heaptrack/after.folded",
        "folded/jeprof/after.folded",
        // Not text, but read the same way: unpickled as it is read.
        "python/after.tm",
    ];
    for rel in texts {
        let path = fixture(rel);
        let bytes = std::fs::read(&path).unwrap();
        let in_memory = summary(&heapdiff_profile::decode(&bytes).unwrap());
        assert!(!in_memory.is_empty(), "{rel}");
        assert!(
            summary(&open(&path).unwrap()) == in_memory,
            "{rel} streamed"
        );

        let gz = tmp.join(rel.replace('/', "-") + ".gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&bytes).unwrap();
        let compressed = enc.finish().unwrap();
        std::fs::write(&gz, &compressed).unwrap();
        assert!(summary(&open(&gz).unwrap()) == in_memory, "{rel} gzipped");

        // The limit holds on the bytes read (and inflated) so far.
        let opts = |max| heapdiff_profile::DecodeOptions {
            max_input: Some(max),
            ..Default::default()
        };
        let n = bytes.len() as u64;
        assert!(
            heapdiff_profile::open_with(&path, &opts(n)).is_ok(),
            "{rel}"
        );
        for p in [&path, &gz] {
            let err = heapdiff_profile::open_with(p, &opts(n - 1)).unwrap_err();
            assert!(
                matches!(err, heapdiff_profile::Error::TooLarge { .. }),
                "{rel}: {err}"
            );
        }
        // A gzip stream cut short fails as corrupt gzip, wherever the cut.
        for cut in [compressed.len() / 2, compressed.len() - 5] {
            std::fs::write(&gz, &compressed[..cut]).unwrap();
            let err = open(&gz).unwrap_err();
            assert!(
                err.to_string().starts_with("corrupt gzip data"),
                "{rel} cut at {cut}: {err}"
            );
        }
    }
}
