//! The flame graph as a PNG, for the places that show only raster images
//! (Jira thumbnails, Slack image blocks, chat and mail clients).
//!
//! The SVG heapdiff writes is drawn in-process by resvg, with DejaVu Sans
//! Mono compiled into the binary (`fonts/`) and no system fonts: the image
//! is the same on every machine, and byte for byte the same for the same
//! SVG. The script and the hover styles of the SVG play no part; every
//! visible property is a presentation attribute, so the PNG is the picture
//! a browser shows.

use std::sync::{Arc, OnceLock};

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg;

/// The regular and bold faces of the one font every label is drawn in.
const FONTS: [&[u8]; 2] = [
    include_bytes!("../fonts/DejaVuSansMono.ttf"),
    include_bytes!("../fonts/DejaVuSansMono-Bold.ttf"),
];

/// The family the SVG names first, and the one drawn for every other name.
const FAMILY: &str = "DejaVu Sans Mono";

/// The most pixels a PNG may have (400 MB of colour while it is drawn).
pub const MAX_PNG_PIXELS: u64 = 100_000_000;

/// Why a PNG could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PngError {
    /// The scale is not a whole number from 1 to 4.
    #[error("a PNG's pixel density is 1, 2, 3 or 4 pixels per SVG pixel, not {0}")]
    Scale(u32),
    /// The image would have more than [`MAX_PNG_PIXELS`] pixels.
    #[error(
        "the graph would be {width} × {height} pixels, more than the {} million a PNG may have; \
         lower --svg-width or --png-scale, or raise --min-width",
        MAX_PNG_PIXELS / 1_000_000
    )]
    TooLarge {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
    },
    /// The SVG could not be read (never for one heapdiff drew).
    #[error("the SVG could not be drawn: {0}")]
    Svg(#[from] usvg::Error),
    /// The PNG could not be encoded.
    #[error("the PNG could not be encoded: {0}")]
    Encode(String),
}

/// The fonts, loaded once.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONT_DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONT_DB
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            for face in FONTS {
                db.load_font_data(face.to_vec());
            }
            // Every family the SVG may name, generic or not, is drawn in it.
            db.set_monospace_family(FAMILY);
            db.set_sans_serif_family(FAMILY);
            db.set_serif_family(FAMILY);
            Arc::new(db)
        })
        .clone()
}

/// Draws `svg` (a flame graph heapdiff rendered) as a PNG with `scale`
/// pixels per SVG pixel (2 for sharp screens).
pub fn render_png(svg: &[u8], scale: u32) -> Result<Vec<u8>, PngError> {
    if !(1..=4).contains(&scale) {
        return Err(PngError::Scale(scale));
    }
    let options = usvg::Options {
        font_family: FAMILY.to_owned(),
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_data(svg, &options)?;
    let size = tree.size().to_int_size();
    let (width, height) = (
        u64::from(size.width()) * u64::from(scale),
        u64::from(size.height()) * u64::from(scale),
    );
    if width * height > MAX_PNG_PIXELS {
        return Err(PngError::TooLarge { width, height });
    }
    let mut pixmap =
        Pixmap::new(width as u32, height as u32).ok_or(PngError::TooLarge { width, height })?;
    let s = scale as f32;
    resvg::render(&tree, Transform::from_scale(s, s), &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| PngError::Encode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20"><rect width="100%" height="100%" fill="#fcfcfa"/><rect x="20" width="20" height="20" fill="#ce2029"/><text x="2" y="14" font-family="Arial" font-size="11">ab</text></svg>"##;

    fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
        let pixmap = Pixmap::decode_png(png).unwrap();
        (pixmap.width(), pixmap.height(), pixmap.data().to_vec())
    }

    fn pixel(image: &(u32, u32, Vec<u8>), x: u32, y: u32) -> [u8; 3] {
        let i = ((y * image.0 + x) * 4) as usize;
        [image.2[i], image.2[i + 1], image.2[i + 2]]
    }

    #[test]
    fn the_picture_is_drawn_at_one_or_two_pixels_a_point() {
        let one = decode(&render_png(SQUARE.as_bytes(), 1).unwrap());
        assert_eq!((one.0, one.1), (40, 20));
        assert_eq!(pixel(&one, 30, 10), [0xce, 0x20, 0x29]);
        assert_eq!(pixel(&one, 19, 1), [0xfc, 0xfc, 0xfa]);
        let two = decode(&render_png(SQUARE.as_bytes(), 2).unwrap());
        assert_eq!((two.0, two.1), (80, 40));
        assert_eq!(pixel(&two, 60, 20), [0xce, 0x20, 0x29]);
    }

    #[test]
    fn text_is_drawn_with_the_shipped_font_whatever_family_is_named() {
        let image = decode(&render_png(SQUARE.as_bytes(), 1).unwrap());
        let ink = (0..20)
            .flat_map(|y| (0..18).map(move |x| (x, y)))
            .filter(|&(x, y)| pixel(&image, x, y)[0] < 128)
            .count();
        assert!(ink > 10, "no text drawn: {ink} dark pixels");
    }

    #[test]
    fn the_same_svg_gives_the_same_bytes() {
        assert_eq!(
            render_png(SQUARE.as_bytes(), 2).unwrap(),
            render_png(SQUARE.as_bytes(), 2).unwrap()
        );
    }

    #[test]
    fn scales_and_sizes_out_of_bounds_are_refused() {
        assert!(matches!(
            render_png(SQUARE.as_bytes(), 0),
            Err(PngError::Scale(0))
        ));
        assert!(matches!(
            render_png(SQUARE.as_bytes(), 5),
            Err(PngError::Scale(5))
        ));
        let huge = SQUARE.replace(
            r#"width="40" height="20""#,
            r#"width="20000" height="20000""#,
        );
        assert!(matches!(
            render_png(huge.as_bytes(), 1),
            Err(PngError::TooLarge { .. })
        ));
    }
}
