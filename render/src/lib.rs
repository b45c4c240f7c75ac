//! Drawing for the electronic residence permit (广东省电子居住证): typed inputs in, SVG text
//! or PNG bytes out. This crate knows no database and no domain rules; callers hand it the
//! words to print (status badge, gender) already chosen.
//!
//! A tour, from what callers use down to the helpers:
//! - [`card`]: [`card_svg`] draws the permit card as the holder sees it on the phone.
//! - [`copy`]: [`annotated_copy_svg`] draws the annotated copy (加注件) with its watermark
//!   and signed footer.
//! - [`pdf`]: [`annotated_copy_pdf`] lays the same copy on A4 pages as a PDF, with the
//!   annotation across every page, a QR code to verify it online, the font embedded as a
//!   subset and the signed envelope attached.
//! - [`qr`]: the 粤居码 as a bare SVG ([`qr_svg`]) or PNG ([`qr_png`]), and the QR drawn
//!   inside the card.
//! - `rows`: labelled fields laid out in two columns beside or below a photo.
//! - `svg`: the document, escaping, colours and shapes; its submodules draw the photo
//!   ([`Photo`]) and the diagonal watermark.
//! - `text`: which characters may be printed, their width in em (from `unicode-width`),
//!   wrapping and the `…` cut.
//!
//! Every piece of caller text is XML-escaped (characters XML 1.0 cannot carry are dropped), so
//! the output is always well-formed and a value such as `<script>` renders as text.

use std::fmt;

pub mod card;
pub mod copy;
pub mod pdf;
pub mod qr;
mod rows;
mod svg;
mod text;

#[cfg(test)]
mod test_support;

pub use card::{CardFields, card_svg};
pub use copy::{AnnotatedCopy, annotated_copy_svg};
pub use pdf::{
    ENVELOPE_NAME, FallbackFont, PdfDate, PdfExtras, annotated_copy_pdf, unprintable_chars,
};
pub use qr::{qr_png, qr_svg};
pub use svg::photo::{OwnedPhoto, Photo};

/// Why an image could not be rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderError {
    /// The QR payload does not fit in the largest QR code at the chosen error
    /// correction level (M).
    QrTooLong,
    /// The PNG encoder failed.
    Png,
    /// The PDF writer failed.
    Pdf,
    /// A font file is not a TrueType or OpenType font with characters in it.
    Font,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QrTooLong => f.write_str("the QR code payload is too long to encode"),
            Self::Png => f.write_str("the PNG encoder failed"),
            Self::Pdf => f.write_str("the PDF writer failed"),
            Self::Font => f.write_str("not a TrueType or OpenType font with characters in it"),
        }
    }
}

impl std::error::Error for RenderError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_error_reads_as_english() {
        let err: Box<dyn std::error::Error> = Box::new(RenderError::QrTooLong);
        assert_eq!(err.to_string(), "the QR code payload is too long to encode");
    }
}
