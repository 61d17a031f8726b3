//! Live capture: fetch a profile endpoint (Go's `/debug/pprof/heap`, or
//! anything that serves a profile over HTTP) now and after each interval.
//!
//! Plain HTTP only, to the URL given and nowhere else: redirects are not
//! followed, and every request has a connect and an overall timeout. What
//! was fetched is written to files (`--save-dir`, or a temporary directory
//! the run removes) so that the rest of heapdiff reads it like any input.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::output;

/// The largest response accepted.
const MAX_BODY: u64 = 1 << 30;

/// Fetches `url` once.
pub(crate) fn fetch(url: &str) -> Result<Vec<u8>> {
    if url.starts_with("https://") {
        bail!(
            "{url}: https is not supported; fetch over plain http (e.g. through \
             `kubectl port-forward` or an SSH tunnel to loopback), or save the profiles and pass the files"
        );
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(300)))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(url)
        .header("Accept", "application/octet-stream, */*")
        .call()
        .map_err(|e| anyhow::anyhow!("{url}: cannot fetch: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!(
            "{url}: the server answered HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| anyhow::anyhow!("{url}: cannot read the response: {e}"))?;
    if body.is_empty() {
        bail!("{url}: the server answered with an empty body");
    }
    Ok(body)
}

/// Fetches `url` `count` times, `interval` apart, into `dir`; returns the
/// files, oldest first.
pub(crate) fn capture(
    url: &str,
    count: u32,
    interval: Duration,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let mut files = Vec::with_capacity(count as usize);
    for i in 1..=count {
        if i > 1 {
            std::thread::sleep(interval);
        }
        let body = fetch(url)?;
        // Decode now, so that a page that is not a profile fails at once.
        heapdiff_profile::decode(&body).with_context(|| url.to_owned())?;
        let ext = if heapdiff_profile::is_gzip(&body) {
            "pb.gz"
        } else {
            "prof"
        };
        let path = dir.join(format!("heap-{i}.{ext}"));
        std::fs::write(&path, &body)
            .with_context(|| format!("cannot save what was fetched to {}", path.display()))?;
        output::note(&format!(
            "fetched {url} ({} of {count}, {} bytes){}",
            i,
            body.len(),
            if i < count {
                format!("; next in {}", humantime(interval))
            } else {
                String::new()
            }
        ));
        files.push(path);
    }
    Ok(files)
}

fn humantime(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_naturally() {
        assert_eq!(humantime(Duration::from_millis(250)), "250ms");
        assert_eq!(humantime(Duration::from_secs(300)), "5m");
        assert_eq!(humantime(Duration::from_secs(30)), "30s");
    }

    #[test]
    fn https_is_refused_before_connecting() {
        let err = fetch("https://127.0.0.1:9/heap").unwrap_err().to_string();
        assert!(
            err.starts_with("https://127.0.0.1:9/heap: https is not supported"),
            "{err}"
        );
    }
}
