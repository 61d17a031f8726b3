//! Where the files are: the binary a mapping names, and the debug info for
//! it. Only local files are read; nothing is fetched from the network.
//!
//! The binary, in order:
//! 1. a `--binary` file whose build ID equals the profile's, or, when the
//!    profile recorded none, whose name equals the mapping's file name
//!    (binaries that moved or were copied);
//! 2. the mapped path itself;
//! 3. `<dir>/<file name>` for each `--symbol-dir` / `HEAPDIFF_SYMBOL_PATH` entry;
//! 4. with a build ID: `<root>/.build-id/<xx>/<rest>` for `/usr/lib/debug`
//!    and each symbol directory, then `<debuginfod cache>/<build id>/executable`.
//!
//! When the profile recorded a build ID, only a file of that build is used:
//! a production profile read on a developer's machine names another
//! `libc.so.6` at the same path, and that file's symbols would put most of
//! the memory under wrong names. Every candidate is tried before giving up.
//! The one exception is a `--binary` file matched by name: the user chose
//! it, so it is used (with a warning) when no file of the right build is
//! found.
//!
//! Its debug info, in order:
//! 1. the binary's own DWARF;
//! 2. `<root>/.build-id/<xx>/<rest>.debug` for `/usr/lib/debug` and each symbol directory;
//! 3. the `.gnu_debuglink` name in the binary's directory, its `.debug/`
//!    subdirectory, `/usr/lib/debug/<binary's directory>/`, and each symbol directory;
//! 4. `<debuginfod cache>/<build id>/debuginfo`.
//!
//! A debug file whose build ID differs from the binary's is skipped.

use std::path::{Path, PathBuf};

use crate::elf::ElfInfo;

/// Where to look, beyond the mapped paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPaths {
    /// Binaries given by the user (`--binary`), matched by file name or build ID.
    pub binaries: Vec<PathBuf>,
    /// Directories of binaries and debug files (`--symbol-dir`, `HEAPDIFF_SYMBOL_PATH`).
    pub symbol_dirs: Vec<PathBuf>,
    /// The system's debug root, `/usr/lib/debug`.
    pub debug_root: PathBuf,
    /// The debuginfod client cache, if there is one.
    pub debuginfod_cache: Option<PathBuf>,
    /// Directories holding Python sources (`--source-root`), tried before
    /// the path a profile recorded.
    pub source_roots: Vec<PathBuf>,
    /// The most bytes one file's compressed debug sections may inflate to,
    /// together (default 1 GiB). A file claiming more has its DWARF left
    /// unread, with a warning, before anything is inflated.
    pub max_inflated_bytes: u64,
}

impl Default for SearchPaths {
    fn default() -> Self {
        SearchPaths {
            binaries: Vec::new(),
            symbol_dirs: Vec::new(),
            debug_root: PathBuf::from("/usr/lib/debug"),
            debuginfod_cache: None,
            source_roots: Vec::new(),
            max_inflated_bytes: 1 << 30,
        }
    }
}

impl SearchPaths {
    /// The debuginfod client cache named by the environment:
    /// `$DEBUGINFOD_CACHE_PATH`, else `$XDG_CACHE_HOME/debuginfod_client`, else
    /// `~/.cache/debuginfod_client`.
    pub fn debuginfod_cache_from_env() -> Option<PathBuf> {
        let var = |k| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        var("DEBUGINFOD_CACHE_PATH")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("debuginfod_client")))
            .or_else(|| var("HOME").map(|h| h.join(".cache/debuginfod_client")))
    }

    /// Finds the binary for a mapping whose profile recorded `build_id`
    /// (if any): a file of that very build, else what [`BinaryMatch`] says.
    pub(crate) fn find_binary(&self, mapped: &Path, build_id: Option<&str>) -> BinaryMatch {
        let name = mapped.file_name();
        let given: Vec<(PathBuf, ElfInfo)> = self
            .binaries
            .iter()
            .filter_map(|b| ElfInfo::read(b).ok().map(|info| (b.clone(), info)))
            .collect();
        let same_build =
            |info: &ElfInfo| build_id.is_none_or(|id| info.build_id_hex().as_deref() == Some(id));
        if let Some(id) = build_id
            && let Some((path, info)) = given
                .iter()
                .find(|(_, info)| info.build_id_hex().as_deref() == Some(id))
        {
            return BinaryMatch::Found(path.clone(), info.clone());
        }
        let given_by_name = given
            .into_iter()
            .find(|(b, _)| name.is_some() && b.file_name() == name);
        if build_id.is_none()
            && let Some((path, info)) = given_by_name
        {
            return BinaryMatch::Found(path, info);
        }
        let mut other_build = None;
        for candidate in self.binary_candidates(mapped, build_id) {
            let Ok(info) = ElfInfo::read(&candidate) else {
                continue;
            };
            if same_build(&info) {
                return BinaryMatch::Found(candidate, info);
            }
            other_build.get_or_insert((candidate, info));
        }
        if let Some((path, info)) = given_by_name {
            return BinaryMatch::Forced(path, info);
        }
        match other_build {
            Some((path, info)) => BinaryMatch::OtherBuild(path, info),
            None => BinaryMatch::NotFound,
        }
    }

    /// Where a mapping's binary may be, beyond the `--binary` files: the
    /// mapped path, each symbol directory, and with a build ID the
    /// `.build-id` trees and the debuginfod cache.
    fn binary_candidates(&self, mapped: &Path, build_id: Option<&str>) -> Vec<PathBuf> {
        let mut candidates: Vec<PathBuf> = vec![mapped.to_path_buf()];
        if let Some(name) = mapped.file_name() {
            candidates.extend(self.symbol_dirs.iter().map(|d| d.join(name)));
        }
        if let Some(id) = build_id {
            if let Some(rel) = build_id_path(id, "") {
                candidates.push(self.debug_root.join(&rel));
                candidates.extend(self.symbol_dirs.iter().map(|d| d.join(&rel)));
            }
            if let Some(cache) = &self.debuginfod_cache {
                candidates.push(cache.join(id).join("executable"));
            }
        }
        candidates
    }

    /// Finds the file holding the DWARF of `binary`, if any.
    pub(crate) fn find_debug(&self, binary: &Path, info: &ElfInfo) -> Option<PathBuf> {
        if info.has_dwarf {
            return Some(binary.to_path_buf());
        }
        let id = info.build_id_hex();
        let mut candidates = Vec::new();
        if let Some(rel) = id.as_deref().and_then(|id| build_id_path(id, ".debug")) {
            candidates.push(self.debug_root.join(&rel));
            candidates.extend(self.symbol_dirs.iter().map(|d| d.join(&rel)));
        }
        if let Some(link) = &info.debuglink {
            let dir = binary.parent().unwrap_or(Path::new("/"));
            candidates.push(dir.join(link));
            candidates.push(dir.join(".debug").join(link));
            let relative_dir = dir.strip_prefix("/").unwrap_or(dir);
            candidates.push(self.debug_root.join(relative_dir).join(link));
            candidates.extend(self.symbol_dirs.iter().map(|d| d.join(link)));
        }
        if let (Some(id), Some(cache)) = (&id, &self.debuginfod_cache) {
            candidates.push(cache.join(id).join("debuginfo"));
        }
        candidates.into_iter().find(|c| {
            c.as_path() != binary
                && ElfInfo::read(c)
                    .is_ok_and(|d| d.has_dwarf && (id.is_none() || d.build_id_hex() == id))
        })
    }
}

/// `.build-id/<xx>/<rest><suffix>`, where a build-ID tree keeps the file of
/// build ID `<xx><rest>` (the binary without a suffix, its debug file with
/// `.debug`).
fn build_id_path(id: &str, suffix: &str) -> Option<PathBuf> {
    (id.len() > 2 && id.is_ascii()).then(|| {
        Path::new(".build-id")
            .join(&id[..2])
            .join(format!("{}{suffix}", &id[2..]))
    })
}

/// What the search found for a mapping.
#[derive(Debug)]
pub(crate) enum BinaryMatch {
    /// A file of the profile's build (or any file, when the profile
    /// recorded no build ID).
    Found(PathBuf, ElfInfo),
    /// A `--binary` file of another build, matched by name and nothing of
    /// the right build anywhere: the user's choice, used with a warning.
    Forced(PathBuf, ElfInfo),
    /// Only files of other builds (or without a build ID): their symbols
    /// would be wrong, so none is used.
    OtherBuild(PathBuf, ElfInfo),
    /// No file at all.
    NotFound,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debuginfod_cache_env_order() {
        // Only checks the fallbacks compose; the environment is the test's.
        if let Some(p) = SearchPaths::debuginfod_cache_from_env() {
            assert!(p.is_absolute() || p.components().count() > 0);
        }
    }

    #[test]
    fn the_running_binary_is_found_by_its_path_and_carries_its_own_dwarf() {
        let me = std::env::current_exe().unwrap();
        let paths = SearchPaths::default();
        let BinaryMatch::Found(found, info) = paths.find_binary(&me, None) else {
            panic!("not found")
        };
        assert_eq!(found, me);
        assert_eq!(paths.find_debug(&found, &info), Some(me));
    }

    #[test]
    fn given_binaries_win_by_name_or_build_id() {
        let me = std::env::current_exe().unwrap();
        let info = ElfInfo::read(&me).unwrap();
        let paths = SearchPaths {
            binaries: vec![me.clone()],
            ..SearchPaths::default()
        };
        // The mapping names a path that no longer exists, with the same file name.
        let moved = Path::new("/old/build/dir").join(me.file_name().unwrap());
        assert_eq!(found(&paths, &moved, None), Some(me.clone()));
        // Or a different name but the same build ID.
        if let Some(id) = info.build_id_hex() {
            let renamed = Path::new("/srv/app-v2");
            assert_eq!(found(&paths, renamed, Some(&id)), Some(me.clone()));
        }
        assert_eq!(found(&SearchPaths::default(), &moved, None), None);
    }

    #[test]
    fn symbol_dirs_hold_moved_binaries() {
        let me = std::env::current_exe().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("app");
        std::fs::copy(&me, &copy).unwrap();
        let paths = SearchPaths {
            symbol_dirs: vec![dir.path().to_path_buf()],
            ..SearchPaths::default()
        };
        assert_eq!(found(&paths, Path::new("/gone/app"), None), Some(copy));
    }

    /// The file `find_binary` settles on without reservation.
    fn found(paths: &SearchPaths, mapped: &Path, build_id: Option<&str>) -> Option<PathBuf> {
        match paths.find_binary(mapped, build_id) {
            BinaryMatch::Found(path, _) => Some(path),
            _ => None,
        }
    }

    /// A directory holding `app`, a copy of this test binary of another
    /// build, and the build ID of the real one.
    fn another_build() -> (tempfile::TempDir, String) {
        let me = std::env::current_exe().unwrap();
        let dir = tempfile::tempdir().unwrap();
        crate::elf::tests::copy_of_another_build(&me, &dir.path().join("app"));
        let id = ElfInfo::read(&me).unwrap().build_id_hex().unwrap();
        (dir, id)
    }

    #[test]
    fn files_of_another_build_are_passed_over_for_one_of_the_right_build() {
        let me = std::env::current_exe().unwrap();
        let (wrong, id) = another_build();
        let right = tempfile::tempdir().unwrap();
        std::fs::copy(&me, right.path().join("app")).unwrap();
        let paths = SearchPaths {
            symbol_dirs: vec![wrong.path().to_path_buf(), right.path().to_path_buf()],
            ..SearchPaths::default()
        };
        // The mapped path and the first directory hold other builds.
        let mapped = wrong.path().join("app");
        assert_eq!(
            found(&paths, &mapped, Some(&id)),
            Some(right.path().join("app"))
        );
        // Without a build ID, the first file found is taken.
        assert_eq!(found(&paths, &mapped, None), Some(mapped.clone()));
    }

    #[test]
    fn the_build_id_tree_is_searched_for_the_binary() {
        let me = std::env::current_exe().unwrap();
        let (wrong, id) = another_build();
        let tree = tempfile::tempdir().unwrap();
        let in_tree = tree.path().join(build_id_path(&id, "").unwrap());
        std::fs::create_dir_all(in_tree.parent().unwrap()).unwrap();
        std::fs::copy(&me, &in_tree).unwrap();
        let paths = SearchPaths {
            debug_root: tree.path().to_path_buf(),
            ..SearchPaths::default()
        };
        assert_eq!(
            found(&paths, &wrong.path().join("app"), Some(&id)),
            Some(in_tree)
        );
    }

    #[test]
    fn only_files_of_another_build_are_refused_unless_given() {
        let (wrong, id) = another_build();
        let mapped = wrong.path().join("app");
        let paths = SearchPaths::default();
        assert!(matches!(
            paths.find_binary(&mapped, Some(&id)),
            BinaryMatch::OtherBuild(p, _) if p == mapped
        ));
        let given = SearchPaths {
            binaries: vec![mapped.clone()],
            ..SearchPaths::default()
        };
        assert!(matches!(
            given.find_binary(Path::new("/srv/app"), Some(&id)),
            BinaryMatch::Forced(p, _) if p == mapped
        ));
        assert!(matches!(
            paths.find_binary(Path::new("/srv/app"), Some(&id)),
            BinaryMatch::NotFound
        ));
    }
}
