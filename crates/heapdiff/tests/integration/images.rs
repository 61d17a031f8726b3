//! The flame graph as a PNG: `--png PATH`, `--svg PATH.png`, `--png-scale`.

use std::path::Path;

use crate::common::*;

/// A PNG's width, height and RGBA pixels.
fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn pixel(image: &(u32, u32, Vec<u8>), x: u32, y: u32) -> String {
    let i = ((y * image.0 + x) * 4) as usize;
    format!(
        "#{:02x}{:02x}{:02x}",
        image.2[i],
        image.2[i + 1],
        image.2[i + 2]
    )
}

/// The fill of the first frame whose label starts with `label` in `svg`.
fn fill_of(svg: &str, label: &str) -> String {
    let frame = svg
        .split("<g class=\"f\" ")
        .find(|g| g.contains(&format!("data-l=\"{label}")))
        .unwrap();
    let at = frame.find("<rect class=\"r\"").unwrap();
    let fill = &frame[at..][frame[at..].find("fill=\"").unwrap() + 6..];
    fill[..7].to_owned()
}

fn graphs(dir: &Path, extra: &[&str]) -> (String, Vec<u8>) {
    let (svg, png) = (dir.join("g.svg"), dir.join("g.png"));
    let mut args = vec![
        GO_BEFORE,
        GO_AFTER,
        "--svg",
        svg.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    stdout_of(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "flame graph written to {} and {}",
            svg.display(),
            png.display()
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        std::fs::read_to_string(svg).unwrap(),
        std::fs::read(png).unwrap(),
    )
}

#[test]
fn png_of_the_go_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (svg, png) = graphs(dir.path(), &[]);
    check_golden("go.png", &png);
    let image = decode(&png);
    assert_eq!((image.0, image.1), (880, 478), "the SVG's size");
    // The frames the SVG draws, in the SVG's colours: the root (its growth
    // part, left), a frame that grew and one that shrank.
    assert_eq!(pixel(&image, 500, 110), fill_of(&svg, "all"));
    assert_eq!(
        pixel(&image, 300, 128),
        fill_of(&svg, "net/http.(*conn).serve")
    );
    assert_eq!(pixel(&image, 860, 128), fill_of(&svg, "runtime.main"));
    // Same input, same bytes.
    assert_eq!(graphs(dir.path(), &[]).1, png);
}

#[test]
fn png_at_twice_the_density() {
    let dir = tempfile::tempdir().unwrap();
    let (svg, png) = graphs(dir.path(), &["--png-scale", "2"]);
    let image = decode(&png);
    assert_eq!((image.0, image.1), (1760, 956));
    assert_eq!(pixel(&image, 1000, 220), fill_of(&svg, "all"));
    assert_eq!(pixel(&image, 1720, 256), fill_of(&svg, "runtime.main"));
}

#[test]
fn a_graph_named_png_is_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("leak.PNG");
    stdout_of(&run(&[GO_BEFORE, GO_AFTER, "--svg", png.to_str().unwrap()]));
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(decode(&bytes).0, 880);
}

#[test]
fn png_destinations_are_checked_like_the_svg() {
    let out = run(&[GO_BEFORE, GO_AFTER, "--png", GO_AFTER]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--png fixtures/go/after.pb.gz: is the input"),
        "{err}"
    );
    let out = run(&[GO_BEFORE, GO_AFTER, "--svg", "-", "--png", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("both name standard output"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // To standard output, the PNG takes the table's place.
    let out = run(&[GO_BEFORE, GO_AFTER, "--no-svg", "--png", "-"]);
    assert!(out.status.success());
    assert!(out.stdout.starts_with(b"\x89PNG\r\n\x1a\n"));
}
