//! The 粤居码 as a QR code (error correction M): encoding (`encode`), the dark modules as
//! SVG path data, the bare code as an SVG document ([`qr_svg`]) or a greyscale PNG
//! ([`qr_png`]), and the code drawn inside another document (`draw`).

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};

use crate::RenderError;
use crate::svg::N;

/// Quiet zone of the bare code, in modules (the QR standard asks for four).
const QUIET: usize = 4;

/// Encodes `payload` at error correction level M.
pub(crate) fn encode(payload: &str) -> Result<QrCode, RenderError> {
    // With automatic version selection and byte-mode fallback the only error
    // an arbitrary string can produce is "data too long".
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|_| RenderError::QrTooLong)
}

/// Draws a QR code for `payload` (error correction M) as a standalone SVG
/// document with a four-module quiet zone, eight units per module.
pub fn qr_svg(payload: &str) -> Result<String, RenderError> {
    let code = encode(payload)?;
    const SCALE: usize = 8;
    let modules = code.width() + 2 * QUIET;
    let px = modules * SCALE;
    let path = path_data(&code);
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{px}" height="{px}" viewBox="0 0 {modules} {modules}" shape-rendering="crispEdges" role="img" aria-label="粤居码"><title>粤居码</title><rect width="{modules}" height="{modules}" fill="#ffffff"/><path transform="translate({QUIET} {QUIET})" fill="#000000" d="{path}"/></svg>"##
    ))
}

/// Draws a QR code for `payload` (error correction M) as a greyscale PNG with a four-module
/// quiet zone, `scale` pixels per module.
pub fn qr_png(payload: &str, scale: usize) -> Result<Vec<u8>, RenderError> {
    let code = encode(payload)?;
    let scale = scale.clamp(1, 32);
    let width = code.width();
    let side = (width + 2 * QUIET) * scale;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = (i % width + QUIET, i / width + QUIET);
            for y in my * scale..(my + 1) * scale {
                pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let side_u32 = u32::try_from(side).map_err(|_| RenderError::Png)?;
    let mut encoder = png::Encoder::new(&mut out, side_u32, side_u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&pixels));
    written.map_err(|_| RenderError::Png)?;
    Ok(out)
}

/// Draws `code` at (`x`, `y`) with `unit` user units per module and `quiet`
/// modules of white margin around it.
pub(crate) fn draw(out: &mut String, code: &QrCode, x: f32, y: f32, unit: f32, quiet: usize) {
    let modules = (code.width() + 2 * quiet) as f32;
    let _ = write!(
        out,
        r##"<g transform="translate({x} {y}) scale({s})" shape-rendering="crispEdges"><rect width="{m}" height="{m}" fill="#ffffff"/><path transform="translate({quiet} {quiet})" fill="#000000" d="{d}"/></g>"##,
        x = N(x),
        y = N(y),
        s = unit,
        m = N(modules),
        d = path_data(code),
    );
}

/// Path data for the dark modules, in module units, one subpath per
/// horizontal run of dark modules.
fn path_data(code: &QrCode) -> String {
    let width = code.width();
    let colors = code.to_colors();
    let mut d = String::new();
    for (y, row) in colors.chunks(width.max(1)).enumerate() {
        let mut x = 0;
        while x < row.len() {
            if row[x] == Color::Dark {
                let start = x;
                while x < row.len() && row[x] == Color::Dark {
                    x += 1;
                }
                let run = x - start;
                let _ = write!(d, "M{start} {y}h{run}v1h-{run}z");
            } else {
                x += 1;
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::card_svg;
    use crate::test_support::{count, parse, sample_card};

    #[test]
    fn the_qr_code_has_dark_modules_and_every_one_is_drawn() {
        let payload = "YJ1.eyJzdWIiOiJQLTAwMDEyMyJ9.c2lnbmF0dXJl";
        let svg = qr_svg(payload).unwrap();
        parse(&svg);
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).unwrap();
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        assert!(dark > 0);
        // Sum the widths of the drawn runs: `M{x} {y}h{run}v1h-{run}z`.
        let drawn: usize = svg
            .split('M')
            .skip(1)
            .filter_map(|seg| {
                seg.split('h')
                    .nth(1)?
                    .split('v')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .sum();
        assert_eq!(drawn, dark);
        assert!(count(&svg, "z") > 10);
    }

    #[test]
    fn the_card_draws_its_qr_code() {
        let svg = card_svg(&sample_card(), "YJ1.payload", None).unwrap();
        assert!(svg.contains(r#"shape-rendering="crispEdges""#));
        assert!(count(&svg, "v1h-") > 10);
    }

    #[test]
    fn the_standalone_qr_is_square_with_a_quiet_zone() {
        let svg = qr_svg("hello").unwrap();
        let code = QrCode::with_error_correction_level(b"hello", EcLevel::M).unwrap();
        let modules = code.width() + 8;
        assert!(svg.contains(&format!(r#"viewBox="0 0 {modules} {modules}""#)));
        assert!(svg.contains(r#"translate(4 4)"#));
    }

    #[test]
    fn an_oversized_payload_is_qr_too_long_not_a_panic() {
        let payload = "粤".repeat(5000);
        assert_eq!(qr_svg(&payload), Err(RenderError::QrTooLong));
        assert_eq!(
            card_svg(&sample_card(), &payload, None).err(),
            Some(RenderError::QrTooLong)
        );
        let ascii = "A".repeat(5000);
        assert_eq!(qr_svg(&ascii), Err(RenderError::QrTooLong));
        assert_eq!(qr_png(&ascii, 8), Err(RenderError::QrTooLong));
    }

    #[test]
    fn the_png_is_a_png_with_a_quiet_zone_at_the_given_scale() {
        let png = qr_png("hello", 2).unwrap();
        assert!(png.starts_with(&[0x89, b'P', b'N', b'G']));
        let code = QrCode::with_error_correction_level(b"hello", EcLevel::M).unwrap();
        let side = ((code.width() + 8) * 2) as u32;
        // IHDR: width and height are the first two big-endian words after "IHDR".
        assert_eq!(png[16..20], side.to_be_bytes());
        assert_eq!(png[20..24], side.to_be_bytes());
    }
}
