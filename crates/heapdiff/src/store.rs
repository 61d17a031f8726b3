//! Continuous-profiling stores as sources: Grafana Pyroscope's profiles of
//! a service merged over a time window, fetched as pprof, one file per
//! window, then compared like any files.
//!
//! ```text
//! heapdiff 'pyroscope+https://HOST/?query={service_name="checkout"}&type=memory:inuse_space' \
//!     --window 2026-12-01T10:00/1h --window now-1h/1h
//! ```
//!
//! The API is Pyroscope's `querier.v1.QuerierService` over the Connect
//! protocol (a POST of the protobuf request, `Content-Type:
//! application/proto`): `SelectMergeStacktraces` with `format =
//! PROFILE_FORMAT_PPROF` (4), whose answer holds the profile in `pprof`
//! (field 5, a `PprofProfile` whose field 1 is the profile); a server that
//! predates that format answers a flame graph instead, and the deprecated
//! `SelectMergeProfile`, which answers the profile itself, is asked next, as
//! Pyroscope's own CLI does. Credentials: `user:password@` in the URL or
//! `PROFILECLI_USERNAME`/`PROFILECLI_PASSWORD` (basic), `PROFILECLI_TOKEN`
//! (bearer), the tenant as `tenant=` or `PROFILECLI_TENANT_ID`
//! (`X-Scope-OrgID`); none is ever shown.
//!
//! A merged in-use profile is the sum of every scrape in its window, so
//! windows of different lengths are refused: Pyroscope does not say how
//! many profiles it merged, so nothing else could make them comparable.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use prost::Message;

use crate::live::{self, Endpoint, SaveTo, Trust};
use crate::output;

/// What a source starts with.
pub(crate) const PREFIX: &str = "pyroscope+";

/// A Pyroscope server and what to ask it for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pyroscope {
    /// `http[s]://host[:port][/prefix]`, without credentials.
    base: String,
    selector: String,
    profile_type: String,
    /// Authentication and tenant headers.
    headers: Vec<(String, String)>,
}

/// A time window: `[start, end)` in ms since the epoch, as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    start_ms: i64,
    end_ms: i64,
    shown: String,
}

impl Pyroscope {
    /// Reads a `pyroscope+http[s]://…` source; `env` looks up the
    /// `PROFILECLI_*` variables.
    pub(crate) fn parse(
        source: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let url = source
            .strip_prefix(PREFIX)
            .ok_or_else(|| format!("not a {PREFIX} source"))?;
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(s, _)| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"))
            .ok_or_else(|| {
                "a Pyroscope source is pyroscope+http://… or pyroscope+https://…".to_owned()
            })?;
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = address.split_at(address.find('/').unwrap_or(address.len()));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err("the Pyroscope source names no host".to_owned());
        }
        let mut selector = "{}".to_owned();
        let mut profile_type = "memory:inuse_space".to_owned();
        let mut tenant = env("PROFILECLI_TENANT_ID");
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            match key {
                "query" => selector = value,
                "type" => profile_type = value,
                "tenant" => tenant = Some(value),
                other => {
                    return Err(format!(
                        "unknown parameter {other:?} (a Pyroscope source takes query, type and tenant)"
                    ));
                }
            }
        }
        let mut headers = Vec::new();
        let basic = match userinfo {
            Some(u) => {
                let (user, password) = u.split_once(':').unwrap_or((u, ""));
                Some((percent_decode(user), percent_decode(password)))
            }
            None => env("PROFILECLI_USERNAME")
                .map(|user| (user, env("PROFILECLI_PASSWORD").unwrap_or_default())),
        };
        if let Some((user, password)) = basic {
            headers.push(("Authorization".to_owned(), basic_auth(&user, &password)));
        } else if let Some(token) = env("PROFILECLI_TOKEN") {
            headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
        }
        if let Some(tenant) = tenant.filter(|t| !t.is_empty()) {
            headers.push(("X-Scope-OrgID".to_owned(), tenant));
        }
        Ok(Pyroscope {
            base: format!("{scheme}://{host}{}", path.trim_end_matches('/')),
            selector,
            profile_type: full_profile_type(&profile_type),
            headers,
        })
    }

    /// How the source is shown: server, selector and type, no secrets.
    pub(crate) fn shown(&self) -> String {
        format!("{} {} {}", self.base, self.selector, self.profile_type)
    }

    /// The merged profile of `window`, as pprof bytes.
    fn fetch(
        &self,
        window: &Window,
        deadline: Option<Duration>,
        max: u64,
        trust: &Trust,
    ) -> Result<Vec<u8>> {
        let headers: Vec<(&str, &str)> = [
            ("Content-Type", "application/proto"),
            ("Connect-Protocol-Version", "1"),
        ]
        .into_iter()
        .chain(self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .collect();
        let call = |method: &str, body: Vec<u8>| -> Result<Vec<u8>> {
            let url = format!("{}/querier.v1.QuerierService/{method}", self.base);
            Endpoint::new(&url, deadline, max, trust)?.post(&headers, &body)
        };
        let request = SelectMergeStacktracesRequest {
            profile_type_id: self.profile_type.clone(),
            label_selector: self.selector.clone(),
            start: window.start_ms,
            end: window.end_ms,
            format: PROFILE_FORMAT_PPROF,
        };
        let answer = call("SelectMergeStacktraces", request.encode_to_vec())?;
        let answer = SelectMergeStacktracesResponse::decode(&answer[..])
            .context("Pyroscope's SelectMergeStacktraces answer is not its protobuf message")?;
        let profile = match answer.pprof {
            Some(PprofProfile { profile }) if !profile.is_empty() => profile,
            // A server that predates PROFILE_FORMAT_PPROF answers a flame graph.
            _ => call(
                "SelectMergeProfile",
                SelectMergeProfileRequest {
                    profile_type_id: request.profile_type_id,
                    label_selector: request.label_selector,
                    start: request.start,
                    end: request.end,
                }
                .encode_to_vec(),
            )?,
        };
        let decoded = heapdiff_profile::decode(&profile)
            .with_context(|| format!("Pyroscope's profile for {}", window.shown))?;
        if decoded.sample_count() == 0 {
            bail!(
                "Pyroscope has no {} profiles matching {} in {} (an empty merge); check the \
                 selector, the type and the window",
                self.profile_type,
                self.selector,
                window.shown
            );
        }
        Ok(profile)
    }
}

/// Fetches the merged profile of each window into a file of `to`.
pub(crate) fn capture(
    store: &Pyroscope,
    windows: &[Window],
    deadline: Option<Duration>,
    max: u64,
    trust: &Trust,
    to: SaveTo<'_>,
) -> Result<Vec<PathBuf>> {
    let (dir, mut number) = live::numbering(&to)?;
    let mut files = Vec::new();
    for (i, window) in windows.iter().enumerate() {
        let body = store.fetch(window, deadline, max, trust)?;
        files.push(live::save_new(dir, &mut number, "pb", &body)?);
        output::note(&format!(
            "fetched {} for {} ({} of {}, {} bytes)",
            store.shown(),
            window.shown,
            i + 1,
            windows.len(),
            body.len()
        ));
    }
    Ok(files)
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

    /// How long the window lasts, in ms.
    pub(crate) fn length_ms(&self) -> i64 {
        self.end_ms - self.start_ms
    }

    /// The window as given.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }
}

/// A profile type as Pyroscope names it, `memory:inuse_space` completed to
/// `memory:inuse_space:bytes:space:bytes` (Go's memory types).
fn full_profile_type(t: &str) -> String {
    match t {
        "memory:inuse_space" | "memory:alloc_space" => format!("{t}:bytes:space:bytes"),
        "memory:inuse_objects" | "memory:alloc_objects" => format!("{t}:count:space:bytes"),
        other => other.to_owned(),
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

/// `querier.v1.ProfileFormat.PROFILE_FORMAT_PPROF`.
const PROFILE_FORMAT_PPROF: i32 = 4;

/// `querier.v1.SelectMergeStacktracesRequest`, the fields heapdiff sets.
#[derive(Clone, PartialEq, Message)]
struct SelectMergeStacktracesRequest {
    #[prost(string, tag = "1")]
    profile_type_id: String,
    #[prost(string, tag = "2")]
    label_selector: String,
    #[prost(int64, tag = "3")]
    start: i64,
    #[prost(int64, tag = "4")]
    end: i64,
    #[prost(int32, tag = "6")]
    format: i32,
}

/// `querier.v1.SelectMergeStacktracesResponse`: only `pprof` is read.
#[derive(Clone, PartialEq, Message)]
struct SelectMergeStacktracesResponse {
    #[prost(message, optional, tag = "5")]
    pprof: Option<PprofProfile>,
}

/// `querier.v1.PprofProfile`: the profile, kept as its bytes.
#[derive(Clone, PartialEq, Message)]
struct PprofProfile {
    #[prost(bytes = "vec", tag = "1")]
    profile: Vec<u8>,
}

/// `querier.v1.SelectMergeProfileRequest`, the fields heapdiff sets.
#[derive(Clone, PartialEq, Message)]
struct SelectMergeProfileRequest {
    #[prost(string, tag = "1")]
    profile_type_id: String,
    #[prost(string, tag = "2")]
    label_selector: String,
    #[prost(int64, tag = "3")]
    start: i64,
    #[prost(int64, tag = "4")]
    end: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn sources_read_server_selector_type_and_credentials() {
        let p = Pyroscope::parse(
            "pyroscope+https://u:p%40ss@host:4040/prefix/?query=%7Bservice_name%3D%22a%22%7D&type=memory:alloc_space&tenant=t1",
            no_env,
        )
        .unwrap();
        assert_eq!(p.base, "https://host:4040/prefix");
        assert_eq!(p.selector, r#"{service_name="a"}"#);
        assert_eq!(p.profile_type, "memory:alloc_space:bytes:space:bytes");
        assert_eq!(
            p.headers,
            [
                ("Authorization".to_owned(), "Basic dTpwQHNz".to_owned()),
                ("X-Scope-OrgID".to_owned(), "t1".to_owned())
            ]
        );
        assert!(!p.shown().contains("p@ss"));
        let env = |k: &str| (k == "PROFILECLI_TOKEN").then(|| "glc_x".to_owned());
        let p = Pyroscope::parse("pyroscope+http://h", env).unwrap();
        assert_eq!(
            p.headers,
            [("Authorization".to_owned(), "Bearer glc_x".to_owned())]
        );
        assert_eq!(
            (p.selector.as_str(), p.profile_type.as_str()),
            ("{}", "memory:inuse_space:bytes:space:bytes")
        );
        assert!(Pyroscope::parse("pyroscope+ftp://h", no_env).is_err());
        assert!(
            Pyroscope::parse("pyroscope+http://h/?q=1", no_env)
                .unwrap_err()
                .contains("unknown parameter")
        );
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
