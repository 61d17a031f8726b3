//! Fuzzes the live-capture client (`Endpoint` in
//! `crates/heapdiff/src/live.rs`) with whatever a server may answer: a
//! loopback server sends the input, raw, in reply to the fetch, which must
//! end in a body or an error, never a panic or a hang. A profile endpoint
//! is often a process the user does not control, or a proxy in front of it.
//!
//! The binary's module is compiled here as it is, source and all; only its
//! progress notes (`crate::output::note`) go nowhere.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use heapdiff_fuzz::canned_server::CannedServer;

#[allow(dead_code)]
#[path = "../../crates/heapdiff/src/live.rs"]
mod live;

/// The one function of the binary's `output` module that `live` calls.
mod output {
    pub(crate) fn note(_: &str) {}
}

/// The server, started on the first input.
static SERVER: LazyLock<CannedServer> = LazyLock::new(CannedServer::start);

/// Longer than any answer from loopback takes; shorter than libFuzzer's
/// per-input timeout, so that a client left waiting is an error, not a hang.
const DEADLINE: Duration = Duration::from_secs(2);

/// The largest body the client accepts: more than any input.
const MAX_BODY: u64 = 1 << 20;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    SERVER.set_answer(data);
    let url = format!("http://127.0.0.1:{}/debug/pprof/heap", SERVER.port());
    let endpoint = live::Endpoint::new(&url, Some(DEADLINE), MAX_BODY, &live::Trust::default())
        .expect("no --cacert to read");
    if let Ok(body) = endpoint.fetch() {
        assert!(!body.is_empty());
        assert!(body.len() <= data.len());
    }
});
