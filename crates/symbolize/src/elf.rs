//! What the symbolizer needs from an ELF file's headers: its type, its
//! `PT_LOAD` segments (to turn a runtime address into a virtual address), its
//! build ID, its `.gnu_debuglink`, and whether it carries DWARF.
//!
//! Files are read lazily through [`object::ReadCache`]: only the headers,
//! notes and the debuglink section are read, not the whole binary.

use std::fs::File;
use std::path::Path;

use object::{Object, ObjectKind, ObjectSection, ObjectSegment, ReadCache};

/// A loadable segment: file bytes `[offset, offset + size)` are mapped at
/// virtual address `vaddr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Load {
    pub(crate) offset: u64,
    pub(crate) size: u64,
    pub(crate) vaddr: u64,
}

/// Header facts of one ELF file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ElfInfo {
    /// `ET_EXEC`: loaded at its link addresses (no relocation).
    pub(crate) fixed: bool,
    pub(crate) loads: Vec<Load>,
    pub(crate) build_id: Option<Vec<u8>>,
    pub(crate) debuglink: Option<String>,
    pub(crate) has_dwarf: bool,
}

impl ElfInfo {
    /// Reads the headers of a regular file. Anything else (a FIFO, a
    /// device, `/proc/self/mem`) is refused without being opened for reading.
    pub(crate) fn read(path: &Path) -> Result<ElfInfo, String> {
        let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".to_owned());
        }
        if meta.len() == 0 {
            // Also what /proc files (`/proc/self/mem`) report.
            return Err("empty file".to_owned());
        }
        let file = File::open(path).map_err(|e| e.to_string())?;
        let cache = ReadCache::new(file);
        let obj = object::File::parse(&cache).map_err(|e| format!("not an ELF file ({e})"))?;
        let loads = obj
            .segments()
            .filter_map(|s| {
                let (offset, size) = s.file_range();
                (size > 0).then(|| Load {
                    offset,
                    size,
                    vaddr: s.address(),
                })
            })
            .collect();
        let build_id = obj.build_id().ok().flatten().map(<[u8]>::to_vec);
        let debuglink = obj
            .gnu_debuglink()
            .ok()
            .flatten()
            .map(|(name, _crc)| String::from_utf8_lossy(name).into_owned());
        let has_dwarf = obj
            .section_by_name(".debug_info")
            .is_some_and(|s| s.size() > 0 && s.kind() != object::SectionKind::UninitializedData);
        Ok(ElfInfo {
            fixed: obj.kind() == ObjectKind::Executable,
            loads,
            build_id,
            debuglink,
            has_dwarf,
        })
    }

    /// The virtual address a file offset is loaded at, if a segment holds it.
    pub(crate) fn vaddr_of_offset(&self, offset: u64) -> Option<u64> {
        self.loads
            .iter()
            .find(|l| l.offset <= offset && offset - l.offset < l.size)
            .map(|l| offset - l.offset + l.vaddr)
    }

    /// The build ID as lower-case hex.
    pub(crate) fn build_id_hex(&self) -> Option<String> {
        self.build_id.as_deref().map(hex)
    }
}

/// Bytes as lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Copies the ELF file `from` to `to` with one bit of its build ID
    /// flipped: the same code, as if of another build.
    pub(crate) fn copy_of_another_build(from: &Path, to: &Path) {
        let mut data = std::fs::read(from).unwrap();
        let id = ElfInfo::read(from).unwrap().build_id.expect("a build ID");
        let at = data
            .windows(id.len())
            .position(|w| w == id.as_slice())
            .unwrap();
        data[at + id.len() - 1] ^= 1;
        std::fs::write(to, data).unwrap();
        assert_ne!(ElfInfo::read(to).unwrap().build_id, Some(id));
    }

    #[test]
    fn offsets_map_through_load_segments() {
        let info = ElfInfo {
            fixed: false,
            loads: vec![
                Load {
                    offset: 0,
                    size: 0x1000,
                    vaddr: 0,
                },
                // lld-style: file offset and virtual address differ.
                Load {
                    offset: 0x1000,
                    size: 0x5000,
                    vaddr: 0x2000,
                },
            ],
            build_id: Some(vec![0xab, 0x01]),
            debuglink: None,
            has_dwarf: true,
        };
        assert_eq!(info.vaddr_of_offset(0x10), Some(0x10));
        assert_eq!(info.vaddr_of_offset(0x1234), Some(0x2234));
        assert_eq!(info.vaddr_of_offset(0x6000), None);
        assert_eq!(info.build_id_hex().as_deref(), Some("ab01"));
    }

    #[test]
    fn reads_this_test_binary() {
        let me = std::env::current_exe().unwrap();
        let info = ElfInfo::read(&me).unwrap();
        assert!(!info.loads.is_empty());
        assert!(info.has_dwarf, "test binaries carry debug info");
    }

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        assert_eq!(
            ElfInfo::read(Path::new("/proc/self")).unwrap_err(),
            "not a regular file"
        );
        assert_eq!(
            ElfInfo::read(Path::new("/proc/self/mem")).unwrap_err(),
            "empty file"
        );
        assert!(ElfInfo::read(Path::new("/nonexistent/x")).is_err());
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("t.txt");
        std::fs::write(&text, b"hello").unwrap();
        assert!(
            ElfInfo::read(&text)
                .unwrap_err()
                .starts_with("not an ELF file")
        );
    }
}
