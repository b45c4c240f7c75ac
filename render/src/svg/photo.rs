//! The holder's photo: embedded as a `data:` URI when it really is a JPEG or PNG, otherwise
//! drawn as the 无相片 placeholder, so nothing a caller stored can smuggle markup in.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{Anchor, LINE, MUTED, N, Rect, Style, text};

pub(crate) const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
pub(crate) const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

/// The holder's photo. Only `image/jpeg` and `image/png` are embedded, and
/// only when the bytes start with that format's signature; anything else is
/// drawn as the 无相片 placeholder.
#[derive(Clone, Copy)]
pub struct Photo<'a> {
    pub mime: &'a str,
    pub bytes: &'a [u8],
}

/// A photo that owns its bytes (read from the vault), to lend as a [`Photo`].
pub struct OwnedPhoto {
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Draws the photo into `frame`, or the 无相片 placeholder when there is no
/// photo or it is not a JPEG/PNG.
pub(crate) fn draw_photo(out: &mut String, photo: Option<&Photo<'_>>, frame: Rect, clip_id: &str) {
    let Rect { x, y, w, h } = frame;
    match photo.and_then(photo_data_uri) {
        Some(uri) => {
            let _ = write!(
                out,
                r##"<clipPath id="{clip_id}"><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6"/></clipPath><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="#f4f6f9"/><image x="{x}" y="{y}" width="{w}" height="{h}" preserveAspectRatio="xMidYMid slice" clip-path="url(#{clip_id})" href="{uri}"/><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="none" stroke="{LINE}"/>"##,
                x = N(x),
                y = N(y),
                w = N(w),
                h = N(h),
            );
        }
        None => {
            let _ = write!(
                out,
                r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="#eef1f5" stroke="#c3ccd8" stroke-dasharray="4 3"/><circle cx="{cx}" cy="{hy}" r="{r}" fill="#cfd6e0"/><path d="M{l} {b} C{l} {s} {rr} {s} {rr} {b} Z" fill="#cfd6e0"/>"##,
                x = N(x),
                y = N(y),
                w = N(w),
                h = N(h),
                cx = N(x + w / 2.0),
                hy = N(y + h * 0.34),
                r = N(w * 0.17),
                l = N(x + w * 0.2),
                rr = N(x + w * 0.8),
                b = N(y + h * 0.74),
                s = N(y + h * 0.46),
            );
            text(
                out,
                x + w / 2.0,
                y + h - 12.0,
                Style::new(13.0, MUTED).anchor(Anchor::Middle),
                "无相片",
            );
        }
    }
}

/// `data:` URI for a JPEG or PNG photo whose bytes carry that format's
/// signature; `None` for anything else.
fn photo_data_uri(photo: &Photo<'_>) -> Option<String> {
    let mime = photo.mime.trim().to_ascii_lowercase();
    let matches = match mime.as_str() {
        "image/jpeg" => photo.bytes.starts_with(JPEG_MAGIC),
        "image/png" => photo.bytes.starts_with(PNG_MAGIC),
        _ => false,
    };
    matches.then(|| format!("data:{mime};base64,{}", BASE64.encode(photo.bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::card_svg;
    use crate::copy::annotated_copy_svg;
    use crate::test_support::{JPEG, PNG, parse, sample_card, sample_copy};

    /// The card drawn with `photo` in place of the sample's.
    fn card_with_photo(photo: Option<Photo<'_>>) -> String {
        let mut card = sample_card();
        card.photo = photo;
        card_svg(&card, "x", None).unwrap()
    }

    #[test]
    fn a_jpeg_photo_appears_as_a_jpeg_data_uri() {
        let svg = card_svg(&sample_card(), "x", None).unwrap();
        let expected = format!("href=\"data:image/jpeg;base64,{}\"", BASE64.encode(JPEG));
        assert!(svg.contains(&expected));
        assert!(!parse(&svg).text.contains("无相片"));
    }

    #[test]
    fn a_png_photo_appears_as_a_png_data_uri() {
        let svg = card_with_photo(Some(Photo {
            mime: "IMAGE/PNG",
            bytes: PNG,
        }));
        assert!(svg.contains("href=\"data:image/png;base64,"));
    }

    #[test]
    fn a_missing_photo_draws_the_placeholder() {
        let svg = card_with_photo(None);
        assert!(parse(&svg).text.contains("无相片"));
        assert!(!svg.contains("<image"));
    }

    #[test]
    fn an_unsupported_photo_type_draws_the_placeholder() {
        for (mime, bytes) in [
            ("image/svg+xml", b"<svg onload='x'/>".as_slice()),
            ("image/gif", b"GIF89a".as_slice()),
            ("text/html", JPEG),
            ("image/jpeg\" onload=\"x", JPEG),
        ] {
            let svg = card_with_photo(Some(Photo { mime, bytes }));
            assert!(parse(&svg).text.contains("无相片"), "{mime}");
            assert!(!svg.contains("data:"), "{mime}");
        }
    }

    #[test]
    fn a_photo_whose_bytes_do_not_match_its_type_draws_the_placeholder() {
        let svg = card_with_photo(Some(Photo {
            mime: "image/png",
            bytes: JPEG,
        }));
        assert!(parse(&svg).text.contains("无相片"));
        assert!(!svg.contains("data:"));
    }

    #[test]
    fn the_annotated_copy_embeds_its_photo() {
        let svg = annotated_copy_svg(&sample_copy());
        assert!(svg.contains("href=\"data:image/png;base64,"));
    }
}
