//! What a file's compressed debug sections would inflate to, checked before
//! anything is inflated.
//!
//! `SHF_COMPRESSED` sections (and GNU's older `.zdebug_*` ones) record the
//! size they inflate to in a header, and `addr2line` allocates that much
//! and inflates every DWARF section when it opens a file. A 4 MB binary
//! whose `.debug_info` claims 4 GiB would cost 4 GiB (or, with zeros that
//! compress a thousand to one, really fill it), whatever the profile. So
//! the claimed sizes are read from the section headers and compared with
//! [`SearchPaths::max_inflated_bytes`](crate::SearchPaths::max_inflated_bytes)
//! first: a file over the limit has its DWARF left unread.

use std::fs::File;
use std::path::{Path, PathBuf};

use object::{CompressionFormat, Object, ObjectSection, ReadCache};

/// A file whose compressed debug sections would inflate past the limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Oversized {
    pub(crate) path: PathBuf,
    /// The largest compressed debug section.
    pub(crate) section: String,
    /// Its size in the file.
    pub(crate) compressed: u64,
    /// The size it claims to inflate to.
    pub(crate) inflated: u64,
    /// What every compressed debug section of the file claims, together.
    pub(crate) total: u64,
}

impl std::fmt::Display for Oversized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: its compressed debug section {} claims to inflate from {} to {}",
            self.path.display(),
            self.section,
            size(self.compressed),
            size(self.inflated)
        )?;
        if self.total > self.inflated {
            write!(f, " ({} with the other sections)", size(self.total))?;
        }
        Ok(())
    }
}

/// Checks the files `addr2line` reads for `debug` (the file itself and a
/// `.dwp` package beside it) against `limit` bytes, inflated.
pub(crate) fn check_dwarf_files(debug: &Path, limit: u64) -> Result<(), Oversized> {
    check(debug, limit)?;
    let mut package = debug.as_os_str().to_owned();
    package.push(".dwp");
    check(Path::new(&package), limit)
}

/// Checks one file; a file that cannot be read or parsed passes (the
/// loader will fail on it without inflating anything).
fn check(path: &Path, limit: u64) -> Result<(), Oversized> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Ok(());
    }
    let Ok(file) = File::open(path) else {
        return Ok(());
    };
    let cache = ReadCache::new(file);
    let Ok(obj) = object::File::parse(&cache) else {
        return Ok(());
    };
    let mut largest: Option<Oversized> = None;
    let mut total = 0u64;
    for section in obj.sections() {
        let Ok(name) = section.name() else { continue };
        if !(name.starts_with(".debug_") || name.starts_with(".zdebug_")) {
            continue;
        }
        let Ok(range) = section.compressed_file_range() else {
            continue;
        };
        if range.format == CompressionFormat::None {
            continue;
        }
        total = total.saturating_add(range.uncompressed_size);
        if largest
            .as_ref()
            .is_none_or(|l| range.uncompressed_size > l.inflated)
        {
            largest = Some(Oversized {
                path: path.to_path_buf(),
                section: name.to_owned(),
                compressed: range.compressed_size,
                inflated: range.uncompressed_size,
                total: 0,
            });
        }
    }
    match largest {
        Some(l) if total > limit => Err(Oversized { total, ..l }),
        _ => Ok(()),
    }
}

/// A byte count, in the largest binary unit it fills.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal ELF file (x86-64, `ET_DYN`, no segments) whose only
    /// section, `.debug_info`, is `SHF_COMPRESSED` and claims to inflate
    /// to `claimed` bytes, holding a few bytes of zlib.
    pub(crate) fn elf_with_compressed_debug_info(claimed: u64) -> Vec<u8> {
        const SHF_COMPRESSED: u64 = 0x800;
        const ELFCOMPRESS_ZLIB: u32 = 1;
        // zlib of 16 zero bytes.
        let zlib: &[u8] = &[
            0x78, 0x9c, 0x63, 0x60, 0x40, 0x05, 0x00, 0x00, 0x10, 0x00, 0x01,
        ];
        let mut section = Vec::new();
        section.extend(ELFCOMPRESS_ZLIB.to_le_bytes()); // ch_type
        section.extend(0u32.to_le_bytes()); // ch_reserved
        section.extend(claimed.to_le_bytes()); // ch_size
        section.extend(1u64.to_le_bytes()); // ch_addralign
        section.extend(zlib);
        let names = b"\0.debug_info\0.shstrtab\0";
        let section_at = 64u64;
        let names_at = section_at + section.len() as u64;
        let headers_at = (names_at + names.len() as u64).next_multiple_of(8);

        let mut elf = Vec::new();
        elf.extend(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"); // 64-bit, LSB, v1
        elf.extend(3u16.to_le_bytes()); // e_type: ET_DYN
        elf.extend(62u16.to_le_bytes()); // e_machine: x86-64
        elf.extend(1u32.to_le_bytes()); // e_version
        elf.extend(0u64.to_le_bytes()); // e_entry
        elf.extend(0u64.to_le_bytes()); // e_phoff
        elf.extend(headers_at.to_le_bytes()); // e_shoff
        elf.extend(0u32.to_le_bytes()); // e_flags
        elf.extend(64u16.to_le_bytes()); // e_ehsize
        elf.extend(56u16.to_le_bytes()); // e_phentsize
        elf.extend(0u16.to_le_bytes()); // e_phnum
        elf.extend(64u16.to_le_bytes()); // e_shentsize
        elf.extend(3u16.to_le_bytes()); // e_shnum
        elf.extend(2u16.to_le_bytes()); // e_shstrndx
        elf.extend(&section);
        elf.extend(names);
        elf.resize(headers_at as usize, 0);
        let mut header = |name: u32, kind: u32, flags: u64, at: u64, len: usize| {
            elf.extend(name.to_le_bytes());
            elf.extend(kind.to_le_bytes());
            elf.extend(flags.to_le_bytes());
            elf.extend(0u64.to_le_bytes()); // sh_addr
            elf.extend(at.to_le_bytes());
            elf.extend((len as u64).to_le_bytes());
            elf.extend(0u32.to_le_bytes()); // sh_link
            elf.extend(0u32.to_le_bytes()); // sh_info
            elf.extend(1u64.to_le_bytes()); // sh_addralign
            elf.extend(0u64.to_le_bytes()); // sh_entsize
        };
        header(0, 0, 0, 0, 0);
        header(1, 1, SHF_COMPRESSED, section_at, section.len()); // SHT_PROGBITS
        header(13, 3, 0, names_at, names.len()); // SHT_STRTAB
        elf
    }

    #[test]
    fn claimed_sizes_are_checked_before_anything_is_inflated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app");
        std::fs::write(&path, elf_with_compressed_debug_info(4 << 30)).unwrap();
        let oversized = check_dwarf_files(&path, 64 << 20).unwrap_err();
        assert_eq!(oversized.section, ".debug_info");
        assert_eq!(oversized.inflated, 4 << 30);
        assert_eq!(
            oversized.to_string(),
            format!(
                "{}: its compressed debug section .debug_info claims to inflate from 11 B to 4.0 GiB",
                path.display()
            )
        );
        assert_eq!(check_dwarf_files(&path, 4 << 30), Ok(()));
        std::fs::write(&path, elf_with_compressed_debug_info(16)).unwrap();
        assert_eq!(check_dwarf_files(&path, 64 << 20), Ok(()));
    }

    #[test]
    fn uncompressed_and_unreadable_files_pass() {
        let me = std::env::current_exe().unwrap();
        assert_eq!(
            check_dwarf_files(&me, 0),
            Ok(()),
            "test binaries are uncompressed"
        );
        assert_eq!(check_dwarf_files(Path::new("/no/such/file"), 0), Ok(()));
    }

    #[test]
    fn sizes_are_in_binary_units() {
        assert_eq!(size(36), "36 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(64 << 20), "64.0 MiB");
        assert_eq!(size(4 << 30), "4.0 GiB");
    }
}
