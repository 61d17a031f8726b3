//! Habits from neighbouring tools: pprof's URLs without a scheme, jeprof's
//! binary first, `?gc=1`, live options with files, CPU profiles.

use crate::common::*;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn host_and_port_without_a_scheme_is_fetched_like_pprof_does() {
    // Nothing listens on port 1: the error shows the URL it tried.
    let out = run(&["localhost:1/debug/pprof/heap", "--fetch-timeout", "2s"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("http://localhost:1/debug/pprof/heap: cannot fetch"),
        "{err}"
    );
    assert!(err.contains("add ?gc=1 to the URL"), "{err}");
    let out = run(&["localhost:1/debug/pprof/heap?gc=1", "--fetch-timeout", "2s"]);
    assert!(!stderr_of(&out).contains("add ?gc=1"));
}

#[test]
fn a_program_first_is_sent_to_binary() {
    let out = run(&[
        "fixtures/c/leak",
        "fixtures/c/jemalloc/before.heap",
        "fixtures/c/jemalloc/after.heap",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "fixtures/c/leak: is a program (ELF), not a profile; pass it with --binary \
             fixtures/c/leak"
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn live_options_with_files_are_named_as_ignored() {
    let out = run(&[
        GO_BEFORE,
        GO_AFTER,
        "--no-svg",
        "--count",
        "3",
        "--save-dir",
        "x",
    ]);
    let err = stderr_of(&out);
    assert!(
        err.contains("warning: --count, --save-dir only apply to fetching a URL, and were ignored"),
        "{err}"
    );
    assert!(!repo_root().join("x").exists(), "no directory made");
    assert!(!stderr_of(&run(&[GO_BEFORE, GO_AFTER, "--no-svg"])).contains("only apply"));
}

#[test]
fn cpu_profiles_are_diffed_with_a_warning() {
    let out = run(&[
        "fixtures/go-cpu/before.pb.gz",
        "fixtures/go-cpu/after.pb.gz",
        "--no-svg",
    ]);
    let table = stdout_of(&out);
    assert!(table.contains("main.count"), "{table}");
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "warning: these are CPU profiles (samples/count, cpu/nanoseconds), not heap \
             profiles: what grew is CPU time, not memory"
        ),
        "{err}"
    );
    assert!(!stderr_of(&run(&[GO_BEFORE, GO_AFTER, "--no-svg"])).contains("not heap profiles"));
}
