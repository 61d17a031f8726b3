//! Source files, found where a profile says they were or under the
//! directories the user names: for Python's function names and for the
//! source line shown under each row. Only files [`Readable`] admits are
//! read: a profile's paths are a stranger's.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::readable::Readable;

/// Where the source of a recorded path is, if it may be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Located {
    /// A readable file (canonical path).
    Found(PathBuf),
    /// Files exist but none may be read (see [`Readable`]).
    Refused,
    /// No file.
    Missing,
}

/// Where the source of `recorded` is on this machine: under each root, the
/// recorded path with leading directories stripped one at a time (longest
/// match first), then the recorded path itself, then for Rust's standard
/// library each toolchain's copy. The first candidate `readable` admits
/// wins; candidates it refuses are passed over without being opened.
pub(crate) fn locate(roots: &[PathBuf], readable: &Readable, recorded: &str) -> Located {
    let path = Path::new(recorded);
    let parts: Vec<_> = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    let parts = &parts;
    let under_roots = roots.iter().flat_map(|root| {
        (0..parts.len()).map(move |skip| -> PathBuf {
            std::iter::once(root.as_os_str())
                .chain(parts[skip..].iter().map(|c| c.as_os_str()))
                .collect()
        })
    });
    let candidates = under_roots
        .chain(std::iter::once(path.to_path_buf()))
        .chain(readable.rust_library_candidates(path));
    let mut refused = false;
    for candidate in candidates {
        // `is_file` only stats: a FIFO or device is never opened.
        if !candidate.is_file() {
            continue;
        }
        match readable.admit(&candidate) {
            Some(found) => return Located::Found(found),
            None => refused = true,
        }
    }
    if refused {
        Located::Refused
    } else {
        Located::Missing
    }
}

/// The largest source file read.
const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// The bytes of a located source file, unless it is larger than
/// [`MAX_SOURCE_BYTES`] or unreadable.
pub(crate) fn read(found: &Path) -> Option<Vec<u8>> {
    std::fs::metadata(found)
        .is_ok_and(|m| m.is_file() && m.len() <= MAX_SOURCE_BYTES)
        .then(|| std::fs::read(found).ok())
        .flatten()
}

/// Source files' lines, each file read once.
#[derive(Debug, Default)]
pub struct SourceFiles {
    roots: Vec<PathBuf>,
    readable: Readable,
    files: HashMap<String, Option<Vec<String>>>,
    refused: usize,
}

impl SourceFiles {
    /// Looks under `roots` (`--source-root`) first, then at the recorded
    /// paths; reads only what the read rule (`readable.rs`) admits: files under `roots`, the
    /// working directory and toolchain source trees.
    pub fn new(roots: Vec<PathBuf>) -> Self {
        SourceFiles {
            readable: Readable::new(&roots),
            roots,
            files: HashMap::new(),
            refused: 0,
        }
    }

    /// The text of `line` (1-based) of the file a profile recorded as
    /// `file`, without its line ending; `None` when the file cannot be
    /// found or read, may not be read, or is shorter.
    pub fn line(&mut self, file: &str, line: u32) -> Option<&str> {
        if !self.files.contains_key(file) {
            let lines = if file.starts_with('<') {
                None
            } else {
                match locate(&self.roots, &self.readable, file) {
                    Located::Found(path) => read(&path).map(|b| {
                        String::from_utf8_lossy(&b)
                            .lines()
                            .map(str::to_owned)
                            .collect()
                    }),
                    Located::Refused => {
                        self.refused += 1;
                        None
                    }
                    Located::Missing => None,
                }
            };
            self.files.insert(file.to_owned(), lines);
        }
        let lines = self.files.get(file)?.as_ref()?;
        let i = usize::try_from(line).ok()?.checked_sub(1)?;
        lines.get(i).map(String::as_str)
    }

    /// How many recorded files exist but were not read, being outside the
    /// `--source-root` directories, the working directory and the
    /// toolchain trees (or hidden, or under `/proc`, `/sys`, `/dev`).
    pub fn refused(&self) -> usize {
        self.refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_from_roots_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        std::fs::write(
            dir.path().join("app/main.go"),
            "package main\r\n\nfunc leak() {}\n",
        )
        .unwrap();
        let mut files = SourceFiles::new(vec![dir.path().to_path_buf()]);
        assert_eq!(files.line("/build/app/main.go", 1), Some("package main"));
        assert_eq!(files.line("/build/app/main.go", 3), Some("func leak() {}"));
        assert_eq!(files.line("/build/app/main.go", 4), None);
        assert_eq!(files.line("/build/app/main.go", 0), None);
        assert_eq!(files.line("/nowhere/x.go", 1), None);
        assert_eq!(files.line("<frozen abc>", 1), None);
        assert_eq!(files.refused(), 0);
    }

    #[test]
    fn secrets_named_by_a_profile_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("credentials");
        std::fs::write(&secret, "API_TOKEN=hunter2\n").unwrap();
        let mut files = SourceFiles::new(Vec::new());
        assert_eq!(files.line("/proc/self/environ", 1), None);
        assert_eq!(files.line(secret.to_str().unwrap(), 1), None);
        assert_eq!(files.line("/nowhere/x.go", 1), None);
        assert_eq!(files.refused(), 2, "the missing file is not counted");
        // Named with --source-root, the directory is readable.
        let mut files = SourceFiles::new(vec![dir.path().to_path_buf()]);
        assert_eq!(
            files.line(secret.to_str().unwrap(), 1),
            Some("API_TOKEN=hunter2")
        );
    }
}
