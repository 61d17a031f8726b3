//! `heapdiff`: what grew? The binary is glue: arguments in, the libraries in
//! order (decode both profiles, diff, render), outputs out, exit codes.
//!
//! Exit codes: 0 success, 2 bad usage or input. A closed stdout pipe
//! (`heapdiff … | head`) is not an error.

mod budget;
mod cli;
mod destination;
mod live;
mod mistakes;
mod order;
mod output;
mod plan;
mod public;
mod store;
mod symbols;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use heapdiff_profile::{DecodeOptions, Profile};
use heapdiff_report::{
    FlameError, HeapFlameOptions, Inputs, MarkdownOptions, Orientation, SourceText, TableOptions,
};
use rayon::prelude::*;

use cli::{Cli, Color, FlameOrient, FlameStyle, Order, OutputFormat};
use destination::Destination;
use plan::Plan;

/// What a run that did not fail found.
enum Verdict {
    /// Nothing to report.
    Pass,
    /// A CI gate (`--fail-on-growth`, `--fail-on-line-growth`) tripped.
    Fail(String),
}

fn main() -> ExitCode {
    output::reopen_closed_stdio();
    let mut cli = Cli::parse();
    if let Some(command) = &cli.command {
        let stdout = std::io::stdout();
        return match cli::run_command(command, &mut stdout.lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                output::error(&format!("cannot write: {e}"));
                ExitCode::from(2)
            }
        };
    }
    let code = match run(&mut cli) {
        Ok(Verdict::Pass) => ExitCode::SUCCESS,
        Ok(Verdict::Fail(reason)) => {
            output::fail(&reason);
            ExitCode::from(1)
        }
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&format!("{e:#}"));
            ExitCode::from(2)
        }
    };
    output::timing("exit");
    code
}

fn run(cli: &mut Cli) -> Result<Verdict> {
    symbols::check_search_paths(cli)?;
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("cannot start the threads")?;
    }
    if cli.trend {
        cli.profiles = snapshots_of_one(cli)?;
    }
    let mut plan = cli.plan().map_err(anyhow::Error::msg)?;
    for w in dedupe(&mut plan) {
        output::warn(&w);
    }
    match &plan {
        Plan::Live { url, .. } => {
            if let Some(hint) = mistakes::gc_hint(url) {
                output::note(&hint);
            }
        }
        Plan::Store { .. } => {}
        Plan::Pair { before, after } => {
            let all: Vec<PathBuf> = before.iter().chain(after).cloned().collect();
            if let Some(e) = mistakes::program_given_as_profile(&all) {
                bail!(e);
            }
        }
        Plan::Trend(snapshots) => {
            if let Some(e) = mistakes::program_given_as_profile(snapshots) {
                bail!(e);
            }
        }
    }
    if !matches!(plan, Plan::Live { .. } | Plan::Store { .. })
        && let Some(w) = mistakes::live_options_with_files(cli)
    {
        output::warn(&w);
    }
    let inputs: Vec<PathBuf> = match &plan {
        Plan::Pair { before, after } => before.iter().chain(after).cloned().collect(),
        Plan::Trend(snapshots) => snapshots.clone(),
        Plan::Live { .. } | Plan::Store { .. } => Vec::new(),
    };
    if !cli.no_svg {
        cli.graph = Some(destination::check("--svg", &cli.svg, &inputs, cli.force)?);
    }
    if let Some(png) = &cli.png {
        let png = destination::check("--png", png, &inputs, cli.force)?;
        if png == Destination::Stdout && cli.graph == Some(Destination::Stdout) {
            bail!("--svg - and --png - both name standard output; send one of them to a file");
        }
        cli.png_graph = Some(png);
    }
    let cli = &*cli;
    let memory = budget::enforce(cli.memory_budget());
    // Live capture and stores: fetch into files, then compare them like any
    // others.
    let _scratch;
    let mut fetched_names = None;
    let mut fetched_counts = None;
    if matches!(plan, Plan::Live { .. } | Plan::Store { .. }) {
        let scratch = match &cli.save_dir {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .with_context(|| format!("cannot create {}", d.display()))?;
                None
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("heapdiff-live-")
                    .tempdir()?;
                live::remove_on_interrupt(t.path());
                Some(t)
            }
        };
        let to = match (&scratch, &cli.save_dir) {
            (Some(t), _) => live::SaveTo::Scratch(t.path()),
            (None, Some(d)) => live::SaveTo::Kept(d),
            (None, None) => unreachable!("a directory was made above"),
        };
        let (files, names, counts) = fetch(cli, &plan, to)?;
        if cli.save_dir.is_none() {
            fetched_names = Some(names);
        } else if counts.iter().all(Option::is_some) && !counts.is_empty() {
            output::note(&format!(
                "to compare the saved files again: heapdiff {} --merged {}",
                files
                    .iter()
                    .map(|f| public::quoted(&f.display().to_string()))
                    .collect::<Vec<_>>()
                    .join(" "),
                counts
                    .iter()
                    .flatten()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        fetched_counts = Some(counts);
        _scratch = scratch;
        plan = if files.len() == 2 {
            Plan::Pair {
                before: vec![files[0].clone()],
                after: vec![files[1].clone()],
            }
        } else {
            Plan::Trend(files)
        };
    }
    let paths: Vec<PathBuf> = match &plan {
        Plan::Pair { before, after } => before.iter().chain(after).cloned().collect(),
        Plan::Trend(snapshots) => snapshots.clone(),
        Plan::Live { .. } | Plan::Store { .. } => unreachable!("fetched above"),
    };
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        bail!("only one profile can be read from standard input");
    }
    let names: Vec<String> =
        fetched_names.unwrap_or_else(|| paths.iter().map(|p| display_name(p)).collect());
    let merged: Vec<Option<u64>> =
        fetched_counts.unwrap_or_else(|| paths.iter().map(|p| cli.merged_of(p)).collect());
    let (max_input, limits) = cli.limits();
    budget::working_on(names.join(", "));
    let options = DecodeOptions {
        jemalloc_thread: cli.thread,
        unit: Some(cli.unit.clone()),
        max_input: Some(max_input),
        limits,
        budget: memory,
        snapshot: None,
    };
    output::timing("start");
    match plan {
        Plan::Pair { before, .. } => compare(cli, &paths, &names, &merged, before.len(), &options),
        Plan::Trend(_) => {
            let mut profiles = load_all(&paths, &names, &merged, &options)?;
            output::timing("decode");
            let (mut paths, mut names) = (paths, names);
            if cli.order == Order::Time
                && let Some(taken) = order::by_time_taken(&profiles)
                && taken.windows(2).any(|w| w[0] > w[1])
            {
                let mut slots: Vec<_> = profiles.into_iter().map(Some).collect();
                profiles = taken
                    .iter()
                    .map(|&i| slots[i].take().expect("each once"))
                    .collect();
                paths = taken.iter().map(|&i| paths[i].clone()).collect();
                names = taken.iter().map(|&i| names[i].clone()).collect();
                output::note(
                    "snapshots put in the order they were taken (--order given keeps the \
                     command line's)",
                );
            }
            let mut symbols = (!cli.no_symbolize).then(|| symbols::Session::new(cli));
            let mut warnings = symbolize(&mut symbols, &mut profiles, &paths, &names);
            warnings.extend(symbols.map(symbols::Session::finish).unwrap_or_default());
            output::timing("symbolize");
            trend(cli, &profiles, &names, warnings)
        }
        Plan::Live { .. } | Plan::Store { .. } => unreachable!("fetched above"),
    }
}

/// `--trend FILE`: the file's snapshots, as `FILE#N` inputs.
fn snapshots_of_one(cli: &Cli) -> Result<Vec<PathBuf>> {
    let [file] = cli.profiles.as_slice() else {
        bail!("--trend takes one file of snapshots (massif); give three or more profiles instead");
    };
    let options = DecodeOptions {
        max_input: Some(cli.limits().0),
        ..DecodeOptions::default()
    };
    let numbers = heapdiff_profile::snapshots_in(file, &options)
        .with_context(|| file.display().to_string())?;
    if numbers.len() < 2 {
        bail!(
            "{}: {} detailed snapshot{}: a trend needs two or more \
             (valgrind --tool=massif --detailed-freq=1 makes every snapshot detailed)",
            file.display(),
            numbers.len(),
            if numbers.len() == 1 { "" } else { "s" }
        );
    }
    Ok(numbers
        .iter()
        .map(|n| PathBuf::from(format!("{}#{n}", file.display())))
        .collect())
}

/// Compares the first `split` inputs (merged) with the rest (merged). The
/// after side is read on the thread pool while this thread reads the before
/// side, symbolizes it, and keys and sums it for the diff (a leak's after
/// file is the bigger one: it is still being read by then).
fn compare(
    cli: &Cli,
    paths: &[PathBuf],
    names: &[String],
    merged: &[Option<u64>],
    split: usize,
    options: &DecodeOptions,
) -> Result<Verdict> {
    let inputs = Inputs {
        before: side_name(&names[..split]),
        after: side_name(&names[split..]),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let (paths, names) = (paths[split..].to_vec(), names[split..].to_vec());
        let merged = merged[split..].to_vec();
        let options = options.clone();
        rayon::spawn(move || {
            // The receiver is gone only if the before side failed.
            let _ = tx.send(load_all(&paths, &names, &merged, &options));
        });
    }
    // A failing before file is reported at once, as in command-line order.
    let diff_options = cli.diff_options();
    let mut symbols = (!cli.no_symbolize).then(|| symbols::Session::new(cli));
    let mut before = load_all(&paths[..split], &names[..split], &merged[..split], options)?;
    let mut warnings = symbolize(&mut symbols, &mut before, &paths[..split], &names[..split]);
    let before_taken = order::taken(&before);
    let before_types = before.iter().map(mistakes::types_of).collect::<Vec<_>>();
    let before = Profile::merge(before).with_context(|| inputs.before.clone())?;
    let ahead = heapdiff_diff::ahead(before, &diff_options);
    output::timing("before side");
    let mut after = rx.recv().expect("the after side is sent")?;
    output::timing("decode");
    warnings.extend(symbolize(
        &mut symbols,
        &mut after,
        &paths[split..],
        &names[split..],
    ));
    warnings.extend(symbols.map(symbols::Session::finish).unwrap_or_default());
    let taken = [before_taken, order::taken(&after)];
    warnings.extend(mistakes::not_heap_profiles(&before_types, &after));
    if let Some(w) = order::swapped_warning(
        (taken[0], &paths[..split], &inputs.before),
        (taken[1], &paths[split..], &inputs.after),
    ) {
        warnings.push(w);
    }
    let after = Profile::merge(after).with_context(|| inputs.after.clone())?;
    output::timing("symbolize");
    let diff = heapdiff_diff::diff_ahead(ahead, &after, &diff_options)?;
    output::timing("diff");
    report(cli, diff, inputs, taken, warnings)
}

/// Symbolizes `profiles` (read from `paths`, called `names`) in `session`,
/// if any; returns their decoders' warnings.
fn symbolize(
    session: &mut Option<symbols::Session>,
    profiles: &mut [Profile],
    paths: &[PathBuf],
    names: &[String],
) -> Vec<String> {
    if let Some(session) = session {
        for ((profile, path), name) in profiles.iter_mut().zip(paths).zip(names) {
            session.symbolize(name, path, profile);
        }
    }
    profile_warnings(names.iter().map(String::as_str).zip(&*profiles))
}

/// The decoders' warnings, each naming its input.
fn profile_warnings<'a>(named: impl IntoIterator<Item = (&'a str, &'a Profile)>) -> Vec<String> {
    named
        .into_iter()
        .flat_map(|(name, p)| p.warnings.iter().map(move |w| format!("{name}: {w}")))
        .collect()
}

/// Names a side: its file, or its first file and how many more.
fn side_name(names: &[String]) -> String {
    match names {
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
        [] => String::new(),
    }
}

/// Decodes every input, all at once, each known to sum the profiles
/// `merged` says; the first failing input, in command-line order, is the
/// one reported.
fn load_all(
    paths: &[PathBuf],
    names: &[String],
    merged: &[Option<u64>],
    options: &DecodeOptions,
) -> Result<Vec<Profile>> {
    paths
        .par_iter()
        .zip(names)
        .zip(merged)
        .map(|((path, name), &merged)| {
            let mut profile = load(path, name, options)?;
            profile.merged = merged;
            Ok(profile)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// A trend: table or JSON of every snapshot, the flame graph first vs last.
fn trend(
    cli: &Cli,
    profiles: &[Profile],
    names: &[String],
    mut warnings: Vec<String>,
) -> Result<Verdict> {
    let mut trend = heapdiff_diff::trend(profiles, &cli.diff_options())?;
    let (first, last) = (&profiles[0], &profiles[profiles.len() - 1]);
    let mut diff = heapdiff_diff::diff(first, last, &cli.diff_options())?;
    warnings.extend(trend.warnings.iter().cloned());
    warnings.extend(diff.warnings.iter().cloned());
    for w in &warnings {
        output::warn(w);
    }
    let mut inputs = Inputs {
        before: names[0].clone(),
        after: names[names.len() - 1].clone(),
    };
    let mut names = names.to_vec();
    // Source text of the rows the table shows, read by the files' real
    // paths before any redaction.
    let shown = trend
        .rows
        .iter()
        .filter(|r| r.score > 0 || r.growth() != 0)
        .take(if cli.top == 0 { usize::MAX } else { cli.top });
    let mut source = source_lines(cli, shown.map(|r| trend.key(r.key)));
    if cli.redact_paths {
        let r = public::redact(&mut diff, &mut inputs, &mut source, &cli.source_roots);
        trend.rename_files(|f| r.path(f));
        names.iter_mut().for_each(|n| *n = r.path(n));
    }
    let first = trend.totals.first().copied().unwrap_or(0);
    let growth = trend.totals.last().copied().unwrap_or(0) - first;
    let rows = trend.rows.iter().map(|r| (trend.key(r.key), r.growth()));
    let verdict = gates(cli, &trend.sample_type.unit, first, growth, rows);
    let stdout = std::io::stdout();
    let text = match cli.format {
        OutputFormat::Json => {
            heapdiff_report::render_trend_json(&trend, &names, cli.top, &warnings)
        }
        OutputFormat::Table => heapdiff_report::render_trend_table(
            &trend,
            Some(&diff),
            &names,
            &TableOptions {
                source,
                ..table_options(cli, &stdout)
            },
        ),
        OutputFormat::Markdown | OutputFormat::Csv => bail!(
            "--format {} compares two profiles; for a trend use table or json",
            if cli.format == OutputFormat::Csv {
                "csv"
            } else {
                "markdown"
            }
        ),
    };
    let written = quiet_pipe(write_graph(cli, &diff, &inputs))?.unwrap_or_default();
    if report_on_stdout(cli) {
        quiet_pipe(output::write_stdout(&stdout, text.as_bytes()).map_err(Into::into))?;
    }
    output::timing("table");
    if !written.is_empty() {
        output::note(&format!(
            "flame graph (first → last) written to {}",
            list_paths(&written)
        ));
    }
    Ok(verdict)
}

/// Checks the CI gates: the total's growth, then every row's.
fn gates<'a>(
    cli: &Cli,
    unit: &str,
    before: i64,
    growth: i64,
    rows: impl Iterator<Item = (&'a heapdiff_diff::Key, i64)>,
) -> Verdict {
    use heapdiff_report::units::format_value;
    if let Some(limit) = cli.fail_on_growth
        && limit.exceeded(before, growth)
    {
        let limit = match limit {
            cli::Limit::Size(v) => format_value(v, unit, false),
            cli::Limit::Percent(p) => format!("{p}% of {}", format_value(before, unit, false)),
        };
        return Verdict::Fail(format!(
            "the total grew by {}, more than --fail-on-growth {limit}",
            format_value(growth, unit, true)
        ));
    }
    if let Some(max) = cli.fail_on_line_growth {
        let worst = rows.filter(|(_, g)| *g > max).max_by_key(|(_, g)| *g);
        if let Some((key, g)) = worst {
            return Verdict::Fail(format!(
                "{} grew by {}, more than --fail-on-line-growth {}",
                key.display(),
                format_value(g, unit, true),
                format_value(max, unit, false)
            ));
        }
    }
    Verdict::Pass
}

/// The source line of every row that will be shown, unless `--no-source`.
fn source_lines<'a>(
    cli: &Cli,
    keys: impl Iterator<Item = &'a heapdiff_diff::Key>,
) -> heapdiff_report::SourceText {
    let mut text = heapdiff_report::SourceText::new();
    if cli.no_source || !matches!(cli.format, OutputFormat::Table | OutputFormat::Markdown) {
        return text;
    }
    let mut files = heapdiff_symbolize::SourceFiles::new(cli.source_roots.clone());
    for key in keys {
        if let (Some(file), Some(line)) = (&key.file, key.line)
            && let Some(t) = files.line(file, line)
        {
            text.insert((file.clone(), line), t.to_owned());
        }
    }
    let refused = files.refused();
    if refused > 0 {
        output::warn(&format!(
            "source lines of {refused} file{} outside the working directory were not read; \
             name their directory with --source-root DIR",
            if refused == 1 { "" } else { "s" }
        ));
    }
    text
}

/// Colour and width of the table, from the flags and the terminal.
fn table_options(cli: &Cli, stdout: &std::io::Stdout) -> TableOptions {
    let terminal = stdout.is_terminal();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let width = cli.width.or_else(|| {
        terminal
            .then(|| terminal_size::terminal_size_of(stdout))
            .flatten()
            .map(|(w, _)| w.0 as usize)
    });
    TableOptions {
        top: cli.top,
        width,
        color,
        source: heapdiff_report::SourceText::new(),
    }
}

/// Writes the flame graph unless `--no-svg`, and its PNG with `--png`;
/// returns the files they went to.
fn write_graph(cli: &Cli, diff: &heapdiff_diff::Diff, inputs: &Inputs) -> Result<Vec<PathBuf>> {
    if cli.graph.is_none() && cli.png_graph.is_none() {
        return Ok(Vec::new());
    }
    let rendered = match cli.flame_style {
        FlameStyle::Heap => heapdiff_report::render_heap_flamegraph(
            diff,
            inputs,
            &HeapFlameOptions {
                width: cli.svg_width,
                min_width: cli.min_width,
                orientation: match cli.flame_orient {
                    Some(FlameOrient::Flame) => Orientation::Flame,
                    Some(FlameOrient::Icicle) | None => Orientation::Icicle,
                },
            },
        ),
        FlameStyle::Classic => heapdiff_report::render_classic_flamegraph(
            diff,
            inputs,
            cli.svg_width,
            cli.flame_orient == Some(FlameOrient::Icicle),
        ),
    };
    let svg = match rendered {
        Ok(svg) => svg,
        Err(e @ (FlameError::Empty | FlameError::Blank)) => {
            output::warn(&format!("no flame graph written: {e}"));
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.into()),
    };
    let mut written = Vec::new();
    if let Some(destination) = &cli.graph {
        let png = is_png_name(&cli.svg);
        let bytes = if png { to_png(cli, &svg)? } else { svg.clone() };
        written.extend(write_image(destination, &cli.svg, &bytes)?);
    }
    if let (Some(destination), Some(path)) = (&cli.png_graph, &cli.png) {
        written.extend(write_image(destination, path, &to_png(cli, &svg)?)?);
    }
    Ok(written)
}

/// Whether a graph's path asks for a PNG (`graph.png`, `graph.PNG`).
fn is_png_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
}

/// The graph drawn as a PNG at `--png-scale`.
fn to_png(cli: &Cli, svg: &[u8]) -> Result<Vec<u8>> {
    heapdiff_report::render_png(svg, cli.png_scale).context("no PNG written")
}

/// Writes one image to its checked destination; returns the file written
/// (`None` for standard output).
fn write_image(destination: &Destination, named: &Path, bytes: &[u8]) -> Result<Option<PathBuf>> {
    match destination {
        Destination::Stdout => {
            output::write_stdout(&std::io::stdout(), bytes)?;
            Ok(None)
        }
        Destination::File(path) => {
            output::write_atomic(path, bytes)
                .with_context(|| format!("cannot write the flame graph to {}", named.display()))?;
            Ok(Some(named.to_owned()))
        }
    }
}

/// Whether the table (or JSON, markdown, CSV) is written: not when the
/// graph goes to standard output in its place.
fn report_on_stdout(cli: &Cli) -> bool {
    cli.graph != Some(Destination::Stdout) && cli.png_graph != Some(Destination::Stdout)
}

/// What a live or store plan fetched: the files, how each is shown, and
/// how many profiles each sums where the store says.
type Fetched = (Vec<PathBuf>, Vec<String>, Vec<Option<u64>>);

/// Fetches what a live or store plan names into files of `to`.
fn fetch(cli: &Cli, plan: &Plan, to: live::SaveTo<'_>) -> Result<Fetched> {
    let trust = live::Trust {
        ca_file: cli.cacert.clone(),
        insecure: cli.insecure,
    };
    let max = cli.limits().0;
    let url = match plan {
        Plan::Live { url, .. } => url.as_str(),
        Plan::Store { source, .. } => source.split_once('+').map_or("", |(_, url)| url),
        Plan::Pair { .. } | Plan::Trend(_) => "",
    };
    if trust.insecure
        && url
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    {
        output::warn("--insecure: the server's certificate is not verified");
    }
    match plan {
        Plan::Live {
            url,
            count,
            interval,
        } => {
            let endpoint = live::Endpoint::new(url, cli.fetch_timeout, max, &trust)?;
            let files = live::capture(&endpoint, *count, *interval, to)?;
            let names = (1..=files.len())
                .map(|i| format!("{} #{i}", endpoint.shown()))
                .collect();
            let counts = vec![None; files.len()];
            Ok((files, names, counts))
        }
        Plan::Store { source, windows } => {
            let store = store::Store::parse(source, |k| std::env::var(k).ok())
                .map_err(anyhow::Error::msg)?;
            let now = jiff::Timestamp::now();
            let mut windows = windows
                .iter()
                .map(|w| store::Window::parse(w, now))
                .collect::<Result<Vec<_>, _>>()
                .map_err(anyhow::Error::msg)?;
            if let Some(n) = cli.step {
                windows = windows[0].split(n).map_err(anyhow::Error::msg)?;
            }
            store.check(&windows).map_err(anyhow::Error::msg)?;
            let fetched = store::capture(&store, &windows, cli.fetch_timeout, max, &trust, to)?;
            let names = windows
                .iter()
                .map(|w| format!("{} {}", store.shown(), w.shown()))
                .collect();
            let (files, counts) = fetched.into_iter().map(|f| (f.path, f.merged)).unzip();
            Ok((files, names, counts))
        }
        Plan::Pair { .. } | Plan::Trend(_) => unreachable!("only fetch plans are fetched"),
    }
}

/// Drops inputs given twice (the same file by device and inode: a file
/// repeated, overlapping globs, a link to a file also named), keeping the
/// first; returns a warning for each.
fn dedupe(plan: &mut Plan) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut warnings = Vec::new();
    let mut keep_first = |paths: &mut Vec<PathBuf>, side: &str| {
        let mut seen: Vec<((u64, u64), PathBuf)> = Vec::new();
        paths.retain(|p| {
            // Standard input and devices are not de-duplicated.
            let Some(m) = std::fs::metadata(p)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| (m.dev(), m.ino()))
            else {
                return true;
            };
            if let Some((_, first)) = seen.iter().find(|(id, _)| *id == m) {
                warnings.push(format!(
                    "{} is the same file as {}{side}; it is read once",
                    p.display(),
                    first.display()
                ));
                return false;
            }
            seen.push((m, p.clone()));
            true
        });
    };
    match plan {
        Plan::Pair { before, after } if before.len() > 1 || after.len() > 1 => {
            keep_first(before, " on the before side");
            keep_first(after, " on the after side");
        }
        Plan::Trend(snapshots) => keep_first(snapshots, ""),
        _ => {}
    }
    warnings
}

/// A pair's diff shown: table, JSON, markdown or CSV, and the flame graph.
/// `taken`: when each side was taken, where the profiles say.
fn report(
    cli: &Cli,
    mut diff: heapdiff_diff::Diff,
    mut inputs: Inputs,
    taken: [Option<i64>; 2],
    mut warnings: Vec<String>,
) -> Result<Verdict> {
    warnings.extend(diff.warnings.iter().cloned());
    for w in &warnings {
        output::warn(w);
    }

    let shown = match cli.top {
        0 => diff.changed_rows(),
        n => &diff.changed_rows()[..diff.changed_rows().len().min(n)],
    };
    // Source text is read by the files' real paths, before any redaction.
    let mut source = match report_on_stdout(cli) {
        true => source_lines(cli, shown.iter().map(|r| diff.key(r.key))),
        false => SourceText::new(),
    };
    let redaction = cli
        .redact_paths
        .then(|| public::redact(&mut diff, &mut inputs, &mut source, &cli.source_roots));
    // The gates' verdict before the outputs: it stands whatever happens to
    // stdout.
    let rows = diff
        .rows
        .iter()
        .map(|r| (diff.key(r.key), diff.ranked(r).delta()));
    let verdict = gates(
        cli,
        &diff.sample_type.unit,
        diff.totals.before,
        diff.totals.delta(),
        rows,
    );
    // The graph is written before anything reaches stdout, so that a failure
    // to write it stops the run cleanly; where it went is said last.
    let written = quiet_pipe(write_graph(cli, &diff, &inputs))?.unwrap_or_default();
    output::timing("flame graph");
    if report_on_stdout(cli) {
        let stdout = std::io::stdout();
        let text = match cli.format {
            OutputFormat::Json => heapdiff_report::render_json(&diff, &inputs, cli.top, &warnings),
            OutputFormat::Table => heapdiff_report::render_table(
                &diff,
                &inputs,
                &TableOptions {
                    source,
                    ..table_options(cli, &stdout)
                },
            ),
            OutputFormat::Markdown => heapdiff_report::render_markdown(
                &diff,
                &inputs,
                &MarkdownOptions {
                    top: cli.top,
                    source,
                    taken,
                    gate: public::gate_report(cli, &verdict, &diff.sample_type.unit),
                    image: public::image(cli, &written),
                    made_by: Some((
                        env!("CARGO_PKG_VERSION").to_owned(),
                        public::command_line(redaction.as_ref()),
                    )),
                },
            ),
            OutputFormat::Csv => heapdiff_report::render_csv(&diff, cli.top),
        };
        quiet_pipe(output::write_stdout(&stdout, text.as_bytes()).map_err(Into::into))?;
    }
    output::timing("table");
    if !written.is_empty() {
        output::note(&format!("flame graph written to {}", list_paths(&written)));
    }
    Ok(verdict)
}

/// `a.svg` or `a.svg and a.png`.
fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" and ")
}

/// `Ok(None)` for an error that is stdout's reader going away (`| head`):
/// the run goes on to its verdict.
fn quiet_pipe<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if output::is_broken_pipe(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn load(path: &Path, name: &str, options: &DecodeOptions) -> Result<Profile> {
    heapdiff_profile::open_with(path, options).with_context(|| name.to_owned())
}

fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}
