//! Grafana Pyroscope: `querier.v1.QuerierService` over the Connect protocol
//! (a POST of the protobuf request, `Content-Type: application/proto`).
//!
//! `SelectMergeStacktraces` with `format = PROFILE_FORMAT_PPROF` (4) answers
//! the profile in `pprof` (field 5, a `PprofProfile` whose field 1 is the
//! profile); a server that predates that format answers a flame graph
//! instead, and the deprecated `SelectMergeProfile`, which answers the
//! profile itself, is asked next, as Pyroscope's own CLI does.
//! Credentials: `user:password@` in the URL or `PROFILECLI_USERNAME`/
//! `PROFILECLI_PASSWORD` (basic), `PROFILECLI_TOKEN` (bearer); the tenant
//! as `tenant=` or `PROFILECLI_TENANT_ID` (`X-Scope-OrgID`).

use std::time::Duration;

use anyhow::{Context, Result, bail};
use prost::Message;

use super::{Url, Window, basic_auth};
use crate::live::{Endpoint, Trust};

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

impl Pyroscope {
    /// The source `url` names; `env` looks up the `PROFILECLI_*` variables.
    pub(super) fn new(url: Url, env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        url.only(&["query", "type", "tenant"])?;
        let mut headers = Vec::new();
        let basic = url.credentials.clone().or_else(|| {
            env("PROFILECLI_USERNAME")
                .map(|user| (user, env("PROFILECLI_PASSWORD").unwrap_or_default()))
        });
        if let Some((user, password)) = basic {
            headers.push(("Authorization".to_owned(), basic_auth(&user, &password)));
        } else if let Some(token) = env("PROFILECLI_TOKEN") {
            headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
        }
        let tenant = url
            .param("tenant")
            .map(str::to_owned)
            .or_else(|| env("PROFILECLI_TENANT_ID"));
        if let Some(tenant) = tenant.filter(|t| !t.is_empty()) {
            headers.push(("X-Scope-OrgID".to_owned(), tenant));
        }
        Ok(Pyroscope {
            selector: url.param("query").unwrap_or("{}").to_owned(),
            profile_type: full_profile_type(url.param("type").unwrap_or("memory:inuse_space")),
            base: url.base,
            headers,
        })
    }

    /// How the source is shown: server, selector and type, no secrets.
    pub(super) fn shown(&self) -> String {
        format!("{} {} {}", self.base, self.selector, self.profile_type)
    }

    /// The merged profile of `window`, as pprof bytes.
    pub(super) fn fetch(
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

/// A profile type as Pyroscope names it, `memory:inuse_space` completed to
/// `memory:inuse_space:bytes:space:bytes` (Go's memory types).
fn full_profile_type(t: &str) -> String {
    match t {
        "memory:inuse_space" | "memory:alloc_space" => format!("{t}:bytes:space:bytes"),
        "memory:inuse_objects" | "memory:alloc_objects" => format!("{t}:count:space:bytes"),
        other => other.to_owned(),
    }
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
        let parse = |s: &str, env: &dyn Fn(&str) -> Option<String>| {
            Pyroscope::new(Url::parse(s).unwrap(), env)
        };
        let p = parse(
            "pyroscope+https://u:p%40ss@host:4040/prefix/?query=%7Bservice_name%3D%22a%22%7D&type=memory:alloc_space&tenant=t1",
            &no_env,
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
        let p = parse("pyroscope+http://h", &env).unwrap();
        assert_eq!(
            p.headers,
            [("Authorization".to_owned(), "Bearer glc_x".to_owned())]
        );
        assert_eq!(
            (p.selector.as_str(), p.profile_type.as_str()),
            ("{}", "memory:inuse_space:bytes:space:bytes")
        );
        assert!(
            parse("pyroscope+http://h/?q=1", &no_env)
                .unwrap_err()
                .contains("unknown parameter")
        );
    }
}
