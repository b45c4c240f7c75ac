//! The annotated copy (加注件) as an A4 PDF, for an agency to archive and print: the layout
//! of the SVG copy ([`layout`]), the annotation laid diagonally across every page, a QR code
//! that verifies the copy online, and the signed JSON envelope attached as
//! [`ENVELOPE_NAME`].
//!
//! The text is drawn with WenQuanYi Micro Hei, built into the binary (see `fonts/README.md`):
//! krilla embeds only the glyphs used (a subset) and writes a ToUnicode map, so the text can
//! be searched and copied. The watermark is text with a fill opacity (not a transparency
//! group), so it stays in the page's own content where text extraction finds it. A character
//! the built-in font lacks (a rare character in a name) is drawn with the operator's
//! [`FallbackFont`] when one is given; without one it prints as an empty box.

mod fallback;
mod layout;

pub use fallback::FallbackFont;

use krilla::Document;
use krilla::action::LinkAction;
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{Path, PathBuilder, Point, Size, Transform};
use krilla::image::Image;
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, LinearGradient, SpreadMethod, Stop, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use qrcode::{Color, QrCode};

use crate::svg::photo::{JPEG_MAGIC, PNG_MAGIC};
use crate::svg::watermark::{WATERMARK_SIZE, watermark_grid};
use crate::svg::{Anchor, BLUE, BLUE_DARK, GOLD, LINE, MUTED, RED, Rect, Style};
use crate::text::{clean, text_em};
use crate::{AnnotatedCopy, RenderError, qr};
use layout::{Block, HEADER_H, Item, PAGE_H, PAGE_H_PT, PAGE_W_PT, SCALE, W};

/// The name of the attached envelope.
pub const ENVELOPE_NAME: &str = "envelope.json";

/// WenQuanYi Micro Hei: face 0 proportional, face 1 monospace.
static FONT_DATA: &[u8] = include_bytes!("../../fonts/wqy-microhei.ttc");

/// The characters of `text` the embedded font has no glyph for, each once, in order of first
/// appearance: the PDF would print them as empty boxes, and its text could not be read back
/// (so a copy whose annotation holds one could never pass `verify-copy`). Characters the
/// renderer drops (whitespace, controls, direction overrides) are not counted.
pub fn unprintable_chars(text: &str) -> Vec<char> {
    use skrifa::MetadataProvider;
    let printed = crate::text::clean(text);
    let Ok(font) = skrifa::FontRef::from_index(FONT_DATA, 0) else {
        // The font is built in and read by a test: this cannot happen, and if it did nothing
        // could be printed.
        return dedup(printed.chars().filter(|c| *c != ' '));
    };
    let charmap = font.charmap();
    dedup(
        printed
            .chars()
            .filter(|c| *c != ' ' && charmap.map(*c).is_none()),
    )
}

fn dedup(chars: impl Iterator<Item = char>) -> Vec<char> {
    let mut seen = Vec::new();
    for c in chars {
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    seen
}

/// What the PDF adds to the copy.
pub struct PdfExtras<'a> {
    /// What the QR code carries: where to verify the copy online.
    pub qr_payload: &'a str,
    /// Printed beside the QR code: a title and a note on how to verify.
    pub qr_title: &'a str,
    pub qr_note: &'a str,
    /// The signed JSON envelope, attached byte for byte as [`ENVELOPE_NAME`].
    pub envelope: &'a [u8],
    /// When the copy was made, in China Standard Time: the document's and the attachment's
    /// date.
    pub made_at: PdfDate,
    /// Draws the characters the built-in font lacks.
    pub fallback_font: Option<&'a FallbackFont>,
}

/// A local date and time (UTC+8) for the PDF's metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PdfDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// Renders the annotated copy as a PDF on A4 pages. A photo that the PDF writer cannot
/// decode is drawn as the 无相片 placeholder instead.
pub fn annotated_copy_pdf(
    copy: &AnnotatedCopy<'_>,
    extras: &PdfExtras<'_>,
) -> Result<Vec<u8>, RenderError> {
    let code = qr::encode(extras.qr_payload)?;
    match write(copy, extras, &code, true) {
        Ok(pdf) => Ok(pdf),
        Err(_) if copy.photo.is_some() => write(copy, extras, &code, false),
        Err(e) => Err(e),
    }
}

struct Fonts<'a> {
    sans: Font,
    mono: Font,
    fallback: Option<&'a FallbackFont>,
}

fn write(
    copy: &AnnotatedCopy<'_>,
    extras: &PdfExtras<'_>,
    code: &QrCode,
    with_photo: bool,
) -> Result<Vec<u8>, RenderError> {
    let fonts = Fonts {
        sans: Font::new(FONT_DATA.into(), 0).ok_or(RenderError::Pdf)?,
        mono: Font::new(FONT_DATA.into(), 1).ok_or(RenderError::Pdf)?,
        fallback: extras.fallback_font,
    };
    let photo = if with_photo {
        copy.photo
            .as_ref()
            .and_then(|p| photo_image(p.mime, p.bytes))
    } else {
        None
    };
    let blocks = layout::blocks(copy, extras.qr_title, extras.qr_note);
    let pages = layout::paginate(&blocks);
    let date = pdf_date(extras.made_at);

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title("广东省电子居住证加注件".to_owned())
            .language("zh-CN".to_owned())
            .creator("yueju".to_owned())
            .creation_date(date),
    );
    let page_count = pages.len();
    for (index, page) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W_PT, PAGE_H_PT).ok_or(RenderError::Pdf)?;
        let mut pdf_page = document.start_page_with(settings);
        let mut surface = pdf_page.surface();
        surface.push_transform(&Transform::from_scale(SCALE, SCALE));
        surface.push_transform(&Transform::from_translate(0.0, -page.offset));
        for block in &page.blocks {
            draw_block(&mut surface, block, &fonts, photo.as_ref(), code);
        }
        surface.pop();
        let number = layout::page_number(index + 1, page_count);
        draw_item(&mut surface, &number, &fonts, None, code);
        // On top of everything, so that it cannot be cropped out without damaging the copy.
        draw_watermark(&mut surface, copy.watermark, &fonts.sans);
        surface.pop();
        surface.finish();
        // The QR code is a link too, for whoever reads the copy on a screen.
        for rect in qr_rects(page) {
            let link = LinkAction::new(extras.qr_payload.to_owned());
            let annotation = LinkAnnotation::new(rect, Target::Action(link.into()));
            pdf_page.add_annotation(Annotation::new_link(
                annotation,
                Some(extras.qr_title.to_owned()),
            ));
        }
        pdf_page.finish();
    }
    document
        .embed_file(EmbeddedFile {
            path: ENVELOPE_NAME.to_owned(),
            mime_type: MimeType::new("application/json"),
            description: Some("加注件签名数据（JSON），可用 yueju verify-copy 核验".to_owned()),
            association_kind: AssociationKind::Source,
            data: extras.envelope.to_vec().into(),
            modification_date: Some(date),
            compress: Some(true),
            location: None,
        })
        .ok_or(RenderError::Pdf)?;
    document.finish().map_err(|_| RenderError::Pdf)
}

fn pdf_date(d: PdfDate) -> DateTime {
    DateTime::new(d.year)
        .month(d.month)
        .day(d.day)
        .hour(d.hour)
        .minute(d.minute)
        .second(d.second)
        .utc_offset_hour(8)
        .utc_offset_minute(0)
}

/// The photo as an image the PDF can embed, when it really is a JPEG or PNG.
fn photo_image(mime: &str, bytes: &[u8]) -> Option<Image> {
    let data = bytes.to_vec().into();
    match mime {
        "image/png" if bytes.starts_with(PNG_MAGIC) => Image::from_png(data, true).ok(),
        "image/jpeg" if bytes.starts_with(JPEG_MAGIC) => Image::from_jpeg(data, true).ok(),
        _ => None,
    }
}

/// Where the QR codes of `page` land, in points from the page's top left.
fn qr_rects(page: &layout::Page<'_>) -> Vec<krilla::geom::Rect> {
    page.blocks
        .iter()
        .flat_map(|block| &block.items)
        .filter_map(|item| match item {
            Item::Qr { x, y, side } => krilla::geom::Rect::from_xywh(
                x * SCALE,
                (y - page.offset) * SCALE,
                side * SCALE,
                side * SCALE,
            ),
            _ => None,
        })
        .collect()
}

fn draw_block(
    surface: &mut Surface<'_>,
    block: &Block,
    fonts: &Fonts,
    photo: Option<&Image>,
    code: &QrCode,
) {
    for item in &block.items {
        draw_item(surface, item, fonts, photo, code);
    }
}

fn draw_item(
    surface: &mut Surface<'_>,
    item: &Item,
    fonts: &Fonts,
    photo: Option<&Image>,
    code: &QrCode,
) {
    match item {
        Item::Text { x, y, style, text } => draw_text(surface, *x, *y, *style, text, fonts),
        Item::Box {
            rect,
            radius,
            fill,
            stroke,
        } => {
            let Some(path) = rounded_rect(*rect, *radius) else {
                return;
            };
            surface.set_fill(fill.map(|c| solid(c, 1.0)));
            surface.set_stroke(stroke.map(|c| Stroke {
                paint: color(c).into(),
                width: 1.5,
                ..Stroke::default()
            }));
            surface.draw_path(&path);
            surface.set_stroke(None);
        }
        Item::DashedLine { x1, x2, y } => {
            let mut pb = PathBuilder::new();
            pb.move_to(*x1, *y);
            pb.line_to(*x2, *y);
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: color(LINE).into(),
                    width: 1.0,
                    dash: Some(StrokeDash {
                        array: vec![4.0, 4.0],
                        offset: 0.0,
                    }),
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
        Item::Header => draw_header_band(surface),
        Item::Photo(frame) => draw_photo(surface, *frame, photo, fonts),
        Item::Qr { x, y, side } => draw_qr(surface, code, *x, *y, *side),
    }
}

/// One line of text at its baseline. Bold is drawn as a thin stroke around the glyphs (the
/// font has one weight); letter spacing is left out.
fn draw_text(surface: &mut Surface<'_>, x: f32, y: f32, style: Style, text: &str, fonts: &Fonts) {
    let text = clean(text);
    if text.is_empty() {
        return;
    }
    let font = if style.mono { &fonts.mono } else { &fonts.sans };
    let x = match style.anchor {
        Anchor::Start => x,
        Anchor::Middle => x - text_em(&text) * style.size / 2.0,
    };
    surface.set_fill(Some(solid(style.fill, 1.0)));
    surface.set_stroke(style.bold.then(|| Stroke {
        paint: color(style.fill).into(),
        width: style.size * 0.03,
        ..Stroke::default()
    }));
    let mut x = x;
    for (run, fallback) in font_runs(&text, fonts.fallback) {
        let font = if fallback {
            fonts.fallback.map_or(font, FallbackFont::font)
        } else {
            font
        };
        surface.draw_text(
            Point::from_xy(x, y),
            font.clone(),
            style.size,
            run,
            false,
            TextDirection::Auto,
        );
        x += text_em(run) * style.size;
    }
    surface.set_stroke(None);
}

/// `text` cut into runs of one font each: `true` for a run the fallback font draws (characters
/// the built-in font lacks and the fallback has), `false` for the built-in font.
fn font_runs<'t>(text: &'t str, fallback: Option<&FallbackFont>) -> Vec<(&'t str, bool)> {
    use skrifa::MetadataProvider as _;
    let Some(fallback) = fallback else {
        return vec![(text, false)];
    };
    let Ok(builtin) = skrifa::FontRef::from_index(FONT_DATA, 0) else {
        return vec![(text, false)];
    };
    let charmap = builtin.charmap();
    let mut runs: Vec<(&str, bool)> = Vec::new();
    let mut start = 0;
    let mut current = None;
    for (i, c) in text.char_indices() {
        let other = charmap.map(c).is_none() && fallback.has(c);
        if current.is_some_and(|f| f != other) {
            runs.push((&text[start..i], current == Some(true)));
            start = i;
        }
        current = Some(other);
    }
    if let Some(f) = current {
        runs.push((&text[start..], f));
    }
    runs
}

fn draw_header_band(surface: &mut Surface<'_>) {
    let gradient = LinearGradient {
        x1: 0.0,
        y1: 0.0,
        x2: W,
        y2: HEADER_H,
        transform: Transform::default(),
        spread_method: SpreadMethod::Pad,
        stops: vec![
            Stop {
                offset: NormalizedF32::ZERO,
                color: color(BLUE_DARK).into(),
                opacity: NormalizedF32::ONE,
            },
            Stop {
                offset: NormalizedF32::ONE,
                color: color(BLUE).into(),
                opacity: NormalizedF32::ONE,
            },
        ],
        anti_alias: false,
    };
    surface.set_stroke(None);
    if let Some(band) = rect_path(0.0, 0.0, W, HEADER_H) {
        surface.set_fill(Some(Fill {
            paint: gradient.into(),
            opacity: NormalizedF32::ONE,
            rule: FillRule::NonZero,
        }));
        surface.draw_path(&band);
    }
    if let Some(rule) = rect_path(0.0, HEADER_H, W, 3.0) {
        surface.set_fill(Some(solid(GOLD, 1.0)));
        surface.draw_path(&rule);
    }
}

/// The photo cropped to fill the frame (as `xMidYMid slice`), or the 无相片 placeholder.
fn draw_photo(surface: &mut Surface<'_>, frame: Rect, photo: Option<&Image>, fonts: &Fonts) {
    let Some(outline) = rounded_rect(frame, 6.0) else {
        return;
    };
    surface.set_stroke(None);
    surface.set_fill(Some(solid("#eef1f5", 1.0)));
    surface.draw_path(&outline);
    match photo {
        Some(image) => {
            let (iw, ih) = image.size();
            let (iw, ih) = (iw.max(1) as f32, ih.max(1) as f32);
            let scale = (frame.w / iw).max(frame.h / ih);
            let (dw, dh) = (iw * scale, ih * scale);
            if let Some(size) = Size::from_wh(dw, dh) {
                surface.push_clip_path(&outline, &FillRule::NonZero);
                surface.push_transform(&Transform::from_translate(
                    frame.x + (frame.w - dw) / 2.0,
                    frame.y + (frame.h - dh) / 2.0,
                ));
                surface.draw_image(image.clone(), size);
                surface.pop();
                surface.pop();
            }
        }
        None => draw_text(
            surface,
            frame.x + frame.w / 2.0,
            frame.y + frame.h / 2.0 + 5.0,
            Style::new(14.0, MUTED).anchor(Anchor::Middle),
            "无相片",
            fonts,
        ),
    }
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: color(LINE).into(),
        ..Stroke::default()
    }));
    surface.draw_path(&outline);
    surface.set_stroke(None);
}

/// The QR code: a white square, then one rectangle per run of dark modules.
fn draw_qr(surface: &mut Surface<'_>, code: &QrCode, x: f32, y: f32, side: f32) {
    const QUIET: usize = 3;
    let width = code.width();
    let unit = side / (width + 2 * QUIET) as f32;
    surface.set_stroke(None);
    if let Some(background) = rect_path(x, y, side, side) {
        surface.set_fill(Some(solid("#ffffff", 1.0)));
        surface.draw_path(&background);
    }
    let origin = (x + QUIET as f32 * unit, y + QUIET as f32 * unit);
    let mut pb = PathBuilder::new();
    for (row, colors) in code.to_colors().chunks(width.max(1)).enumerate() {
        let mut col = 0;
        while col < colors.len() {
            if colors[col] != Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < colors.len() && colors[col] == Color::Dark {
                col += 1;
            }
            if let Some(run) = krilla::geom::Rect::from_xywh(
                origin.0 + start as f32 * unit,
                origin.1 + row as f32 * unit,
                (col - start) as f32 * unit,
                unit,
            ) {
                pb.push_rect(run);
            }
        }
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(Some(solid("#000000", 1.0)));
        surface.draw_path(&path);
    }
}

/// The annotation repeated in rotated rows over the whole page, translucent red, at the
/// places of the SVG copy's watermark.
fn draw_watermark(surface: &mut Surface<'_>, watermark: &str, font: &Font) {
    let Some(grid) = watermark_grid(watermark, W, PAGE_H) else {
        return;
    };
    let (cx, cy) = grid.center;
    surface.push_transform(&Transform::from_rotate_at(-30.0, cx, cy));
    // Filled only: a translucent stroke as well would make krilla draw every glyph as a
    // path, a megabyte per page, and the text would no longer be text.
    surface.set_fill(Some(solid(RED, 0.18)));
    surface.set_stroke(None);
    for (x, y) in grid.origins {
        surface.draw_text(
            Point::from_xy(x, y),
            font.clone(),
            WATERMARK_SIZE,
            &grid.text,
            false,
            TextDirection::Auto,
        );
    }
    surface.pop();
}

fn rect_path(x: f32, y: f32, w: f32, h: f32) -> Option<Path> {
    let mut pb = PathBuilder::new();
    pb.push_rect(krilla::geom::Rect::from_xywh(x, y, w, h)?);
    pb.finish()
}

/// A rectangle with corners rounded by `r` (cubic approximations of quarter circles).
fn rounded_rect(rect: Rect, r: f32) -> Option<Path> {
    let Rect { x, y, w, h } = rect;
    let r = r.min(w / 2.0).min(h / 2.0).max(0.0);
    // Distance of the control points for a quarter circle.
    let k = r * 0.552_284_8;
    let mut pb = PathBuilder::new();
    pb.move_to(x + r, y);
    pb.line_to(x + w - r, y);
    pb.cubic_to(x + w - r + k, y, x + w, y + r - k, x + w, y + r);
    pb.line_to(x + w, y + h - r);
    pb.cubic_to(x + w, y + h - r + k, x + w - r + k, y + h, x + w - r, y + h);
    pb.line_to(x + r, y + h);
    pb.cubic_to(x + r - k, y + h, x, y + h - r + k, x, y + h - r);
    pb.line_to(x, y + r);
    pb.cubic_to(x, y + r - k, x + r - k, y, x + r, y);
    pb.close();
    pb.finish()
}

fn solid(hex: &str, opacity: f32) -> Fill {
    Fill {
        paint: color(hex).into(),
        opacity: NormalizedF32::new(opacity).unwrap_or(NormalizedF32::ONE),
        rule: FillRule::NonZero,
    }
}

/// `#rrggbb` (our own constants) as an RGB colour; anything else is black.
fn color(hex: &str) -> rgb::Color {
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0)
    };
    rgb::Color::new(channel(1), channel(3), channel(5))
}

#[cfg(test)]
mod tests;
