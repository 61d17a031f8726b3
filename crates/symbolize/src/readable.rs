//! Which source files may be read.
//!
//! A profile names source files, and a profile may come from a stranger:
//! a frame at `/proc/self/environ:1` or `~/.aws/credentials:2` would put
//! the reader's secrets under a row of a report meant for a public bug
//! tracker. So source text is read only from places that hold source:
//!
//! - the `--source-root` directories (the user named them);
//! - the current working directory's tree (unless it is `/`);
//! - toolchain source trees: Go's (`$GOROOT/src`, `/usr/local/go/src`,
//!   `/usr/lib/go*/src`, and any directory whose path ends in `go/src`,
//!   `go-1.N/src` or `go1.N/src`), Rust's (each rustup toolchain's
//!   `lib/rustlib/src/rust/library`, Cargo's `registry/src` and
//!   `git/checkouts`) and Python's (`/usr/lib/python3*`,
//!   `/usr/local/lib/python3*`, and any directory whose path ends in
//!   `lib/python3.N`, such as a virtual environment's or pyenv's).
//!
//! A file is readable when it is a regular file, and its canonical path
//! (symbolic links resolved, so that a link in the working directory to
//! `/etc/shadow` is refused) lies under one of those roots with no hidden
//! component (one starting with `.`: `.git/config`, `.env`, `.ssh/`) below
//! the root. Components above the root may be hidden: toolchains live in
//! `~/.rustup`, `~/.cargo`, `~/.pyenv` and `.venv`. Nothing under `/proc`,
//! `/sys` or `/dev` is ever read, whatever the roots.

use std::path::{Component, Path, PathBuf};

/// Pseudo-file systems, never read.
const NEVER: [&str; 3] = ["/proc", "/sys", "/dev"];

/// The roots source text may be read from, canonicalized.
#[derive(Clone, Debug, Default)]
pub(crate) struct Readable {
    roots: Vec<PathBuf>,
    /// Rust's standard library sources, one per rustup toolchain
    /// (`/rustc/<commit>/library/…` paths are looked for there).
    rust_libraries: Vec<PathBuf>,
}

impl Readable {
    /// `source_roots`, the working directory, and the toolchain trees of
    /// this machine.
    pub(crate) fn new(source_roots: &[PathBuf]) -> Self {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = env("HOME");
        let rustup = env("RUSTUP_HOME").or_else(|| home.as_ref().map(|h| h.join(".rustup")));
        let cargo = env("CARGO_HOME").or_else(|| home.as_ref().map(|h| h.join(".cargo")));
        let rust_libraries: Vec<PathBuf> = rustup
            .map(|r| subdirectories(&r.join("toolchains"), ""))
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.join("lib/rustlib/src/rust/library"))
            .filter_map(|p| p.canonicalize().ok())
            .collect();
        let mut roots: Vec<PathBuf> = source_roots.to_vec();
        // The working directory, unless it is `/` (which would admit all).
        roots.extend(
            std::env::current_dir()
                .ok()
                .filter(|d| d.parent().is_some()),
        );
        roots.extend(env("GOROOT").map(|g| g.join("src")));
        roots.push("/usr/local/go/src".into());
        roots.extend(
            subdirectories(Path::new("/usr/lib"), "go")
                .iter()
                .map(|g| g.join("src")),
        );
        if let Some(cargo) = cargo {
            roots.push(cargo.join("registry/src"));
            roots.push(cargo.join("git/checkouts"));
        }
        roots.extend(subdirectories(Path::new("/usr/lib"), "python3"));
        roots.extend(subdirectories(Path::new("/usr/local/lib"), "python3"));
        let mut roots: Vec<PathBuf> = roots
            .iter()
            .filter_map(|r| r.canonicalize().ok())
            .filter(|r| !is_pseudo(r))
            .collect();
        roots.extend(rust_libraries.iter().cloned());
        Readable {
            roots,
            rust_libraries,
        }
    }

    /// The canonical path of `path` if its text may be read; see the
    /// module documentation.
    pub(crate) fn admit(&self, path: &Path) -> Option<PathBuf> {
        if is_pseudo(path) {
            return None;
        }
        let canonical = path.canonicalize().ok()?;
        if is_pseudo(&canonical) || !std::fs::metadata(&canonical).is_ok_and(|m| m.is_file()) {
            return None;
        }
        let under_a_root = self
            .roots
            .iter()
            .filter_map(|r| canonical.strip_prefix(r).ok())
            .chain(toolchain_relative(&canonical))
            .any(|below| !has_hidden_component(below));
        under_a_root.then_some(canonical)
    }

    /// Where a `/rustc/<commit>/library/<rest>` path of the Rust standard
    /// library is on this machine, for each rustup toolchain (the commit
    /// is not checked: a toolchain of another version may differ).
    pub(crate) fn rust_library_candidates(&self, recorded: &Path) -> Vec<PathBuf> {
        let mut parts = recorded.components();
        let rest = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Component::RootDir), Some(rustc), Some(_commit), Some(library))
                if rustc.as_os_str() == "rustc" && library.as_os_str() == "library" =>
            {
                parts.as_path()
            }
            _ => return Vec::new(),
        };
        self.rust_libraries.iter().map(|l| l.join(rest)).collect()
    }
}

/// Whether `path` is under `/proc`, `/sys` or `/dev`.
fn is_pseudo(path: &Path) -> bool {
    NEVER.iter().any(|p| path.starts_with(p))
}

/// Whether a path has a component starting with `.` (`..` included).
fn has_hidden_component(path: &Path) -> bool {
    path.components().any(|c| match c {
        Component::Normal(name) => name.as_encoded_bytes().starts_with(b"."),
        Component::ParentDir | Component::CurDir => true,
        Component::RootDir | Component::Prefix(_) => false,
    })
}

/// The part of a canonical path below a toolchain tree recognized by its
/// shape: `…/go/src`, `…/go-1.N/src`, `…/go1.N/src` or `…/lib/python3.N`.
fn toolchain_relative(canonical: &Path) -> Option<&Path> {
    let names: Vec<&str> = canonical
        .components()
        .map(|c| c.as_os_str().to_str().unwrap_or(""))
        .collect();
    let is_go = |dir: &str| {
        dir == "go"
            || dir
                .strip_prefix("go-1.")
                .or(dir.strip_prefix("go1."))
                .is_some_and(is_version)
    };
    let is_python = |dir: &str| dir.strip_prefix("python3.").is_some_and(is_version);
    let root_len = (1..names.len()).rev().find(|&i| {
        (names[i] == "src" && is_go(names[i - 1])) || (is_python(names[i]) && names[i - 1] == "lib")
    })?;
    let mut rest = canonical.components();
    for _ in 0..=root_len {
        rest.next();
    }
    Some(rest.as_path())
}

/// Whether `s` is a version number's rest, like `21` or `21.3`.
fn is_version(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The subdirectories of `dir` whose names start with `prefix`.
fn subdirectories(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .as_encoded_bytes()
                .starts_with(prefix.as_bytes())
        })
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_under_a_root_without_hidden_components_are_admitted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("src");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("app.c"), "int main;\n").unwrap();
        std::fs::write(root.join(".env"), "API_TOKEN=secret\n").unwrap();
        std::fs::write(root.join(".git/config"), "[remote]\n").unwrap();
        let outside = dir.path().join("credentials");
        std::fs::write(&outside, "secret\n").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link.c")).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", root.join("environ.c")).unwrap();
        let readable = Readable {
            roots: vec![root.canonicalize().unwrap()],
            rust_libraries: Vec::new(),
        };
        let admitted = |p: &Path| readable.admit(p).is_some();
        assert!(admitted(&root.join("app.c")));
        assert!(admitted(&root.join("../src/app.c")), "canonicalized first");
        assert!(!admitted(&root.join(".env")));
        assert!(!admitted(&root.join(".git/config")));
        assert!(!admitted(&outside));
        assert!(!admitted(&root.join("link.c")), "a link out of the root");
        assert!(!admitted(&root.join("environ.c")));
        assert!(!admitted(Path::new("/proc/self/environ")));
        assert!(!admitted(&root), "a directory");
    }

    #[test]
    fn toolchain_trees_are_recognized_by_their_shape() {
        let rel = |p: &str| toolchain_relative(Path::new(p)).map(Path::to_path_buf);
        assert_eq!(
            rel("/usr/lib/go-1.19/src/net/http/header.go"),
            Some("net/http/header.go".into())
        );
        assert_eq!(
            rel("/home/u/sdk/go1.21.3/src/os/file.go"),
            Some("os/file.go".into())
        );
        assert_eq!(
            rel("/home/u/go/src/example.com/app/main.go"),
            Some("example.com/app/main.go".into())
        );
        assert_eq!(
            rel("/srv/.venv/lib/python3.11/json/decoder.py"),
            Some("json/decoder.py".into())
        );
        assert_eq!(rel("/home/u/.aws/credentials"), None);
        assert_eq!(rel("/home/u/gopher/src/x.go"), None);
        assert_eq!(rel("/usr/lib/python3.x/y.py"), None);
    }

    #[test]
    fn rustc_paths_map_to_each_toolchains_library() {
        let readable = Readable {
            roots: Vec::new(),
            rust_libraries: vec!["/t/lib/rustlib/src/rust/library".into()],
        };
        assert_eq!(
            readable.rust_library_candidates(Path::new("/rustc/59807616/library/alloc/src/vec.rs")),
            [PathBuf::from(
                "/t/lib/rustlib/src/rust/library/alloc/src/vec.rs"
            )]
        );
        assert!(
            readable
                .rust_library_candidates(Path::new("/rustc/x/src/lib.rs"))
                .is_empty()
        );
    }
}
