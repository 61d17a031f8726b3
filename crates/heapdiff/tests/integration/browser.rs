//! The heap flame graph in a real browser: headless Chromium loads the SVG
//! inside a harness page, which clicks a frame, searches, resets, and writes
//! what it saw into the page; `--dump-dom` hands the page back.
//!
//! Without a Chromium the test says so and passes, unless
//! `HEAPDIFF_REQUIRE_BROWSER` is set (`.ci/run` sets it after installing
//! Debian's `chromium`). A screenshot of the graph is left in Cargo's
//! test temporary directory as an artifact.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HEAPDIFF_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

/// The Chromium to test with; `None` (the test says it skipped) when there
/// is none, which fails the test under `HEAPDIFF_REQUIRE_BROWSER`.
fn chromium_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("HEAPDIFF_REQUIRE_BROWSER").is_none(),
            "HEAPDIFF_REQUIRE_BROWSER is set but no Chromium was found (apt-get install chromium)"
        );
        eprintln!("skipped: no chromium on PATH (set HEAPDIFF_CHROMIUM to one)");
    }
    found
}

fn headless(chromium: &Path) -> Command {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
    ]);
    cmd
}

const HARNESS: &str = r#"<!DOCTYPE html><html><body>
<iframe id="f" src="graph.svg" width="880" height="900"></iframe>
<pre id="out">pending</pre>
<script>
window.addEventListener('load', function () {
  var out = document.getElementById('out');
  var errors = [];
  try {
    var w = document.getElementById('f').contentWindow;
    w.addEventListener('error', function (e) { errors.push(String(e.message)); });
    var doc = w.document;
    var res = { api: typeof w.heapdiff };
    var frames = Array.prototype.slice.call(doc.querySelectorAll('g.f'));
    res.frames = frames.length;
    var target = frames.filter(function (g) {
      return g.getAttribute('data-l').indexOf('main.(*headerCache).remember') === 0;
    })[0];
    var rect = target.querySelector('rect.r');
    res.before = [rect.getAttribute('x'), rect.getAttribute('width')];
    rect.dispatchEvent(new w.MouseEvent('click', { bubbles: true }));
    res.zoomed = [rect.getAttribute('x'), rect.getAttribute('width')];
    res.hidden = doc.querySelectorAll('g.f.hidden').length;
    res.reset = doc.getElementById('reset').getAttribute('opacity');
    res.hits = w.heapdiff.search('Header\\.Clone');
    res.hit_labels = Array.prototype.map.call(doc.querySelectorAll('g.f.hit'), function (g) {
      return g.getAttribute('data-l');
    });
    res.matched = doc.getElementById('matched').textContent;
    doc.getElementById('reset').dispatchEvent(new w.MouseEvent('click', { bubbles: true }));
    res.unzoomed = [rect.getAttribute('x'), rect.getAttribute('width')];
    res.hidden_after_reset = doc.querySelectorAll('g.f.hidden').length;
    // Labels stay inside their frames whatever font the viewer draws them
    // in: a wider, proportional font at a larger size, forced over the
    // graph's own. Without textLength the same labels overflow.
    var style = doc.createElementNS('http://www.w3.org/2000/svg', 'style');
    style.textContent = 'g.f text { font-family: "DejaVu Serif", serif !important; font-size: 13px !important; }';
    doc.documentElement.appendChild(style);
    function overflowing() {
      return Array.prototype.filter.call(doc.querySelectorAll('g.f'), function (g) {
        var t = g.querySelector('text'), r = g.querySelector('rect.r');
        if (!t || !t.textContent) return false;
        var box = t.getBBox(), left = +r.getAttribute('x'), right = left + +r.getAttribute('width');
        return box.x < left - 0.5 || box.x + box.width > right + 0.5;
      }).map(function (g) {
        var t = g.querySelector('text'), r = g.querySelector('rect.r'), box = t.getBBox();
        return t.textContent + ' [' + box.x.toFixed(1) + '+' + box.width.toFixed(1) + ' in ' + r.getAttribute('x') + '+' + r.getAttribute('width') + ']';
      });
    }
    res.labels = doc.querySelectorAll('g.f text').length;
    res.overflowing = overflowing();
    Array.prototype.forEach.call(doc.querySelectorAll('g.f text'), function (t) { t.removeAttribute('textLength'); });
    res.overflowing_unfitted = overflowing();
    res.errors = errors;
    out.textContent = JSON.stringify(res);
  } catch (e) {
    out.textContent = JSON.stringify({ exception: String(e), errors: errors });
  }
});
</script></body></html>
"#;

#[test]
fn heap_flame_graph_zooms_and_searches_in_chromium() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("graph.svg");
    stdout_of(&run(&[GO_BEFORE, GO_AFTER, "--svg", svg.to_str().unwrap()]));
    let harness = dir.path().join("harness.html");
    std::fs::write(&harness, HARNESS).unwrap();

    let out = headless(&chromium)
        .args([
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", harness.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom
        .find("<pre id=\"out\">")
        .expect("the harness page came back")
        + 14;
    let end = start + dom[start..].find("</pre>").unwrap();
    let text = dom[start..end]
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"");
    let res: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("harness output {text:?}: {e}"));
    assert_eq!(
        res["api"], "object",
        "the graph's script ran to the end: {res}"
    );
    assert_eq!(res["errors"], serde_json::json!([]), "no script errors");
    let width = |k: &str| res[k][1].as_str().unwrap().parse::<f64>().unwrap();
    assert!(width("before") < 450.0, "{res}");
    assert_eq!(
        res["zoomed"],
        serde_json::json!(["10.00", "860.00"]),
        "the clicked frame spans the width"
    );
    assert!(
        res["hidden"].as_u64().unwrap() > 10,
        "frames outside the zoom are hidden: {res}"
    );
    assert_eq!(res["reset"], "1", "reset is offered");
    assert!(res["hits"].as_u64().unwrap() >= 2);
    for label in res["hit_labels"].as_array().unwrap() {
        assert!(label.as_str().unwrap().contains("Header.Clone"), "{label}");
    }
    assert!(
        res["matched"].as_str().unwrap().starts_with("Matched: "),
        "{res}"
    );
    assert_eq!(res["unzoomed"], res["before"], "reset restores the layout");
    assert_eq!(res["hidden_after_reset"], 0);
    assert!(res["labels"].as_u64().unwrap() > 10, "{res}");
    assert_eq!(
        res["overflowing"],
        serde_json::json!([]),
        "labels overflow their frames: {res}"
    );
    assert!(
        !res["overflowing_unfitted"].as_array().unwrap().is_empty(),
        "the font override did not widen the labels, so the check above proves nothing: {res}"
    );

    // The static image, as a bug report shows it: kept as an artifact.
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("heap-flame-go.png");
    let shot = headless(&chromium)
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=880,700")
        .arg(format!("file://{}", svg.display()))
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "a real screenshot"
    );
    eprintln!("screenshot: {}", png.display());
}

/// The policy GitHub serves uploaded images with: no style sheets, no
/// scripts, nothing loaded.
const GITHUB_CSP: &str = "default-src 'none'; sandbox";

/// Serves `svg` on a loopback port: `/plain.svg` as a local file server
/// would, `/csp.svg` with GitHub's Content-Security-Policy. Returns the
/// base URL; the server lives as long as the test process.
fn serve(svg: Vec<u8>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // The rest of the request head.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let policy = if request.starts_with("GET /csp.svg ") {
                format!("Content-Security-Policy: {GITHUB_CSP}\r\n")
            } else if request.starts_with("GET /plain.svg ") {
                String::new()
            } else {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/svg+xml\r\n{policy}Content-Length: {}\r\nConnection: close\r\n\r\n",
                svg.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&svg);
        }
    });
    base
}

/// A screenshot's pixels: width, height and RGB bytes.
fn pixels(png: &Path) -> (usize, usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let rgb = match info.color_type {
        png::ColorType::Rgb => buf,
        png::ColorType::Rgba => buf.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        other => panic!("{}: {other:?}", png.display()),
    };
    (info.width as usize, info.height as usize, rgb)
}

#[test]
fn heap_flame_graph_looks_the_same_under_githubs_content_security_policy() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("graph.svg");
    stdout_of(&run(&[GO_BEFORE, GO_AFTER, "--svg", svg.to_str().unwrap()]));
    let bytes = std::fs::read(&svg).unwrap();
    let base = serve(bytes);
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let shot = |name: &str| {
        let png = artifacts.join(format!("heap-flame-go-{name}.png"));
        let out = headless(&chromium)
            .arg(format!("--screenshot={}", png.display()))
            .arg("--window-size=880,478")
            .arg("--virtual-time-budget=2000")
            .arg(format!("{base}/{name}.svg"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("screenshot: {}", png.display());
        pixels(&png)
    };
    let plain = shot("plain");
    let csp = shot("csp");
    assert_eq!((plain.0, plain.1), (csp.0, csp.1));
    let (width, height) = (plain.0, plain.1);

    // The one thing allowed to differ: the zoom and search controls, which
    // the script shows (top right, beside the title). Everything else (fonts,
    // sizes, weights, colours, labels) is presentation attributes, so not a
    // pixel may differ there.
    let controls = |x: usize, y: usize| x + 110 >= width && (10..48).contains(&y);
    let (mut inside, mut outside) = (0, 0);
    for y in 0..height {
        for x in 0..width {
            let i = (y * width + x) * 3;
            if plain.2[i..i + 3] != csp.2[i..i + 3] {
                if controls(x, y) {
                    inside += 1;
                } else {
                    outside += 1;
                }
            }
        }
    }
    assert_eq!(outside, 0, "{outside} pixels differ outside the controls");
    assert!(
        inside > 20,
        "the controls look the same with and without scripts ({inside} pixels differ): the \
         policy was not in force, so this test compared nothing"
    );
    // And the picture is the graph: the title's dark ink and the red root.
    let at = |x: usize, y: usize| {
        let i = (y * width + x) * 3;
        [csp.2[i], csp.2[i + 1], csp.2[i + 2]]
    };
    assert!((0..300).any(|x| at(x, 17)[0] < 80), "no title drawn");
    let root = at(500, 110);
    assert!(root[0] > 150 && root[2] < 100, "the root is red: {root:?}");
}
