//! Continuous-profiling stores as sources: a service's profiles merged by
//! the store over a time window, fetched as pprof, one file per window,
//! then compared like any files.
//!
//! ```text
//! heapdiff 'pyroscope+https://HOST/?query={service_name="checkout"}&type=memory:inuse_space' \
//!     --window 2026-12-01T10:00/1h --window now-1h/1h
//! heapdiff 'parca+https://HOST/?query=memory:inuse_space:bytes:space:bytes{job="checkout"}' \
//!     --window 2026-12-01T10:00/1h --window now-1h/1h
//! ```
//!
//! One module per store ([`pyroscope`], [`parca`]); here the source syntax
//! they share, the windows, and the fetching into files. Credentials
//! (`user:password@`, tokens) are never shown.
//!
//! A merged in-use profile is the sum of every scrape in its window. Where
//! the store says how many profiles it merged (Parca), each window's
//! profile is compared as their average ([`Profile::merged`]), so windows
//! of any length compare; where it does not (Pyroscope), the sums are
//! compared, and only windows of one length are taken.
//!
//! [`Profile::merged`]: heapdiff_profile::Profile::merged

mod parca;
mod pyroscope;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::live::{self, SaveTo, Trust};
use crate::output;

/// How long one store request may take unless `--fetch-timeout` says.
const STORE_DEADLINE: Duration = Duration::from_secs(120);

/// What a store source starts with.
pub(crate) const PREFIXES: [&str; 2] = [pyroscope::PREFIX, parca::PREFIX];

/// A store to fetch from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Store {
    Pyroscope(pyroscope::Pyroscope),
    Parca(parca::Parca),
}

impl Store {
    /// Reads a `pyroscope+…` or `parca+…` source; `env` looks up
    /// environment variables (credentials).
    pub(crate) fn parse(
        source: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let url = Url::parse(source)?;
        match url.store {
            pyroscope::PREFIX => pyroscope::Pyroscope::new(url, env).map(Store::Pyroscope),
            _ => parca::Parca::new(url).map(Store::Parca),
        }
    }

    /// How the source is shown: store, server and query, no secrets.
    pub(crate) fn shown(&self) -> String {
        match self {
            Store::Pyroscope(p) => p.shown(),
            Store::Parca(p) => p.shown(),
        }
    }

    fn fetch(
        &self,
        window: &Window,
        deadline: Option<Duration>,
        max: u64,
        trust: &Trust,
    ) -> Result<Vec<u8>> {
        match self {
            Store::Pyroscope(p) => p.fetch(window, deadline, max, trust),
            Store::Parca(p) => p.fetch(window, deadline, max, trust),
        }
    }

    /// Whether the store says how many profiles a merge sums.
    fn counts(&self) -> bool {
        match self {
            Store::Pyroscope(_) => false,
            Store::Parca(p) => p.counts(),
        }
    }

    /// How many profiles the merge of `window` sums, where the store says.
    fn count(
        &self,
        window: &Window,
        deadline: Option<Duration>,
        max: u64,
        trust: &Trust,
    ) -> Result<Option<u64>> {
        match self {
            Store::Pyroscope(_) => Ok(None),
            Store::Parca(p) => p.count(window, deadline, max, trust),
        }
    }

    /// The store's name.
    fn name(&self) -> &'static str {
        match self {
            Store::Pyroscope(_) => "Pyroscope",
            Store::Parca(_) => "Parca",
        }
    }

    /// Refuses `windows` whose merges could not be compared: of different
    /// lengths, from a store that does not count what it merges.
    pub(crate) fn check(&self, windows: &[Window]) -> Result<(), String> {
        let Some(w) = windows
            .iter()
            .find(|w| w.length_ms() != windows[0].length_ms())
        else {
            return Ok(());
        };
        if self.counts() {
            return Ok(());
        }
        Err(format!(
            "--window {} and --window {} differ in length: a merged profile sums every scrape in \
             its window, and {} does not say how many it merged, so windows of different \
             lengths are not comparable; give windows of one length",
            windows[0].shown,
            w.shown,
            self.name()
        ))
    }
}

/// A window's merged profile, saved.
pub(crate) struct Fetched {
    pub(crate) path: PathBuf,
    /// How many profiles it sums, where the store says.
    pub(crate) merged: Option<u64>,
}

/// A store source's parts: `STORE+http[s]://[user:password@]host[:port][/prefix]?k=v&…`.
struct Url {
    store: &'static str,
    /// `http[s]://host[:port][/prefix]`, without credentials or a final `/`.
    base: String,
    /// `user:password@`, decoded.
    credentials: Option<(String, String)>,
    /// The query's parameters, decoded, in order.
    params: Vec<(String, String)>,
}

impl Url {
    fn parse(source: &str) -> Result<Self, String> {
        let (store, url) = PREFIXES
            .iter()
            .find_map(|p| source.strip_prefix(p).map(|rest| (*p, rest)))
            .ok_or_else(|| "a store source starts pyroscope+ or parca+".to_owned())?;
        let name = store.trim_end_matches('+');
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(s, _)| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"))
            .ok_or_else(|| format!("a {name} source is {store}http://… or {store}https://…"))?;
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = address.split_at(address.find('/').unwrap_or(address.len()));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(format!("the {name} source names no host"));
        }
        let credentials = userinfo.map(|u| {
            let (user, password) = u.split_once(':').unwrap_or((u, ""));
            (percent_decode(user), percent_decode(password))
        });
        let params = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (k.to_owned(), percent_decode(v))
            })
            .collect();
        Ok(Url {
            store,
            base: format!("{scheme}://{host}{}", path.trim_end_matches('/')),
            credentials,
            params,
        })
    }

    /// Refuses parameters other than `known`.
    fn only(&self, known: &[&str]) -> Result<(), String> {
        match self
            .params
            .iter()
            .find(|(k, _)| !known.contains(&k.as_str()))
        {
            Some((k, _)) => Err(format!(
                "unknown parameter {k:?} (a {} source takes {})",
                self.store.trim_end_matches('+'),
                known.join(", ")
            )),
            None => Ok(()),
        }
    }

    /// The value of parameter `key`.
    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A time window: `[start, end)` in ms since the epoch, as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    start_ms: i64,
    end_ms: i64,
    shown: String,
}

/// Fetches the merged profile of each window into a file of `to`, with
/// how many profiles it sums where the store says.
pub(crate) fn capture(
    store: &Store,
    windows: &[Window],
    deadline: Option<Duration>,
    max: u64,
    trust: &Trust,
    to: SaveTo<'_>,
) -> Result<Vec<Fetched>> {
    let (dir, mut number) = live::numbering(&to)?;
    let mut fetched = Vec::new();
    // A store merges a fleet's profiles for each answer: more than a moment.
    let deadline = Some(deadline.unwrap_or(STORE_DEADLINE));
    for (i, window) in windows.iter().enumerate() {
        let merged = store.count(window, deadline, max, trust)?;
        let body = store.fetch(window, deadline, max, trust)?;
        let path = live::save_new(dir, &mut number, "pb", &body)?;
        output::note(&format!(
            "fetched {} for {} ({} of {}, {} bytes, {})",
            store.shown(),
            window.shown,
            i + 1,
            windows.len(),
            body.len(),
            match merged {
                Some(1) => "1 profile".to_owned(),
                Some(n) => format!("{n} profiles merged"),
                None => "count of profiles merged unknown".to_owned(),
            }
        ));
        fetched.push(Fetched { path, merged });
    }
    if !store.counts() {
        output::note(&format!(
            "{} does not say how many profiles it merged: the windows' sums are compared, \
             which a fleet that changed size or missed scrapes changes too",
            store.name()
        ));
    }
    Ok(fetched)
}

impl Window {
    /// `START/LENGTH`: `2026-12-01T10:00/1h` (UTC unless an offset is
    /// given), `now-1h/1h`, `now-30m/30m`.
    pub(crate) fn parse(s: &str, now: jiff::Timestamp) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("--window {s:?}: {why} (START/LENGTH, e.g. now-1h/1h or 2026-12-01T10:00/1h)")
        };
        let (start, length) = s.rsplit_once('/').ok_or_else(|| bad("no /LENGTH"))?;
        let length = crate::cli::parse_duration(length).map_err(|e| bad(&e))?;
        let start = match start.strip_prefix("now") {
            Some("") => now,
            Some(ago) => {
                let ago = ago
                    .strip_prefix('-')
                    .ok_or_else(|| bad("now is followed by -DURATION"))?;
                let ago = crate::cli::parse_duration(ago).map_err(|e| bad(&e))?;
                now.checked_sub(ago).map_err(|e| bad(&e.to_string()))?
            }
            None => start
                .parse::<jiff::Timestamp>()
                .or_else(|_| {
                    start
                        .parse::<jiff::civil::DateTime>()
                        .and_then(|t| t.to_zoned(jiff::tz::TimeZone::UTC))
                        .map(|z| z.timestamp())
                })
                .map_err(|_| bad("START is now, now-DURATION or a date and time"))?,
        };
        let start_ms = start.as_millisecond();
        let length_ms = i64::try_from(length.as_millis()).map_err(|_| bad("too long"))?;
        if length_ms == 0 {
            return Err(bad("the window has no length"));
        }
        Ok(Window {
            start_ms,
            end_ms: start_ms.saturating_add(length_ms),
            shown: s.to_owned(),
        })
    }

    /// The window cut into `n` of equal length (what a division leaves
    /// over, under `n` ms, is left out), shown as `START/LENGTH (i/n)`.
    pub(crate) fn split(&self, n: u32) -> Result<Vec<Window>, String> {
        let step = self.length_ms() / i64::from(n);
        if step < 1000 {
            return Err(format!(
                "--window {} --step {n}: windows shorter than a second",
                self.shown
            ));
        }
        Ok((0..i64::from(n))
            .map(|i| Window {
                start_ms: self.start_ms + i * step,
                end_ms: self.start_ms + (i + 1) * step,
                shown: format!("{} ({}/{n})", self.shown, i + 1),
            })
            .collect())
    }

    /// How long the window lasts, in ms.
    pub(crate) fn length_ms(&self) -> i64 {
        self.end_ms - self.start_ms
    }

    /// The window as given.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }
}

/// `%XX` escapes decoded (a selector may come URL-encoded).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An `Authorization: Basic` value.
fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_splits_into_equal_steps() {
        let now: jiff::Timestamp = "2026-12-07T12:00:00Z".parse().unwrap();
        let w = Window::parse("now-1h/1h", now).unwrap();
        let steps = w.split(4).unwrap();
        assert_eq!(steps.len(), 4);
        assert!(steps.iter().all(|s| s.length_ms() == 900_000));
        assert_eq!((steps[0].start_ms, steps[3].end_ms), (w.start_ms, w.end_ms));
        assert_eq!(steps[1].shown(), "now-1h/1h (2/4)");
        assert!(Window::parse("now-1h/2s", now).unwrap().split(3).is_err());
    }

    #[test]
    fn urls_split_into_store_server_credentials_and_parameters() {
        let u = Url::parse("parca+https://u:p%40ss@host:7070/prefix/?query=a%7Bb%7D&x=1").unwrap();
        assert_eq!(
            (u.store, u.base.as_str()),
            ("parca+", "https://host:7070/prefix")
        );
        assert_eq!(u.credentials, Some(("u".to_owned(), "p@ss".to_owned())));
        assert_eq!(u.param("query"), Some("a{b}"));
        assert!(
            u.only(&["query"])
                .unwrap_err()
                .contains("unknown parameter \"x\"")
        );
        assert!(Url::parse("parca+ftp://h").is_err());
        assert!(Url::parse("parca+http:///x").is_err());
    }

    #[test]
    fn windows_are_start_and_length() {
        let now: jiff::Timestamp = "2026-12-07T12:00:00Z".parse().unwrap();
        let w = Window::parse("now-1h/30m", now).unwrap();
        assert_eq!(w.start_ms, now.as_millisecond() - 3_600_000);
        assert_eq!(w.length_ms(), 1_800_000);
        let w = Window::parse("2026-12-01T10:00/1h", now).unwrap();
        let start: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        assert_eq!(
            (w.start_ms, w.end_ms),
            (start.as_millisecond(), start.as_millisecond() + 3_600_000)
        );
        let w = Window::parse("2026-12-01T10:00:00+01:00/1h", now).unwrap();
        assert_eq!(w.start_ms, start.as_millisecond() - 3_600_000);
        for bad in ["now", "now+1h/1h", "yesterday/1h", "now/0s"] {
            assert!(Window::parse(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn basic_auth_is_base64() {
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic_auth("a", ""), "Basic YTo=");
    }
}
