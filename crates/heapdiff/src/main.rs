//! `heapdiff`: what grew? The binary is glue: arguments in, the libraries in
//! order (decode both profiles, diff, render), outputs out, exit codes.
//!
//! Exit codes: 0 success, 2 bad usage or input. A closed stdout pipe
//! (`heapdiff … | head`) is not an error.

mod cli;
mod output;
mod symbols;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use heapdiff_profile::{DecodeOptions, Profile};
use heapdiff_report::{FlameError, HeapFlameOptions, Inputs, Orientation, TableOptions};

use cli::{Cli, Color, FlameOrient, FlameStyle, OutputFormat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&format!("{e:#}"));
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<()> {
    if cli.before.as_os_str() == "-" && cli.after.as_os_str() == "-" {
        bail!("only one of the two profiles can be read from standard input");
    }
    let inputs = Inputs {
        before: display_name(&cli.before),
        after: display_name(&cli.after),
    };
    let options = DecodeOptions {
        jemalloc_thread: cli.thread,
        unit: Some(cli.unit.clone()),
    };
    let (before, after) = std::thread::scope(|s| {
        let before = s.spawn(|| load(&cli.before, &inputs.before, &options));
        let after = load(&cli.after, &inputs.after, &options);
        (
            before.join().expect("the decoder thread does not panic"),
            after,
        )
    });
    let (mut before, mut after) = (before?, after?);

    let mut warnings = Vec::new();
    for (name, p) in [(&inputs.before, &before), (&inputs.after, &after)] {
        warnings.extend(p.warnings.iter().map(|w| format!("{name}: {w}")));
    }
    if !cli.no_symbolize {
        warnings.extend(symbols::symbolize(
            cli,
            [
                (&inputs.before, &cli.before, &mut before),
                (&inputs.after, &cli.after, &mut after),
            ],
        ));
    }
    let diff = heapdiff_diff::diff(&before, &after, &cli.diff_options())?;
    warnings.extend(diff.warnings.iter().cloned());
    for w in &warnings {
        output::warn(w);
    }

    // The graph is written before anything reaches stdout, so that a failure
    // to write it stops the run cleanly; where it went is said last.
    let mut written = None;
    if !cli.no_svg {
        let rendered = match cli.flame_style {
            FlameStyle::Heap => heapdiff_report::render_heap_flamegraph(
                &diff,
                &inputs,
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
                &diff,
                &inputs,
                cli.svg_width,
                cli.flame_orient == Some(FlameOrient::Icicle),
            ),
        };
        match rendered {
            Ok(svg) => {
                output::write_atomic(&cli.svg, &svg).with_context(|| {
                    format!("cannot write the flame graph to {}", cli.svg.display())
                })?;
                written = Some(&cli.svg);
            }
            Err(e @ (FlameError::Empty | FlameError::Blank)) => {
                output::warn(&format!("no flame graph written: {e}"))
            }
            Err(e) => return Err(e.into()),
        }
    }

    let stdout = std::io::stdout();
    let text = match cli.format {
        OutputFormat::Json => heapdiff_report::render_json(&diff, &inputs, cli.top, &warnings),
        OutputFormat::Table => {
            let terminal = stdout.is_terminal();
            let color = match cli.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            let width = cli.width.or_else(|| {
                terminal
                    .then(|| terminal_size::terminal_size_of(&stdout))
                    .flatten()
                    .map(|(w, _)| w.0 as usize)
            });
            heapdiff_report::render_table(
                &diff,
                &inputs,
                &TableOptions {
                    top: cli.top,
                    width,
                    color,
                },
            )
        }
    };
    output::write_stdout(&stdout, text.as_bytes())?;
    if let Some(path) = written {
        output::note(&format!("flame graph written to {}", path.display()));
    }
    Ok(())
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
