//! Where output goes: stdout (a closed pipe is fine), stderr messages, and
//! files written atomically (a temporary file in the same directory, renamed
//! into place), so that an error never leaves a half-written SVG.

use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".heapdiff-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    // Temporary files are private (0600); the result should read like any
    // file the user writes: the old file's permissions, or rw-r--r--.
    let permissions = match std::fs::metadata(path) {
        Ok(old) => old.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    tmp.as_file().set_permissions(permissions)?;
    tmp.as_file().sync_data()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes the report to stdout.
pub(crate) fn write_stdout(stdout: &io::Stdout, bytes: &[u8]) -> io::Result<()> {
    let mut lock = stdout.lock();
    lock.write_all(bytes)?;
    lock.flush()
}

/// Whether an error is stdout's reader going away (`| head`).
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// `heapdiff: error: …` on stderr.
pub(crate) fn error(message: &str) {
    stderr_line("error: ", message);
}

/// The one-line reason a CI gate failed, on stderr.
pub(crate) fn fail(reason: &str) {
    stderr_line("fail: ", reason);
}

/// `heapdiff: warning: …` on stderr.
pub(crate) fn warn(message: &str) {
    stderr_line("warning: ", message);
}

/// `heapdiff: …` on stderr.
pub(crate) fn note(message: &str) {
    stderr_line("", message);
}

fn stderr_line(kind: &str, message: &str) {
    // Messages may quote names from the profile: keep them on one line,
    // with whatever a terminal would act on shown instead.
    let one_line = heapdiff_report::escape::terminal(message);
    let _ = writeln!(io::stderr().lock(), "heapdiff: {kind}{one_line}");
}

/// Gives standard input, output and error that were closed (`>&-`) to
/// `/dev/null`, so that the first file heapdiff opens does not become its
/// standard output (the table would be written into the flame graph's
/// temporary file) and the exit status still tells a gate's verdict.
pub(crate) fn reopen_closed_stdio() {
    use std::os::fd::{AsRawFd, IntoRawFd};
    for _ in 0..3 {
        let Ok(null) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
        else {
            return;
        };
        if null.as_raw_fd() > 2 {
            // Nothing was closed (or no longer is): this one is not needed.
            return;
        }
        // It took the place of a closed standard stream: keep it open.
        let _ = null.into_raw_fd();
    }
}

/// With `HEAPDIFF_TIMINGS` set, prints the time since the first call and
/// since the previous one to stderr, labelled: where a run spends its time,
/// and the processor time it took (Linux; over the wall time, how many
/// cores were busy: below 2 on two cores, a stretch to overlap).
pub(crate) fn timing(stage: &str) {
    use std::sync::Mutex;
    use std::time::Instant;
    static LAST: Mutex<Option<(Instant, Instant, f64)>> = Mutex::new(None);
    if std::env::var_os("HEAPDIFF_TIMINGS").is_none() {
        return;
    }
    let now = Instant::now();
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| cpu_ms(&s))
        .unwrap_or(0.0);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let (start, previous, previous_cpu) = last.unwrap_or((now, now, cpu));
    // Resident memory now and at its peak so far (Linux), in MB.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |field: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or_else(|| "?".to_owned(), |k| (k / 1024).to_string())
    };
    let wall = (now - previous).as_secs_f64() * 1e3;
    let busy = cpu - previous_cpu;
    eprintln!(
        "heapdiff: timing: {stage}: {wall:.1} ms (at {:.1} ms), CPU {busy:.0} ms ({:.1} cores), \
         RSS {} MB (peak {} MB)",
        (now - start).as_secs_f64() * 1e3,
        if wall > 0.0 { busy / wall } else { 0.0 },
        kb("VmRSS:"),
        kb("VmHWM:")
    );
    *last = Some((start, now, cpu));
}

/// The processor time (user and system) a process has used, in ms, from
/// its `/proc/<pid>/stat` line (fields 14 and 15, in the kernel's fixed
/// 100 ticks a second).
fn cpu_ms(stat: &str) -> Option<f64> {
    // The command name, in parentheses, may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 * 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.svg");
        std::fs::write(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let fresh = dir.path().join("fresh.svg");
        write_atomic(&fresh, b"x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
            0o644
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn atomic_write_into_a_missing_directory_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("out.svg");
        assert!(write_atomic(&path, b"x").is_err());
        assert!(!path.exists());
    }

    #[test]
    fn processor_time_is_read_after_the_command_name() {
        let stat = "4242 (heap diff) R 1 4242 4242 0 -1 4194304 2893 0 0 0 137 21 0 0 20 0 3 0";
        assert_eq!(cpu_ms(stat), Some(1580.0));
        assert_eq!(cpu_ms("4242 (x) R 1"), None);
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let e = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert!(is_broken_pipe(&e));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
