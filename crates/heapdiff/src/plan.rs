//! What to compare: the inputs the arguments name (files, globs, a store
//! source, a live URL), and how many profiles each file sums
//! (`--merged`).

use std::path::PathBuf;

use crate::cli::{Cli, Order};

/// What to compare, from the positional arguments and --before/--after.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Two sides, each one or more profiles merged.
    Pair {
        before: Vec<PathBuf>,
        after: Vec<PathBuf>,
    },
    /// Three or more snapshots in time order.
    Trend(Vec<PathBuf>),
    /// Profiles merged by a store over time windows.
    Store {
        source: String,
        windows: Vec<String>,
    },
    /// Profiles fetched from a live endpoint.
    Live {
        url: String,
        count: u32,
        interval: std::time::Duration,
    },
}

/// Expands a `--before`/`--after` argument that is a glob pattern (and not
/// an existing file) into the files it matches, sorted. Matches reached
/// through a symlinked directory are left out, as `find` leaves them: a
/// `**` through a link to an ancestor would match one file many times.
fn expand(path: &std::path::Path) -> Result<Vec<PathBuf>, String> {
    let text = path.to_string_lossy();
    if path.exists() || !text.contains(['*', '?', '[']) {
        return Ok(vec![path.to_path_buf()]);
    }
    let base: PathBuf = path
        .components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .collect();
    let matches: Vec<PathBuf> = glob::glob(&text)
        .map_err(|e| format!("{text}: not a valid glob pattern: {e}"))?
        .filter_map(Result::ok)
        .filter(|p| p.is_file() && !through_link(p, &base))
        .collect();
    if matches.is_empty() {
        return Err(format!("{text}: no file matches this pattern"));
    }
    Ok(matches)
}

/// Whether `path` goes through a symlinked directory below `base`.
fn through_link(path: &std::path::Path, base: &std::path::Path) -> bool {
    path.ancestors()
        .skip(1)
        .take_while(|a| a.starts_with(base) && *a != base)
        .any(|a| {
            a.symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
        })
}

impl Cli {
    /// What to compare.
    pub(crate) fn plan(&self) -> Result<Plan, String> {
        let plan = self.plan_of_inputs()?;
        if !self.merged.is_empty() {
            if !matches!(plan, Plan::Pair { .. } | Plan::Trend(_)) || !self.befores.is_empty() {
                return Err(
                    "--merged counts PROFILE files' merged profiles (a store says its own)"
                        .to_owned(),
                );
            }
            if self.merged.len() != self.profiles.len() {
                return Err(format!(
                    "--merged gives one count per PROFILE: {} for {}",
                    self.merged.len(),
                    self.profiles.len()
                ));
            }
        }
        Ok(plan)
    }

    /// How many profiles the input at `path` sums, as `--merged` says.
    pub(crate) fn merged_of(&self, path: &std::path::Path) -> Option<u64> {
        let i = self.profiles.iter().position(|p| p == path)?;
        self.merged.get(i).copied()
    }

    fn plan_of_inputs(&self) -> Result<Plan, String> {
        if !self.befores.is_empty() || !self.afters.is_empty() {
            let side = |paths: &[PathBuf]| -> Result<Vec<PathBuf>, String> {
                let mut all = Vec::new();
                for p in paths {
                    all.extend(expand(p)?);
                }
                Ok(all)
            };
            return Ok(Plan::Pair {
                before: side(&self.befores)?,
                after: side(&self.afters)?,
            });
        }
        if let Some(source) = self
            .profiles
            .iter()
            .filter_map(|p| p.to_str())
            .find(|p| crate::store::PREFIXES.iter().any(|s| p.starts_with(s)))
        {
            if self.profiles.len() > 1 {
                return Err("a store source is fetched once per --window; give it alone".to_owned());
            }
            if self.step.is_some() && self.windows.len() != 1 {
                return Err("--step N splits one --window into N; give one".to_owned());
            }
            if self.step.is_none() && self.windows.len() < 2 {
                return Err(
                    "a store source: give --window twice (before and after), or more for a trend, \
                     or one --window and --step N"
                        .to_owned(),
                );
            }
            return Ok(Plan::Store {
                source: source.to_owned(),
                windows: self.windows.clone(),
            });
        }
        let count = self.count.unwrap_or(2);
        if let Some(url) = self
            .profiles
            .iter()
            .find_map(|p| crate::mistakes::as_url(p))
        {
            if self.profiles.len() > 1 {
                return Err(format!(
                    "{}: a URL is fetched {count} times (--count); give it alone",
                    crate::live::redact(&url)
                ));
            }
            return Ok(Plan::Live {
                url,
                count,
                interval: self.interval.unwrap_or(std::time::Duration::from_secs(30)),
            });
        }
        match self.profiles.len() {
            0 | 1 => Err(
                "give two profiles (before and after), three or more snapshots for a trend, \
                 or --before and --after"
                    .to_owned(),
            ),
            2 => Ok(Plan::Pair {
                before: vec![self.profiles[0].clone()],
                after: vec![self.profiles[1].clone()],
            }),
            _ => {
                let mut snapshots = self.profiles.clone();
                if matches!(self.order, Order::Time | Order::Name) {
                    // By time taken too, once decoded: see `order`.
                    crate::order::by_name(&mut snapshots);
                }
                if self.order == Order::Mtime {
                    let mut timed = Vec::new();
                    for p in snapshots {
                        let t = std::fs::metadata(&p)
                            .and_then(|m| m.modified())
                            .map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
                        timed.push((t, p));
                    }
                    timed.sort();
                    snapshots = timed.into_iter().map(|(_, p)| p).collect();
                }
                Ok(Plan::Trend(snapshots))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn plans_from_arguments() {
        let plan = |args: &[&str]| {
            let mut all = vec!["heapdiff"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all)
                .map_err(|e| e.kind())
                .map(|c| c.plan())
        };
        assert_eq!(
            plan(&["a", "b", "c"]),
            Ok(Ok(Plan::Trend(vec!["a".into(), "b".into(), "c".into()])))
        );
        assert!(
            plan(&["a"])
                .unwrap()
                .unwrap_err()
                .contains("give two profiles")
        );
        assert_eq!(
            plan(&["--before", "x", "--before", "y", "--after", "z"]),
            Ok(Ok(Plan::Pair {
                before: vec!["x".into(), "y".into()],
                after: vec!["z".into()]
            }))
        );
        assert!(plan(&["--before", "x"]).is_err(), "--before needs --after");
        assert!(plan(&["--before", "x", "--after", "y", "z"]).is_err());
        let dir = tempfile::tempdir().unwrap();
        for name in ["pod-1.pb.gz", "pod-2.pb.gz", "other.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let pattern = dir.path().join("pod-*.pb.gz");
        let Ok(Ok(Plan::Pair { before, .. })) =
            plan(&["--before", pattern.to_str().unwrap(), "--after", "z"])
        else {
            panic!()
        };
        assert_eq!(
            before,
            [
                dir.path().join("pod-1.pb.gz"),
                dir.path().join("pod-2.pb.gz")
            ]
        );
        let none = dir.path().join("nope-*.pb.gz");
        assert!(
            plan(&["--before", none.to_str().unwrap(), "--after", "z"])
                .unwrap()
                .unwrap_err()
                .contains("no file matches")
        );
    }

    #[test]
    fn merged_counts_follow_their_files() {
        let cli = |args: &[&str]| Cli::try_parse_from([&["heapdiff"], args].concat());
        let c = cli(&["b.pb", "a.pb", "c.pb", "--merged", "3,1,2"]).unwrap();
        assert!(c.plan().is_ok());
        assert_eq!(c.merged_of("c.pb".as_ref()), Some(2));
        assert_eq!(c.merged_of("x.pb".as_ref()), None);
        let err = cli(&["a", "b", "--merged", "3"])
            .unwrap()
            .plan()
            .unwrap_err();
        assert!(err.contains("one count per PROFILE: 1 for 2"), "{err}");
        let err = cli(&["--before", "a", "--after", "b", "--merged", "1,2"])
            .unwrap()
            .plan()
            .unwrap_err();
        assert!(err.contains("a store says its own"), "{err}");
        assert!(cli(&["a", "b", "--merged", "0,1"]).is_err(), "at least one");
    }
}
