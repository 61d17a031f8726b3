//! Parca: `parca.query.v1alpha1.QueryService/Query` through the REST
//! gateway Parca serves under `/api` (`GET /api/profiles/query`), with
//! `mode=MODE_MERGE`, `reportType=REPORT_TYPE_PPROF`, and the merge's
//! `query`, `start` and `end` (RFC 3339). The answer is JSON whose `pprof`
//! field holds the gzipped profile in base64 (`QueryResponse.pprof`, bytes
//! field 6, as the JSON mapping of protobuf writes bytes). Credentials:
//! `user:password@` in the URL (basic, for a proxy in front of Parca).
//!
//! How many profiles a merge sums comes from `QueryRange`
//! (`GET /api/profiles/query_range`) with a step as long as the window:
//! per series, a `MetricsSample` for each step-long bucket the window
//! touches (buckets are aligned to the epoch, so one or two), whose
//! `count` is the series' profiles in it; they add up to the window's.
//! Parca's querier counts there one row per (timestamp, label set), a
//! profile, under the same time bounds as the merge's, for all but delta
//! profile types (`…:delta`), where it counts stack rows instead; their
//! count is not asked for.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use base64::Engine as _;

use super::{Url, Window, basic_auth};
use crate::live::{Endpoint, Trust};

/// What a source starts with.
pub(crate) const PREFIX: &str = "parca+";

/// A Parca server and what to ask it for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parca {
    /// `http[s]://host[:port][/prefix]`, without credentials.
    base: String,
    /// A Parca query: profile type and label matchers,
    /// `memory:inuse_space:bytes:space:bytes{job="checkout"}`.
    query: String,
    authorization: Option<String>,
}

impl Parca {
    /// The source `url` names.
    pub(super) fn new(url: Url) -> Result<Self, String> {
        url.only(&["query"])?;
        let query = url
            .param("query")
            .filter(|q| !q.is_empty())
            .ok_or_else(|| {
                "a Parca source needs query=TYPE{LABELS}, e.g. \
                 query=memory:inuse_space:bytes:space:bytes{job=\"checkout\"}"
                    .to_owned()
            })?
            .to_owned();
        Ok(Parca {
            authorization: url.credentials.map(|(u, p)| basic_auth(&u, &p)),
            base: url.base,
            query,
        })
    }

    /// Server and query.
    pub(super) fn shown(&self) -> String {
        format!("{} {}", self.base, self.query)
    }

    /// The error of a window with nothing to merge.
    fn nothing_in(&self, window: &Window) -> String {
        format!(
            "Parca has no profiles matching {} in {} (an empty merge); check the query and the \
             window",
            self.query,
            window.shown()
        )
    }

    /// The headers of every request.
    fn headers(&self) -> Vec<(&str, &str)> {
        let mut headers = vec![("Accept", "application/json")];
        if let Some(a) = &self.authorization {
            headers.push(("Authorization", a));
        }
        headers
    }

    /// Whether Parca can say how many profiles a merge of this query sums.
    pub(super) fn counts(&self) -> bool {
        let profile_type = self.query.split('{').next().unwrap_or_default();
        !profile_type.trim_end().ends_with(":delta")
    }

    /// How many profiles the merge of `window` sums, where Parca says
    /// (see [`Parca::counts`]).
    pub(super) fn count(
        &self,
        window: &Window,
        deadline: Option<Duration>,
        max: u64,
        trust: &Trust,
    ) -> Result<Option<u64>> {
        if !self.counts() {
            return Ok(None);
        }
        let (start, end) = window_bounds(window)?;
        // One step over the whole window, as JSON writes a Duration.
        let length = window.length_ms();
        let step = format!("{}.{:03}s", length / 1000, length % 1000);
        let url = format!("{}/api/profiles/query_range", self.base);
        let answer = Endpoint::new(&url, deadline, max, trust)?.get(
            &[
                ("query", &self.query),
                ("start", &start),
                ("end", &end),
                ("step", &step),
            ],
            &self.headers(),
        )?;
        let answer: RangeAnswer = serde_json::from_slice(&answer)
            .context("Parca's answer to the range query is not its JSON")?;
        let mut total = 0u64;
        for sample in answer.series.iter().flat_map(|s| &s.samples) {
            let count = sample.count.as_ref().and_then(Int32::profiles);
            let count = count.with_context(|| {
                format!(
                    "Parca's range query for {} answered a sample without a count of profiles",
                    window.shown()
                )
            })?;
            total = total.saturating_add(count);
        }
        if total == 0 {
            bail!(self.nothing_in(window));
        }
        Ok(Some(total))
    }

    /// The merged profile of `window`, as gzipped pprof bytes.
    pub(super) fn fetch(
        &self,
        window: &Window,
        deadline: Option<Duration>,
        max: u64,
        trust: &Trust,
    ) -> Result<Vec<u8>> {
        let (start, end) = window_bounds(window)?;
        let url = format!("{}/api/profiles/query", self.base);
        // The answer is base64 in JSON: a third more than the profile.
        let endpoint = Endpoint::new(&url, deadline, max.saturating_mul(4) / 3 + 4096, trust)?;
        let answer = endpoint.get(
            &[
                ("mode", "MODE_MERGE"),
                ("reportType", "REPORT_TYPE_PPROF"),
                ("merge.query", &self.query),
                ("merge.start", &start),
                ("merge.end", &end),
            ],
            &self.headers(),
        )?;
        let answer: serde_json::Value =
            serde_json::from_slice(&answer).context("Parca's answer to the query is not JSON")?;
        let Some(encoded) = answer.get("pprof").and_then(|p| p.as_str()) else {
            bail!(
                "Parca answered no profile for {} in {} (no \"pprof\" in its answer)",
                self.query,
                window.shown()
            );
        };
        let profile = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .context("Parca's \"pprof\" is not base64")?;
        let decoded = heapdiff_profile::decode(&profile)
            .with_context(|| format!("Parca's profile for {}", window.shown()))?;
        if decoded.sample_count() == 0 {
            bail!(self.nothing_in(window));
        }
        Ok(profile)
    }
}

/// `QueryRangeResponse` as JSON, what heapdiff reads of it (other fields
/// are skipped unread).
#[derive(serde::Deserialize)]
struct RangeAnswer {
    #[serde(default)]
    series: Vec<RangeSeries>,
}

/// `MetricsSeries`.
#[derive(serde::Deserialize)]
struct RangeSeries {
    #[serde(default)]
    samples: Vec<RangeSample>,
}

/// `MetricsSample`.
#[derive(serde::Deserialize)]
struct RangeSample {
    count: Option<Int32>,
}

/// An `int32` as JSON writes it: a number, or a string from lenient
/// encoders.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Int32 {
    Number(i64),
    Text(String),
}

impl Int32 {
    /// The count of profiles it holds: an `int32` that is not negative.
    fn profiles(&self) -> Option<u64> {
        let n = match self {
            Int32::Number(n) => *n,
            Int32::Text(s) => s.parse().ok()?,
        };
        i32::try_from(n).ok().and_then(|n| u64::try_from(n).ok())
    }
}

/// A window's start and end in RFC 3339, as the gateway reads a
/// `google.protobuf.Timestamp`.
fn window_bounds(window: &Window) -> Result<(String, String)> {
    let rfc3339 = |ms: i64| -> Result<String> {
        Ok(jiff::Timestamp::from_millisecond(ms)
            .context("a window outside the calendar")?
            .to_string())
    };
    Ok((rfc3339(window.start_ms)?, rfc3339(window.end_ms)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_needs_a_query_and_keeps_credentials_out_of_sight() {
        let p = Parca::new(
            Url::parse("parca+https://u:p@parca:7070/?query=memory:inuse_space:bytes:space:bytes%7Bjob%3D%22a%22%7D")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(p.query, r#"memory:inuse_space:bytes:space:bytes{job="a"}"#);
        assert_eq!(p.authorization.as_deref(), Some("Basic dTpw"));
        assert!(!p.shown().contains("u:p"));
        let e = Parca::new(Url::parse("parca+http://parca:7070").unwrap()).unwrap_err();
        assert!(e.contains("needs query="), "{e}");
    }

    #[test]
    fn counts_are_int32s_that_are_not_negative() {
        let count = |json: &str| {
            serde_json::from_str::<RangeSample>(json)
                .unwrap()
                .count
                .and_then(|c| c.profiles())
        };
        assert_eq!(count(r#"{"count":12}"#), Some(12));
        assert_eq!(count(r#"{"count":"12","value":"5"}"#), Some(12));
        assert_eq!(count(r#"{"count":-1}"#), None);
        assert_eq!(count(r#"{"count":2147483648}"#), None);
        assert_eq!(count(r#"{"count":"x"}"#), None);
        assert_eq!(count(r#"{}"#), None);
    }

    #[test]
    fn merges_are_counted_except_of_delta_types() {
        let parca = |query: &str| {
            Parca::new(Url::parse(&format!("parca+http://parca:7070/?query={query}")).unwrap())
                .unwrap()
        };
        assert!(parca("memory:inuse_space:bytes:space:bytes{job=\"a\"}").counts());
        assert!(!parca("parca_agent:samples:count:cpu:nanoseconds:delta{job=\"a\"}").counts());
        assert!(!parca("memory:alloc_space:bytes:space:bytes:delta").counts());
    }
}
