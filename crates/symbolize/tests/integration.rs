//! The symbolizer on the committed C fixture: a jemalloc dump of a PIE
//! binary built with `-g -O2`, whose leaking allocation is inlined twice.

use std::path::{Path, PathBuf};

use heapdiff_symbolize::{NoProgress, SearchPaths, Symbolizer};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

fn names(p: &heapdiff_profile::Profile) -> Vec<Vec<String>> {
    p.samples()
        .map(|s| {
            s.stack
                .iter()
                .map(|f| {
                    let fr = p.frame(f);
                    let file = p.str(fr.file).rsplit('/').next().unwrap_or("").to_owned();
                    format!("{} {file}:{}", p.str(fr.function), fr.line)
                })
                .collect()
        })
        .collect()
}

#[test]
fn pie_binary_with_inlined_frames() {
    let mut p = heapdiff_profile::open(&fixture("c/jemalloc/after.heap")).unwrap();
    let mut s = Symbolizer::new(SearchPaths {
        binaries: vec![fixture("c/leak")],
        ..SearchPaths::default()
    });
    let report = s.symbolize(&mut p, None, &NoProgress);
    assert!(report.with_lines > 0, "{report:?}");
    let stacks = names(&p);
    // copy_header (leak.c:16) inlined into new_header (24) inlined into
    // remember (33), called from handle (70): innermost first, in place.
    let want = [
        "copy_header leak.c:16",
        "new_header leak.c:24",
        "remember leak.c:33",
        "handle leak.c:70",
    ];
    assert!(
        stacks.iter().any(|s| s.windows(4).any(|w| w == want)),
        "{stacks:#?}"
    );
}

#[test]
fn one_symbolizer_serves_both_profiles_and_summarizes_once() {
    let mut before = heapdiff_profile::open(&fixture("c/gperftools/before.heap")).unwrap();
    let mut after = heapdiff_profile::open(&fixture("c/gperftools/after.heap")).unwrap();
    let mut s = Symbolizer::new(SearchPaths {
        binaries: vec![fixture("c/leak")],
        ..SearchPaths::default()
    });
    s.symbolize(&mut before, None, &NoProgress);
    s.symbolize(&mut after, None, &NoProgress);
    let summary = s.summary();
    // However many binaries lack symbols here, each is named once.
    let mut seen = std::collections::BTreeSet::new();
    for w in &summary {
        assert!(
            seen.insert(w.split(':').next().unwrap().to_owned()),
            "{summary:?}"
        );
    }
    assert!(
        names(&after)
            .iter()
            .flatten()
            .any(|f| f == "copy_header leak.c:16")
    );
}

#[test]
fn unsymbolized_is_left_alone_for_symbolized_pprof() {
    let mut p = heapdiff_profile::open(&fixture("go/after.pb.gz")).unwrap();
    let before = names(&p);
    let report = Symbolizer::new(SearchPaths::default()).symbolize(&mut p, None, &NoProgress);
    assert_eq!(
        report.with_lines + report.symbol_only + report.unresolved,
        0
    );
    assert_eq!(names(&p), before);
}

/// Where the system has libc's debug file (Debian's `libc6-dbg`), libc's
/// frames get files and lines from `/usr/lib/debug/.build-id`. Nothing is
/// asserted about which functions they are: the dump was taken against
/// this machine's libc build, the test may run against another.
#[test]
fn system_libraries_resolve_through_the_build_id_directory() {
    let libc = Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6");
    let Ok(data) = std::fs::read(libc) else {
        return;
    };
    let Some(id) = build_id(&data) else { return };
    let debug = Path::new("/usr/lib/debug/.build-id")
        .join(&id[..2])
        .join(format!("{}.debug", &id[2..]));
    if !debug.exists() {
        eprintln!("skipped: {} is not installed (libc6-dbg)", debug.display());
        return;
    }
    let mut p = heapdiff_profile::open(&fixture("c/jemalloc/after.heap")).unwrap();
    let mut s = Symbolizer::new(SearchPaths {
        binaries: vec![fixture("c/leak")],
        ..SearchPaths::default()
    });
    s.symbolize(&mut p, None, &NoProgress);
    let libc_frame_with_line = p.frames().iter().any(|f| {
        let file = p.str(f.file);
        f.line > 0 && (file.contains("csu/") || file.contains("libc"))
    });
    assert!(
        libc_frame_with_line,
        "libc frames named from {}",
        debug.display()
    );
}

fn build_id(elf: &[u8]) -> Option<String> {
    use object::Object;
    let file = object::File::parse(elf).ok()?;
    let id = file.build_id().ok()??;
    Some(id.iter().map(|b| format!("{b:02x}")).collect())
}
