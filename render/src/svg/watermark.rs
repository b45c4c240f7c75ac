//! The annotation laid across the whole annotated copy: rotated rows of semi-transparent red
//! text, on top of everything so it cannot be cropped out without damaging the content.

use std::fmt::Write as _;

use super::{N, RED, escape};
use crate::text::{clean, text_em};

/// Size of the annotation's letters, in the copy's units.
pub(crate) const WATERMARK_SIZE: f32 = 18.0;

/// Where the annotation is repeated over a `width` × `height` copy, before the -30° turn
/// about `center`: rows 72 units apart, every other row shifted by half a step, at most 400
/// repeats in all. The SVG and the PDF copy draw it at the same places.
pub(crate) struct WatermarkGrid {
    /// The annotation, cleaned of control characters.
    pub(crate) text: String,
    pub(crate) center: (f32, f32),
    /// The baseline origin of each repeat.
    pub(crate) origins: Vec<(f32, f32)>,
}

/// The grid of [`WatermarkGrid`]; `None` when the annotation is blank.
pub(crate) fn watermark_grid(watermark: &str, width: f32, height: f32) -> Option<WatermarkGrid> {
    let text = clean(watermark);
    if text.is_empty() {
        return None;
    }
    const ROW_GAP: f32 = 72.0;
    const MAX_ITEMS: i32 = 400;
    let step = text_em(&text) * WATERMARK_SIZE + 64.0;
    let diagonal = (width * width + height * height).sqrt();
    let (cx, cy) = (width / 2.0, height / 2.0);
    let half_rows = (diagonal / ROW_GAP / 2.0).ceil() as i32 + 1;
    let cols = ((diagonal / step).ceil() as i32 + 2).clamp(1, MAX_ITEMS / (2 * half_rows + 1));
    let mut origins = Vec::new();
    for r in -half_rows..=half_rows {
        let y = cy + r as f32 * ROW_GAP;
        let offset = if r % 2 == 0 { 0.0 } else { step / 2.0 };
        for c in 0..cols {
            origins.push((cx - diagonal / 2.0 - step + offset + c as f32 * step, y));
        }
    }
    Some(WatermarkGrid {
        text,
        center: (cx, cy),
        origins,
    })
}

/// The annotation repeated in rotated rows over the whole `width` × `height`
/// copy, semi-transparent, clipped to the copy by the clip path `clip_id`.
pub(crate) fn draw_watermark(
    out: &mut String,
    watermark: &str,
    width: f32,
    height: f32,
    clip_id: &str,
) {
    let Some(grid) = watermark_grid(watermark, width, height) else {
        return;
    };
    let escaped = escape(&grid.text);
    let _ = write!(
        out,
        r#"<g clip-path="url(#{clip_id})" pointer-events="none"><g transform="rotate(-30 {cx} {cy})" fill="{RED}" fill-opacity="0.15" font-size="{size}" font-weight="bold">"#,
        cx = N(grid.center.0),
        cy = N(grid.center.1),
        size = WATERMARK_SIZE,
    );
    for (x, y) in grid.origins {
        let _ = write!(out, r#"<text x="{}" y="{}">{escaped}</text>"#, N(x), N(y));
    }
    out.push_str("</g></g>");
}

#[cfg(test)]
mod tests {
    use crate::copy::annotated_copy_svg;
    use crate::test_support::{count, parse, sample_copy};

    #[test]
    fn the_annotated_copy_repeats_the_watermark_several_times() {
        let copy = sample_copy();
        let svg = annotated_copy_svg(&copy);
        parse(&svg);
        let repeats = count(&svg, copy.watermark);
        assert!(repeats >= 8, "watermark drawn {repeats} times");
        assert!(svg.contains("rotate(-30"));
        assert!(svg.contains(r#"fill-opacity="0.15""#));
    }

    #[test]
    fn an_empty_watermark_draws_no_watermark_layer() {
        let mut copy = sample_copy();
        copy.watermark = "  ";
        let svg = annotated_copy_svg(&copy);
        parse(&svg);
        assert!(!svg.contains("rotate(-30"));
    }
}
