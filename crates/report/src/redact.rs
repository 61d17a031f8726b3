//! `--redact-paths`: absolute local paths out of reports meant for public
//! places.
//!
//! A report pasted into an issue should not carry `/home/alice/…` or the
//! layout of a build machine, yet it must still say where the code is. So
//! each absolute path is rewritten to the shortest name a reader can still
//! place:
//!
//! 1. toolchain trees by their well-known names: `$GOROOT/src/…`,
//!    `$GOMODCACHE/…`, `std:…` for Rust's `/rustc/<commit>/library/…`,
//!    `$CARGO_REGISTRY/…`, `$CARGO_GIT/…`, `site-packages/…`, `python3.11/…`;
//! 2. files under a source root (`--source-root`) or under the project
//!    directory (the deepest directory holding every file of the user's own
//!    code) relative to it;
//! 3. anything else in a home directory as `~/…`, and in a temporary
//!    directory as `…/` and its last two parts.
//!
//! Other absolute paths (`/usr/include/…`) say nothing private and stay.
//! The rules read only the path: the same profiles give the same report on
//! every machine.

use std::path::PathBuf;

/// How to rewrite paths; see the module documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathRedaction {
    /// Directories whose files are named relative to them, each ending in
    /// `/`: the source roots, then the project directory.
    roots: Vec<String>,
}

impl PathRedaction {
    /// Redaction relative to `source_roots` and to the project directory of
    /// `own_files` (the files of the user's own code).
    pub fn new<'a>(source_roots: &[PathBuf], own_files: impl IntoIterator<Item = &'a str>) -> Self {
        let mut roots: Vec<String> = source_roots
            .iter()
            .filter_map(|r| std::path::absolute(r).ok())
            .map(|r| with_slash(&r.to_string_lossy()))
            .collect();
        if let Some(project) = project_directory(own_files) {
            roots.push(project);
        }
        PathRedaction { roots }
    }

    /// `path` as a public report shows it.
    pub fn path(&self, path: &str) -> String {
        if !path.starts_with('/') {
            return path.to_owned();
        }
        if let Some(named) = toolchain(path) {
            return named;
        }
        for root in &self.roots {
            if let Some(rest) = path.strip_prefix(root.as_str())
                && !rest.is_empty()
            {
                return rest.to_owned();
            }
        }
        if let Some(rest) = in_home(path) {
            return format!("~/{rest}");
        }
        if let Some(rest) = TEMPORARY.iter().find_map(|t| path.strip_prefix(t)) {
            let last_two: Vec<&str> = rest.rsplitn(3, '/').take(2).collect();
            let kept: Vec<&str> = last_two.into_iter().rev().collect();
            return format!("…/{}", kept.join("/"));
        }
        path.to_owned()
    }
}

/// Directories whose contents are nobody's business but the machine's.
const TEMPORARY: [&str; 4] = ["/tmp/", "/var/tmp/", "/private/", "/var/folders/"];

fn with_slash(dir: &str) -> String {
    if dir.ends_with('/') {
        dir.to_owned()
    } else {
        format!("{dir}/")
    }
}

/// The rest of a path in a home directory (`/home/alice/x` → `x`).
fn in_home(path: &str) -> Option<&str> {
    if let Some(rest) = path.strip_prefix("/root/") {
        return Some(rest);
    }
    let rest = path
        .strip_prefix("/home/")
        .or_else(|| path.strip_prefix("/Users/"))?;
    rest.split_once('/').map(|(_user, rest)| rest)
}

/// A path in a toolchain's tree, by the tree's well-known name.
fn toolchain(path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix("/rustc/") {
        let (_commit, rest) = rest.split_once('/')?;
        return Some(match rest.strip_prefix("library/") {
            Some(library) => format!("std:{library}"),
            None => format!("rustc:{rest}"),
        });
    }
    let after = |marker: &str| path.find(marker).map(|at| &path[at + marker.len()..]);
    if let Some(rest) = after("/.cargo/registry/src/") {
        let (_index, rest) = rest.split_once('/')?;
        return Some(format!("$CARGO_REGISTRY/{rest}"));
    }
    if let Some(rest) = after("/.cargo/git/checkouts/") {
        return Some(format!("$CARGO_GIT/{rest}"));
    }
    if let Some(rest) = after("/pkg/mod/") {
        return Some(format!("$GOMODCACHE/{rest}"));
    }
    if let Some(rest) = after("/site-packages/").or_else(|| after("/dist-packages/")) {
        return Some(format!("site-packages/{rest}"));
    }
    if let Some(at) = path.find("/lib/python") {
        return Some(path[at + 5..].to_owned());
    }
    if in_home(path).is_none()
        && let Some(at) = path.find("/src/")
    {
        // GOROOT: /usr/lib/go-1.19/src/, /usr/local/go/src/,
        // …/Cellar/go/1.21.0/libexec/src/.
        let root = &path[..at];
        let last = root.rsplit('/').next().unwrap_or("");
        let go = last == "go" || last.starts_with("go-") || last.starts_with("go1.");
        if go || (last == "libexec" && root.contains("/go/")) {
            return Some(format!("$GOROOT/src/{}", &path[at + 5..]));
        }
    }
    None
}

/// The deepest directory holding every one of `files` that is absolute and
/// not in a toolchain's tree, ending in `/`; `None` when there is none
/// deeper than a home directory or the second level of the file system.
fn project_directory<'a>(files: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut common: Option<Vec<&str>> = None;
    for file in files {
        if !file.starts_with('/') || toolchain(file).is_some() {
            continue;
        }
        let dir: Vec<&str> = file.split('/').collect();
        let dir = &dir[..dir.len() - 1];
        common = Some(match common {
            None => dir.to_vec(),
            Some(c) => c
                .iter()
                .zip(dir)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    let common = common?.join("/");
    let deep_enough = match in_home(&with_slash(&common)) {
        Some(rest) => !rest.is_empty(),
        None => common.matches('/').count() >= 2,
    };
    deep_enough.then(|| with_slash(&common))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(path: &str) -> String {
        PathRedaction::new(
            &[],
            [
                "/home/alice/shop/app/main.go",
                "/home/alice/shop/lib/cache.go",
            ],
        )
        .path(path)
    }

    #[test]
    fn toolchain_trees_go_by_their_names() {
        for (path, shown) in [
            (
                "/usr/lib/go-1.19/src/net/http/header.go",
                "$GOROOT/src/net/http/header.go",
            ),
            (
                "/usr/local/go/src/runtime/malloc.go",
                "$GOROOT/src/runtime/malloc.go",
            ),
            (
                "/opt/homebrew/Cellar/go/1.21.0/libexec/src/bytes/bytes.go",
                "$GOROOT/src/bytes/bytes.go",
            ),
            (
                "/home/bob/go/pkg/mod/github.com/x/y@v1.2.3/z.go",
                "$GOMODCACHE/github.com/x/y@v1.2.3/z.go",
            ),
            (
                "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/alloc/src/vec/mod.rs",
                "std:alloc/src/vec/mod.rs",
            ),
            (
                "/home/bob/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde-1.0.219/src/de.rs",
                "$CARGO_REGISTRY/serde-1.0.219/src/de.rs",
            ),
            (
                "/srv/venv/lib/python3.11/site-packages/multidict/_multidict_py.py",
                "site-packages/multidict/_multidict_py.py",
            ),
            (
                "/usr/lib/python3.11/json/decoder.py",
                "python3.11/json/decoder.py",
            ),
        ] {
            assert_eq!(redact(path), shown, "{path}");
        }
    }

    #[test]
    fn own_files_are_named_from_the_project_directory() {
        assert_eq!(redact("/home/alice/shop/app/main.go"), "app/main.go");
        assert_eq!(redact("/home/alice/notes/x.go"), "~/notes/x.go");
        let r = PathRedaction::new(&[PathBuf::from("/srv/src")], ["/work/build/leak.c"]);
        assert_eq!(r.path("/srv/src/shop/app.py"), "shop/app.py");
        assert_eq!(r.path("/work/build/leak.c"), "leak.c");
    }

    #[test]
    fn homes_and_temporary_directories_go_and_the_rest_stays() {
        let r = PathRedaction::default();
        assert_eq!(r.path("/home/carol/src/x.c"), "~/src/x.c");
        assert_eq!(r.path("/Users/carol/src/x.c"), "~/src/x.c");
        assert_eq!(r.path("/root/x.c"), "~/x.c");
        assert_eq!(r.path("/tmp/build-1234/src/leak.c"), "…/src/leak.c");
        assert_eq!(r.path("/tmp/heap.png"), "…/heap.png");
        assert_eq!(
            r.path("/usr/include/c++/12/bits/stl_vector.h"),
            "/usr/include/c++/12/bits/stl_vector.h"
        );
        assert_eq!(r.path("src/main.rs"), "src/main.rs");
        // A home's own src is not a GOROOT.
        assert_eq!(r.path("/home/carol/go/src/app/x.go"), "~/go/src/app/x.go");
    }

    #[test]
    fn a_project_directory_is_deeper_than_a_home_or_the_second_level() {
        assert_eq!(
            project_directory(["/home/alice/a.go", "/home/alice/b/c.go"]),
            None
        );
        assert_eq!(project_directory(["/work/a.c", "/srv/b.c"]), None);
        assert_eq!(
            project_directory(["/work/main/a.c"]),
            Some("/work/main/".to_owned())
        );
        assert_eq!(
            project_directory(["/usr/lib/go-1.19/src/x.go", "/w/p/q/a.go"]),
            Some("/w/p/q/".to_owned()),
            "toolchain files are not the user's project"
        );
    }
}
