//! Materials are accepted only when they decode as what their first bytes claim. Images are
//! decoded and re-encoded, so what is stored is pixels and nothing else: no bytes appended
//! after the image (polyglots), no metadata (EXIF carries GPS positions). PDFs are parsed and
//! kept as uploaded, since rewriting them could change what the reviewer reads.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::error::ImageError;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::error::Refusal;

/// Images above this many pixels are refused before their pixels are decoded: a few KiB of
/// compressed PNG can claim gigabytes of pixels.
pub const MAX_PIXELS: u64 = 40_000_000;
/// Bounds one decode's buffer (40 MP as RGBA at 8 bits is 160 MB); deeper images above it
/// are refused as too large rather than risking the process.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
/// Only the structure of a PDF is read; no legitimate scan needs more per stream.
const MAX_PDF_STREAM_BYTES: usize = 64 * 1024 * 1024;
/// Fixed so every stored JPEG is re-encoded the same way.
const JPEG_QUALITY: u8 = 90;

/// The kinds of document a material may be, with the one content type each is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentType {
    Jpeg,
    Png,
    Pdf,
}

impl DocumentType {
    /// What the content claims to be, from its first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Pdf => "pdf",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::Pdf]
            .into_iter()
            .find(|t| t.mime() == mime)
    }
}

/// A material that decoded as what it claims, in the form to store.
#[derive(Debug)]
pub struct Checked {
    pub kind: DocumentType,
    pub bytes: Vec<u8>,
}

/// Decodes an upload and answers what to store, or why it is refused. CPU-bound: call it off
/// the async threads. A decoder panic on hostile input is a refusal, not a crash.
pub fn check(bytes: Vec<u8>) -> Result<Checked, Refusal> {
    let kind = DocumentType::sniff(&bytes).ok_or(Refusal::FileTypeNotAllowed)?;
    let stored = catch_unwind(AssertUnwindSafe(|| match kind {
        DocumentType::Jpeg => reencode(&bytes, ImageFormat::Jpeg),
        DocumentType::Png => reencode(&bytes, ImageFormat::Png),
        DocumentType::Pdf => check_pdf(&bytes).map(|()| bytes.clone()),
    }))
    .unwrap_or_else(|_| {
        tracing::warn!(kind = kind.mime(), "decoder panicked on an upload");
        Err(Refusal::FileUnreadable)
    })?;
    Ok(Checked {
        kind,
        bytes: stored,
    })
}

fn reencode(bytes: &[u8], format: ImageFormat) -> Result<Vec<u8>, Refusal> {
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    // The decoder reads only the header here, so the budget is checked before any pixel.
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::ImageTooLarge);
    }
    // Metadata is dropped below, so the orientation it carries is applied to the pixels.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    image.apply_orientation(orientation);
    let mut out = Vec::new();
    let written = match format {
        ImageFormat::Png => image.write_with_encoder(PngEncoder::new(&mut out)),
        _ => {
            // JPEG has no alpha and stores 8 bits per channel.
            let image = if image.color().has_color() {
                DynamicImage::ImageRgb8(image.to_rgb8())
            } else {
                DynamicImage::ImageLuma8(image.to_luma8())
            };
            image.write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))
        }
    };
    written.map_err(|e| {
        tracing::warn!(error = %e, "re-encoding a decoded material failed");
        Refusal::FileUnreadable
    })?;
    Ok(out)
}

fn refusal(e: ImageError) -> Refusal {
    match e {
        ImageError::Limits(_) => Refusal::ImageTooLarge,
        _ => Refusal::FileUnreadable,
    }
}

fn check_pdf(bytes: &[u8]) -> Result<(), Refusal> {
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(MAX_PDF_STREAM_BYTES),
        ..Default::default()
    };
    let doc = lopdf::Document::load_mem_with_options(bytes, options)
        .map_err(|_| Refusal::FileUnreadable)?;
    if doc.get_pages().is_empty() {
        return Err(Refusal::FileUnreadable);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        DynamicImage::new_rgb8(width, height)
            .write_with_encoder(PngEncoder::new(&mut out))
            .unwrap();
        out
    }

    #[test]
    fn a_png_is_stored_as_a_png_of_the_same_size() {
        let checked = check(png(3, 2)).unwrap();
        assert_eq!(checked.kind, DocumentType::Png);
        let back = image::load_from_memory(&checked.bytes).unwrap();
        assert_eq!((back.width(), back.height()), (3, 2));
    }

    #[test]
    fn bytes_after_a_png_are_not_kept() {
        let mut bytes = png(2, 2);
        bytes.extend_from_slice(b"<html><script>alert(1)</script></html>");
        let checked = check(bytes).unwrap();
        assert!(!checked.bytes.windows(6).any(|w| w == b"<html>"));
    }

    #[test]
    fn a_signature_followed_by_html_is_unreadable() {
        let bytes = b"\x89PNG\r\n\x1a\n<html></html>".to_vec();
        assert_eq!(check(bytes).unwrap_err(), Refusal::FileUnreadable);
        let bytes = b"%PDF-1.7\n<html></html>".to_vec();
        assert_eq!(check(bytes).unwrap_err(), Refusal::FileUnreadable);
    }

    #[test]
    fn a_pdf_without_pages_is_unreadable() {
        let bytes =
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
        assert_eq!(check(bytes.to_vec()).unwrap_err(), Refusal::FileUnreadable);
    }

    #[test]
    fn an_unknown_signature_is_a_type_not_allowed() {
        assert_eq!(
            check(b"GIF89a".to_vec()).unwrap_err(),
            Refusal::FileTypeNotAllowed
        );
    }

    #[test]
    fn stored_content_types_map_back_to_their_kind() {
        for t in [DocumentType::Jpeg, DocumentType::Png, DocumentType::Pdf] {
            assert_eq!(DocumentType::from_mime(t.mime()), Some(t));
        }
        assert_eq!(DocumentType::from_mime("text/html"), None);
    }
}
