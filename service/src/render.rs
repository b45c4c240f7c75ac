//! SVG rendering for the electronic residence permit (广东省电子居住证).
//!
//! Three documents are produced here, all as standalone SVG text:
//!
//! * [`card_svg`]: the permit card as the holder sees it on the phone, with the
//!   photo, the labelled fields, a status badge and the 粤居码 QR code. The card
//!   is a portrait layout 400 user units wide so that it stays legible when a
//!   phone shows it 375 px wide (the smallest text is 13 units, about 12 px).
//! * [`annotated_copy_svg`]: the annotated copy (加注件) that an agency downloads
//!   with the holder's consent; the annotation is printed diagonally and
//!   repeatedly across it as a semi-transparent watermark, and a footer lists
//!   the annotation details and the signature.
//! * [`qr_svg`]: a bare QR code for the 粤居码 endpoint.
//!
//! Every piece of caller text is XML-escaped (and characters that XML
//! 1.0 cannot carry are dropped), so the output is always well-formed XML and a
//! value such as `<script>` renders as text. Text is laid out with a width
//! estimate per character (CJK characters are one em wide, Latin letters and
//! digits a little over half an em); long values wrap onto a bounded number of
//! lines and the last line is cut with `…` rather than overflowing.

use std::fmt::{self, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use qrcode::{Color, EcLevel, QrCode};

/// Font stack for all text: CJK fonts first so that Chinese never falls back
/// to a font without the glyphs.
const FONT_FAMILY: &str =
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";
/// Font stack for key ids and signature fingerprints.
const MONO_FAMILY: &str = "'Noto Sans Mono CJK SC', 'DejaVu Sans Mono', Menlo, Consolas, monospace";

const BLUE_DARK: &str = "#143a70";
const BLUE: &str = "#2563b0";
const GOLD: &str = "#c9a23a";
const INK: &str = "#1b2430";
const MUTED: &str = "#5b697a";
const LINE: &str = "#d3dae4";
const RED: &str = "#d0312d";
const WHITE: &str = "#ffffff";

/// Placeholder for an empty value.
const EMPTY_VALUE: &str = "—";

const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

/// The holder's photo. Only `image/jpeg` and `image/png` are embedded, and
/// only when the bytes start with that format's signature; anything else is
/// drawn as the 无相片 placeholder.
#[derive(Clone, Copy)]
pub struct Photo<'a> {
    pub mime: &'a str,
    pub bytes: &'a [u8],
}

/// The permit as shown on the card. Deliberately not `Debug`: it holds
/// personal data that must not end up in logs.
pub struct CardFields<'a> {
    pub name: &'a str,
    /// `"male"` or `"female"` (男/女 are accepted too); anything else shows 未知.
    pub gender: &'a str,
    pub ethnicity: &'a str,
    /// Already masked by the caller when it should be.
    pub id_number: &'a str,
    pub hukou_address: &'a str,
    pub residence_address: &'a str,
    pub issuing_authority: &'a str,
    /// `YYYY-MM-DD`.
    pub issued_on: &'a str,
    /// `YYYY-MM-DD`.
    pub valid_from: &'a str,
    /// `YYYY-MM-DD`.
    pub valid_until: &'a str,
    pub permit_no: &'a str,
    /// `"valid"`, `"suspended"`, `"expired"` or `"revoked"`; any other value
    /// is treated as not valid and shows 状态异常.
    pub status: &'a str,
    pub photo: Option<Photo<'a>>,
}

/// The annotated copy (加注件). Deliberately not `Debug` (personal data).
pub struct AnnotatedCopy<'a> {
    /// (Chinese label, value) in display order, e.g. `("姓名", "陈志强")`;
    /// only the fields the grant allows, already masked where needed.
    pub fields: Vec<(&'a str, String)>,
    /// `None` draws no photo at all (the grant does not include it); a photo
    /// of an unsupported format draws the 无相片 placeholder.
    pub photo: Option<Photo<'a>>,
    /// Printed diagonally and repeatedly across the copy, and once in full in
    /// the footer (加注内容).
    pub watermark: &'a str,
    /// Footer rows: (label, value), e.g. `("用证部门", "广州市人社局")`.
    pub details: Vec<(&'a str, String)>,
    pub key_id: &'a str,
    /// Shown shortened as a fingerprint: its first and last eight base64
    /// characters, in groups of four.
    pub signature_b64: &'a str,
}

/// Why an image could not be rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderError {
    /// The QR payload does not fit in the largest QR code at the chosen error
    /// correction level (M).
    QrTooLong,
    /// The PNG encoder failed.
    Png,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QrTooLong => f.write_str("the QR code payload is too long to encode"),
            Self::Png => f.write_str("the PNG encoder failed"),
        }
    }
}

impl std::error::Error for RenderError {}

// ---------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------

/// Renders the permit card; `qr_payload` is drawn as a QR code (error
/// correction M) with the caption 粤居码, and `qr_caption` (e.g. the code's
/// expiry time) in small text under it.
pub fn card_svg(
    card: &CardFields<'_>,
    qr_payload: &str,
    qr_caption: Option<&str>,
) -> Result<String, RenderError> {
    let code = encode_qr(qr_payload)?;

    const W: f32 = 400.0;
    const HEADER_H: f32 = 68.0;
    const PHOTO_W: f32 = 96.0;
    const PHOTO_H: f32 = 120.0;
    const MARGIN: f32 = 20.0;
    /// Target side of the QR code (quiet zone included), in user units.
    const QR_TARGET: f32 = 192.0;
    /// Quiet zone in modules; the white box and the pale card add to it.
    const QR_QUIET: usize = 2;

    let mut body = String::new();

    // Header band, clipped to the card's rounded corners.
    let _ = write!(
        body,
        r#"<g clip-path="url(#yj-card-clip)"><rect width="{w}" height="{h}" fill="url(#yj-card-head)"/><circle cx="{c1x}" cy="-8" r="64" fill="{WHITE}" fill-opacity="0.06"/><circle cx="{c2x}" cy="{h}" r="44" fill="{WHITE}" fill-opacity="0.05"/><rect y="{h}" width="{w}" height="3" fill="{GOLD}"/></g>"#,
        w = N(W),
        h = N(HEADER_H),
        c1x = N(W - 40.0),
        c2x = N(W - 120.0),
    );
    // A round "粤" seal as the emblem.
    let cy = HEADER_H / 2.0;
    let _ = write!(
        body,
        r#"<circle cx="38" cy="{cy}" r="19" fill="{WHITE}" fill-opacity="0.14" stroke="{WHITE}" stroke-width="1.5"/>"#,
        cy = N(cy),
    );
    text(
        &mut body,
        38.0,
        cy + 7.0,
        Style::new(20.0, WHITE).bold().anchor(Anchor::Middle),
        "粤",
    );
    text(
        &mut body,
        68.0,
        cy + 8.0,
        Style::new(21.0, WHITE).bold().spacing(1.0),
        "广东省电子居住证",
    );
    if let Some(badge) = status_badge(card.status) {
        let size = 14.0;
        let bw = text_em(badge) * size + 22.0;
        let bx = W - MARGIN + 4.0 - bw;
        let by = cy - 13.0;
        let _ = write!(
            body,
            r#"<rect x="{x}" y="{y}" width="{w}" height="26" rx="13" fill="{RED}" stroke="{WHITE}" stroke-width="1.5"/>"#,
            x = N(bx),
            y = N(by),
            w = N(bw),
        );
        text(
            &mut body,
            bx + bw / 2.0,
            by + 18.0,
            Style::new(size, WHITE).bold().anchor(Anchor::Middle),
            badge,
        );
    }

    // Photo at the top right, fields on the left and then across the card.
    let top = HEADER_H + 20.0;
    let photo_x = W - MARGIN - PHOTO_W;
    draw_photo(
        &mut body,
        card.photo.as_ref(),
        Rect::new(photo_x, top, PHOTO_W, PHOTO_H),
        "yj-card-photo",
    );

    let validity = format!(
        "{} 至 {}",
        or_empty(card.valid_from),
        or_empty(card.valid_until)
    );
    let rows = [
        Row::new("姓名", card.name)
            .size(20.0)
            .shrink_to(15.0)
            .bold()
            .lines(2),
        Row::new("性别", gender_label(card.gender)),
        Row::new("民族", card.ethnicity),
        Row::new("签发日期", card.issued_on),
        Row::new("公民身份号码", card.id_number),
        Row::new("户籍地址", card.hukou_address).lines(2),
        Row::new("居住地址", card.residence_address).lines(2),
        Row::new("签发机关", card.issuing_authority).lines(2),
        Row::new("有效期限", &validity),
        Row::new("证照编号", card.permit_no).lines(2),
    ];
    let columns = Columns {
        label_x: MARGIN,
        label_size: 13.0,
        label_max_em: 6.0,
        value_x: MARGIN + 88.0,
        narrow_until: top + PHOTO_H,
        narrow_right: photo_x - 12.0,
        wide_right: W - MARGIN,
        row_gap: 10.0,
    };
    let fields_end = draw_rows(&mut body, &rows, &columns, top);
    let mut y = fields_end.max(top + PHOTO_H + 14.0);

    // Divider, then the 粤居码.
    let _ = write!(
        body,
        r#"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{LINE}" stroke-width="1" stroke-dasharray="4 4"/>"#,
        x1 = N(MARGIN),
        x2 = N(W - MARGIN),
        y = N(y + 4.0),
    );
    y = (y + 22.0).round();
    // Whole user units per module keep the module edges on the pixel grid
    // at 1x, 2x and 3x, so no seams appear between rows.
    let qr_modules = (code.width() + 2 * QR_QUIET) as f32;
    let mut qr_unit = QR_TARGET / qr_modules;
    if qr_unit >= 2.0 {
        qr_unit = qr_unit.floor();
    }
    let qr_size = qr_unit * qr_modules;
    let qr_box = qr_size + 12.0;
    let qr_x = ((W - qr_box) / 2.0).round();
    let _ = write!(
        body,
        r#"<rect x="{x}" y="{y}" width="{s}" height="{s}" rx="10" fill="{WHITE}" stroke="{LINE}"/>"#,
        x = N(qr_x),
        y = N(y),
        s = N(qr_box),
    );
    draw_qr(&mut body, &code, qr_x + 6.0, y + 6.0, qr_unit, QR_QUIET);
    y += qr_box + 28.0;
    text(
        &mut body,
        W / 2.0,
        y,
        Style::new(18.0, BLUE_DARK)
            .bold()
            .anchor(Anchor::Middle)
            .spacing(2.0),
        "粤居码",
    );
    if let Some(caption) = qr_caption {
        let size = 13.0;
        for line in wrap(caption, (W - 2.0 * MARGIN) / size, 2) {
            y += size * 1.5;
            text(
                &mut body,
                W / 2.0,
                y,
                Style::new(size, MUTED).anchor(Anchor::Middle),
                &line,
            );
        }
    }
    let height = (y + 24.0).ceil();

    let defs = format!(
        r##"<clipPath id="yj-card-clip"><rect width="{w}" height="{h}" rx="16"/></clipPath><linearGradient id="yj-card-head" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{BLUE_DARK}"/><stop offset="1" stop-color="{BLUE}"/></linearGradient><linearGradient id="yj-card-bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#ffffff"/><stop offset="1" stop-color="#edf3fb"/></linearGradient>"##,
        w = N(W),
        h = N(height),
    );
    let mut background = format!(
        r#"<rect x="0.5" y="0.5" width="{w}" height="{h}" rx="16" fill="url(#yj-card-bg)" stroke="{LINE}"/>"#,
        w = N(W - 1.0),
        h = N(height - 1.0),
    );
    // Faint guilloche-like waves behind the fields.
    background
        .push_str(r##"<g fill="none" stroke="#2563b0" stroke-opacity="0.06" stroke-width="1">"##);
    let mut wy = HEADER_H + 40.0;
    while wy < height - 20.0 {
        let _ = write!(
            background,
            r#"<path d="M0 {a} C100 {b} 300 {c} {w} {a}"/>"#,
            a = N(wy),
            b = N(wy - 22.0),
            c = N(wy + 22.0),
            w = N(W),
        );
        wy += 26.0;
    }
    background.push_str("</g>");
    background.push_str(&body);

    Ok(document(W, height, "广东省电子居住证", &defs, &background))
}

/// Renders the annotated copy (加注件): the permitted fields and photo, the
/// watermark repeated diagonally across the whole copy, and a footer with the
/// annotation details, the signing key id and a short signature fingerprint.
pub fn annotated_copy_svg(copy: &AnnotatedCopy<'_>) -> String {
    const W: f32 = 640.0;
    const HEADER_H: f32 = 76.0;
    const MARGIN: f32 = 32.0;
    const PHOTO_W: f32 = 120.0;
    const PHOTO_H: f32 = 150.0;

    let mut body = String::new();
    let _ = write!(
        body,
        r#"<rect width="{w}" height="{h}" fill="url(#yj-copy-head)"/><rect y="{h}" width="{w}" height="3" fill="{GOLD}"/>"#,
        w = N(W),
        h = N(HEADER_H),
    );
    text(
        &mut body,
        MARGIN,
        47.0,
        Style::new(24.0, WHITE).bold().spacing(1.5),
        "广东省电子居住证",
    );
    let tag = "加注件";
    let tag_w = text_em(tag) * 16.0 + 28.0;
    let tag_x = W - MARGIN - tag_w;
    let _ = write!(
        body,
        r#"<rect x="{x}" y="22" width="{w}" height="32" rx="4" fill="none" stroke="{WHITE}" stroke-width="1.5"/>"#,
        x = N(tag_x),
        w = N(tag_w),
    );
    text(
        &mut body,
        tag_x + tag_w / 2.0,
        44.0,
        Style::new(16.0, WHITE)
            .bold()
            .anchor(Anchor::Middle)
            .spacing(2.0),
        tag,
    );

    let top = HEADER_H + 26.0;
    let photo_x = W - MARGIN - PHOTO_W;
    let (narrow_until, narrow_right) = match copy.photo.as_ref() {
        Some(photo) => {
            draw_photo(
                &mut body,
                Some(photo),
                Rect::new(photo_x, top, PHOTO_W, PHOTO_H),
                "yj-copy-photo",
            );
            (top + PHOTO_H, photo_x - 16.0)
        }
        None => (top, W - MARGIN),
    };

    let label_size = 14.0;
    let label_max_em = label_column_em(copy.fields.iter().map(|(label, _)| *label));
    let rows: Vec<Row<'_>> = copy
        .fields
        .iter()
        .map(|(label, value)| Row::new(label, value).size(16.0).lines(3))
        .collect();
    let columns = Columns {
        label_x: MARGIN,
        label_size,
        label_max_em,
        value_x: MARGIN + label_max_em * label_size + 18.0,
        narrow_until,
        narrow_right,
        wide_right: W - MARGIN,
        row_gap: 12.0,
    };
    let mut y = draw_rows(&mut body, &rows, &columns, top);
    if copy.photo.is_some() {
        y = y.max(top + PHOTO_H + 16.0);
    }

    y += 14.0;
    text(
        &mut body,
        MARGIN,
        y,
        Style::new(12.0, MUTED),
        "本件为广东省电子居住证加注件，仅限加注所列用途使用。",
    );
    y += 18.0;

    // Footer: annotation details and signature.
    let footer_top = y;
    let footer_x = MARGIN;
    let footer_w = W - 2.0 * MARGIN;
    let mut footer = String::new();
    text(
        &mut footer,
        footer_x + 18.0,
        footer_top + 30.0,
        Style::new(15.0, BLUE_DARK).bold().spacing(1.0),
        "加注信息",
    );
    let footer_label = 13.0;
    let signature_labels = ["签名密钥编号", "签名指纹"];
    let footer_em = label_column_em(
        std::iter::once("加注内容")
            .chain(copy.details.iter().map(|(label, _)| *label))
            .chain(signature_labels),
    );
    let footer_columns = Columns {
        label_x: footer_x + 18.0,
        label_size: footer_label,
        label_max_em: footer_em,
        value_x: footer_x + 18.0 + footer_em * footer_label + 16.0,
        narrow_until: 0.0,
        narrow_right: footer_x + footer_w - 18.0,
        wide_right: footer_x + footer_w - 18.0,
        row_gap: 8.0,
    };
    let mut detail_rows = vec![Row::new("加注内容", copy.watermark).size(14.0).lines(3)];
    detail_rows.extend(
        copy.details
            .iter()
            .map(|(label, value)| Row::new(label, value).size(14.0).lines(2)),
    );
    let mut fy = draw_rows(
        &mut footer,
        &detail_rows,
        &footer_columns,
        footer_top + 44.0,
    );
    let _ = write!(
        footer,
        r#"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{LINE}" stroke-dasharray="4 4"/>"#,
        x1 = N(footer_x + 18.0),
        x2 = N(footer_x + footer_w - 18.0),
        y = N(fy + 2.0),
    );
    fy += 12.0;
    let fingerprint = signature_fingerprint(copy.signature_b64);
    let signature_rows = [
        Row::new(signature_labels[0], copy.key_id)
            .size(14.0)
            .mono()
            .lines(2),
        Row::new(signature_labels[1], &fingerprint)
            .size(14.0)
            .mono(),
    ];
    fy = draw_rows(&mut footer, &signature_rows, &footer_columns, fy);
    let footer_h = fy - footer_top + 8.0;
    let _ = write!(
        body,
        r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="#f3f6fa" stroke="{LINE}"/>"##,
        x = N(footer_x),
        y = N(footer_top),
        w = N(footer_w),
        h = N(footer_h),
    );
    body.push_str(&footer);
    let height = (footer_top + footer_h + MARGIN).ceil();

    // The watermark goes on top of everything so it cannot be cropped out
    // without damaging the content.
    draw_watermark(&mut body, copy.watermark, W, height);

    let defs = format!(
        r#"<clipPath id="yj-copy-clip"><rect width="{w}" height="{h}"/></clipPath><linearGradient id="yj-copy-head" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{BLUE_DARK}"/><stop offset="1" stop-color="{BLUE}"/></linearGradient>"#,
        w = N(W),
        h = N(height),
    );
    let mut content = format!(
        r#"<rect x="0.5" y="0.5" width="{w}" height="{h}" fill="{WHITE}" stroke="{LINE}"/>"#,
        w = N(W - 1.0),
        h = N(height - 1.0),
    );
    content.push_str(&body);
    document(W, height, "广东省电子居住证加注件", &defs, &content)
}

/// Draws a QR code for `payload` (error correction M) as a standalone SVG
/// document with a four-module quiet zone, eight units per module.
pub fn qr_svg(payload: &str) -> Result<String, RenderError> {
    let code = encode_qr(payload)?;
    const QUIET: usize = 4;
    const SCALE: usize = 8;
    let modules = code.width() + 2 * QUIET;
    let px = modules * SCALE;
    let path = qr_path(&code);
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{px}" height="{px}" viewBox="0 0 {modules} {modules}" shape-rendering="crispEdges" role="img" aria-label="粤居码"><title>粤居码</title><rect width="{modules}" height="{modules}" fill="#ffffff"/><path transform="translate({QUIET} {QUIET})" fill="#000000" d="{path}"/></svg>"##
    ))
}

// ---------------------------------------------------------------------------
// Document and drawing helpers
// ---------------------------------------------------------------------------

/// Wraps the body in the root `<svg>` element.
fn document(width: f32, height: f32, title: &str, defs: &str, body: &str) -> String {
    let title = escape(title);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT_FAMILY}" role="img" aria-label="{title}"><title>{title}</title><defs>{defs}</defs>{body}</svg>"#,
        w = N(width),
        h = N(height),
    )
}

/// A number for an attribute: at most two decimals, no trailing zeros.
#[derive(Clone, Copy)]
struct N(f32);

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
enum Anchor {
    Start,
    Middle,
}

#[derive(Clone, Copy)]
struct Style {
    size: f32,
    fill: &'static str,
    bold: bool,
    mono: bool,
    anchor: Anchor,
    spacing: f32,
}

impl Style {
    fn new(size: f32, fill: &'static str) -> Self {
        Self {
            size,
            fill,
            bold: false,
            mono: false,
            anchor: Anchor::Start,
            spacing: 0.0,
        }
    }
    fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    fn mono(mut self) -> Self {
        self.mono = true;
        self
    }
    fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = anchor;
        self
    }
    fn spacing(mut self, spacing: f32) -> Self {
        self.spacing = spacing;
        self
    }
}

/// Writes one `<text>` element; `content` is escaped here.
fn text(out: &mut String, x: f32, y: f32, style: Style, content: &str) {
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

#[derive(Clone, Copy)]
struct Rect {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

impl Rect {
    fn new(x: f32, y: f32, w: f32, h: f32) -> Self {
        Self { x, y, w, h }
    }
}

/// One labelled field.
struct Row<'s> {
    label: &'s str,
    value: &'s str,
    size: f32,
    /// The value may shrink down to this size to avoid being cut.
    min_size: f32,
    bold: bool,
    mono: bool,
    max_lines: usize,
}

impl<'s> Row<'s> {
    fn new(label: &'s str, value: &'s str) -> Self {
        Self {
            label,
            value,
            size: 15.0,
            min_size: 15.0,
            bold: false,
            mono: false,
            max_lines: 1,
        }
    }
    fn size(mut self, size: f32) -> Self {
        self.size = size;
        self.min_size = size;
        self
    }
    fn shrink_to(mut self, min_size: f32) -> Self {
        self.min_size = min_size.min(self.size);
        self
    }
    fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    fn mono(mut self) -> Self {
        self.mono = true;
        self
    }
    fn lines(mut self, max_lines: usize) -> Self {
        self.max_lines = max_lines;
        self
    }
}

/// Where labels and values go. Rows that start above `narrow_until` end at
/// `narrow_right` (beside the photo), the others at `wide_right`.
struct Columns {
    label_x: f32,
    label_size: f32,
    label_max_em: f32,
    value_x: f32,
    narrow_until: f32,
    narrow_right: f32,
    wide_right: f32,
    row_gap: f32,
}

/// Draws the rows from `top` downwards and returns the y below the last one.
fn draw_rows(out: &mut String, rows: &[Row<'_>], columns: &Columns, top: f32) -> f32 {
    let mut y = top;
    for row in rows {
        let right = if y < columns.narrow_until {
            columns.narrow_right
        } else {
            columns.wide_right
        };
        let available = (right - columns.value_x).max(row.size);
        let mut size = row.size;
        let mut lines = loop {
            let (lines, cut) = wrap_checked(row.value, available / size, row.max_lines);
            if !cut || size <= row.min_size {
                break lines;
            }
            size = (size - 1.0).max(row.min_size);
        };
        if lines.is_empty() {
            lines.push(EMPTY_VALUE.to_owned());
        }
        let line_height = size * 1.42;
        let baseline = y + size;
        let label = wrap(row.label, columns.label_max_em, 1);
        if let Some(label) = label.first() {
            text(
                out,
                columns.label_x,
                baseline,
                Style::new(columns.label_size, MUTED),
                label,
            );
        }
        let mut style = Style::new(size, INK);
        if row.bold {
            style = style.bold();
        }
        if row.mono {
            style = style.mono();
        }
        let mut line_y = baseline;
        for line in &lines {
            text(out, columns.value_x, line_y, style, line);
            line_y += line_height;
        }
        y = line_y - line_height + size * 0.35 + columns.row_gap;
    }
    y
}

/// Width of the label column in em: the widest label, between 4 and 7 em.
fn label_column_em<'s>(labels: impl Iterator<Item = &'s str>) -> f32 {
    labels.map(text_em).fold(4.0_f32, f32::max).min(7.0)
}

/// Draws the photo into `frame`, or the 无相片 placeholder when there is no
/// photo or it is not a JPEG/PNG.
fn draw_photo(out: &mut String, photo: Option<&Photo<'_>>, frame: Rect, clip_id: &str) {
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

/// The annotation repeated in rotated rows over the whole `width` × `height`
/// copy, semi-transparent, clipped to the copy.
fn draw_watermark(out: &mut String, watermark: &str, width: f32, height: f32) {
    let watermark = clean(watermark);
    if watermark.is_empty() {
        return;
    }
    const SIZE: f32 = 18.0;
    const ROW_GAP: f32 = 72.0;
    const MAX_ITEMS: i32 = 400;
    let step = text_em(&watermark) * SIZE + 64.0;
    let diagonal = (width * width + height * height).sqrt();
    let (cx, cy) = (width / 2.0, height / 2.0);
    let half_rows = (diagonal / ROW_GAP / 2.0).ceil() as i32 + 1;
    let cols = ((diagonal / step).ceil() as i32 + 2).clamp(1, MAX_ITEMS / (2 * half_rows + 1));
    let escaped = escape(&watermark);
    let _ = write!(
        out,
        r#"<g clip-path="url(#yj-copy-clip)" pointer-events="none"><g transform="rotate(-30 {cx} {cy})" fill="{RED}" fill-opacity="0.15" font-size="{SIZE}" font-weight="bold">"#,
        cx = N(cx),
        cy = N(cy),
    );
    for r in -half_rows..=half_rows {
        let y = cy + r as f32 * ROW_GAP;
        let offset = if r % 2 == 0 { 0.0 } else { step / 2.0 };
        for c in 0..cols {
            let x = cx - diagonal / 2.0 - step + offset + c as f32 * step;
            let _ = write!(out, r#"<text x="{}" y="{}">{escaped}</text>"#, N(x), N(y));
        }
    }
    out.push_str("</g></g>");
}

/// Short form of a signature for people to compare: the first and last
/// eight characters of its base64 text, in groups of four.
fn signature_fingerprint(signature_b64: &str) -> String {
    let chars: Vec<char> = signature_b64
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut end = chars.len();
    while end > 0 && chars[end - 1] == '=' {
        end -= 1;
    }
    let chars = &chars[..end];
    let group = |part: &[char]| -> String {
        part.chunks(4)
            .map(|chunk| chunk.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if chars.len() <= 20 {
        return group(chars);
    }
    format!(
        "{} … {}",
        group(&chars[..8]),
        group(&chars[chars.len() - 8..])
    )
}

fn status_badge(status: &str) -> Option<&'static str> {
    match status.trim().to_ascii_lowercase().as_str() {
        "valid" => None,
        "suspended" => Some("已暂停"),
        "expired" => Some("已过期"),
        "revoked" => Some("已注销"),
        _ => Some("状态异常"),
    }
}

fn gender_label(gender: &str) -> &'static str {
    match gender.trim().to_ascii_lowercase().as_str() {
        "male" | "男" => "男",
        "female" | "女" => "女",
        _ => "未知",
    }
}

fn or_empty(value: &str) -> &str {
    if value.trim().is_empty() {
        EMPTY_VALUE
    } else {
        value
    }
}

// ---------------------------------------------------------------------------
// QR code
// ---------------------------------------------------------------------------

fn encode_qr(payload: &str) -> Result<QrCode, RenderError> {
    // With automatic version selection and byte-mode fallback the only error
    // an arbitrary string can produce is "data too long".
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|_| RenderError::QrTooLong)
}

/// Path data for the dark modules, in module units, one subpath per
/// horizontal run of dark modules.
fn qr_path(code: &QrCode) -> String {
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

/// Draws `code` at (`x`, `y`) with `unit` user units per module and `quiet`
/// modules of white margin around it.
fn draw_qr(out: &mut String, code: &QrCode, x: f32, y: f32, unit: f32, quiet: usize) {
    let modules = (code.width() + 2 * quiet) as f32;
    let scale = unit;
    let _ = write!(
        out,
        r##"<g transform="translate({x} {y}) scale({s})" shape-rendering="crispEdges"><rect width="{m}" height="{m}" fill="#ffffff"/><path transform="translate({quiet} {quiet})" fill="#000000" d="{d}"/></g>"##,
        x = N(x),
        y = N(y),
        s = scale,
        m = N(modules),
        d = qr_path(code),
    );
}

// ---------------------------------------------------------------------------
// Text: escaping, width estimate, wrapping
// ---------------------------------------------------------------------------

/// Whether `c` may appear in the output: XML 1.0 characters, minus C1
/// controls and the bidirectional overrides that could reorder a name.
fn is_allowed_char(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => true,
        '\u{7F}'..='\u{9F}' => false,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => false,
        '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => true,
        _ => false,
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'`, turns tabs and line breaks into
/// spaces and drops characters that XML cannot carry.
fn escape(s: &str) -> String {
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

/// Drops disallowed characters, turns whitespace runs into one space and
/// trims.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars().filter(|c| is_allowed_char(*c)) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Estimated advance of `c` in em for the CJK sans fonts of the stack (a
/// little generous for Latin text so that estimates err towards wrapping).
fn char_em(c: char) -> f32 {
    match c {
        ' ' | 'i' | 'j' | 'l' | 'f' | 't' | 'r' | 'I' | '.' | ',' | ':' | ';' | '!' | '|'
        | '\'' | '(' | ')' => 0.38,
        'A'..='Z' | 'm' | 'w' | '@' | '%' | '&' | '#' => 0.72,
        c if c.is_ascii() => 0.6,
        // Latin, Greek and Cyrillic letters are proportional; symbols such
        // as the middle dot in 买买提·艾力 are full width in CJK fonts.
        c if c <= '\u{10FF}' && c.is_alphabetic() => 0.64,
        _ => 1.0,
    }
}

fn text_em(s: &str) -> f32 {
    s.chars().map(char_em).sum()
}

fn chars_em(chars: &[char]) -> f32 {
    chars.iter().copied().map(char_em).sum()
}

/// Characters that should not start a line.
fn is_closing_punctuation(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '？'
            | '！'
            | '）'
            | '》'
            | '」'
            | '』'
            | '”'
            | '’'
            | '…'
            | ','
            | '.'
            | ';'
            | ':'
            | '?'
            | '!'
            | ')'
    )
}

/// Breaks `text` into at most `max_lines` lines of at most `max_em` each;
/// what does not fit is cut with `…` at the end of the last line. Breaks
/// fall between any two characters (Chinese has no spaces), except that a
/// short run of Latin letters or digits (a house number, say) is kept
/// together and closing punctuation does not start a line.
fn wrap(text: &str, max_em: f32, max_lines: usize) -> Vec<String> {
    wrap_checked(text, max_em, max_lines).0
}

/// [`wrap`], also telling whether the text had to be cut.
fn wrap_checked(text: &str, max_em: f32, max_lines: usize) -> (Vec<String>, bool) {
    let chars: Vec<char> = clean(text).chars().collect();
    let max_lines = max_lines.max(1);
    let mut lines = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if chars_em(rest) <= max_em {
            lines.push(rest.iter().collect::<String>());
            break;
        }
        if lines.len() + 1 >= max_lines {
            lines.push(ellipsize(rest, max_em));
            return (lines, true);
        }
        let mut end = i;
        let mut width = 0.0;
        while end < chars.len() {
            let w = char_em(chars[end]);
            if width + w > max_em {
                break;
            }
            width += w;
            end += 1;
        }
        if end == i {
            end = i + 1;
        }
        let end = adjust_break(&chars, i, end);
        let line: String = chars[i..end].iter().collect();
        lines.push(line.trim_end().to_owned());
        i = end;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
    }
    (lines, false)
}

/// Moves a break at `end` (start of the next line, `start < end <
/// chars.len()`) back to keep short alphanumeric runs whole and to keep
/// closing punctuation off the start of a line.
fn adjust_break(chars: &[char], start: usize, end: usize) -> usize {
    if end >= chars.len() || end <= start {
        return end;
    }
    let word = |c: char| c.is_ascii_alphanumeric();
    if word(chars[end]) && word(chars[end - 1]) {
        let mut k = end;
        while k > start && word(chars[k - 1]) {
            k -= 1;
        }
        let run_end = chars[end..]
            .iter()
            .position(|c| !word(*c))
            .map_or(chars.len(), |p| end + p);
        if k > start && run_end - k <= 12 {
            return k;
        }
        return end;
    }
    if is_closing_punctuation(chars[end]) && end - start >= 2 {
        return end - 1;
    }
    end
}

/// The longest prefix of `chars` that fits `max_em` together with `…`.
fn ellipsize(chars: &[char], max_em: f32) -> String {
    let budget = max_em - char_em('…');
    let mut width = 0.0;
    let mut out = String::new();
    for &c in chars {
        let w = char_em(c);
        if width + w > budget {
            break;
        }
        width += w;
        out.push(c);
    }
    let mut out = out.trim_end().to_owned();
    out.push('…');
    out
}

/// Draws a QR code for `payload` (error correction M) as a greyscale PNG with a four-module
/// quiet zone, `scale` pixels per module.
pub fn qr_png(payload: &str, scale: usize) -> Result<Vec<u8>, RenderError> {
    let code = encode_qr(payload)?;
    const QUIET: usize = 4;
    let scale = scale.clamp(1, 32);
    let width = code.width();
    let side = (width + 2 * QUIET) * scale;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
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

/// A photo that owns its bytes (read from the vault), to lend as a [`Photo`].
pub struct OwnedPhoto {
    pub mime: String,
    pub bytes: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'];
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

    fn sample_card() -> CardFields<'static> {
        CardFields {
            name: "陈志强",
            gender: "male",
            ethnicity: "汉族",
            id_number: "440102199001011234",
            hukou_address: "湖南省衡阳市衡南县云集镇新民村五组",
            residence_address: "广东省广州市天河区天河路385号太古汇一座2801室",
            issuing_authority: "广州市公安局天河区分局",
            issued_on: "2026-01-15",
            valid_from: "2026-01-15",
            valid_until: "2029-01-14",
            permit_no: "粤穗2026000123",
            status: "valid",
            photo: Some(Photo {
                mime: "image/jpeg",
                bytes: JPEG,
            }),
        }
    }

    fn sample_copy() -> AnnotatedCopy<'static> {
        AnnotatedCopy {
            fields: vec![
                ("姓名", "陈志强".to_owned()),
                ("公民身份号码", "4401**********1234".to_owned()),
                (
                    "居住地址",
                    "广东省广州市天河区天河路385号太古汇一座2801室".to_owned(),
                ),
                ("有效期限", "2026-01-15 至 2029-01-14".to_owned()),
            ],
            photo: Some(Photo {
                mime: "image/png",
                bytes: PNG,
            }),
            watermark: "仅供广州市人社局用于社保办理，2026-12-31前有效",
            details: vec![
                ("用证部门", "广州市人社局".to_owned()),
                ("用途", "社保办理".to_owned()),
                ("授权编号", "GR-20260301-000042".to_owned()),
                ("下载时间", "2026-03-01 10:24:05".to_owned()),
                ("有效期至", "2026-12-31".to_owned()),
            ],
            key_id: "yueju-sign-2026-01",
            signature_b64: "MEUCIQDx3kPqZ9a2BnT7uVw0Lr8sYh4JcF6mE1oKdG5pXy2AbCdEfGh==",
        }
    }

    /// What a parse of the document found.
    struct Parsed {
        /// Names of all elements, in document order.
        elements: Vec<String>,
        /// All character data, entity references resolved.
        text: String,
    }

    /// Parses `xml` strictly: one root `<svg>` in the SVG namespace,
    /// balanced tags, well-formed attributes, only predefined entities or
    /// character references. Panics on anything else.
    fn parse(xml: &str) -> Parsed {
        assert!(
            xml.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#),
            "not a standalone SVG: {}",
            &xml[..xml.len().min(80)]
        );
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut depth = 0usize;
        let mut roots = 0usize;
        let mut elements = Vec::new();
        let mut text = String::new();
        loop {
            let event = reader.read_event().expect("well-formed XML");
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    if depth == 0 {
                        roots += 1;
                        assert_eq!(e.name().as_ref(), "svg", "root must be <svg>");
                    }
                    for attr in e.attributes().with_checks(true) {
                        let attr = attr.expect("well-formed attribute");
                        attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .expect("attribute entities resolve");
                    }
                    elements.push(e.name().as_ref().to_owned());
                    if matches!(event, Event::Start(_)) {
                        depth += 1;
                    }
                }
                Event::End(_) => {
                    depth = depth.checked_sub(1).expect("no stray end tag");
                }
                Event::Text(ref t) => {
                    let s = t.xml10_content();
                    assert!(depth > 0 || s.trim().is_empty(), "text outside the root");
                    text.push_str(&s);
                }
                Event::GeneralRef(ref r) => {
                    assert!(depth > 0, "reference outside the root");
                    if r.is_char_ref() {
                        let c = r.resolve_char_ref().expect("valid character reference");
                        text.extend(c);
                    } else {
                        let name: &str = r;
                        let c = match name {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => panic!("undefined entity &{other};"),
                        };
                        text.push(c);
                    }
                }
                Event::Eof => break,
                Event::DocType(_) => panic!("unexpected DOCTYPE"),
                _ => {}
            }
        }
        assert_eq!(depth, 0, "unclosed elements");
        assert_eq!(roots, 1, "exactly one root element");
        Parsed { elements, text }
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn the_card_contains_the_title_and_every_field() {
        let card = sample_card();
        let svg = card_svg(&card, "YJ1.abc", Some("有效至 10:35")).unwrap();
        let parsed = parse(&svg);
        for needle in [
            "广东省电子居住证",
            "姓名",
            "陈志强",
            "性别",
            "男",
            "民族",
            "汉族",
            "公民身份号码",
            "440102199001011234",
            "户籍地址",
            "湖南省衡阳市衡南县云集镇新民村五组",
            "居住地址",
            "签发机关",
            "广州市公安局天河区分局",
            "签发日期",
            "有效期限",
            "2026-01-15 至 2029-01-14",
            "证照编号",
            "粤穗2026000123",
            "粤居码",
            "有效至 10:35",
        ] {
            assert!(parsed.text.contains(needle), "missing {needle}");
        }
        // The long residence address is split over two lines but complete.
        let residence: String = parsed.text.split_whitespace().collect();
        assert!(residence.contains("广东省广州市天河区天河路385号太古汇一座2801室"));
    }

    #[test]
    fn the_card_is_a_standalone_svg_with_cjk_fonts() {
        let svg = card_svg(&sample_card(), "x", None).unwrap();
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#));
        assert!(svg.ends_with("</svg>"));
        for font in [
            "Noto Sans CJK SC",
            "Source Han Sans SC",
            "PingFang SC",
            "Microsoft YaHei",
            "sans-serif",
        ] {
            assert!(svg.contains(font), "font stack lacks {font}");
        }
    }

    #[test]
    fn the_card_is_narrow_enough_and_its_text_large_enough_for_a_phone() {
        let svg = card_svg(&sample_card(), "x", Some("有效至 10:35")).unwrap();
        assert!(svg.contains(r#"width="400""#));
        let smallest = svg
            .split(r#"font-size=""#)
            .skip(1)
            .filter_map(|rest| rest.split('"').next()?.parse::<f32>().ok())
            .fold(f32::MAX, f32::min);
        // 13 user units at 375/400 is about 12 px.
        assert!(smallest >= 13.0, "smallest font size {smallest}");
    }

    #[test]
    fn gender_is_shown_in_chinese() {
        let mut card = sample_card();
        card.gender = "female";
        let text = parse(&card_svg(&card, "x", None).unwrap()).text;
        assert!(text.contains("女"));
        card.gender = "something";
        let text = parse(&card_svg(&card, "x", None).unwrap()).text;
        assert!(text.contains("未知"));
    }

    #[test]
    fn hostile_text_on_the_card_is_escaped_and_the_output_stays_well_formed() {
        let mut card = sample_card();
        card.name = "<script>";
        card.ethnicity = "a&b";
        card.residence_address = "<script>alert(1)</script>";
        card.hukou_address = r#""quoted" & 'single' </text></svg>"#;
        card.permit_no = "&amp;&#0;&lt;";
        let svg = card_svg(&card, "<payload>", Some("</text><svg onload=\"x\">")).unwrap();
        let parsed = parse(&svg);
        assert!(!parsed.elements.iter().any(|e| e == "script"));
        assert_eq!(count(&svg, "<svg"), 1);
        assert!(svg.contains(">&lt;script&gt;</text>"));
        assert!(svg.contains("a&amp;b"));
        assert!(parsed.text.contains("<script>alert(1)</script>"));
        assert!(parsed.text.contains("a&b"));
        assert!(parsed.text.contains(r#""quoted" & 'single'"#));
        assert!(parsed.text.contains("&amp;&#0;&lt;"));
        assert!(parsed.text.contains(r#"</text><svg onload="x">"#));
    }

    #[test]
    fn characters_xml_cannot_carry_are_dropped() {
        let mut card = sample_card();
        card.name = "陈\u{0}志\u{1b}强\u{202E}";
        card.residence_address = "第一行\n第二行\t结束";
        let svg = card_svg(&card, "x", None).unwrap();
        let parsed = parse(&svg);
        assert!(parsed.text.contains("陈志强"));
        assert!(parsed.text.contains("第一行 第二行 结束"));
        assert!(!svg.contains('\u{0}'));
        assert!(!svg.contains('\u{202E}'));
    }

    #[test]
    fn a_valid_permit_shows_no_status_badge() {
        let text = parse(&card_svg(&sample_card(), "x", None).unwrap()).text;
        for badge in ["已暂停", "已过期", "已注销", "状态异常"] {
            assert!(!text.contains(badge));
        }
    }

    #[test]
    fn each_non_valid_status_shows_its_chinese_badge_in_red() {
        for (status, badge) in [
            ("suspended", "已暂停"),
            ("expired", "已过期"),
            ("revoked", "已注销"),
            ("pending", "状态异常"),
            ("", "状态异常"),
        ] {
            let mut card = sample_card();
            card.status = status;
            let svg = card_svg(&card, "x", None).unwrap();
            assert!(parse(&svg).text.contains(badge), "{status} lacks {badge}");
            assert!(svg.contains(&format!(r#"fill="{RED}""#)));
        }
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
        let mut card = sample_card();
        card.photo = Some(Photo {
            mime: "IMAGE/PNG",
            bytes: PNG,
        });
        let svg = card_svg(&card, "x", None).unwrap();
        assert!(svg.contains("href=\"data:image/png;base64,"));
    }

    #[test]
    fn a_missing_photo_draws_the_placeholder() {
        let mut card = sample_card();
        card.photo = None;
        let svg = card_svg(&card, "x", None).unwrap();
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
            let mut card = sample_card();
            card.photo = Some(Photo { mime, bytes });
            let svg = card_svg(&card, "x", None).unwrap();
            assert!(parse(&svg).text.contains("无相片"), "{mime}");
            assert!(!svg.contains("data:"), "{mime}");
        }
    }

    #[test]
    fn a_photo_whose_bytes_do_not_match_its_type_draws_the_placeholder() {
        let mut card = sample_card();
        card.photo = Some(Photo {
            mime: "image/png",
            bytes: JPEG,
        });
        let svg = card_svg(&card, "x", None).unwrap();
        assert!(parse(&svg).text.contains("无相片"));
        assert!(!svg.contains("data:"));
    }

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
    }

    #[test]
    fn render_error_reads_as_english() {
        let err: Box<dyn std::error::Error> = Box::new(RenderError::QrTooLong);
        assert_eq!(err.to_string(), "the QR code payload is too long to encode");
    }

    #[test]
    fn a_long_address_wraps_onto_two_lines_and_then_is_cut_with_an_ellipsis() {
        let mut card = sample_card();
        card.residence_address = "广东省广州市天河区天河路三百八十五号太古汇商业中心一座二十八层二八零一室东侧再往里走第三间办公室内靠窗的位置";
        let svg = card_svg(&card, "x", None).unwrap();
        let parsed = parse(&svg);
        assert!(parsed.text.contains('…'));
        assert!(parsed.text.contains("广东省广州市天河区"));
        assert!(!parsed.text.contains("靠窗的位置"));
    }

    #[test]
    fn a_long_name_shrinks_instead_of_being_cut() {
        let mut card = sample_card();
        card.name = "买买提·艾力·阿卜杜热合曼·库尔班";
        let svg = card_svg(&card, "x", None).unwrap();
        let text = parse(&svg).text;
        assert!(text.contains("买买提·艾力·阿卜杜热合曼·库尔班"));
        assert!(!text.contains('…'));
    }

    #[test]
    fn wrapping_breaks_chinese_text_by_width() {
        let lines = wrap("一二三四五六七八九十", 4.0, 3);
        assert_eq!(lines, ["一二三四", "五六七八", "九十"]);
    }

    #[test]
    fn wrapping_cuts_the_last_allowed_line_with_an_ellipsis() {
        let lines = wrap("一二三四五六七八九十", 4.0, 2);
        assert_eq!(lines, ["一二三四", "五六七…"]);
        assert_eq!(wrap("一二三四五", 3.0, 1), ["一二…"]);
    }

    #[test]
    fn wrapping_keeps_a_house_number_together() {
        let lines = wrap("天河路一二385号", 5.2, 2);
        assert_eq!(lines, ["天河路一二", "385号"]);
    }

    #[test]
    fn wrapping_keeps_closing_punctuation_off_the_start_of_a_line() {
        let lines = wrap("一二三四，五六", 4.0, 3);
        assert_eq!(lines, ["一二三", "四，五六"]);
    }

    #[test]
    fn wrapping_empty_text_gives_no_lines_and_the_card_shows_a_dash() {
        assert!(wrap("  \n ", 10.0, 2).is_empty());
        let mut card = sample_card();
        card.ethnicity = "";
        let text = parse(&card_svg(&card, "x", None).unwrap()).text;
        assert!(text.contains(EMPTY_VALUE));
    }

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
    fn the_annotated_copy_shows_the_key_id_and_a_short_fingerprint() {
        let copy = sample_copy();
        let text = parse(&annotated_copy_svg(&copy)).text;
        assert!(text.contains("签名密钥编号"));
        assert!(text.contains("yueju-sign-2026-01"));
        assert!(text.contains("签名指纹"));
        assert!(text.contains("MEUC IQDx … AbCd EfGh"));
        assert!(!text.contains(copy.signature_b64));
    }

    #[test]
    fn the_annotated_copy_lists_the_details_and_the_annotation_in_its_footer() {
        let copy = sample_copy();
        let text = parse(&annotated_copy_svg(&copy)).text;
        for (label, value) in &copy.details {
            assert!(text.contains(label), "{label}");
            assert!(text.contains(value.as_str()), "{value}");
        }
        assert!(text.contains("加注内容"));
        assert!(text.contains("加注件"));
    }

    #[test]
    fn the_annotated_copy_shows_only_the_fields_it_is_given() {
        let mut copy = sample_copy();
        copy.fields = vec![("姓名", "陈志强".to_owned())];
        copy.photo = None;
        let svg = annotated_copy_svg(&copy);
        let text = parse(&svg).text;
        assert!(text.contains("姓名") && text.contains("陈志强"));
        for absent in ["公民身份号码", "居住地址", "户籍地址", "无相片"] {
            assert!(!text.contains(absent), "{absent}");
        }
        assert!(!svg.contains("<image"));
        assert!(text.contains("广东省电子居住证"));
    }

    #[test]
    fn the_annotated_copy_embeds_its_photo() {
        let svg = annotated_copy_svg(&sample_copy());
        assert!(svg.contains("href=\"data:image/png;base64,"));
    }

    #[test]
    fn hostile_text_in_the_annotated_copy_is_escaped() {
        let mut copy = sample_copy();
        copy.fields
            .push(("<b>标签</b>", "<img src=x onerror=alert(1)>".to_owned()));
        copy.watermark = "仅供<script>使用 & \"他用\" '无效'";
        copy.details.push(("用途", "a&b<c>".to_owned()));
        copy.key_id = "</text><script>";
        copy.signature_b64 = "<>&\"'<>&\"'<>&\"'<>&\"'<>&\"'";
        let svg = annotated_copy_svg(&copy);
        let parsed = parse(&svg);
        assert!(
            !parsed
                .elements
                .iter()
                .any(|e| e == "script" || e == "img" || e == "b")
        );
        assert!(parsed.text.contains("<img src=x onerror=alert(1)>"));
        assert!(parsed.text.contains("仅供<script>使用 & \"他用\" '无效'"));
        assert!(parsed.text.contains("a&b<c>"));
        assert!(parsed.text.contains("</text><script>"));
        assert!(
            count(
                &svg,
                "仅供&lt;script&gt;使用 &amp; &quot;他用&quot; &apos;无效&apos;"
            ) >= 8
        );
    }

    #[test]
    fn an_empty_watermark_draws_no_watermark_layer() {
        let mut copy = sample_copy();
        copy.watermark = "  ";
        let svg = annotated_copy_svg(&copy);
        parse(&svg);
        assert!(!svg.contains("rotate(-30"));
    }

    #[test]
    fn the_fingerprint_keeps_the_ends_of_the_signature() {
        assert_eq!(
            signature_fingerprint("AAAABBBBCCCCDDDDEEEEFFFFGGGG=="),
            "AAAA BBBB … FFFF GGGG"
        );
        assert_eq!(signature_fingerprint("abcd1234"), "abcd 1234");
        assert_eq!(signature_fingerprint(""), "");
    }

    #[test]
    fn numbers_are_written_compactly() {
        assert_eq!(N(12.0).to_string(), "12");
        assert_eq!(N(12.5).to_string(), "12.5");
        assert_eq!(N(1.0 / 3.0).to_string(), "0.33");
        assert_eq!(N(-4.0).to_string(), "-4");
    }
}
