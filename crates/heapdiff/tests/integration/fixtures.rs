//! Every committed profile decodes, and so do the team's shared samples when
//! they are present next to the repository.

use std::path::Path;

use crate::common::*;

fn profiles_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            profiles_under(&path, out);
        } else if path.to_string_lossy().ends_with(".pb.gz")
            || path.extension().is_some_and(|x| x == "pb")
        {
            out.push(path);
        }
    }
}

#[test]
fn every_pprof_fixture_decodes_and_diffs_against_itself() {
    let root = repo_root();
    let mut files = Vec::new();
    profiles_under(&root.join("fixtures"), &mut files);
    profiles_under(&root.join("../shared/samples"), &mut files);
    assert!(files.len() >= 4, "found only {files:?}");
    for f in &files {
        let p = heapdiff_profile::open(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(p.sample_count() > 0, "{}", f.display());
        let d = heapdiff_diff::diff(&p, &p, &heapdiff_diff::Options::default()).unwrap();
        assert!(
            d.changed_rows().is_empty(),
            "{}: a profile equals itself",
            f.display()
        );
        let out = run(&[f.to_str().unwrap(), f.to_str().unwrap(), "--no-svg"]);
        assert!(
            stdout_of(&out).contains("No line changed."),
            "{}",
            f.display()
        );
    }
}

#[test]
fn go_fixture_has_what_the_tests_rely_on() {
    let p = heapdiff_profile::open(&repo_root().join(GO_AFTER)).unwrap();
    let names: Vec<_> = p
        .header
        .sample_types
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "alloc_objects/count",
            "alloc_space/bytes",
            "inuse_objects/count",
            "inuse_space/bytes"
        ]
    );
    assert_eq!(p.header.period, 16384);
    let leak = p
        .frames()
        .iter()
        .any(|f| p.str(f.function) == "main.(*headerCache).remember");
    assert!(leak, "the leaking function is in the profile");
}
