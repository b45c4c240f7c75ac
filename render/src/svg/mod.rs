//! The SVG vocabulary shared by the card and the copy: the font stacks and colours, the root
//! element ([`document`]), numbers for attributes ([`N`]), escaping ([`escape`]), one
//! `<text>` element ([`text`]), and the blue header band both documents open with
//! ([`header_band`], [`header_gradient`]). [`photo`] frames the holder's photo and
//! [`watermark`] lays the annotation across the copy.

pub(crate) mod photo;
pub(crate) mod watermark;

use std::fmt::{self, Write as _};

use crate::text::is_allowed_char;

/// Font stack for all text: CJK fonts first so that Chinese never falls back
/// to a font without the glyphs.
pub(crate) const FONT_FAMILY: &str =
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";
/// Font stack for key ids and signature fingerprints.
const MONO_FAMILY: &str = "'Noto Sans Mono CJK SC', 'DejaVu Sans Mono', Menlo, Consolas, monospace";

pub(crate) const BLUE_DARK: &str = "#143a70";
pub(crate) const BLUE: &str = "#2563b0";
pub(crate) const GOLD: &str = "#c9a23a";
pub(crate) const INK: &str = "#1b2430";
pub(crate) const MUTED: &str = "#5b697a";
pub(crate) const LINE: &str = "#d3dae4";
pub(crate) const RED: &str = "#d0312d";
pub(crate) const WHITE: &str = "#ffffff";

/// Wraps the body in the root `<svg>` element.
pub(crate) fn document(width: f32, height: f32, title: &str, defs: &str, body: &str) -> String {
    let title = escape(title);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT_FAMILY}" role="img" aria-label="{title}"><title>{title}</title><defs>{defs}</defs>{body}</svg>"#,
        w = N(width),
        h = N(height),
    )
}

/// The header band across the top of a document: the gradient `gradient_id` (see
/// [`header_gradient`]), then `decoration` drawn over it, then a thin gold rule below it.
pub(crate) fn header_band(
    out: &mut String,
    width: f32,
    height: f32,
    gradient_id: &str,
    decoration: &str,
) {
    let _ = write!(
        out,
        r#"<rect width="{w}" height="{h}" fill="url(#{gradient_id})"/>{decoration}<rect y="{h}" width="{w}" height="3" fill="{GOLD}"/>"#,
        w = N(width),
        h = N(height),
    );
}

/// The diagonal dark-to-light blue gradient of a header band, for `<defs>`.
pub(crate) fn header_gradient(id: &str) -> String {
    format!(
        r#"<linearGradient id="{id}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{BLUE_DARK}"/><stop offset="1" stop-color="{BLUE}"/></linearGradient>"#
    )
}

/// A number for an attribute: at most two decimals, no trailing zeros.
#[derive(Clone, Copy)]
pub(crate) struct N(pub(crate) f32);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = (self.0 * 100.0).round() / 100.0;
        if v.fract() == 0.0 {
            write!(f, "{}", v as i64)
        } else {
            let s = format!("{v:.2}");
            f.write_str(s.trim_end_matches('0'))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
}

/// How one `<text>` element looks.
#[derive(Clone, Copy)]
pub(crate) struct Style {
    pub(crate) size: f32,
    pub(crate) fill: &'static str,
    pub(crate) bold: bool,
    pub(crate) mono: bool,
    pub(crate) anchor: Anchor,
    pub(crate) spacing: f32,
}

impl Style {
    pub(crate) fn new(size: f32, fill: &'static str) -> Self {
        Self {
            size,
            fill,
            bold: false,
            mono: false,
            anchor: Anchor::Start,
            spacing: 0.0,
        }
    }
    pub(crate) fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    pub(crate) fn mono(mut self) -> Self {
        self.mono = true;
        self
    }
    pub(crate) fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = anchor;
        self
    }
    pub(crate) fn spacing(mut self, spacing: f32) -> Self {
        self.spacing = spacing;
        self
    }
}

/// Writes one `<text>` element; `content` is escaped here.
pub(crate) fn text(out: &mut String, x: f32, y: f32, style: Style, content: &str) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" font-size="{}" fill="{}""#,
        N(x),
        N(y),
        N(style.size),
        style.fill
    );
    if style.bold {
        out.push_str(r#" font-weight="bold""#);
    }
    if style.mono {
        let _ = write!(out, r#" font-family="{MONO_FAMILY}""#);
    }
    if style.anchor == Anchor::Middle {
        out.push_str(r#" text-anchor="middle""#);
    }
    if style.spacing > 0.0 {
        let _ = write!(out, r#" letter-spacing="{}""#, N(style.spacing));
    }
    out.push('>');
    out.push_str(&escape(content));
    out.push_str("</text>");
}

/// A frame on the page, in user units.
#[derive(Clone, Copy)]
pub(crate) struct Rect {
    pub(crate) x: f32,
    pub(crate) y: f32,
    pub(crate) w: f32,
    pub(crate) h: f32,
}

impl Rect {
    pub(crate) fn new(x: f32, y: f32, w: f32, h: f32) -> Self {
        Self { x, y, w, h }
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'`, turns tabs and line breaks into
/// spaces and drops characters that XML cannot carry.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if is_allowed_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_compactly() {
        assert_eq!(N(12.0).to_string(), "12");
        assert_eq!(N(12.5).to_string(), "12.5");
        assert_eq!(N(1.0 / 3.0).to_string(), "0.33");
        assert_eq!(N(-4.0).to_string(), "-4");
    }

    #[test]
    fn the_header_band_draws_its_decoration_between_the_gradient_and_the_gold_rule() {
        let mut out = String::new();
        header_band(&mut out, 400.0, 68.0, "yj-x-head", "<circle/>");
        assert_eq!(
            out,
            format!(
                r#"<rect width="400" height="68" fill="url(#yj-x-head)"/><circle/><rect y="68" width="400" height="3" fill="{GOLD}"/>"#
            )
        );
        assert!(header_gradient("yj-x-head").starts_with(r#"<linearGradient id="yj-x-head""#));
    }
}
