//! Habits from neighbouring tools, and what heapdiff says about them.
//!
//! - pprof takes `localhost:6060/debug/pprof/heap` without a scheme: so
//!   does heapdiff, when no file of that name exists.
//! - jeprof takes the binary first (`jeprof ./app a.heap b.heap`): heapdiff
//!   says to pass it with `--binary` instead of failing to decode it.
//! - Go's heap profile describes the heap as of the last garbage
//!   collection: a live URL without `?gc=1` gets a hint.
//! - Live-capture options given with files are ignored: a warning says so.
//! - A CPU (or other non-heap) profile pair is diffed, with a warning that
//!   what "grew" is not memory.

use std::io::Read;
use std::path::{Path, PathBuf};

use heapdiff_profile::{Profile, ValueType};

use crate::cli::Cli;

/// `path` as a URL: `http://` and `https://` ones as they are; `host:port`
/// with an optional path (pprof's form) with `http://` added, unless a file
/// of that name exists.
pub(crate) fn as_url(path: &Path) -> Option<String> {
    let s = path.to_string_lossy();
    let has_scheme = ["http://", "https://"].iter().any(|scheme| {
        s.get(..scheme.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(scheme))
    });
    if has_scheme {
        return Some(s.into_owned());
    }
    let (authority, _path) = s.split_once('/').unwrap_or((&s, ""));
    let (host, port) = authority.rsplit_once(':')?;
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok = !port.is_empty() && port.len() <= 5 && port.chars().all(|c| c.is_ascii_digit());
    (host_ok && port_ok && !path.exists()).then(|| format!("http://{s}"))
}

/// An error for an input that is a program rather than a profile (jeprof's
/// order: the binary first).
pub(crate) fn program_given_as_profile(paths: &[PathBuf]) -> Option<String> {
    let program = paths.iter().find(|p| {
        let mut head = [0u8; 4];
        std::fs::File::open(p)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok_and(|()| head == *b"\x7fELF")
    })?;
    Some(format!(
        "{p}: is a program (ELF), not a profile; pass it with --binary {p} and give the \
         profiles alone (heapdiff --binary {p} BEFORE AFTER)",
        p = program.display()
    ))
}

/// A warning naming the live-capture options given with files, which have
/// nothing to fetch.
pub(crate) fn live_options_with_files(cli: &Cli) -> Option<String> {
    let given: Vec<&str> = [
        ("--interval", cli.interval.is_some()),
        ("--count", cli.count.is_some()),
        ("--save-dir", cli.save_dir.is_some()),
        ("--fetch-timeout", cli.fetch_timeout.is_some()),
        ("--window", !cli.windows.is_empty()),
        ("--step", cli.step.is_some()),
        ("--cacert", cli.cacert.is_some()),
        ("--insecure", cli.insecure),
    ]
    .into_iter()
    .filter_map(|(flag, set)| set.then_some(flag))
    .collect();
    (!given.is_empty()).then(|| {
        format!(
            "{} only apply to fetching a URL, and were ignored: the inputs are files",
            given.join(", ")
        )
    })
}

/// A hint for a Go heap profile URL fetched without `?gc=1`.
pub(crate) fn gc_hint(url: &str) -> Option<String> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let go_heap = path.trim_end_matches('/').ends_with("/debug/pprof/heap");
    let collects = query.split('&').any(|kv| kv.starts_with("gc="));
    (go_heap && !collects).then(|| {
        "Go's heap profile shows the heap as of the last garbage collection, so the first \
         profile may still count memory already freed: add ?gc=1 to the URL to collect first"
            .to_owned()
    })
}

/// A profile's sample types, as [`not_heap_profiles`] reads them.
pub(crate) fn types_of(profile: &Profile) -> Vec<ValueType> {
    profile.header.sample_types.clone()
}

/// Whether a profile with these sample types measures memory: a type in
/// bytes, or one named for allocations or live objects.
fn measures_memory(types: &[ValueType]) -> bool {
    types.iter().any(|t| {
        let name = t.name.to_ascii_lowercase();
        t.unit == "bytes"
            || ["alloc", "inuse", "space", "objects", "heap", "memory"]
                .iter()
                .any(|w| name.contains(w))
    })
}

/// A warning when neither side measures memory (CPU, goroutine, mutex,
/// block profiles).
pub(crate) fn not_heap_profiles(before: &[Vec<ValueType>], after: &[Profile]) -> Option<String> {
    let after: Vec<Vec<ValueType>> = after.iter().map(types_of).collect();
    if before.iter().chain(&after).any(|t| measures_memory(t)) {
        return None;
    }
    let types: Vec<String> = after
        .first()?
        .iter()
        .map(|t| format!("{}/{}", t.name, t.unit))
        .collect();
    let cpu = types
        .iter()
        .any(|t| t.starts_with("cpu/") || t == "samples/count");
    Some(format!(
        "these are {} profiles ({}), not heap profiles: what grew is {}, not memory \
         (a Go heap profile is /debug/pprof/heap)",
        if cpu { "CPU" } else { "non-heap" },
        types.join(", "),
        if cpu { "CPU time" } else { "what they count" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_without_a_scheme_is_a_url() {
        let url = |s: &str| as_url(Path::new(s));
        assert_eq!(
            url("localhost:6060/debug/pprof/heap").as_deref(),
            Some("http://localhost:6060/debug/pprof/heap")
        );
        assert_eq!(
            url("10.0.0.7:8080").as_deref(),
            Some("http://10.0.0.7:8080")
        );
        assert_eq!(url("HTTP://h/x").as_deref(), Some("HTTP://h/x"));
        assert_eq!(url("before.pb.gz"), None);
        assert_eq!(url("snap:1.pb.gz"), None, "not a port");
        assert_eq!(url("/tmp/a:80"), None, "a path");
    }

    #[test]
    fn go_heap_urls_without_gc_get_a_hint() {
        assert!(gc_hint("http://h:6060/debug/pprof/heap").is_some());
        assert!(gc_hint("http://h:6060/debug/pprof/heap?seconds=30").is_some());
        assert!(gc_hint("http://h:6060/debug/pprof/heap?gc=1").is_none());
        assert!(gc_hint("http://h:6060/debug/pprof/allocs").is_none());
    }
}
