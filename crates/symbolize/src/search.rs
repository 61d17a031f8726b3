//! Where the files are: the binary a mapping names, and the debug info for
//! it. Only local files are read; nothing is fetched from the network.
//!
//! The binary, in order:
//! 1. a `--binary` file whose name equals the mapping's file name, or whose
//!    build ID equals the profile's (binaries that moved or were copied);
//! 2. the mapped path itself;
//! 3. `<dir>/<file name>` for each `--symbol-dir` / `HEAPDIFF_SYMBOL_PATH` entry;
//! 4. with a build ID: `<debuginfod cache>/<build id>/executable`.
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
}

impl Default for SearchPaths {
    fn default() -> Self {
        SearchPaths {
            binaries: Vec::new(),
            symbol_dirs: Vec::new(),
            debug_root: PathBuf::from("/usr/lib/debug"),
            debuginfod_cache: None,
            source_roots: Vec::new(),
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

    /// Finds the binary for a mapping. Returns its path and header facts.
    pub(crate) fn find_binary(
        &self,
        mapped: &Path,
        build_id: Option<&str>,
    ) -> Option<(PathBuf, ElfInfo)> {
        let name = mapped.file_name();
        let given = self.binaries.iter().filter_map(|b| {
            let info = ElfInfo::read(b).ok()?;
            let by_id = build_id.is_some() && info.build_id_hex().as_deref() == build_id;
            (by_id || (name.is_some() && b.file_name() == name)).then(|| (b.clone(), info))
        });
        // A build-ID match beats a name match among the given binaries.
        let mut given: Vec<_> = given.collect();
        given.sort_by_key(|(_, info)| {
            build_id.is_none() || info.build_id_hex().as_deref() != build_id
        });
        if let Some(found) = given.into_iter().next() {
            return Some(found);
        }
        let mut candidates: Vec<PathBuf> = vec![mapped.to_path_buf()];
        if let Some(name) = name {
            candidates.extend(self.symbol_dirs.iter().map(|d| d.join(name)));
        }
        if let (Some(id), Some(cache)) = (build_id, &self.debuginfod_cache) {
            candidates.push(cache.join(id).join("executable"));
        }
        candidates
            .into_iter()
            .find_map(|c| ElfInfo::read(&c).ok().map(|info| (c, info)))
    }

    /// Finds the file holding the DWARF of `binary`, if any.
    pub(crate) fn find_debug(&self, binary: &Path, info: &ElfInfo) -> Option<PathBuf> {
        if info.has_dwarf {
            return Some(binary.to_path_buf());
        }
        let id = info.build_id_hex();
        let mut candidates = Vec::new();
        if let Some(id) = &id
            && id.len() > 2
        {
            let rel = Path::new(".build-id")
                .join(&id[..2])
                .join(format!("{}.debug", &id[2..]));
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
        let (found, info) = paths.find_binary(&me, None).unwrap();
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
        assert_eq!(paths.find_binary(&moved, None).unwrap().0, me);
        // Or a different name but the same build ID.
        if let Some(id) = info.build_id_hex() {
            let renamed = Path::new("/srv/app-v2");
            assert_eq!(paths.find_binary(renamed, Some(&id)).unwrap().0, me);
        }
        assert!(SearchPaths::default().find_binary(&moved, None).is_none());
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
        assert_eq!(
            paths.find_binary(Path::new("/gone/app"), None).unwrap().0,
            copy
        );
    }
}
