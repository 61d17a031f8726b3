//! Command-line arguments. Only this module knows clap; it converts the
//! arguments into the libraries' option types.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use heapdiff_diff::{
    Attribute, Classifier, Filters, Granularity, Options, RankBy, SampleTypeChoice, SortOrder,
};
use regex::Regex;

const EXAMPLES: &str = "\
Examples:
  # Go: two snapshots of /debug/pprof/heap, before and after load
  curl -s localhost:6060/debug/pprof/heap?gc=1 > before.pb.gz
  curl -s localhost:6060/debug/pprof/heap?gc=1 > after.pb.gz
  heapdiff before.pb.gz after.pb.gz

  # the 50 lines with the largest growth in allocated objects, as JSON
  heapdiff -n 50 --sample-type inuse_objects --format json before.pb.gz after.pb.gz

  # by function, ranked by cumulative growth, flame graph elsewhere
  heapdiff --by function --cum --svg leak.svg before.pb.gz after.pb.gz

  # a trend over five snapshots: what grows every time
  heapdiff snap-1.pb.gz snap-2.pb.gz snap-3.pb.gz snap-4.pb.gz snap-5.pb.gz

  # one profile per pod on each side, merged
  heapdiff --before 'before/pod-*.pb.gz' --after 'after/pod-*.pb.gz'

  # a CI gate: fail (exit 1) when the heap grew by more than 5%
  heapdiff --fail-on-growth 5% --format markdown before.pb.gz after.pb.gz > report.md

  # live: two profiles of a running Go service, 30 seconds apart (gc=1
  # collects garbage first, so freed memory does not count)
  heapdiff 'localhost:6060/debug/pprof/heap?gc=1' --interval 30s

  # C/C++/Rust: jemalloc dumps of a binary that has moved since
  heapdiff --binary ./build/server before.heap after.heap

  # Python: tracemalloc.take_snapshot().dump(path), sources checked out in ./src
  heapdiff --source-root src before.tm after.tm

Shell integration: `heapdiff completions bash|zsh|fish`, `heapdiff man`.

Exit status: 0 success, 1 a --fail-on-* gate tripped, 2 bad usage or unreadable input.";

/// What `-h` shows after the options; `--help` shows [`EXAMPLES`].
const SHORT_EXAMPLES: &str = "\
Examples:
  heapdiff before.pb.gz after.pb.gz                  # Go, Rust (jemalloc_pprof), any pprof
  heapdiff --binary ./server before.heap after.heap  # jemalloc or gperftools dumps
  heapdiff --source-root src before.tm after.tm      # Python tracemalloc snapshots
  heapdiff 'localhost:6060/debug/pprof/heap?gc=1'    # a live Go service, twice, 30 s apart

--help shows every option (filters, the flame graph, live capture, limits) and more examples.
Exit status: 0 success, 1 a --fail-on-* gate tripped, 2 bad usage or unreadable input.";

/// What grew? Compare two heap profiles: a table of the source lines whose
/// live memory grew most, and a differential flame graph (SVG or PNG).
#[derive(Debug, Parser)]
#[command(
    name = "heapdiff",
    version,
    after_help = SHORT_EXAMPLES,
    after_long_help = EXAMPLES,
    max_term_width = 100,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
pub(crate) struct Cli {
    /// Shell integration instead of a comparison.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// Two profiles (before, after), or three or more for a trend; `-` is stdin.
    ///
    /// Snapshots of a trend are put in the order they were taken (see --order).
    #[arg(value_name = "PROFILE")]
    pub(crate) profiles: Vec<PathBuf>,

    /// A before profile to merge (repeatable, or a quoted glob).
    ///
    /// One per process or pod, summed into one side. Needs --after.
    #[arg(
        long = "before",
        value_name = "PATH",
        requires = "afters",
        conflicts_with = "profiles"
    )]
    pub(crate) befores: Vec<PathBuf>,

    /// An after profile to merge (repeatable, or a quoted glob).
    ///
    /// Needs --before.
    #[arg(
        long = "after",
        value_name = "PATH",
        requires = "befores",
        conflicts_with = "profiles"
    )]
    pub(crate) afters: Vec<PathBuf>,

    /// Live capture (PROFILE is an http:// or https:// URL): time between fetches, e.g.
    /// 30s, 5m, 500ms (at most 24h) [default: 30s].
    #[arg(hide_short_help = true, long, value_name = "DURATION", value_parser = parse_interval, help_heading = "Live capture")]
    pub(crate) interval: Option<std::time::Duration>,

    /// Live capture: how long one fetch may take [default: the URL's
    /// `seconds=` plus 10s; 2m for a store's merge].
    #[arg(hide_short_help = true, long, value_name = "DURATION", value_parser = parse_interval, help_heading = "Live capture")]
    pub(crate) fetch_timeout: Option<std::time::Duration>,

    /// https:// sources: trust the certificates in PATH (PEM) instead of the
    /// system's root certificates.
    #[arg(
        hide_short_help = true,
        long,
        value_name = "PATH",
        help_heading = "Live capture"
    )]
    pub(crate) cacert: Option<PathBuf>,

    /// https:// sources: verify no certificate. Anyone between you and the
    /// server can then read and alter what is fetched; for test servers.
    #[arg(hide_short_help = true, long, help_heading = "Live capture")]
    pub(crate) insecure: bool,

    /// A store source (pyroscope+https://…): a time window to fetch, as
    /// START/LENGTH (now-1h/1h, 2026-12-01T10:00/1h; UTC unless an offset
    /// is given). Twice for a pair, more for a trend.
    #[arg(
        hide_short_help = true,
        long = "window",
        value_name = "START/LENGTH",
        help_heading = "Live capture"
    )]
    pub(crate) windows: Vec<String>,

    /// A store source: split the one --window into N windows of equal
    /// length (2 compares them, 3 or more gives a trend).
    #[arg(hide_short_help = true, long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=1000), help_heading = "Live capture")]
    pub(crate) step: Option<u32>,

    /// Live capture: how many profiles to fetch (2 compares them, 3 or more
    /// gives a trend) [default: 2].
    #[arg(hide_short_help = true, long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=1000), help_heading = "Live capture")]
    pub(crate) count: Option<u32>,

    /// Live capture: keep what was fetched in DIR (heap-1.pb.gz, …) so the
    /// comparison can be rerun from the files.
    #[arg(
        hide_short_help = true,
        long,
        value_name = "DIR",
        help_heading = "Live capture"
    )]
    pub(crate) save_dir: Option<PathBuf>,

    /// One file of snapshots (massif) as a trend over all its detailed ones.
    #[arg(hide_short_help = true, long)]
    pub(crate) trend: bool,

    /// Trend snapshots: in the order they were taken (when every profile
    /// says; else by name, numbers compared as numbers), by name, as given,
    /// or by file modification time.
    #[arg(hide_short_help = true, long, value_enum, default_value_t = Order::Time)]
    pub(crate) order: Order,

    /// How many rows to show (0 shows all).
    #[arg(short = 'n', long, default_value_t = 20, value_name = "N")]
    pub(crate) top: usize,

    /// Sample type to compare, by name or 0-based index.
    ///
    /// [default: the profile's default, else inuse_space, heap-live-size or space, else the
    /// last one]. An index counts in each profile's own list.
    #[arg(short = 't', long, value_name = "NAME|INDEX")]
    pub(crate) sample_type: Option<SampleTypeChoice>,

    /// One row per source line, function or file.
    #[arg(long, value_enum, default_value_t = By::Line)]
    pub(crate) by: By,

    /// Row order: largest growth first, largest shrinkage first, or largest
    /// absolute change first (pprof's order).
    #[arg(hide_short_help = true, long, value_enum, default_value_t = Sort::Growth)]
    pub(crate) sort: Sort,

    /// Rank by cumulative values (at or below a frame) instead of flat.
    ///
    /// Cumulative: memory at or below a frame; flat: memory allocated at the frame itself.
    #[arg(long)]
    pub(crate) cum: bool,

    /// Output format on standard output.
    #[arg(short = 'f', long, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) format: OutputFormat,

    /// Where to write the flame graph (`-`: standard output; `.png`: a PNG).
    ///
    /// Standard output takes the table's place. An existing file is replaced only if it is an image
    /// (SVG or PNG), never an input.
    #[arg(long, value_name = "PATH", default_value = "heapdiff.svg")]
    pub(crate) svg: PathBuf,

    /// Replace an existing output file even if it is not an image heapdiff
    /// writes (never an input, a device or a directory).
    #[arg(hide_short_help = true, long)]
    pub(crate) force: bool,

    /// Where the graph goes once `--svg` is checked (`None`: nowhere).
    #[arg(skip)]
    pub(crate) graph: Option<crate::destination::Destination>,

    /// Also write the flame graph as a PNG.
    ///
    /// For Jira, Slack and other places that show only raster images; `--svg PATH.png` writes only
    /// the PNG.
    #[arg(long, value_name = "PATH")]
    pub(crate) png: Option<PathBuf>,

    /// Pixels per SVG pixel in the PNG: 2 for sharp (high-density) screens.
    #[arg(hide_short_help = true, long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4))]
    pub(crate) png_scale: u32,

    /// The flame graph's address for `--format markdown` to show (where
    /// you uploaded the PNG or SVG); without it the report asks the reader
    /// to attach the file.
    #[arg(hide_short_help = true, long, value_name = "URL")]
    pub(crate) image_url: Option<String>,

    /// Keep local paths out of every output, for a public report.
    ///
    /// Toolchain trees go by name (`$GOROOT/src/…`, `std:…`), your files relative to the project or
    /// `--source-root`, home directories as `~/…`.
    #[arg(long)]
    pub(crate) redact_paths: bool,

    /// Where the PNG goes once `--png` is checked (`None`: nowhere).
    #[arg(skip)]
    pub(crate) png_graph: Option<crate::destination::Destination>,

    /// The flame graph: heapdiff's (frames as wide as the larger side, every
    /// frame coloured by its change, legend in the image) or Gregg's
    /// differential graph as inferno draws it.
    #[arg(hide_short_help = true, long, value_enum, default_value_t = FlameStyle::Heap, value_name = "STYLE")]
    pub(crate) flame_style: FlameStyle,

    /// Roots at the top (icicle) or at the bottom (flame) [default: icicle
    /// for the heap style, flame for the classic one].
    #[arg(hide_short_help = true, long, value_enum, value_name = "ORIENT")]
    pub(crate) flame_orient: Option<FlameOrient>,

    /// Flame graph width in pixels (880 fits a GitHub issue's column at full
    /// size).
    #[arg(hide_short_help = true, long, default_value_t = 880, value_name = "PX", value_parser = clap::value_parser!(u32).range(200..=100_000))]
    pub(crate) svg_width: u32,

    /// Frames narrower than this many pixels are left out of the flame graph
    /// (and counted in its subtitle).
    #[arg(hide_short_help = true, long, default_value_t = 1.0, value_name = "PX", value_parser = parse_min_width)]
    pub(crate) min_width: f64,

    /// Do not write a flame graph.
    #[arg(long)]
    pub(crate) no_svg: bool,

    /// Keep only stacks with a frame matching REGEX (matched against
    /// `function file:line`).
    #[arg(
        hide_short_help = true,
        long,
        value_name = "REGEX",
        help_heading = "Filters"
    )]
    pub(crate) focus: Option<Regex>,

    /// Drop stacks with a frame matching REGEX.
    #[arg(
        hide_short_help = true,
        long,
        value_name = "REGEX",
        help_heading = "Filters"
    )]
    pub(crate) ignore: Option<Regex>,

    /// Remove frames matching REGEX from every stack.
    #[arg(
        hide_short_help = true,
        long,
        value_name = "REGEX",
        help_heading = "Filters"
    )]
    pub(crate) hide: Option<Regex>,

    /// Cut every stack above (the callers of) its outermost frame matching
    /// REGEX; stacks without a match are dropped.
    #[arg(
        hide_short_help = true,
        long,
        value_name = "REGEX",
        help_heading = "Filters"
    )]
    pub(crate) show_from: Option<Regex>,

    /// Keep the whole profiles' totals when filters drop stacks (by default
    /// the totals are those of what the filters kept).
    #[arg(hide_short_help = true, long, help_heading = "Filters")]
    pub(crate) relative: bool,

    /// Scale the before profile to the after profile's total.
    #[arg(hide_short_help = true, long, help_heading = "Filters")]
    pub(crate) normalize: bool,

    /// How many profiles each PROFILE is the sum of, in order (files saved
    /// from a store's merges: --merged 120,240); each is compared as their
    /// average.
    #[arg(hide_short_help = true, long, value_name = "N,N,…", value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..), help_heading = "Filters")]
    pub(crate) merged: Vec<u64>,

    /// Leave out rows whose change is smaller than SIZE (in the sample
    /// type's unit; bytes take KiB, MiB, GiB, kB, MB, GB suffixes).
    #[arg(hide_short_help = true, long, value_name = "SIZE", value_parser = parse_size, help_heading = "Filters")]
    pub(crate) min_delta: Option<i64>,

    /// Charge each stack to its leaf, or to your innermost frame.
    ///
    /// The leaf is pprof's and tracemalloc's way; your own innermost frame is the table a leak
    /// hunter reads first.
    #[arg(long, value_enum, default_value_t = AttributeTo::Leaf, value_name = "FRAME")]
    pub(crate) attribute: AttributeTo,

    /// Frames matching REGEX (on `function file:line`) are library code, in
    /// addition to the built-in rules (repeatable).
    #[arg(hide_short_help = true, long = "library", value_name = "REGEX")]
    pub(crate) library: Vec<Regex>,

    /// Frames matching REGEX are your code, whatever the built-in rules say
    /// (repeatable).
    #[arg(hide_short_help = true, long = "user", value_name = "REGEX")]
    pub(crate) user: Vec<Regex>,

    /// Keep allocator frames (malloc, operator new, runtime.mallocgc, …) at
    /// stack leaves instead of charging their caller.
    #[arg(hide_short_help = true, long)]
    pub(crate) keep_allocator_frames: bool,

    /// A binary to symbolize with, if it moved (repeatable).
    ///
    /// Matched to the profile's mappings by file name or build ID.
    #[arg(long = "binary", value_name = "PATH")]
    pub(crate) binaries: Vec<PathBuf>,

    /// A directory of binaries and debug files (`NAME`, `.build-id/xx/….debug`,
    /// debug-link names) to search (repeatable; also `HEAPDIFF_SYMBOL_PATH`,
    /// colon-separated).
    #[arg(hide_short_help = true, long = "symbol-dir", value_name = "DIR")]
    pub(crate) symbol_dirs: Vec<PathBuf>,

    /// Where the sources are, for source lines (repeatable).
    ///
    /// Used for the source line under each row, and for Python function names
    /// (`Headers.copy_from`). A recorded path is looked for with its leading directories stripped
    /// (the recorded path itself is tried last).
    #[arg(long = "source-root", value_name = "DIR")]
    pub(crate) source_roots: Vec<PathBuf>,

    /// Do not show source lines under the rows of the table and markdown.
    #[arg(hide_short_help = true, long)]
    pub(crate) no_source: bool,

    /// CI gate: exit 1 when the total grew by more than SIZE or PCT.
    ///
    /// SIZE like 10MiB; PCT of the before total, like 5%.
    #[arg(long, value_name = "SIZE|PCT", value_parser = parse_limit, help_heading = "CI gates")]
    pub(crate) fail_on_growth: Option<Limit>,

    /// CI gate: exit 1 when any one row grew by more than SIZE.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "CI gates")]
    pub(crate) fail_on_line_growth: Option<i64>,

    /// How many threads decode, sum and build the tree [default: one per
    /// core the process may use].
    #[arg(
        hide_short_help = true,
        long,
        value_name = "N",
        env = "HEAPDIFF_THREADS",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024),
        help_heading = "Safety limits"
    )]
    pub(crate) threads: Option<usize>,

    /// The most memory the run may use, inputs, symbols and output
    /// together [default: a quarter of the machine's memory, at most 4GiB].
    #[arg(hide_short_help = true, long, value_name = "SIZE", value_parser = parse_size, help_heading = "Safety limits")]
    pub(crate) max_memory: Option<i64>,

    /// The largest input accepted, decompressed (a gzip bomb stops there)
    /// [default: the memory budget].
    #[arg(hide_short_help = true, long, value_name = "SIZE", value_parser = parse_size, help_heading = "Safety limits")]
    pub(crate) max_input: Option<i64>,

    /// The most samples one profile may hold [default: one per 64 bytes of
    /// the memory budget].
    #[arg(
        hide_short_help = true,
        long,
        value_name = "N",
        help_heading = "Safety limits"
    )]
    pub(crate) max_samples: Option<usize>,

    /// The most frames all stacks of one profile may hold, inlined frames
    /// expanded [default: one per 8 bytes of the memory budget, at most
    /// 2147483647].
    #[arg(
        hide_short_help = true,
        long,
        value_name = "N",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
            .range(1..=heapdiff_profile::MAX_FRAMES as u64),
        help_heading = "Safety limits"
    )]
    pub(crate) max_frames: Option<usize>,

    /// Deeper stacks lose their outermost callers (with a warning).
    #[arg(hide_short_help = true, long, value_name = "N", default_value_t = heapdiff_profile::Limits::default().max_depth, help_heading = "Safety limits")]
    pub(crate) max_depth: usize,

    /// Folded stacks: what the counts are (bytes, count, or any unit name).
    #[arg(
        hide_short_help = true,
        long,
        value_name = "UNIT",
        default_value = "bytes"
    )]
    pub(crate) unit: String,

    /// Do not symbolize: frames without names keep their addresses (and
    /// Python frames their file:line).
    #[arg(hide_short_help = true, long)]
    pub(crate) no_symbolize: bool,

    /// jemalloc dumps: compare this thread's rows instead of the process's.
    #[arg(hide_short_help = true, long, value_name = "N")]
    pub(crate) thread: Option<u32>,

    /// When to colour the table (auto: on a terminal, unless NO_COLOR is set).
    #[arg(hide_short_help = true, long, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub(crate) color: Color,

    /// Fit the table to this many columns [default: the terminal's width;
    /// unlimited when not a terminal].
    #[arg(hide_short_help = true, long, value_name = "COLUMNS")]
    pub(crate) width: Option<usize>,
}

/// `--by`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum By {
    /// function, file and line
    Line,
    /// function name
    Function,
    /// source file
    File,
}

/// `--sort`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Sort {
    /// largest growth first
    Growth,
    /// largest shrinkage first
    Shrink,
    /// largest absolute change first
    Abs,
}

/// Subcommands: shell integration.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// bash: `heapdiff completions bash > ~/.local/share/bash-completion/completions/heapdiff`;
    /// zsh: `heapdiff completions zsh > ~/.zfunc/_heapdiff`;
    /// fish: `heapdiff completions fish > ~/.config/fish/completions/heapdiff.fish`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `heapdiff man > heapdiff.1; man ./heapdiff.1`.
    Man,
}

/// Writes what a subcommand asks for to `out`.
pub(crate) fn run_command(command: &Command, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut cmd, "heapdiff", out);
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(cmd).render(out),
    }
}

/// `--attribute`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum AttributeTo {
    /// the innermost frame of each stack
    Leaf,
    /// the innermost frame in your own code
    User,
}

/// `--order`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Order {
    /// as the profiles were taken, else by name
    Time,
    /// by name, numbers compared as numbers (snap-2 before snap-10)
    Name,
    /// as given on the command line
    Given,
    /// oldest file first
    Mtime,
}

/// `--interval`: a number with `ms`, `s`, `m` or `h`.
pub(crate) fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: f64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 30s, 5m, 500ms)"))?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unknown unit (use ms, s, m or h)")),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| format!("{s:?} is out of range"))
}

/// `--interval`, `--fetch-timeout`: a duration from 1 ms to 24 hours.
fn parse_interval(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d < std::time::Duration::from_millis(1) || d > std::time::Duration::from_secs(86_400) {
        return Err(format!("{s:?} is out of range (1ms to 24h)"));
    }
    Ok(d)
}

/// `--flame-style`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FlameStyle {
    /// heapdiff's: growth and shrinkage both visible, readable as an image
    Heap,
    /// Gregg's differential flame graph (inferno): sized by after, leaves coloured
    Classic,
}

/// `--flame-orient`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FlameOrient {
    /// roots at the top
    Icicle,
    /// roots at the bottom
    Flame,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// a table for people
    Table,
    /// one JSON object for machines
    Json,
    /// GitHub-flavoured markdown, for an issue or a pull request
    Markdown,
    /// comma-separated values, one line per row
    Csv,
}

/// `--fail-on-growth`: an amount in the sample type's unit, or a percentage
/// of the before total.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Limit {
    /// An amount.
    Size(i64),
    /// A percentage.
    Percent(f64),
}

impl Limit {
    /// Whether `growth` from `before` exceeds the limit.
    pub(crate) fn exceeded(self, before: i64, growth: i64) -> bool {
        match self {
            Limit::Size(max) => growth > max,
            Limit::Percent(p) => {
                if before <= 0 {
                    growth > 0
                } else {
                    growth as f64 > before as f64 * p / 100.0
                }
            }
        }
    }
}

fn parse_limit(s: &str) -> Result<Limit, String> {
    match s.trim().strip_suffix('%') {
        Some(p) => match p.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Limit::Percent(v)),
            _ => Err(format!("{s:?} is not a percentage (e.g. 5%)")),
        },
        None => parse_size(s).map(Limit::Size),
    }
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    /// on a terminal, unless NO_COLOR is set
    Auto,
    /// always
    Always,
    /// never
    Never,
}

/// `--min-delta`: a count, or a size with a binary or decimal unit.
pub(crate) fn parse_size(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit (use B, KiB, MiB, GiB, kB, MB or GB)"
            ));
        }
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 4096, 64KiB, 1.5MiB)"))?;
    let v = n * scale;
    if !v.is_finite() || v < 0.0 || v > i64::MAX as f64 {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(v.round() as i64)
}

/// `--min-width`: a finite, non-negative number of pixels.
fn parse_min_width(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a width in pixels (a number, 0 or more)"
        )),
    }
}

impl Cli {
    /// The memory budget, in bytes.
    pub(crate) fn memory_budget(&self) -> u64 {
        self.max_memory
            .map_or_else(crate::budget::default_limit, i64::unsigned_abs)
    }

    /// The decoders' limits: what the flags say, else shares of the budget.
    pub(crate) fn limits(&self) -> (u64, heapdiff_profile::Limits) {
        let budget = self.memory_budget();
        let share = |per: u64| usize::try_from(budget / per).unwrap_or(usize::MAX);
        let limits = heapdiff_profile::Limits {
            max_samples: self.max_samples.unwrap_or_else(|| share(64)),
            max_frames: self
                .max_frames
                .unwrap_or_else(|| share(8).min(heapdiff_profile::MAX_FRAMES)),
            max_depth: self.max_depth,
            ..heapdiff_profile::Limits::default()
        };
        let max_input = self.max_input.map_or(budget, i64::unsigned_abs);
        (max_input, limits)
    }

    /// The differ's options.
    pub(crate) fn diff_options(&self) -> Options {
        Options {
            sample_type: self.sample_type.clone(),
            granularity: match self.by {
                By::Line => Granularity::Line,
                By::Function => Granularity::Function,
                By::File => Granularity::File,
            },
            sort: match self.sort {
                Sort::Growth => SortOrder::Growth,
                Sort::Shrink => SortOrder::Shrink,
                Sort::Abs => SortOrder::Abs,
            },
            rank_by: if self.cum {
                RankBy::Cumulative
            } else {
                RankBy::Flat
            },
            keep_allocator_frames: self.keep_allocator_frames,
            filters: Filters {
                focus: self.focus.clone(),
                ignore: self.ignore.clone(),
                hide: self.hide.clone(),
                show_from: self.show_from.clone(),
            },
            normalize: self.normalize,
            relative: self.relative,
            min_delta: self.min_delta.unwrap_or(0),
            attribute: match self.attribute {
                AttributeTo::Leaf => Attribute::Leaf,
                AttributeTo::User => Attribute::User,
            },
            classifier: Classifier {
                library: self.library.clone(),
                user: self.user.clone(),
            },
            // Fold only what the graph could not draw: a tenth of
            // --min-width, at most 10 millionths of the total.
            tree_fold_ppm: ((self.min_width / f64::from(self.svg_width) * 1e5).floor() as u32)
                .min(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_map_to_options() {
        let cli = Cli::parse_from([
            "heapdiff", "--by", "file", "--sort", "abs", "--cum", "-t", "2", "a", "b",
        ]);
        let o = cli.diff_options();
        assert_eq!(o.granularity, Granularity::File);
        assert_eq!(o.sort, SortOrder::Abs);
        assert_eq!(o.rank_by, RankBy::Cumulative);
        assert_eq!(o.sample_type, Some(SampleTypeChoice::Index(2)));
        assert!(!o.keep_allocator_frames);
        let cli = Cli::parse_from(["heapdiff", "a", "b"]);
        assert_eq!(cli.diff_options(), Options::default());
        assert_eq!(
            cli.plan(),
            Ok(Plan::Pair {
                before: vec!["a".into()],
                after: vec!["b".into()]
            })
        );
        assert_eq!(cli.svg, PathBuf::from("heapdiff.svg"));
    }

    #[test]
    fn limits_are_sizes_or_percentages() {
        assert_eq!(parse_limit("10MiB"), Ok(Limit::Size(10 << 20)));
        assert_eq!(parse_limit("5%"), Ok(Limit::Percent(5.0)));
        assert!(parse_limit("x%").is_err());
        assert!(Limit::Percent(5.0).exceeded(1000, 51));
        assert!(!Limit::Percent(5.0).exceeded(1000, 50));
        assert!(Limit::Percent(5.0).exceeded(0, 1));
        assert!(Limit::Size(100).exceeded(0, 101));
        assert!(!Limit::Size(100).exceeded(0, 100));
    }

    #[test]
    fn durations_and_urls() {
        use std::time::Duration;
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3 fortnights").is_err());
        let cli = Cli::parse_from([
            "heapdiff",
            "http://127.0.0.1:6060/debug/pprof/heap",
            "--count",
            "3",
        ]);
        assert_eq!(
            cli.plan(),
            Ok(Plan::Live {
                url: "http://127.0.0.1:6060/debug/pprof/heap".into(),
                count: 3,
                interval: Duration::from_secs(30)
            })
        );
        let cli = Cli::parse_from(["heapdiff", "http://x/heap", "after.pb.gz"]);
        assert!(cli.plan().unwrap_err().contains("give it alone"));
    }

    #[test]
    fn sizes_take_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("1.5 MiB"), Ok(1_572_864));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert!(
            parse_size("12 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("MiB").unwrap_err().contains("not a size"));
        assert!(parse_size("-5").is_err());
    }

    #[test]
    fn filters_are_regexes() {
        let cli = Cli::parse_from([
            "heapdiff",
            "--focus",
            "remember",
            "--hide",
            "^runtime\\.",
            "a",
            "b",
        ]);
        let o = cli.diff_options();
        assert_eq!(
            o.filters.describe(),
            [("focus", "remember"), ("hide", "^runtime\\.")]
        );
        assert!(Cli::try_parse_from(["heapdiff", "--focus", "(", "a", "b"]).is_err());
    }
}
