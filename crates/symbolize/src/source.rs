//! Source files, found where a profile says they were or under the
//! directories the user names: for Python's function names and for the
//! source line shown under each row.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// Where the source of `recorded` is on this machine: under each root, the
/// recorded path with leading directories stripped one at a time (longest
/// match first), then the recorded path itself.
pub(crate) fn locate(roots: &[PathBuf], recorded: &str) -> Option<PathBuf> {
    let path = Path::new(recorded);
    let parts: Vec<_> = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    for root in roots {
        for skip in 0..parts.len() {
            let candidate: PathBuf = std::iter::once(root.as_os_str())
                .chain(parts[skip..].iter().map(|c| c.as_os_str()))
                .collect();
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    path.is_file().then(|| path.to_path_buf())
}

/// The largest source file read for its lines.
const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// Source files' lines, each file read once.
#[derive(Debug, Default)]
pub struct SourceFiles {
    roots: Vec<PathBuf>,
    files: HashMap<String, Option<Vec<String>>>,
}

impl SourceFiles {
    /// Looks under `roots` first, then at the recorded paths.
    pub fn new(roots: Vec<PathBuf>) -> Self {
        SourceFiles {
            roots,
            files: HashMap::new(),
        }
    }

    /// The text of `line` (1-based) of the file a profile recorded as
    /// `file`, without its line ending; `None` when the file cannot be
    /// found or read, or is shorter.
    pub fn line(&mut self, file: &str, line: u32) -> Option<&str> {
        if !self.files.contains_key(file) {
            let lines = if file.starts_with('<') {
                None
            } else {
                locate(&self.roots, file)
                    .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= MAX_SOURCE_BYTES))
                    .and_then(|p| std::fs::read(p).ok())
                    .map(|b| {
                        String::from_utf8_lossy(&b)
                            .lines()
                            .map(str::to_owned)
                            .collect()
                    })
            };
            self.files.insert(file.to_owned(), lines);
        }
        let lines = self.files.get(file)?.as_ref()?;
        let i = usize::try_from(line).ok()?.checked_sub(1)?;
        lines.get(i).map(String::as_str)
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
    }
}
