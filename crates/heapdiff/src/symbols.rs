//! Wiring the symbolizer: search paths from the command line and the
//! environment, one symbolizer for both profiles (so each binary is loaded
//! once), and a progress bar on stderr when it takes more than a moment.

use std::cell::{Cell, RefCell};
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use heapdiff_profile::{Format, Profile};
use heapdiff_symbolize::{Progress, SearchPaths, Symbolizer};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::Cli;

/// The search paths: `--binary`, `--symbol-dir`, then `HEAPDIFF_SYMBOL_PATH`.
pub(crate) fn search_paths(cli: &Cli) -> SearchPaths {
    let mut symbol_dirs = cli.symbol_dirs.clone();
    if let Some(env) = std::env::var_os("HEAPDIFF_SYMBOL_PATH") {
        symbol_dirs.extend(std::env::split_paths(&env).filter(|p| !p.as_os_str().is_empty()));
    }
    SearchPaths {
        binaries: cli.binaries.clone(),
        symbol_dirs,
        debuginfod_cache: SearchPaths::debuginfod_cache_from_env(),
        source_roots: cli.source_roots.clone(),
        // A binary's compressed debug sections may take half the budget.
        max_inflated_bytes: cli.memory_budget() / 2,
        ..SearchPaths::default()
    }
}

/// Checks that each `--binary` is an ELF file and each `--symbol-dir` a
/// directory, before anything is decoded: a typo would otherwise be
/// ignored, and end in a warning that tells the user to pass the very flag
/// they passed. `HEAPDIFF_SYMBOL_PATH` is not checked: the environment is
/// shared by every run, so its missing entries are skipped silently.
pub(crate) fn check_search_paths(cli: &Cli) -> anyhow::Result<()> {
    for binary in &cli.binaries {
        check_binary(binary).map_err(|e| anyhow::anyhow!("--binary {}: {e}", binary.display()))?;
    }
    for dir in &cli.symbol_dirs {
        check_symbol_dir(dir)
            .map_err(|e| anyhow::anyhow!("--symbol-dir {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// What `--binary`/`--symbol-dir` say when given the other kind of path.
const WRONG_KIND: &str = "--binary takes a file, --symbol-dir a directory";

/// Why `path` is not an ELF file. Only a regular file is opened (opening
/// a FIFO would block).
fn check_binary(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        _ => format!("cannot read it ({e})"),
    })?;
    if meta.is_dir() {
        return Err(format!("a directory; {WRONG_KIND}"));
    }
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    let mut start = Vec::with_capacity(16);
    std::fs::File::open(path)
        .and_then(|f| f.take(16).read_to_end(&mut start))
        .map_err(|e| format!("cannot read it ({e})"))?;
    match start.as_slice() {
        [] => Err("an empty file, not an ELF file".to_owned()),
        [0x7f, b'E', b'L', b'F', ..] => Ok(()),
        _ => Err(format!(
            "not an ELF file (starts with \"{}\")",
            start.escape_ascii()
        )),
    }
}

/// Why `path` is not a directory.
fn check_symbol_dir(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(meta) if meta.is_file() => Err(format!("a file, not a directory; {WRONG_KIND}")),
        Ok(_) => Err("not a directory".to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("no such directory".to_owned()),
        Err(e) => Err(format!("cannot read it ({e})")),
    }
}

/// One symbolizer for all of a run's profiles, symbolized one at a time as
/// they are decoded, and their warnings.
pub(crate) struct Session {
    symbolizer: Symbolizer,
    warnings: Vec<String>,
    keep_allocator_frames: bool,
}

impl Session {
    pub(crate) fn new(cli: &Cli) -> Self {
        Session {
            symbolizer: Symbolizer::new(search_paths(cli)),
            warnings: Vec::new(),
            keep_allocator_frames: cli.keep_allocator_frames,
        }
    }

    /// Symbolizes one profile, read from `path` and called `name`.
    pub(crate) fn symbolize(&mut self, name: &str, path: &Path, profile: &mut Profile) {
        let progress = Bar::new(name);
        let report = self
            .symbolizer
            .symbolize(profile, written_at(path, profile), &progress);
        self.warnings
            .extend(report.warnings.into_iter().map(|w| format!("{name}: {w}")));
    }

    /// The warnings of every profile, in order, then the symbolizer's
    /// summary.
    pub(crate) fn finish(self) -> Vec<String> {
        let mut warnings = self.warnings;
        // An allocator library's own frames are dropped from stacks unless
        // kept, so their names do not matter then.
        let keep = self.keep_allocator_frames;
        warnings.extend(self.symbolizer.summary().into_iter().filter(|w| {
            keep || !w
                .split(':')
                .next()
                .is_some_and(heapdiff_diff::is_allocator_library)
        }));
        warnings
    }
}

/// When a profile without a timestamp was written: its file's modification
/// time (legacy dumps record none).
fn written_at(path: &Path, profile: &Profile) -> Option<SystemTime> {
    if profile.header.time_nanos > 0 || profile.format == Format::Pprof || path.as_os_str() == "-" {
        return None;
    }
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// A progress bar that appears only on a terminal and only once the work
/// has taken longer than [`Bar::DELAY`].
struct Bar {
    label: String,
    started: Cell<Option<Instant>>,
    total: Cell<u64>,
    done: Cell<u64>,
    bar: RefCell<Option<ProgressBar>>,
}

impl Bar {
    const DELAY: Duration = Duration::from_millis(300);

    fn new(label: &str) -> Self {
        Bar {
            label: label.to_owned(),
            started: Cell::new(None),
            total: Cell::new(0),
            done: Cell::new(0),
            bar: RefCell::new(None),
        }
    }
}

impl Progress for Bar {
    fn begin(&self, addresses: u64) {
        self.started.set(Some(Instant::now()));
        self.total.set(addresses);
    }

    fn advance(&self, n: u64) {
        self.done.set(self.done.get() + n);
        let mut bar = self.bar.borrow_mut();
        if bar.is_none()
            && std::io::stderr().is_terminal()
            && self
                .started
                .get()
                .is_some_and(|t| t.elapsed() > Self::DELAY)
        {
            let b =
                ProgressBar::with_draw_target(Some(self.total.get()), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} frames ({eta})")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_message(format!("symbolizing {}", self.label));
            *bar = Some(b);
        }
        if let Some(b) = bar.as_ref() {
            b.set_position(self.done.get());
        }
    }

    fn end(&self) {
        if let Some(b) = self.bar.borrow_mut().take() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::path::PathBuf;

    #[test]
    fn symbol_dirs_from_flags_then_environment() {
        let cli = Cli::parse_from([
            "heapdiff",
            "--symbol-dir",
            "/a",
            "--binary",
            "/b/app",
            "x",
            "y",
        ]);
        let p = search_paths(&cli);
        assert_eq!(p.binaries, [PathBuf::from("/b/app")]);
        assert_eq!(p.symbol_dirs[0], PathBuf::from("/a"));
    }

    /// The error `check_search_paths` gives for `args`, if any.
    fn check(args: &[&str]) -> Option<String> {
        let cli = Cli::parse_from(["heapdiff"].iter().chain(args).chain(&["x", "y"]));
        check_search_paths(&cli).err().map(|e| format!("{e:#}"))
    }

    #[test]
    fn search_paths_are_checked_for_what_they_claim_to_be() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello\tworld").unwrap();
        let text = text.to_str().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        let me = std::env::current_exe().unwrap();
        let me = me.to_str().unwrap();
        assert_eq!(check(&["--binary", me, "--symbol-dir", d]), None);
        assert_eq!(
            check(&["--binary", "./no-such-app"]).as_deref(),
            Some("--binary ./no-such-app: no such file")
        );
        assert_eq!(
            check(&["--binary", text]),
            Some(format!(
                "--binary {text}: not an ELF file (starts with \"hello\\tworld\")"
            ))
        );
        assert_eq!(
            check(&["--binary", empty.to_str().unwrap()]),
            Some(format!(
                "--binary {}: an empty file, not an ELF file",
                empty.display()
            ))
        );
        assert_eq!(
            check(&["--binary", d]),
            Some(format!("--binary {d}: a directory; {WRONG_KIND}"))
        );
        assert_eq!(
            check(&["--binary", "/dev/null"]).as_deref(),
            Some("--binary /dev/null: not a regular file")
        );
        assert_eq!(
            check(&["--symbol-dir", "/no/such/dir"]).as_deref(),
            Some("--symbol-dir /no/such/dir: no such directory")
        );
        assert_eq!(
            check(&["--symbol-dir", me]),
            Some(format!(
                "--symbol-dir {me}: a file, not a directory; {WRONG_KIND}"
            ))
        );
        assert_eq!(
            check(&["--symbol-dir", "/dev/null"]).as_deref(),
            Some("--symbol-dir /dev/null: not a directory")
        );
    }

    #[test]
    fn the_bar_stays_hidden_for_quick_work() {
        let bar = Bar::new("x");
        bar.begin(10);
        bar.advance(10);
        bar.end();
        assert!(bar.bar.borrow().is_none());
        assert_eq!(bar.done.get(), 10);
    }
}
