//! Which profile came first.
//!
//! A diff read the wrong way round tells a plausible wrong story: every
//! leak becomes a row of freed memory. So a pair whose before side is newer
//! than its after side gets a warning, by the time the profiles say they
//! were taken (pprof's `time_nanos`), else by the files' modification times
//! when they are more than a second apart. Trend snapshots are put in the
//! order they were taken when every one says when; otherwise in the natural
//! order of their names, numbers compared as numbers, so a shell glob's
//! `jeprof.1234.10.i10.heap` comes after `jeprof.1234.2.i2.heap`.

use std::path::PathBuf;
use std::time::SystemTime;

use heapdiff_profile::Profile;

/// When one side of a pair was made, and how that is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Made {
    /// Taken at this many nanoseconds since the Unix epoch, as the profile
    /// says.
    Taken(i64),
    /// Its file was last modified then.
    Modified(SystemTime),
}

/// The latest time a side's profiles say they were taken, when each says.
pub(crate) fn taken(profiles: &[Profile]) -> Option<i64> {
    profiles
        .iter()
        .map(|p| (p.header.time_nanos > 0).then_some(p.header.time_nanos))
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .max()
}

/// The latest modification time of a side's files (none for standard input
/// or a file that cannot be read).
fn modified(paths: &[PathBuf]) -> Option<SystemTime> {
    paths
        .iter()
        .map(|p| {
            let file = std::fs::metadata(p).and_then(|m| m.modified());
            file.ok().filter(|_| p.as_os_str() != "-")
        })
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .max()
}

/// A warning when the before side (taken at `before` as [`taken`] says,
/// read from `before_paths`, named `before_name`) is newer than the after
/// side.
pub(crate) fn swapped_warning(
    (before, before_paths, before_name): (Option<i64>, &[PathBuf], &str),
    (after, after_paths, after_name): (Option<i64>, &[PathBuf], &str),
) -> Option<String> {
    let (b, a) = match (before, after) {
        (Some(b), Some(a)) => (Made::Taken(b), Made::Taken(a)),
        _ => {
            let (b, a) = (modified(before_paths)?, modified(after_paths)?);
            let apart = b.duration_since(a).ok()?;
            if apart.as_secs_f64() <= 1.0 {
                return None;
            }
            (Made::Modified(b), Made::Modified(a))
        }
    };
    let newer = match (b, a) {
        (Made::Taken(b), Made::Taken(a)) => b > a,
        (Made::Modified(b), Made::Modified(a)) => b > a,
        _ => false,
    };
    newer.then(|| {
        format!(
            "the before profile {before_name} ({}) is newer than the after profile {after_name} \
             ({}): the two look swapped, and what grew would read as shrinkage; give the older \
             profile first",
            describe(b),
            describe(a)
        )
    })
}

/// `taken 2026-12-07 10:00:00 UTC`.
fn describe(made: Made) -> String {
    let (verb, nanos) = match made {
        Made::Taken(n) => ("taken", i128::from(n)),
        Made::Modified(t) => (
            "modified",
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i128),
        ),
    };
    format!("{verb} {}", heapdiff_report::units::format_time(nanos))
}

/// `paths` in the natural order of their names: numbers compared as
/// numbers (`snap-2` before `snap-10`).
pub(crate) fn by_name(paths: &mut [PathBuf]) {
    paths.sort_by(|a, b| alphanumeric_sort::compare_path(a, b));
}

/// The order that puts snapshots in the order they were taken, when every
/// one of them says when (`None` otherwise); ties keep their order.
pub(crate) fn by_time_taken(profiles: &[Profile]) -> Option<Vec<usize>> {
    if profiles.iter().any(|p| p.header.time_nanos <= 0) {
        return None;
    }
    let mut order: Vec<usize> = (0..profiles.len()).collect();
    order.sort_by_key(|&i| profiles[i].header.time_nanos);
    Some(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapdiff_profile::{Format, ProfileBuilder, ValueType};

    fn at(nanos: i64) -> Profile {
        let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("x", "bytes")]);
        b.header_mut().time_nanos = nanos;
        b.finish()
    }

    #[test]
    fn names_sort_with_numbers_as_numbers() {
        let mut paths: Vec<PathBuf> = [
            "jeprof.1234.10.i10.heap",
            "jeprof.1234.2.i2.heap",
            "jeprof.1234.1.i1.heap",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        by_name(&mut paths);
        assert_eq!(
            paths,
            [
                "jeprof.1234.1.i1.heap",
                "jeprof.1234.2.i2.heap",
                "jeprof.1234.10.i10.heap"
            ]
            .map(PathBuf::from)
        );
    }

    #[test]
    fn snapshots_go_by_the_time_taken_only_when_all_say() {
        assert_eq!(
            by_time_taken(&[at(30), at(10), at(20)]),
            Some(vec![1, 2, 0])
        );
        assert_eq!(by_time_taken(&[at(30), at(0), at(20)]), None);
    }

    #[test]
    fn a_newer_before_profile_is_named_with_both_times() {
        let (b, a) = (
            taken(&[at(1_796_000_000_000_000_000)]),
            taken(&[at(1_795_999_000_000_000_000)]),
        );
        let w = swapped_warning((b, &[], "new.pb.gz"), (a, &[], "old.pb.gz")).unwrap();
        assert!(
            w.starts_with(
                "the before profile new.pb.gz (taken 2026-11-30 00:53:20 UTC) is newer than the \
                 after profile old.pb.gz (taken 2026-11-30 00:36:40 UTC)"
            ),
            "{w}"
        );
        assert!(swapped_warning((a, &[], "old"), (b, &[], "new")).is_none());
        assert_eq!(taken(&[at(5), at(0)]), None, "one side that does not say");
    }
}
