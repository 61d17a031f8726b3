//! Live capture over HTTPS against a loopback TLS server (rustls), with
//! certificates made here (rcgen): a CA, and server certificates for
//! 127.0.0.1, for another host name only, and for 127.0.0.1 but expired.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::common::*;

/// A CA: its certificate (PEM) and what signs with it.
fn ca() -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

/// A server certificate for `names`, signed by `ca`; `expired` puts its
/// validity in 2020.
fn server_cert(
    ca: &Issuer<'_, KeyPair>,
    names: &[&str],
    expired: bool,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 2, 1);
    }
    let cert = params.signed_by(&key, ca).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (cert.der().clone(), key)
}

/// A loopback HTTPS server that answers its first `connections` with the Go
/// fixture's after profile; returns its `host:port`.
fn https_server(
    connections: usize,
    cert: (CertificateDer<'static>, PrivateKeyDer<'static>),
) -> String {
    // ring, as ureq's client uses (deprecated in rustls 0.23.48 for its lack
    // of post-quantum key exchange, which a loopback test does not need).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.0], cert.1)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections).flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut reader = BufReader::new(&mut tls);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let body = std::fs::read(repo_root().join(GO_AFTER)).unwrap();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(&body);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

/// Runs a two-fetch live capture of `url` with `args`.
fn capture(url: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        url,
        "--count",
        "2",
        "--interval",
        "10ms",
        "--no-svg",
        "--format",
        "json",
    ];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn https_live_capture_trusts_the_ca_it_is_given() {
    let (ca_pem, ca) = ca();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let addr = https_server(2, server_cert(&ca, &["127.0.0.1"], false));
    let out = capture(
        &format!("https://{addr}/debug/pprof/heap"),
        &["--cacert", ca_file.to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The same profile twice: nothing changed.
    assert_eq!(j["delta_total"], 0);
    assert!(j["after_total"].as_i64().unwrap() > 0);
}

#[test]
fn untrusted_misnamed_and_expired_certificates_are_refused() {
    let (ca_pem, ca) = ca();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let ca_arg = ca_file.to_str().unwrap();
    let cases: [(&[&str], bool, &[&str], &str); 3] = [
        // The system does not know this CA.
        (
            &["127.0.0.1"],
            false,
            &[],
            "does not trust (UnknownIssuer); --cacert FILE",
        ),
        (
            &["service.example"],
            false,
            &["--cacert", ca_arg],
            "not valid for name",
        ),
        (
            &["127.0.0.1"],
            true,
            &["--cacert", ca_arg],
            "certificate expired",
        ),
    ];
    for (names, expired, args, want) in cases {
        let addr = https_server(1, server_cert(&ca, names, expired));
        let out = capture(&format!("https://u:secret@{addr}/heap"), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{names:?}: {err}");
        assert!(err.contains(want), "{names:?}: {err}");
        assert!(!err.contains("secret"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn insecure_verifies_nothing_and_says_so() {
    let (_, ca) = ca();
    let addr = https_server(2, server_cert(&ca, &["service.example"], true));
    let out = capture(&format!("https://{addr}/heap"), &["--insecure"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("--insecure: the server's certificate is not verified"),
        "{err}"
    );
}

#[test]
fn a_cacert_file_without_certificates_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let out = capture(
        "https://127.0.0.1:9/heap",
        &["--cacert", empty.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no certificate in it"), "{err}");
}
