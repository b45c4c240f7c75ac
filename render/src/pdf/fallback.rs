//! A second font for the characters the embedded one lacks: CJK Extension B and beyond, which
//! some people's names hold (𠮷, 𡈼). Fonts that cover them weigh tens of megabytes (HanaMinB,
//! Debian's fonts-hanazono, is 30 MB), too much to build into the binary, so the operator
//! names one and it is read once at start-up. Each PDF embeds only the subset it uses.

use std::fmt;
use std::sync::Arc;

use krilla::text::Font;
use skrifa::MetadataProvider as _;

use crate::RenderError;

/// A font file's first face, ready for the PDF writer.
#[derive(Clone)]
pub struct FallbackFont {
    bytes: Arc<Vec<u8>>,
    font: Font,
    glyphs: usize,
}

impl FallbackFont {
    /// Reads a TrueType or OpenType font (a collection's first face). Fails when the bytes are
    /// not a font the PDF writer can embed.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<FallbackFont, RenderError> {
        let glyphs = skrifa::FontRef::from_index(&bytes, 0)
            .map_err(|_| RenderError::Font)?
            .charmap()
            .mappings()
            .count();
        if glyphs == 0 {
            return Err(RenderError::Font);
        }
        let bytes = Arc::new(bytes);
        let font = Font::new(bytes.clone().into(), 0).ok_or(RenderError::Font)?;
        Ok(FallbackFont {
            bytes,
            font,
            glyphs,
        })
    }

    /// Whether the font draws `c`.
    pub fn has(&self, c: char) -> bool {
        skrifa::FontRef::from_index(&self.bytes, 0)
            .is_ok_and(|font| font.charmap().map(c).is_some())
    }

    pub(crate) fn font(&self) -> &Font {
        &self.font
    }
}

impl fmt::Debug for FallbackFont {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackFont")
            .field("bytes", &self.bytes.len())
            .field("characters", &self.glyphs)
            .finish()
    }
}
