//! heapdiff's symbolizer: raw return addresses and the mappings they fall in
//! become functions, source files, lines and inlined frames.
//!
//! jemalloc, gperftools and tcmalloc dumps, and pprof files written without
//! symbols (jemalloc_pprof without its `symbolize` feature), name frames only
//! by address. [`Symbolizer::symbolize`] replaces every such frame of a
//! [`Profile`] by the frames the binary's DWARF gives for it, innermost
//! inlined function first, exactly where pprof would put them.
//!
//! # Design constraints
//!
//! - **In-process and in bulk.** pprof runs `llvm-symbolizer` and jeprof
//!   runs `addr2line`, a process fed one address at a time. Here each binary
//!   is opened once (memory-mapped), and every address of it, from both
//!   profiles, is resolved against the same parsed DWARF; results are cached
//!   per `(binary, address)`.
//! - **Addresses as the loader placed them.** A runtime address `A` in a
//!   mapping `(start, offset)` is at file offset `A - start + offset`; the
//!   `PT_LOAD` segment holding that offset gives the virtual address DWARF
//!   speaks of. This is right for PIE executables and shared objects
//!   whatever their layout (lld often has `p_vaddr != p_offset`), and for
//!   `ET_EXEC` binaries (the result is `A`). A "fake" mapping (start 0,
//!   offset 0, limit 0 or `u64::MAX`, as jemalloc_pprof ≥ 0.8.2 writes)
//!   means the addresses are virtual addresses already.
//! - **Best effort, never a failure.** A binary that cannot be found, or
//!   that has no debug info, costs names, not the run: unresolved frames are
//!   named `0x<virtual address> (<file name>)`, which is stable across runs
//!   of the same build (ASLR moves runtime addresses, not these), and each
//!   binary gets one summary warning.
//! - **Local files only.** Debug info is looked for where a system puts it
//!   (see [`SearchPaths`]); nothing is fetched from the network. Files are
//!   checked to be regular files before they are opened.
//!
//! # Why addr2line and object
//!
//! `addr2line` (gimli-rs) parses DWARF lazily, resolves inlined frames,
//! demangles Rust and C++ names, and reads split and compressed DWARF;
//! `object` reads ELF headers, build IDs and `.gnu_debuglink` without
//! reading whole files. Both are small, pure Rust, and the stack
//! `std::backtrace` itself uses. `blazesym` also follows debug links, but
//! heapdiff needs its own search order (user-given binaries by name or
//! build ID, build-ID checks, the debuginfod cache without the network),
//! so the added weight would buy nothing.
//!
//! # Example
//!
//! ```no_run
//! use heapdiff_symbolize::{NoProgress, SearchPaths, Symbolizer};
//!
//! let mut profile = heapdiff_profile::open("after.heap".as_ref()).unwrap();
//! let mut symbolizer = Symbolizer::new(SearchPaths::default());
//! let report = symbolizer.symbolize(&mut profile, None, &NoProgress);
//! for w in &report.warnings {
//!     eprintln!("warning: {w}");
//! }
//! ```

mod elf;
mod inflated;
mod python;
mod readable;
mod search;
mod source;
mod symtab;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

use heapdiff_profile::{Frame, Mapping, MappingId, Profile, SymbolFrame};
use rustc_hash::FxHashMap;

use elf::ElfInfo;
use search::BinaryMatch;
pub use search::SearchPaths;
pub use source::SourceFiles;
use symtab::SymbolTable;

/// Receives progress while addresses are resolved (a progress bar, say).
pub trait Progress {
    /// Symbolizing `addresses` distinct frames starts.
    fn begin(&self, addresses: u64) {
        let _ = addresses;
    }
    /// `n` more frames are done.
    fn advance(&self, n: u64) {
        let _ = n;
    }
    /// Done.
    fn end(&self) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What one [`Symbolizer::symbolize`] call did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Frames named with a source line (from DWARF).
    pub with_lines: usize,
    /// Frames named from a symbol table only (no line).
    pub symbol_only: usize,
    /// Frames left as `0x… (file)`.
    pub unresolved: usize,
    /// Python frames (a file and line, no function) named from their source.
    pub from_source: usize,
    /// Python frames whose source could not be read, left as `file:line`.
    pub without_source: usize,
    /// Problems met for the first time in this call (a binary not found,
    /// a build-ID mismatch, a binary newer than the profile). The per-binary
    /// counts come from [`Symbolizer::summary`] once every profile is done.
    pub warnings: Vec<String>,
}

/// A loaded binary and its debug info.
struct Object {
    /// File name, for frame names and messages.
    name: String,
    /// The file found for the mapping.
    path: PathBuf,
    info: ElfInfo,
    /// DWARF (the binary itself or its separate debug file).
    dwarf: Option<addr2line::Loader>,
    /// The DWARF was left unread, its sections claiming to inflate past
    /// the limit (one warning said so already).
    dwarf_over_limit: bool,
    /// Function symbols of the debug file and the binary.
    symbols: SymbolTable,
}

/// A mapping whose binary is unusable.
#[derive(Clone, Debug)]
struct Missing {
    name: String,
    path: String,
    /// A file was found but is of another build (one warning said so
    /// already): not counted among the binaries not found.
    other_build: bool,
}

type Resolved = Rc<Vec<SymbolFrame>>;

/// Resolves addresses to frames, caching binaries and results across
/// profiles (the before and after profiles usually share every binary).
pub struct Symbolizer {
    paths: SearchPaths,
    objects: Vec<Object>,
    /// Mapping `(path, build id)` -> object index, or why there is none.
    by_mapping: FxHashMap<(String, String), Result<usize, Missing>>,
    cache: FxHashMap<(usize, u64), Resolved>,
    /// Distinct addresses per missing binary (for the summary).
    missing: FxHashMap<String, rustc_hash::FxHashSet<u64>>,
    /// Distinct addresses outside every mapping.
    unmapped: rustc_hash::FxHashSet<u64>,
    /// Python source files, read once.
    sources: python::Sources,
}

/// How one frame was named.
enum Outcome {
    Lines,
    Symbol,
    Unresolved,
}

impl Symbolizer {
    /// A symbolizer that looks for binaries and debug info in `paths`.
    pub fn new(paths: SearchPaths) -> Self {
        let paths_source_roots = paths.source_roots.clone();
        Symbolizer {
            paths,
            objects: Vec::new(),
            by_mapping: FxHashMap::default(),
            cache: FxHashMap::default(),
            missing: FxHashMap::default(),
            unmapped: Default::default(),
            sources: python::Sources::new(paths_source_roots),
        }
    }

    /// One warning per binary whose frames could not all be named, counting
    /// distinct addresses over every profile symbolized so far.
    pub fn summary(&self) -> Vec<String> {
        let mut per_object = vec![[0usize; 2]; self.objects.len()];
        for (&(object, _), frames) in &self.cache {
            match outcome_of(frames) {
                Outcome::Lines => {}
                Outcome::Symbol => per_object[object][0] += 1,
                Outcome::Unresolved => per_object[object][1] += 1,
            }
        }
        let mut out = Vec::new();
        for (o, [symbol, unresolved]) in self.objects.iter().zip(per_object) {
            let who = o.path.display();
            if o.dwarf.is_none() && !o.dwarf_over_limit && symbol > 0 {
                out.push(format!(
                    "{who} has no debug info: {symbol} address{} named by symbol without a line \
                     (install its debug package, or pass --symbol-dir)",
                    plural(symbol)
                ));
            }
            if unresolved > 0 {
                out.push(format!(
                    "{who}: {unresolved} address{} matched no symbol and {} named by address",
                    plural(unresolved),
                    if unresolved == 1 { "is" } else { "are" }
                ));
            }
        }
        let mut missing: Vec<_> = self.missing.iter().collect();
        missing.sort_by(|a, b| a.0.cmp(b.0));
        for (path, addrs) in missing {
            out.push(format!(
                "{path} was not found: {} address{} left unsymbolized (pass --binary PATH or --symbol-dir DIR)",
                addrs.len(),
                plural(addrs.len())
            ));
        }
        let missing = self.sources.missing();
        if let Some(first) = missing.first() {
            out.push(format!(
                "{} Python source file{} not found (such as {first}): {} frames are named file:line \
                 (pass --source-root DIR)",
                missing.len(),
                plural_s(missing.len()),
                if missing.len() == 1 { "its" } else { "their" }
            ));
        }
        let refused = self.sources.refused();
        if let Some(first) = refused.first() {
            out.push(format!(
                "{} Python source file{} outside the working directory, --source-root and \
                 Python's own directories {} not read (such as {first}): {} frames are named \
                 file:line (name their directory with --source-root DIR)",
                refused.len(),
                plural_s(refused.len()),
                if refused.len() == 1 { "was" } else { "were" },
                if refused.len() == 1 { "its" } else { "their" }
            ));
        }
        if !self.unmapped.is_empty() {
            out.push(format!(
                "{} address{} outside every mapping of the profile left unsymbolized",
                self.unmapped.len(),
                plural(self.unmapped.len())
            ));
        }
        out
    }

    /// Names Python frames (a file and a line but no function, as
    /// tracemalloc records them) by the `def`/`class` enclosing their line.
    fn name_from_source(&mut self, profile: &mut Profile, report: &mut Report) {
        let mut names: Vec<Option<Vec<SymbolFrame>>> = vec![None; profile.frames().len()];
        for (i, frame) in profile.frames().iter().enumerate() {
            if frame.is_symbolized() || frame.file.is_empty() {
                continue;
            }
            let file = profile.str(frame.file);
            let name = self
                .sources
                .scopes(file)
                .and_then(|s| s.name_of(frame.line).map(str::to_owned));
            match name {
                Some(function) => {
                    report.from_source += 1;
                    names[i] = Some(vec![SymbolFrame {
                        function,
                        file: file.to_owned(),
                        line: frame.line,
                    }]);
                }
                None => report.without_source += 1,
            }
        }
        if report.from_source > 0 {
            profile.replace_frames(|id, _| names[id.index()].take());
        }
    }

    /// Names every frame of `profile` that has an address but no function.
    ///
    /// `profile_time` is when the profile was written (for formats that do
    /// not record it, the file's modification time): a binary modified after
    /// it is reported, as its symbols may not match.
    pub fn symbolize(
        &mut self,
        profile: &mut Profile,
        profile_time: Option<SystemTime>,
        progress: &dyn Progress,
    ) -> Report {
        let mut report = Report::default();
        self.name_from_source(profile, &mut report);
        let targets: Vec<usize> = profile
            .frames()
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.is_symbolized() && f.file.is_empty())
            .map(|(i, _)| i)
            .collect();
        if targets.is_empty() {
            return report;
        }
        progress.begin(targets.len() as u64);
        let time = profile_time.or_else(|| {
            (profile.header.time_nanos > 0).then(|| {
                SystemTime::UNIX_EPOCH
                    + std::time::Duration::from_nanos(profile.header.time_nanos as u64)
            })
        });

        let mut problems: Vec<String> = Vec::new();
        let mut replacements: Vec<Option<Vec<SymbolFrame>>> = vec![None; profile.frames().len()];
        for (done, &i) in targets.iter().enumerate() {
            let frame = profile.frames()[i];
            let (frames, outcome) = self.resolve(profile, &frame, time, &mut problems);
            match outcome {
                Outcome::Lines => report.with_lines += 1,
                Outcome::Symbol => report.symbol_only += 1,
                Outcome::Unresolved => report.unresolved += 1,
            }
            replacements[i] = Some(frames.as_ref().clone());
            if done % 256 == 255 {
                progress.advance(256);
            }
        }
        progress.advance(targets.len() as u64 % 256);
        progress.end();
        profile.replace_frames(|id, _| replacements[id.index()].take());
        report.warnings = problems;
        report
    }

    /// Frames for one unsymbolized frame, and how it went.
    fn resolve(
        &mut self,
        profile: &Profile,
        frame: &Frame,
        time: Option<SystemTime>,
        problems: &mut Vec<String>,
    ) -> (Resolved, Outcome) {
        let Some(mapping_id) = frame.mapping else {
            self.unmapped.insert(frame.address);
            let name = format!("{:#x}", frame.address);
            return (Rc::new(vec![plain(name)]), Outcome::Unresolved);
        };
        let mapping = *profile.mapping(mapping_id);
        let object = self.object(profile, mapping_id, time, problems);
        let fake = mapping.start == 0
            && mapping.offset == 0
            && (mapping.limit == 0 || mapping.limit == u64::MAX);
        let file_offset = frame
            .address
            .checked_sub(mapping.start)
            .and_then(|d| d.checked_add(mapping.offset));
        let object = match object {
            Ok(o) => o,
            Err(missing) => {
                // Without the binary, the file offset is the stable name.
                let at = if fake {
                    frame.address
                } else {
                    file_offset.unwrap_or(frame.address)
                };
                if !missing.other_build {
                    self.missing.entry(missing.path).or_default().insert(at);
                }
                let frames = vec![plain(format!("{at:#x} ({})", missing.name))];
                return (Rc::new(frames), Outcome::Unresolved);
            }
        };
        let o = &self.objects[object];
        let vaddr = if fake {
            Some(frame.address)
        } else {
            file_offset
                .and_then(|off| o.info.vaddr_of_offset(off))
                .or_else(|| o.info.fixed.then_some(frame.address))
        };
        // Cache key: the virtual address, or for an offset no segment loads
        // (a corrupt mapping), the offset mirrored into the top half.
        let key = match vaddr {
            Some(v) => v,
            None => u64::MAX - file_offset.unwrap_or(frame.address),
        };
        if let Some(hit) = self.cache.get(&(object, key)) {
            let outcome = outcome_of(hit);
            return (hit.clone(), outcome);
        }
        let frames = Rc::new(match vaddr {
            Some(v) => lookup(o, v),
            None => vec![plain(format!(
                "{:#x} ({})",
                file_offset.unwrap_or(frame.address),
                o.name
            ))],
        });
        let outcome = outcome_of(&frames);
        self.cache.insert((object, key), frames.clone());
        (frames, outcome)
    }

    /// The object for a mapping, loading it on first use.
    fn object(
        &mut self,
        profile: &Profile,
        mapping_id: MappingId,
        time: Option<SystemTime>,
        problems: &mut Vec<String>,
    ) -> Result<usize, Missing> {
        let mapping: &Mapping = profile.mapping(mapping_id);
        let path = profile.str(mapping.path).to_owned();
        let build_id = normalize_build_id(profile.str(mapping.build_id));
        let key = (path.clone(), build_id.clone());
        if let Some(known) = self.by_mapping.get(&key) {
            return known.clone();
        }
        let result = self.load(&path, &build_id, time, problems);
        self.by_mapping.insert(key, result.clone());
        result
    }

    fn load(
        &mut self,
        mapped: &str,
        build_id: &str,
        time: Option<SystemTime>,
        problems: &mut Vec<String>,
    ) -> Result<usize, Missing> {
        let name = Path::new(mapped)
            .file_name()
            .map_or_else(|| mapped.to_owned(), |n| n.to_string_lossy().into_owned());
        let wanted_id = (!build_id.is_empty()).then_some(build_id);
        let missing = |other_build| Missing {
            name: name.clone(),
            path: mapped.to_owned(),
            other_build,
        };
        let (path, info) = match self.paths.find_binary(Path::new(mapped), wanted_id) {
            BinaryMatch::Found(path, info) => (path, info),
            BinaryMatch::Forced(path, info) => {
                problems.push(format!(
                    "{}: {} the profile's {}; its symbols may be wrong (it was given with --binary)",
                    path.display(),
                    build_id_of(&info),
                    build_id
                ));
                (path, info)
            }
            BinaryMatch::OtherBuild(path, info) => {
                problems.push(format!(
                    "{}: {} the profile's {}: its frames are left as addresses; pass the binary \
                     the profile was taken from with --binary PATH or --symbol-dir DIR",
                    path.display(),
                    build_id_of(&info),
                    build_id
                ));
                return Err(missing(true));
            }
            BinaryMatch::NotFound => {
                problems.push(format!(
                    "cannot find {} to symbolize its frames; pass --binary PATH or --symbol-dir DIR",
                    if mapped.is_empty() {
                        "a mapped binary"
                    } else {
                        mapped
                    }
                ));
                return Err(missing(false));
            }
        };
        // A minute's grace: a fresh checkout writes binary and dump together.
        if let Some(time) = time
            && let Ok(modified) = std::fs::metadata(&path).and_then(|m| m.modified())
            && modified > time + std::time::Duration::from_secs(60)
        {
            problems.push(format!(
                "{} was modified after the profile was written; its symbols may be wrong",
                path.display()
            ));
        }
        let debug = self.paths.find_debug(&path, &info);
        let limit = self.paths.max_inflated_bytes;
        let over_limit = debug
            .as_ref()
            .and_then(|d| inflated::check_dwarf_files(d, limit).err());
        if let Some(over) = &over_limit {
            problems.push(format!(
                "{over}, over the limit of {}: its DWARF is not read, so its frames have no \
                 source lines (named by symbol where it has a symbol table, else by address)",
                inflated::size(limit)
            ));
        }
        let dwarf = debug
            .as_ref()
            .filter(|_| over_limit.is_none())
            .and_then(|d| addr2line::Loader::new(d).ok());
        let symbols = match &debug {
            Some(d) if d != &path => SymbolTable::read(&[d, &path]),
            _ => SymbolTable::read(&[&path]),
        };
        self.objects.push(Object {
            name,
            path,
            info,
            dwarf,
            dwarf_over_limit: over_limit.is_some(),
            symbols,
        });
        Ok(self.objects.len() - 1)
    }
}

/// Frames for a virtual address: DWARF with inlined frames, else the symbol
/// table, else the address.
fn lookup(o: &Object, vaddr: u64) -> Vec<SymbolFrame> {
    if let Some(dwarf) = &o.dwarf {
        let mut frames = Vec::new();
        if let Ok(mut iter) = dwarf.find_frames(vaddr) {
            while let Ok(Some(f)) = iter.next() {
                let function = f
                    .function
                    .as_ref()
                    .and_then(|n| n.demangle().ok().map(Cow::into_owned));
                let (file, line) = f.location.as_ref().map_or((String::new(), 0), |l| {
                    (l.file.unwrap_or("").to_owned(), l.line.unwrap_or(0))
                });
                frames.push((function, file, line));
            }
        }
        if !frames.is_empty() {
            // A frame without a function name (no DW_AT_name) borrows the
            // symbol's, looked up only then.
            let mut symbol: Option<Option<String>> = None;
            return frames
                .into_iter()
                .map(|(function, file, line)| SymbolFrame {
                    function: function.unwrap_or_else(|| {
                        symbol
                            .get_or_insert_with(|| symbol_name(o, vaddr))
                            .clone()
                            .unwrap_or_else(|| format!("{vaddr:#x} ({})", o.name))
                    }),
                    file,
                    line,
                })
                .collect();
        }
    }
    match symbol_name(o, vaddr) {
        Some(function) => vec![SymbolFrame {
            function,
            file: String::new(),
            line: 0,
        }],
        None => vec![plain(format!("{vaddr:#x} ({})", o.name))],
    }
}

/// How a file's build ID differs from a profile's, as the start of a
/// sentence ending in "the profile's <ID>".
fn build_id_of(info: &ElfInfo) -> String {
    match info.build_id_hex() {
        Some(id) => format!("build ID {id} differs from"),
        None => "has no build ID, unlike".to_owned(),
    }
}

fn symbol_name(o: &Object, vaddr: u64) -> Option<String> {
    o.symbols.find(vaddr)
}

fn outcome_of(frames: &[SymbolFrame]) -> Outcome {
    match frames.first() {
        Some(f) if f.line > 0 || !f.file.is_empty() => Outcome::Lines,
        Some(f) if !f.function.starts_with("0x") => Outcome::Symbol,
        _ => Outcome::Unresolved,
    }
}

fn plain(function: String) -> SymbolFrame {
    SymbolFrame {
        function,
        file: String::new(),
        line: 0,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "es" }
}

fn plural_s(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// pprof producers write build IDs as hex, some upper-case, some with a
/// `0x`; anything that is not hex is ignored.
fn normalize_build_id(raw: &str) -> String {
    let s = raw.trim().trim_start_matches("0x").to_ascii_lowercase();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()) {
        s
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapdiff_profile::{Format, ProfileBuilder, StrId, ValueType};

    #[inline(never)]
    fn a_known_function() -> u64 {
        std::hint::black_box(42)
    }

    /// A profile with one frame: `address` in a mapping of this test binary
    /// as the loader placed it.
    fn profile_of(address: u64, mapping: Option<Mapping>) -> Profile {
        let mut b =
            ProfileBuilder::new(Format::JemallocHeap, vec![ValueType::new("space", "bytes")]);
        let m = mapping.map(|mut m| {
            m.path = b.intern(&std::env::current_exe().unwrap().display().to_string());
            b.add_mapping(m)
        });
        let f = b.frame(Frame::unsymbolized(address, m));
        b.push_sample(&[f], &[1]).unwrap();
        b.finish()
    }

    /// The outermost frame the one address of `p`'s one sample became:
    /// the function itself, under what an optimized build inlined into it
    /// (`black_box`).
    fn outermost(p: &Profile) -> heapdiff_profile::FrameId {
        let stack = p.samples().next().unwrap().stack;
        stack.at(stack.len() - 1)
    }

    fn fake_mapping() -> Mapping {
        Mapping::new(0, u64::MAX, 0, StrId::EMPTY)
    }

    /// This test binary's own virtual address for `a_known_function`.
    fn own_vaddr() -> u64 {
        let me = std::env::current_exe().unwrap();
        // Find the function through the symbol table of the file itself.
        let data = std::fs::read(&me).unwrap();
        let obj = object::File::parse(&*data).unwrap();
        use object::{Object as _, ObjectSymbol};
        let sym = obj
            .symbols()
            .find(|s| s.name().is_ok_and(|n| n.contains("a_known_function")))
            .expect("the symbol is in the test binary");
        sym.address()
    }

    #[test]
    fn fake_mappings_are_virtual_addresses() {
        let _ = a_known_function();
        let mut p = profile_of(own_vaddr(), Some(fake_mapping()));
        let report = Symbolizer::new(SearchPaths::default()).symbolize(&mut p, None, &NoProgress);
        assert_eq!(report.with_lines, 1, "{report:?}");
        let f = p.frame(outermost(&p));
        assert!(
            p.str(f.function).ends_with("a_known_function"),
            "{}",
            p.str(f.function)
        );
        assert!(p.str(f.file).ends_with("lib.rs"), "{}", p.str(f.file));
        assert!(f.line > 0);
    }

    #[test]
    fn runtime_addresses_go_through_the_load_segments() {
        let vaddr = own_vaddr();
        let me = std::env::current_exe().unwrap();
        let info = ElfInfo::read(&me).unwrap();
        let seg = info
            .loads
            .iter()
            .find(|l| l.vaddr <= vaddr && vaddr < l.vaddr + l.size)
            .unwrap();
        // Pretend the segment was loaded at 0x7f0000000000.
        let start = 0x7f00_0000_0000;
        let mapping = Mapping {
            start,
            limit: start + seg.size,
            offset: seg.offset,
            ..fake_mapping()
        };
        let runtime = start + (vaddr - seg.vaddr);
        let mut p = profile_of(runtime, Some(mapping));
        let report = Symbolizer::new(SearchPaths::default()).symbolize(&mut p, None, &NoProgress);
        assert_eq!(report.with_lines, 1, "{report:?}");
        let f = p.frame(outermost(&p));
        assert!(p.str(f.function).ends_with("a_known_function"));
    }

    #[test]
    fn missing_binaries_are_a_warning_and_keep_a_stable_name() {
        let mut b =
            ProfileBuilder::new(Format::JemallocHeap, vec![ValueType::new("space", "bytes")]);
        let path = b.intern("/no/such/dir/libgone.so");
        let m = b.add_mapping(Mapping::new(0x7000, 0x9000, 0x1000, path));
        let f = b.frame(Frame::unsymbolized(0x7abc, Some(m)));
        let g = b.frame(Frame::unsymbolized(0x42, None));
        b.push_sample(&[f, g], &[1]).unwrap();
        let mut p = b.finish();
        let mut s = Symbolizer::new(SearchPaths::default());
        let report = s.symbolize(&mut p, None, &NoProgress);
        assert_eq!(report.unresolved, 2);
        let names: Vec<String> = p
            .samples()
            .next()
            .unwrap()
            .stack
            .iter()
            .map(|f| p.frame_name(p.frame(f)))
            .collect();
        assert_eq!(
            names,
            ["0x1abc (libgone.so)", "0x42"],
            "file offsets survive ASLR"
        );
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.starts_with("cannot find /no/such/dir/libgone.so")),
            "{report:?}"
        );
    }

    /// A profile with one frame of this test binary, whose mapping records
    /// the build ID `DEADBEEF`.
    fn profile_of_another_build() -> Profile {
        let _ = a_known_function();
        let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("space", "bytes")]);
        let path = b.intern(&std::env::current_exe().unwrap().display().to_string());
        let id = b.intern("DEADBEEF");
        let m = b.add_mapping(Mapping {
            path,
            build_id: id,
            ..fake_mapping()
        });
        let f = b.frame(Frame::unsymbolized(own_vaddr(), Some(m)));
        b.push_sample(&[f], &[1]).unwrap();
        b.finish()
    }

    /// The start of the warning about this test binary's build ID.
    fn differs_from_deadbeef() -> String {
        let me = std::env::current_exe().unwrap();
        let real = ElfInfo::read(&me).unwrap().build_id_hex();
        format!(
            "{}: {} the profile's deadbeef",
            me.display(),
            real.map_or("has no build ID, unlike".to_owned(), |id| format!(
                "build ID {id} differs from"
            ))
        )
    }

    #[test]
    fn a_binary_of_another_build_names_no_frames() {
        let mut p = profile_of_another_build();
        let mut symbolizer = Symbolizer::new(SearchPaths::default());
        let report = symbolizer.symbolize(&mut p, None, &NoProgress);
        let warning = format!(
            "{}: its frames are left as addresses; pass the binary the profile was taken from \
             with --binary PATH or --symbol-dir DIR",
            differs_from_deadbeef()
        );
        assert_eq!(report.warnings, [warning]);
        assert_eq!(report.unresolved, 1, "{report:?}");
        let f = p.frame(p.samples().next().unwrap().stack.at(0));
        let name = p.frame_name(f);
        assert!(
            name.starts_with("0x") && name.contains("heapdiff_symbolize"),
            "{name}"
        );
        // It was found, so the summary does not call it missing.
        assert_eq!(symbolizer.summary(), Vec::<String>::new());
    }

    #[test]
    fn a_given_binary_of_another_build_and_a_newer_binary_are_warnings() {
        let mut p = profile_of_another_build();
        let long_ago = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let paths = SearchPaths {
            binaries: vec![std::env::current_exe().unwrap()],
            ..SearchPaths::default()
        };
        let report = Symbolizer::new(paths).symbolize(&mut p, Some(long_ago), &NoProgress);
        let forced = format!(
            "{}; its symbols may be wrong (it was given with --binary)",
            differs_from_deadbeef()
        );
        assert!(report.warnings.contains(&forced), "{report:?}");
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("was modified after the profile was written")),
            "{report:?}"
        );
        // The user forced it: symbolized, with the warnings.
        assert_eq!(report.with_lines, 1);
    }

    #[test]
    fn debug_sections_claiming_too_much_are_not_inflated() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app");
        std::fs::write(
            &app,
            inflated::tests::elf_with_compressed_debug_info(4 << 30),
        )
        .unwrap();
        let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("space", "bytes")]);
        let path = b.intern(&app.display().to_string());
        let m = b.add_mapping(Mapping {
            path,
            ..fake_mapping()
        });
        let f = b.frame(Frame::unsymbolized(0x1234, Some(m)));
        b.push_sample(&[f], &[1]).unwrap();
        let mut p = b.finish();
        let paths = SearchPaths {
            max_inflated_bytes: 64 << 20,
            ..SearchPaths::default()
        };
        let mut symbolizer = Symbolizer::new(paths);
        let report = symbolizer.symbolize(&mut p, None, &NoProgress);
        assert_eq!(
            report.warnings,
            [format!(
                "{}: its compressed debug section .debug_info claims to inflate from 11 B to 4.0 GiB, \
                 over the limit of 64.0 MiB: its DWARF is not read, so its frames have no source \
                 lines (named by symbol where it has a symbol table, else by address)",
                app.display()
            )]
        );
        assert_eq!(report.unresolved, 1);
        let frame = p.frame(p.samples().next().unwrap().stack.at(0));
        assert_eq!(p.frame_name(frame), "0x1234 (app)");
    }

    #[test]
    fn build_ids_are_normalized() {
        assert_eq!(normalize_build_id("0xABcd01"), "abcd01");
        assert_eq!(normalize_build_id("not hex"), "");
        assert_eq!(normalize_build_id(""), "");
    }

    #[test]
    fn nothing_to_do_for_symbolized_profiles() {
        let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("space", "bytes")]);
        let f = b.intern("main");
        let fr = b.frame(Frame::symbolized(f, StrId::EMPTY, 1));
        b.push_sample(&[fr], &[1]).unwrap();
        let mut p = b.finish();
        assert_eq!(
            Symbolizer::new(SearchPaths::default()).symbolize(&mut p, None, &NoProgress),
            Report::default()
        );
    }
}
