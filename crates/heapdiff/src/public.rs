//! What a report meant for a public place carries besides the diff: the
//! command line that made it, the gates' verdict, the image, and (with
//! `--redact-paths`) no absolute local paths.

use std::path::PathBuf;

use heapdiff_diff::Diff;
use heapdiff_report::redact::PathRedaction;
use heapdiff_report::{Image, Inputs, SourceText};

use crate::Verdict;
use crate::cli::{Cli, Limit};

/// Rewrites the diff's files, the inputs' names and the source text's keys
/// as `--redact-paths` asks; returns the redaction for the rest (the
/// command line).
pub(crate) fn redact(
    diff: &mut Diff,
    inputs: &mut Inputs,
    source: &mut SourceText,
    source_roots: &[PathBuf],
) -> PathRedaction {
    let own = diff
        .keys()
        .filter(|(id, _)| !diff.is_library(*id))
        .filter_map(|(_, key)| key.file.as_deref());
    let redaction = PathRedaction::new(source_roots, own);
    diff.rename_files(|f| redaction.path(f));
    inputs.before = redaction.path(&inputs.before);
    inputs.after = redaction.path(&inputs.after);
    *source = std::mem::take(source)
        .into_iter()
        .map(|((file, line), text)| ((redaction.path(&file), line), text))
        .collect();
    redaction
}

/// The command line, as a shell would take it back: `heapdiff` and its
/// arguments, quoted where needed, credentials in URLs removed, absolute
/// paths redacted when `redaction` is given.
pub(crate) fn command_line(redaction: Option<&PathRedaction>) -> String {
    let mut words = vec!["heapdiff".to_owned()];
    for arg in std::env::args_os().skip(1) {
        let arg = arg.to_string_lossy();
        let arg = if arg.contains("://") {
            crate::live::redact(&arg)
        } else {
            match redaction {
                Some(r) => r.path(&arg),
                None => arg.into_owned(),
            }
        };
        words.push(quoted(&arg));
    }
    words.join(" ")
}

/// `arg` quoted for a POSIX shell when it holds anything but plain
/// characters.
pub(crate) fn quoted(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,~^".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The gates' verdict as a report states it (`passed (…)`, `failed: …`);
/// `None` when no gate is set.
pub(crate) fn gate_report(cli: &Cli, verdict: &Verdict, unit: &str) -> Option<String> {
    use heapdiff_report::units::format_value;
    let mut set = Vec::new();
    if let Some(limit) = cli.fail_on_growth {
        set.push(format!(
            "--fail-on-growth {}",
            match limit {
                Limit::Size(v) => format_value(v, unit, false),
                Limit::Percent(p) => format!("{p}%"),
            }
        ));
    }
    if let Some(max) = cli.fail_on_line_growth {
        set.push(format!(
            "--fail-on-line-growth {}",
            format_value(max, unit, false)
        ));
    }
    if set.is_empty() {
        return None;
    }
    Some(match verdict {
        Verdict::Fail(why) => format!("failed: {why}"),
        Verdict::Pass => format!("passed ({})", set.join(", ")),
    })
}

/// The flame graph a markdown report shows: `--image-url`, else the file
/// written (the PNG when there is one: every tracker shows it), by its
/// name only, for the reader to attach.
pub(crate) fn image(cli: &Cli, written: &[PathBuf]) -> Image {
    if let Some(url) = &cli.image_url {
        return Image::Url(url.clone());
    }
    let is_png = |p: &&PathBuf| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
    match written.iter().find(is_png).or(written.first()) {
        Some(file) => Image::Attach(file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )),
        None => Image::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_when_a_shell_would_split_them() {
        assert_eq!(
            quoted("fixtures/go/before.pb.gz"),
            "fixtures/go/before.pb.gz"
        );
        assert_eq!(quoted("--fail-on-growth=5%"), "--fail-on-growth=5%");
        assert_eq!(quoted("main|leak"), "'main|leak'");
        assert_eq!(quoted("it's"), r"'it'\''s'");
        assert_eq!(quoted(""), "''");
    }
}
