//! Parca: `parca.query.v1alpha1.QueryService/Query` through the REST
//! gateway Parca serves under `/api` (`GET /api/profiles/query`), with
//! `mode=MODE_MERGE`, `reportType=REPORT_TYPE_PPROF`, and the merge's
//! `query`, `start` and `end` (RFC 3339). The answer is JSON whose `pprof`
//! field holds the gzipped profile in base64 (`QueryResponse.pprof`, bytes
//! field 6, as the JSON mapping of protobuf writes bytes). Credentials:
//! `user:password@` in the URL (basic, for a proxy in front of Parca).

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

    /// The merged profile of `window`, as gzipped pprof bytes.
    pub(super) fn fetch(
        &self,
        window: &Window,
        deadline: Option<Duration>,
        max: u64,
        trust: &Trust,
    ) -> Result<Vec<u8>> {
        let rfc3339 = |ms: i64| -> Result<String> {
            Ok(jiff::Timestamp::from_millisecond(ms)
                .context("a window outside the calendar")?
                .to_string())
        };
        let (start, end) = (rfc3339(window.start_ms)?, rfc3339(window.end_ms)?);
        let url = format!("{}/api/profiles/query", self.base);
        // The answer is base64 in JSON: a third more than the profile.
        let endpoint = Endpoint::new(&url, deadline, max.saturating_mul(4) / 3 + 4096, trust)?;
        let mut headers = vec![("Accept", "application/json")];
        if let Some(a) = &self.authorization {
            headers.push(("Authorization", a));
        }
        let answer = endpoint.get(
            &[
                ("mode", "MODE_MERGE"),
                ("reportType", "REPORT_TYPE_PPROF"),
                ("merge.query", &self.query),
                ("merge.start", &start),
                ("merge.end", &end),
            ],
            &headers,
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
            bail!(
                "Parca has no profiles matching {} in {} (an empty merge); check the query and \
                 the window",
                self.query,
                window.shown()
            );
        }
        Ok(profile)
    }
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
}
