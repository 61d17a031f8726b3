//! Live capture: fetch a profile endpoint (Go's `/debug/pprof/heap`, or
//! anything that serves a profile over HTTP) now and after each interval.
//!
//! HTTP, or HTTPS with the system's root certificates (rustls, through the
//! platform's verifier), the certificates of `--cacert`, or, with
//! `--insecure` only, none; to the URL given and nowhere else: redirects
//! are not followed (the message names where the server pointed). Every fetch has a
//! deadline, a few seconds past the `seconds=` the URL asks the server to
//! wait (`--fetch-timeout` sets it), so a server that accepts and never
//! answers, or trickles bytes, ends the run with a message instead of
//! holding it; a wait longer than a moment shows a progress line. The body
//! is read up to `--max-input`.
//!
//! What was fetched is written to files so that the rest of heapdiff reads
//! it like any input: into `--save-dir`, where each file is created anew
//! (never through a symlink, never over an earlier capture: numbering goes
//! on after the files already there), or into a temporary directory that
//! the run removes, on Ctrl-C too.
//!
//! URLs are shown without their credentials (`user:pass@`) and with the
//! values of token-like query parameters replaced ([`redact`]), in messages
//! and in every output that names the inputs.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::output;

/// What to fetch and how.
pub(crate) struct Endpoint {
    /// The URL as given.
    url: String,
    /// The URL as shown: [`redact`]ed.
    shown: String,
    /// How long one fetch may take, from connecting to the body's end.
    deadline: Duration,
    /// The largest body accepted.
    max_body: u64,
    /// Which HTTPS servers are trusted.
    tls: ureq::tls::TlsConfig,
}

/// Which HTTPS servers to trust.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trust {
    /// Certificates (PEM) trusted instead of the system's (`--cacert`).
    pub(crate) ca_file: Option<PathBuf>,
    /// Verify no certificate (`--insecure`).
    pub(crate) insecure: bool,
}

impl Trust {
    /// The TLS configuration: the system's roots, the `--cacert` file's, or
    /// no verification.
    fn config(&self) -> Result<ureq::tls::TlsConfig> {
        use ureq::tls::{PemItem, RootCerts, TlsConfig};
        let roots = match &self.ca_file {
            None => RootCerts::PlatformVerifier,
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("--cacert {}: cannot read", path.display()))?;
                let mut certs = Vec::new();
                for item in ureq::tls::parse_pem(&pem) {
                    match item {
                        Ok(PemItem::Certificate(c)) => certs.push(c),
                        Ok(_) => {}
                        Err(e) => bail!("--cacert {}: {e}", path.display()),
                    }
                }
                if certs.is_empty() {
                    bail!(
                        "--cacert {}: no certificate in it (PEM, `-----BEGIN CERTIFICATE-----`)",
                        path.display()
                    );
                }
                RootCerts::new_with_certs(&certs)
            }
        };
        Ok(TlsConfig::builder()
            .root_certs(roots)
            .disable_verification(self.insecure)
            .build())
    }
}

/// How long a fetch may take beyond the `seconds=` it asks for.
const SLACK: Duration = Duration::from_secs(10);

impl Endpoint {
    /// An endpoint; `deadline` overrides the default, which is the URL's
    /// `seconds=` parameter plus [`SLACK`].
    pub(crate) fn new(
        url: &str,
        deadline: Option<Duration>,
        max_body: u64,
        trust: &Trust,
    ) -> Result<Self> {
        let asked = query_value(url, "seconds")
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(Duration::ZERO, |s| Duration::from_secs(s.min(86_400)));
        Ok(Endpoint {
            url: url.to_owned(),
            shown: redact(url),
            deadline: deadline.unwrap_or(asked + SLACK),
            max_body,
            tls: trust.config()?,
        })
    }

    /// The URL as it may be shown.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// Fetches the endpoint once.
    pub(crate) fn fetch(&self) -> Result<Vec<u8>> {
        self.get(&[], &[("Accept", "application/octet-stream, */*")])
    }

    /// Fetches the endpoint with `query` parameters added (percent-encoded)
    /// and `headers`.
    pub(crate) fn get(&self, query: &[(&str, &str)], headers: &[(&str, &str)]) -> Result<Vec<u8>> {
        let mut request = self.agent().get(&self.url);
        for (key, value) in query {
            request = request.query(*key, *value);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let _waiting = Waiting::start(&self.shown, self.deadline);
        let response = request
            .call()
            .map_err(|e| self.failure("cannot fetch", &e))?;
        self.body_of(response)
    }

    /// Posts `body` to the endpoint with `headers` (an RPC), and returns
    /// the answer's body.
    pub(crate) fn post(&self, headers: &[(&str, &str)], body: &[u8]) -> Result<Vec<u8>> {
        let mut request = self.agent().post(&self.url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let _waiting = Waiting::start(&self.shown, self.deadline);
        let response = request
            .send(body)
            .map_err(|e| self.failure("cannot fetch", &e))?;
        self.body_of(response)
    }

    /// A client for one request: deadlines, no redirects, TLS as trusted.
    fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .tls_config(self.tls.clone())
            .timeout_connect(Some(self.deadline.min(Duration::from_secs(10))))
            .timeout_global(Some(self.deadline))
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into()
    }

    /// The body of a successful answer; an error naming the status (and
    /// what the server said, in a line) otherwise.
    fn body_of(&self, mut response: ureq::http::Response<ureq::Body>) -> Result<Vec<u8>> {
        let shown = &self.shown;
        let status = response.status();
        if status.is_redirection() {
            let to = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map_or_else(|| "nowhere".to_owned(), redact);
            bail!(
                "{shown}: the server answered HTTP {} and points to {to}; heapdiff does not follow \
                 redirects: fetch that URL instead",
                status.as_u16()
            );
        }
        if !status.is_success() {
            let said = response
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_vec()
                .map(|b| said_in(&b))
                .unwrap_or_default();
            bail!(
                "{shown}: the server answered HTTP {} {}{said}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            );
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(|e| self.failure("cannot read the response", &e))?;
        if body.is_empty() {
            bail!("{shown}: the server answered with an empty body");
        }
        Ok(body)
    }

    /// A one-line error for a failed request, without the URL's secrets.
    fn failure(&self, what: &str, e: &ureq::Error) -> anyhow::Error {
        let shown = &self.shown;
        let why = match e {
            ureq::Error::Timeout(_) => format!(
                "no complete answer within {} (--fetch-timeout)",
                humantime(self.deadline)
            ),
            ureq::Error::BodyExceedsLimit(_) => format!(
                "the response is larger than {} bytes (--max-input)",
                self.max_body
            ),
            other => {
                let text = other.to_string().replace(&self.url, shown);
                untrusted(&text).unwrap_or(text)
            }
        };
        anyhow::anyhow!("{shown}: {what}: {why}")
    }
}

/// What an error answer says, as `: TEXT`: a Connect or gRPC-gateway
/// error's `code` and `message` (JSON), else the body's first line, made
/// inert and at most 200 characters; empty when there is nothing to say.
fn said_in(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let field = |name: &str| {
        let start = text.find(&format!("\"{name}\""))?;
        let rest = text[start + name.len() + 2..]
            .trim_start()
            .strip_prefix(':')?;
        let rest = rest.trim_start().strip_prefix('"')?;
        rest.split('"').next()
    };
    let said = match (field("code"), field("message")) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (None, Some(message)) => message.to_owned(),
        _ => text.lines().next().unwrap_or_default().to_owned(),
    };
    let said: String = said.chars().filter(|c| !c.is_control()).take(200).collect();
    if said.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", said.trim())
    }
}

/// rustls's refusal of a certificate, said for people: `io: invalid peer
/// certificate: UnknownIssuer` names the remedies.
fn untrusted(message: &str) -> Option<String> {
    let (_, why) = message.split_once("invalid peer certificate: ")?;
    let why = match why {
        "UnknownIssuer" => "it is signed by a CA this machine does not trust (UnknownIssuer); \
                            --cacert FILE trusts the CA in FILE"
            .to_owned(),
        other => other.to_owned(),
    };
    Some(format!("the server's certificate is refused: {why}"))
}

/// A progress line on stderr while a fetch takes longer than a moment: a
/// spinner on a terminal, one line otherwise.
struct Waiting {
    done: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Waiting {
    const AFTER: Duration = Duration::from_secs(1);

    fn start(shown: &str, deadline: Duration) -> Self {
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let message = format!("waiting for {shown} (at most {})", humantime(deadline));
        let thread = std::thread::spawn(move || {
            use std::sync::mpsc::RecvTimeoutError::Timeout;
            // The fetch ends by dropping the sender.
            if !matches!(wait.recv_timeout(Self::AFTER), Err(Timeout)) {
                return;
            }
            if !std::io::stderr().is_terminal() {
                output::note(&message);
                return;
            }
            let started = Instant::now() - Self::AFTER;
            let spinner = indicatif::ProgressBar::new_spinner();
            while matches!(wait.recv_timeout(Duration::from_millis(200)), Err(Timeout)) {
                spinner.set_message(format!("{message}: {}s", started.elapsed().as_secs()));
                spinner.tick();
            }
            spinner.finish_and_clear();
        });
        Waiting {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Where captures go.
pub(crate) enum SaveTo<'a> {
    /// `--save-dir`: kept.
    Kept(&'a Path),
    /// A temporary directory, removed when the run ends (or is interrupted).
    Scratch(&'a Path),
}

/// Fetches `endpoint` `count` times, `interval` apart, into `to`; returns
/// the files, oldest first.
pub(crate) fn capture(
    endpoint: &Endpoint,
    count: u32,
    interval: Duration,
    to: SaveTo<'_>,
) -> Result<Vec<PathBuf>> {
    let shown = endpoint.shown();
    let mut files = Vec::with_capacity(count as usize);
    let (dir, mut number) = numbering(&to)?;
    for i in 1..=count {
        if i > 1 {
            std::thread::sleep(interval);
        }
        let body = endpoint.fetch()?;
        // Decode now, so that a page that is not a profile fails at once.
        heapdiff_profile::decode(&body).with_context(|| shown.to_owned())?;
        let ext = if heapdiff_profile::is_gzip(&body) {
            "pb.gz"
        } else {
            "prof"
        };
        let path = save_new(dir, &mut number, ext, &body)?;
        output::note(&format!(
            "fetched {shown} ({} of {count}, {} bytes){}",
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

/// Where fetched files go, and the number of the first.
pub(crate) fn numbering<'a>(to: &SaveTo<'a>) -> Result<(&'a Path, u64)> {
    Ok(match *to {
        SaveTo::Kept(dir) => (dir, next_number(dir)?),
        SaveTo::Scratch(dir) => (dir, 1),
    })
}

/// The number after the highest `heap-N.*` already in `dir` (1 if none).
fn next_number(dir: &Path) -> Result<u64> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let highest = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name();
            let rest = name.to_str()?.strip_prefix("heap-")?;
            let digits = rest.split('.').next()?;
            digits.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0);
    Ok(highest + 1)
}

/// Writes `body` to a new file `heap-N.EXT` in `dir`, `N` counting up from
/// `number` past any name already taken: written to a temporary file, then
/// linked into place without replacing anything (a symlink planted at the
/// name is a name taken, not a way out of the directory).
pub(crate) fn save_new(dir: &Path, number: &mut u64, ext: &str, body: &[u8]) -> Result<PathBuf> {
    use std::io::Write;
    let cannot = || format!("cannot save what was fetched in {}", dir.display());
    let mut tmp = tempfile::Builder::new()
        .prefix(".heapdiff-")
        .tempfile_in(dir)
        .with_context(cannot)?;
    tmp.write_all(body).with_context(cannot)?;
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(cannot)?;
    }
    loop {
        let path = dir.join(format!("heap-{number}.{ext}"));
        *number += 1;
        match tmp.persist_noclobber(&path) {
            Ok(_) => return Ok(path),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => tmp = e.file,
            Err(e) => {
                return Err(e.error).with_context(|| format!("cannot save {}", path.display()));
            }
        }
    }
}

/// The temporary directory of a run, removed if the run is interrupted.
static SCRATCH: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

/// Removes the run's temporary directory, if it has one: before an exit
/// that skips the directory's own clean-up.
pub(crate) fn remove_scratch() {
    if let Some(dir) = SCRATCH.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Removes `dir` when the user interrupts the run (Ctrl-C, SIGTERM), then
/// exits with 130 as a shell would.
pub(crate) fn remove_on_interrupt(dir: &Path) {
    *SCRATCH.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.to_owned());
    let _ = ctrlc::set_handler(|| {
        remove_scratch();
        output::note("interrupted");
        std::process::exit(130);
    });
}

/// A URL as it may be shown: without credentials (`user:pass@`), and with
/// the values of query parameters that look like secrets (`token`, `key`,
/// `secret`, `password`, `auth`, `signature`, …) replaced by `REDACTED`.
pub(crate) fn redact(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let mut out = format!("{scheme}{host}{path}");
    if tail.contains('?') {
        let (query, fragment) = query.split_once('#').unwrap_or((query, ""));
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_secret(k) => format!("{k}=REDACTED"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
        if !fragment.is_empty() {
            out.push('#');
            out.push_str(fragment);
        }
    }
    out
}

/// Whether a query parameter's name looks like it carries a secret.
fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "token",
        "key",
        "secret",
        "pass",
        "pwd",
        "auth",
        "sig",
        "credential",
        "session",
        "cookie",
        "jwt",
        "bearer",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// The value of query parameter `name` in `url`.
fn query_value<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
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
    fn secrets_never_show() {
        assert_eq!(
            redact("http://user:pass@host:6060/debug/pprof/heap?gc=1&token=abc&seconds=30"),
            "http://host:6060/debug/pprof/heap?gc=1&token=REDACTED&seconds=30"
        );
        assert_eq!(
            redact("HTTP://h/p?X-Amz-Signature=s&api_key=k#frag"),
            "HTTP://h/p?X-Amz-Signature=REDACTED&api_key=REDACTED#frag"
        );
        assert_eq!(redact("http://h/p"), "http://h/p");
        assert_eq!(redact("http://a@b@h/p?q"), "http://h/p?q");
    }

    #[test]
    fn the_deadline_follows_the_seconds_asked_for() {
        let e = Endpoint::new(
            "http://h/debug/pprof/heap?seconds=30&gc=1",
            None,
            1,
            &Trust::default(),
        )
        .unwrap();
        assert_eq!(e.deadline, Duration::from_secs(40));
        let e = Endpoint::new("http://h/heap", None, 1, &Trust::default()).unwrap();
        assert_eq!(e.deadline, SLACK);
        let e = Endpoint::new(
            "http://h/heap",
            Some(Duration::from_secs(3)),
            1,
            &Trust::default(),
        )
        .unwrap();
        assert_eq!(e.deadline, Duration::from_secs(3));
    }

    #[test]
    fn captures_never_overwrite_nor_follow_links() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let caps = dir.path().join("caps");
        std::fs::create_dir(&caps).unwrap();
        std::os::unix::fs::symlink("../victim", caps.join("heap-1.pb.gz")).unwrap();
        std::fs::write(caps.join("heap-3.prof"), b"old").unwrap();
        let mut n = next_number(&caps).unwrap();
        assert_eq!(n, 4, "numbering goes on after what is there");
        let mut one = 1;
        let p = save_new(&caps, &mut one, "pb.gz", b"new").unwrap();
        assert_eq!(
            p,
            caps.join("heap-2.pb.gz"),
            "a planted link is a name taken"
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        let q = save_new(&caps, &mut n, "pb.gz", b"newer").unwrap();
        assert_eq!(q, caps.join("heap-4.pb.gz"));
        assert_eq!(std::fs::read(caps.join("heap-3.prof")).unwrap(), b"old");
        let names = std::fs::read_dir(&caps).unwrap().count();
        assert_eq!(names, 4, "no temporary file is left");
    }

    #[test]
    fn refused_certificates_are_said_for_people() {
        assert_eq!(
            untrusted("io: invalid peer certificate: UnknownIssuer").unwrap(),
            "the server's certificate is refused: it is signed by a CA this machine does not \
             trust (UnknownIssuer); --cacert FILE trusts the CA in FILE"
        );
        assert_eq!(
            untrusted("io: invalid peer certificate: certificate expired: …").unwrap(),
            "the server's certificate is refused: certificate expired: …"
        );
        assert_eq!(untrusted("io: Connection refused (os error 111)"), None);
    }
}
