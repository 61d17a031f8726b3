//! Where an output file may go: outputs never destroy.
//!
//! heapdiff writes the flame graph to a path the user names, often in a
//! directory full of profiles, and a flag that takes a value swallows the
//! next argument: `heapdiff --svg snap-1.pb.gz snap-2.pb.gz snap-3.pb.gz`
//! names the first snapshot as the graph. So an output path is checked
//! before any work is done, and refused (one line, exit 2) when it is:
//!
//! - one of the inputs (the same file by device and inode, however it is
//!   spelled);
//! - an existing file that is not an image heapdiff writes (SVG or PNG, or
//!   empty), unless `--force`;
//! - an existing file that is not a regular file (a device such as
//!   `/dev/null`, a FIFO, a socket, a directory): the atomic write would
//!   replace the node itself;
//! - a symlink to anything but a regular file (or to nothing).
//!
//! A symlink to a regular file is followed: the target is replaced
//! atomically and the link stays. `-` means standard output.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// A checked output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Standard output (`-`).
    Stdout,
    /// A regular file to write atomically: the path given, or the target
    /// of the symlink given.
    File(PathBuf),
}

/// The identity of a file: its device and inode.
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// Checks that writing `path` (named by `flag`, e.g. `--svg`) destroys
/// nothing: see the module documentation. `inputs` are the files read.
pub(crate) fn check(
    flag: &str,
    path: &Path,
    inputs: &[PathBuf],
    force: bool,
) -> Result<Destination> {
    if path.as_os_str() == "-" {
        return Ok(Destination::Stdout);
    }
    let shown = path.display();
    if through_pseudo_files(path) {
        bail!(
            "{flag} {shown}: leads into /proc or /sys, whose files stand for whatever a process \
             has open; name a file (--svg - writes the graph to standard output)"
        );
    }
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Destination::File(path.to_owned()));
        }
        Err(e) => bail!("{flag} {shown}: cannot be checked: {e}"),
    };
    let Ok(meta) = std::fs::metadata(path) else {
        bail!(
            "{flag} {shown}: a symlink to nothing; heapdiff does not create files through links: \
             name the file itself"
        );
    };
    if !meta.is_file() {
        bail!(
            "{flag} {shown}: is {}{}, not a regular file; heapdiff replaces files, never devices \
             or directories (--no-svg writes no graph, --svg - writes it to standard output)",
            if link.file_type().is_symlink() {
                "a symlink to "
            } else {
                ""
            },
            kind(&meta)
        );
    }
    // A link to a regular file: the file is written, the link stays.
    let target = if link.file_type().is_symlink() {
        std::fs::canonicalize(path)?
    } else {
        path.to_owned()
    };
    let id = identity(&meta);
    for input in inputs {
        if std::fs::metadata(input).is_ok_and(|m| identity(&m) == id) {
            bail!(
                "{flag} {shown}: is the input {}; heapdiff never writes over an input \
                 (name the graph with {flag} OUT.svg)",
                input.display()
            );
        }
    }
    if !force && meta.len() > 0 {
        let head = first_bytes(&target);
        if !is_image(&head) {
            bail!(
                "{flag} {shown}: exists and is not an image heapdiff writes ({}); heapdiff replaces \
                 only SVG and PNG files: name another path, or add --force to replace it",
                describe(&head)
            );
        }
    }
    Ok(Destination::File(target))
}

/// The pseudo-file systems, whose links (`/proc/self/fd/1`, and
/// `/dev/stdout` through it) stand for whatever a process has open: a
/// regular file behind one may be a log, or anything.
const PSEUDO: [&str; 2] = ["/proc", "/sys"];

/// Whether `path`, or a symlink on the way from it, is in a pseudo-file
/// system (a chain too long to follow counts as one).
fn through_pseudo_files(path: &Path) -> bool {
    let mut at = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    for _ in 0..40 {
        if PSEUDO.iter().any(|p| at.starts_with(p)) {
            return true;
        }
        match std::fs::read_link(&at) {
            Ok(target) => {
                let dir = at.parent().unwrap_or(Path::new("/")).to_owned();
                at = dir.join(target);
            }
            Err(_) => return false,
        }
    }
    true
}

/// What a non-regular file is, for a message.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "something"
    }
}

/// The first bytes of a regular file (none if it cannot be read).
fn first_bytes(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut head = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(512).read_to_end(&mut head);
    }
    head
}

/// Whether a file starts like an SVG or PNG image.
fn is_image(head: &[u8]) -> bool {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    let text = head
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(head)
        .trim_ascii_start();
    head.starts_with(PNG)
        || text.starts_with(b"<svg")
        || (text.starts_with(b"<?xml") || text.starts_with(b"<!DOCTYPE svg"))
            && head.windows(4).any(|w| w == b"<svg")
}

/// What a file that is not an image looks like, for a message.
fn describe(head: &[u8]) -> String {
    let what = match head {
        [0x1f, 0x8b, ..] => "a gzip file: a profile?",
        [0x7f, b'E', b'L', b'F', ..] => "an ELF binary",
        [0x80, 0x04 | 0x05, ..] => "a pickle: a tracemalloc snapshot?",
        _ if head.starts_with(b"heap") => "a heap profile",
        _ if std::str::from_utf8(head).is_ok() => "text",
        _ => "binary data",
    };
    what.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(path: &Path, inputs: &[PathBuf], force: bool) -> String {
        check("--svg", path, inputs, force)
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn new_files_and_images_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.svg");
        assert_eq!(
            check("--svg", &new, &[], false).unwrap(),
            Destination::File(new)
        );
        for (name, bytes) in [
            ("a.svg", &b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"[..]),
            ("b.svg", b"<?xml version=\"1.0\"?>\n<svg/>"),
            ("c.png", b"\x89PNG\r\n\x1a\nrest"),
            ("empty", b""),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            assert_eq!(
                check("--svg", &p, &[], false).unwrap(),
                Destination::File(p)
            );
        }
        assert_eq!(
            check("--svg", Path::new("-"), &[], false).unwrap(),
            Destination::Stdout
        );
    }

    #[test]
    fn inputs_and_other_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("snap-1.pb.gz");
        std::fs::write(&profile, b"\x1f\x8b\x08\x00").unwrap();
        let err = refused(&profile, &[], false);
        assert!(
            err.contains("not an image heapdiff writes (a gzip file: a profile?)"),
            "{err}"
        );
        // --force replaces a file that is not an image, never an input.
        assert!(check("--svg", &profile, &[], true).is_ok());
        let other_name = dir.path().join(".").join("snap-1.pb.gz");
        let err = refused(&profile, &[other_name], true);
        assert!(err.contains("is the input"), "{err}");
        // An input that is an SVG is still an input.
        let svg = dir.path().join("in.svg");
        std::fs::write(&svg, b"<svg/>").unwrap();
        let linked = dir.path().join("hard.svg");
        std::fs::hard_link(&svg, &linked).unwrap();
        assert!(refused(&linked, &[svg], false).contains("is the input"));
    }

    #[test]
    fn devices_directories_and_odd_links_are_refused() {
        let err = refused(Path::new("/dev/null"), &[], true);
        assert!(
            err.contains("is a character device, not a regular file"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        assert!(refused(dir.path(), &[], true).contains("a directory"));
        let dangling = dir.path().join("dangling.svg");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(refused(&dangling, &[], false).contains("a symlink to nothing"));
        // Whatever standard output is (a pipe, a terminal, a log file).
        let to_stdout = dir.path().join("out.svg");
        std::os::unix::fs::symlink("/proc/self/fd/1", &to_stdout).unwrap();
        assert!(refused(&to_stdout, &[], true).contains("leads into /proc"));
        let chained = dir.path().join("chained.svg");
        std::os::unix::fs::symlink("out.svg", &chained).unwrap();
        assert!(refused(&chained, &[], true).contains("leads into /proc"));
        let err = refused(Path::new("/dev/stdout"), &[], true);
        assert!(err.contains("leads into /proc"), "{err}");
        // A link to a regular image: its target is written.
        let target = dir.path().join("real.svg");
        std::fs::write(&target, b"<svg/>").unwrap();
        let link = dir.path().join("link.svg");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(
            check("--svg", &link, &[], false).unwrap(),
            Destination::File(target.canonicalize().unwrap())
        );
    }
}
