//! Symbol tables, for addresses without DWARF: a function's name from
//! `.symtab` (or `.dynsym` in a stripped file), honouring symbol sizes.
//!
//! A plain "nearest preceding symbol" lookup names every static function of
//! a stripped library after the exported function before it (jemalloc's
//! internals all become `malloc_usable_size`). Sizes prevent that: an
//! address past the end of the preceding symbol has no name.

use std::fs::File;
use std::path::Path;

use object::{Object, ObjectSymbol, ReadCache, SymbolKind};

/// Function symbols by address.
#[derive(Debug, Default)]
pub(crate) struct SymbolTable {
    /// `(address, size, name)`, sorted by address.
    entries: Vec<(u64, u64, String)>,
}

impl SymbolTable {
    /// The text symbols of the files, the first file's winning where two
    /// name the same address. Unreadable files add nothing.
    pub(crate) fn read(paths: &[&Path]) -> SymbolTable {
        let mut entries = Vec::new();
        for path in paths {
            if !std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0) {
                continue;
            }
            let Ok(file) = File::open(path) else { continue };
            let cache = ReadCache::new(file);
            let Ok(obj) = object::File::parse(&cache) else {
                continue;
            };
            let symbols: Vec<_> = if obj.symbols().next().is_some() {
                obj.symbols().collect()
            } else {
                obj.dynamic_symbols().collect()
            };
            for s in symbols {
                if s.kind() != SymbolKind::Text || !s.is_definition() || s.address() == 0 {
                    continue;
                }
                if let Ok(name) = s.name()
                    && !name.is_empty()
                {
                    entries.push((s.address(), s.size(), name.to_owned()));
                }
            }
        }
        // Stable: for one address, the first file's (and first table's) name.
        entries.sort_by_key(|e| e.0);
        entries.dedup_by_key(|e| e.0);
        SymbolTable { entries }
    }

    /// The (demangled) function containing `vaddr`.
    pub(crate) fn find(&self, vaddr: u64) -> Option<String> {
        let i = self
            .entries
            .partition_point(|e| e.0 <= vaddr)
            .checked_sub(1)?;
        let (addr, size, name) = &self.entries[i];
        if *size > 0 && vaddr - addr >= *size {
            return None;
        }
        Some(addr2line::demangle_auto(name.into(), None).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[(u64, u64, &str)]) -> SymbolTable {
        SymbolTable {
            entries: entries
                .iter()
                .map(|&(a, s, n)| (a, s, n.to_owned()))
                .collect(),
        }
    }

    #[test]
    fn sizes_bound_symbols() {
        let t = table(&[
            (0x100, 0x20, "malloc"),
            (0x200, 0, "label"),
            (0x300, 0x10, "_ZN3foo3barEv"),
        ]);
        assert_eq!(t.find(0x100).as_deref(), Some("malloc"));
        assert_eq!(t.find(0x11f).as_deref(), Some("malloc"));
        assert_eq!(t.find(0x120), None, "past malloc's end");
        assert_eq!(
            t.find(0x250).as_deref(),
            Some("label"),
            "size 0: unknown extent"
        );
        assert_eq!(t.find(0x305).as_deref(), Some("foo::bar()"));
        assert_eq!(t.find(0x50), None);
    }

    #[test]
    fn reads_this_binary() {
        let me = std::env::current_exe().unwrap();
        let t = SymbolTable::read(&[me.as_path(), Path::new("/nonexistent")]);
        assert!(t.entries.len() > 100);
    }
}
