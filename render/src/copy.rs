//! The annotated copy (加注件) that an agency downloads with the holder's consent: the fields
//! and photo the grant allows, a footer with the annotation details, the signing key id and a
//! short signature fingerprint, and the annotation printed diagonally and repeatedly across
//! everything as a semi-transparent watermark.

use std::fmt::Write as _;

use crate::rows::{Columns, Row, draw_rows, label_column_em};
use crate::svg::photo::{Photo, draw_photo};
use crate::svg::watermark::draw_watermark;
use crate::svg::{
    Anchor, BLUE_DARK, LINE, MUTED, N, Rect, Style, WHITE, document, header_band, header_gradient,
    text,
};
use crate::text::text_em;

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

// The copy's geometry, shared by the SVG and the PDF copy (which scales it to A4).
pub(crate) const W: f32 = 640.0;
pub(crate) const HEADER_H: f32 = 76.0;
pub(crate) const MARGIN: f32 = 32.0;
pub(crate) const PHOTO_W: f32 = 120.0;
pub(crate) const PHOTO_H: f32 = 150.0;
/// Where the fields start, below the header.
pub(crate) const FIELDS_TOP: f32 = HEADER_H + 26.0;
const CLIP_ID: &str = "yj-copy-clip";
/// The line under the fields, on the SVG and the PDF copy.
pub(crate) const FOOTER_NOTICE: &str = "本件为广东省电子居住证加注件，仅限加注所列用途使用。";

/// Renders the annotated copy (加注件): the permitted fields and photo, the
/// watermark repeated diagonally across the whole copy, and a footer with the
/// annotation details, the signing key id and a short signature fingerprint.
pub fn annotated_copy_svg(copy: &AnnotatedCopy<'_>) -> String {
    let mut body = String::new();
    draw_header(&mut body);

    let top = FIELDS_TOP;
    if let Some(photo) = copy.photo.as_ref() {
        draw_photo(&mut body, Some(photo), photo_frame(), "yj-copy-photo");
    }
    let rows: Vec<Row<'_>> = copy
        .fields
        .iter()
        .map(|(label, value)| field_row(label, value))
        .collect();
    let columns = field_columns(copy);
    let mut y = draw_rows(&mut body, &rows, &columns, top);
    if copy.photo.is_some() {
        y = y.max(top + PHOTO_H + 16.0);
    }

    y += 14.0;
    text(&mut body, MARGIN, y, Style::new(12.0, MUTED), FOOTER_NOTICE);
    y += 18.0;

    let footer_bottom = draw_footer(&mut body, copy, y);
    let height = (footer_bottom + MARGIN).ceil();

    // The watermark goes on top of everything so it cannot be cropped out
    // without damaging the content.
    draw_watermark(&mut body, copy.watermark, W, height, CLIP_ID);

    let defs = format!(
        r#"<clipPath id="{CLIP_ID}"><rect width="{w}" height="{h}"/></clipPath>{head}"#,
        w = N(W),
        h = N(height),
        head = header_gradient("yj-copy-head"),
    );
    let mut content = format!(
        r#"<rect x="0.5" y="0.5" width="{w}" height="{h}" fill="{WHITE}" stroke="{LINE}"/>"#,
        w = N(W - 1.0),
        h = N(height - 1.0),
    );
    content.push_str(&body);
    document(W, height, "广东省电子居住证加注件", &defs, &content)
}

/// Where the photo goes, top right beside the first fields.
pub(crate) fn photo_frame() -> Rect {
    Rect::new(W - MARGIN - PHOTO_W, FIELDS_TOP, PHOTO_W, PHOTO_H)
}

/// The columns of the permit's fields: rows beside the photo (when there is one) end before
/// it.
pub(crate) fn field_columns(copy: &AnnotatedCopy<'_>) -> Columns {
    let (narrow_until, narrow_right) = match copy.photo {
        Some(_) => (FIELDS_TOP + PHOTO_H, W - MARGIN - PHOTO_W - 16.0),
        None => (FIELDS_TOP, W - MARGIN),
    };
    let label_size = 14.0;
    let label_max_em = label_column_em(copy.fields.iter().map(|(label, _)| *label));
    Columns {
        label_x: MARGIN,
        label_size,
        label_max_em,
        value_x: MARGIN + label_max_em * label_size + 18.0,
        narrow_until,
        narrow_right,
        wide_right: W - MARGIN,
        row_gap: 12.0,
    }
}

/// One of the permit's fields as a row.
pub(crate) fn field_row<'s>(label: &'s str, value: &'s str) -> Row<'s> {
    Row::new(label, value).size(16.0).lines(3)
}

/// The footer's two signature labels: the key id, then the fingerprint.
const SIGNATURE_LABELS: [&str; 2] = ["签名密钥编号", "签名指纹"];

/// The columns inside the footer box that spans `footer_x` to `footer_x + footer_w`.
pub(crate) fn footer_columns(copy: &AnnotatedCopy<'_>, footer_x: f32, footer_w: f32) -> Columns {
    let footer_label = 13.0;
    let footer_em = label_column_em(
        std::iter::once("加注内容")
            .chain(copy.details.iter().map(|(label, _)| *label))
            .chain(SIGNATURE_LABELS),
    );
    Columns {
        label_x: footer_x + 18.0,
        label_size: footer_label,
        label_max_em: footer_em,
        value_x: footer_x + 18.0 + footer_em * footer_label + 16.0,
        narrow_until: 0.0,
        narrow_right: footer_x + footer_w - 18.0,
        wide_right: footer_x + footer_w - 18.0,
        row_gap: 8.0,
    }
}

/// The footer's rows above the dashed rule: the annotation (on up to `annotation_lines`
/// lines), then its details.
pub(crate) fn footer_detail_rows<'s>(
    copy: &'s AnnotatedCopy<'_>,
    annotation_lines: usize,
) -> Vec<Row<'s>> {
    let mut rows = vec![
        Row::new("加注内容", copy.watermark)
            .size(14.0)
            .lines(annotation_lines),
    ];
    rows.extend(
        copy.details
            .iter()
            .map(|(label, value)| Row::new(label, value).size(14.0).lines(2)),
    );
    rows
}

/// The footer's rows below the dashed rule: the signing key id and the signature's
/// `fingerprint` ([`signature_fingerprint`]).
pub(crate) fn footer_signature_rows<'s>(
    copy: &'s AnnotatedCopy<'_>,
    fingerprint: &'s str,
) -> [Row<'s>; 2] {
    [
        Row::new(SIGNATURE_LABELS[0], copy.key_id)
            .size(14.0)
            .emphasis(Style::mono)
            .lines(2),
        Row::new(SIGNATURE_LABELS[1], fingerprint)
            .size(14.0)
            .emphasis(Style::mono),
    ]
}

/// The header band with the title and the boxed 加注件 tag.
fn draw_header(body: &mut String) {
    header_band(body, W, HEADER_H, "yj-copy-head", "");
    text(
        body,
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
        body,
        tag_x + tag_w / 2.0,
        44.0,
        Style::new(16.0, WHITE)
            .bold()
            .anchor(Anchor::Middle)
            .spacing(2.0),
        tag,
    );
}

/// The boxed footer from `footer_top`: the annotation and its details, a dashed rule, then
/// the signing key id and the signature fingerprint. Returns the y below the box.
fn draw_footer(body: &mut String, copy: &AnnotatedCopy<'_>, footer_top: f32) -> f32 {
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
    let footer_columns = footer_columns(copy, footer_x, footer_w);
    let detail_rows = footer_detail_rows(copy, 3);
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
    let signature_rows = footer_signature_rows(copy, &fingerprint);
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
    footer_top + footer_h
}

/// Short form of a signature for people to compare: the first and last
/// eight characters of its base64 text, in groups of four.
pub(crate) fn signature_fingerprint(signature_b64: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{count, parse, sample_copy};

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
    fn the_fingerprint_keeps_the_ends_of_the_signature() {
        assert_eq!(
            signature_fingerprint("AAAABBBBCCCCDDDDEEEEFFFFGGGG=="),
            "AAAA BBBB … FFFF GGGG"
        );
        assert_eq!(signature_fingerprint("abcd1234"), "abcd 1234");
        assert_eq!(signature_fingerprint(""), "");
    }
}
