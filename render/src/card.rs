//! The permit card as the holder sees it on the phone: a blue header with the 粤 seal and,
//! when the caller gives one, a red status badge; the photo and the labelled fields; then the
//! 粤居码 with an optional caption. The card is a portrait layout 400 user units wide so that
//! it stays legible when a phone shows it 375 px wide (the smallest text is 13 units, about
//! 12 px).

use std::fmt::Write as _;

use crate::RenderError;
use crate::qr;
use crate::rows::{Columns, EMPTY_VALUE, Row, draw_rows};
use crate::svg::photo::{Photo, draw_photo};
use crate::svg::{
    Anchor, BLUE, BLUE_DARK, LINE, MUTED, N, RED, Rect, Style, WHITE, document, header_band,
    header_gradient, text,
};
use crate::text::{text_em, wrap};

/// The permit as shown on the card, every value already worded for people. Deliberately not
/// `Debug`: it holds personal data that must not end up in logs.
pub struct CardFields<'a> {
    pub name: &'a str,
    /// As printed, e.g. 男.
    pub gender_label: &'a str,
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
    /// Drawn as a red badge in the header, e.g. 已暂停; `None` draws no badge (a valid
    /// permit).
    pub status_label: Option<&'a str>,
    pub photo: Option<Photo<'a>>,
}

const W: f32 = 400.0;
const HEADER_H: f32 = 68.0;
const MARGIN: f32 = 20.0;
const PHOTO_W: f32 = 96.0;
const PHOTO_H: f32 = 120.0;

/// Renders the permit card; `qr_payload` is drawn as a QR code (error
/// correction M) with the caption 粤居码, and `qr_caption` (e.g. the code's
/// expiry time) in small text under it.
pub fn card_svg(
    card: &CardFields<'_>,
    qr_payload: &str,
    qr_caption: Option<&str>,
) -> Result<String, RenderError> {
    let code = qr::encode(qr_payload)?;
    let mut body = String::new();
    draw_header(&mut body, card.status_label);

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
            .emphasis(Style::bold)
            .lines(2),
        Row::new("性别", card.gender_label),
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
    let y = fields_end.max(top + PHOTO_H + 14.0);

    let y = draw_code(&mut body, &code, y, qr_caption);
    let height = (y + 24.0).ceil();

    let defs = format!(
        r##"<clipPath id="yj-card-clip"><rect width="{w}" height="{h}" rx="16"/></clipPath>{head}<linearGradient id="yj-card-bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#ffffff"/><stop offset="1" stop-color="#edf3fb"/></linearGradient>"##,
        w = N(W),
        h = N(height),
        head = header_gradient("yj-card-head"),
    );
    let mut content = background(height);
    content.push_str(&body);
    Ok(document(W, height, "广东省电子居住证", &defs, &content))
}

/// The header band clipped to the card's rounded corners, the round 粤 seal, the title and
/// the status badge if there is one.
fn draw_header(body: &mut String, status_label: Option<&str>) {
    let circles = format!(
        r#"<circle cx="{c1x}" cy="-8" r="64" fill="{WHITE}" fill-opacity="0.06"/><circle cx="{c2x}" cy="{h}" r="44" fill="{WHITE}" fill-opacity="0.05"/>"#,
        c1x = N(W - 40.0),
        c2x = N(W - 120.0),
        h = N(HEADER_H),
    );
    body.push_str(r#"<g clip-path="url(#yj-card-clip)">"#);
    header_band(body, W, HEADER_H, "yj-card-head", &circles);
    body.push_str("</g>");
    let cy = HEADER_H / 2.0;
    let _ = write!(
        body,
        r#"<circle cx="38" cy="{cy}" r="19" fill="{WHITE}" fill-opacity="0.14" stroke="{WHITE}" stroke-width="1.5"/>"#,
        cy = N(cy),
    );
    text(
        body,
        38.0,
        cy + 7.0,
        Style::new(20.0, WHITE).bold().anchor(Anchor::Middle),
        "粤",
    );
    text(
        body,
        68.0,
        cy + 8.0,
        Style::new(21.0, WHITE).bold().spacing(1.0),
        "广东省电子居住证",
    );
    if let Some(badge) = status_label {
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
            body,
            bx + bw / 2.0,
            by + 18.0,
            Style::new(size, WHITE).bold().anchor(Anchor::Middle),
            badge,
        );
    }
}

/// A dashed divider below `y`, then the 粤居码 in a white box, its title and the caption;
/// returns the y of the last baseline.
fn draw_code(body: &mut String, code: &qrcode::QrCode, y: f32, caption: Option<&str>) -> f32 {
    /// Target side of the QR code (quiet zone included), in user units.
    const QR_TARGET: f32 = 192.0;
    /// Quiet zone in modules; the white box and the pale card add to it.
    const QR_QUIET: usize = 2;

    let _ = write!(
        body,
        r#"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{LINE}" stroke-width="1" stroke-dasharray="4 4"/>"#,
        x1 = N(MARGIN),
        x2 = N(W - MARGIN),
        y = N(y + 4.0),
    );
    let mut y = (y + 22.0).round();
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
    qr::draw(body, code, qr_x + 6.0, y + 6.0, qr_unit, QR_QUIET);
    y += qr_box + 28.0;
    text(
        body,
        W / 2.0,
        y,
        Style::new(18.0, BLUE_DARK)
            .bold()
            .anchor(Anchor::Middle)
            .spacing(2.0),
        "粤居码",
    );
    if let Some(caption) = caption {
        let size = 13.0;
        for line in wrap(caption, (W - 2.0 * MARGIN) / size, 2) {
            y += size * 1.5;
            text(
                body,
                W / 2.0,
                y,
                Style::new(size, MUTED).anchor(Anchor::Middle),
                &line,
            );
        }
    }
    y
}

/// The pale rounded card with faint guilloche-like waves behind the fields.
fn background(height: f32) -> String {
    let mut out = format!(
        r#"<rect x="0.5" y="0.5" width="{w}" height="{h}" rx="16" fill="url(#yj-card-bg)" stroke="{LINE}"/>"#,
        w = N(W - 1.0),
        h = N(height - 1.0),
    );
    let _ = write!(
        out,
        r#"<g fill="none" stroke="{BLUE}" stroke-opacity="0.06" stroke-width="1">"#
    );
    let mut wy = HEADER_H + 40.0;
    while wy < height - 20.0 {
        let _ = write!(
            out,
            r#"<path d="M0 {a} C100 {b} 300 {c} {w} {a}"/>"#,
            a = N(wy),
            b = N(wy - 22.0),
            c = N(wy + 22.0),
            w = N(W),
        );
        wy += 26.0;
    }
    out.push_str("</g>");
    out
}

fn or_empty(value: &str) -> &str {
    if value.trim().is_empty() {
        EMPTY_VALUE
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{count, parse, sample_card};

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
    fn the_gender_is_printed_as_the_caller_words_it() {
        let mut card = sample_card();
        card.gender_label = "女";
        let text = parse(&card_svg(&card, "x", None).unwrap()).text;
        assert!(text.contains("女"));
        card.gender_label = "未知";
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
        card.status_label = Some("<b>已暂停</b>");
        let svg = card_svg(&card, "<payload>", Some("</text><svg onload=\"x\">")).unwrap();
        let parsed = parse(&svg);
        assert!(!parsed.elements.iter().any(|e| e == "script" || e == "b"));
        assert_eq!(count(&svg, "<svg"), 1);
        assert!(svg.contains(">&lt;script&gt;</text>"));
        assert!(svg.contains("a&amp;b"));
        assert!(parsed.text.contains("<script>alert(1)</script>"));
        assert!(parsed.text.contains("a&b"));
        assert!(parsed.text.contains(r#""quoted" & 'single'"#));
        assert!(parsed.text.contains("&amp;&#0;&lt;"));
        assert!(parsed.text.contains(r#"</text><svg onload="x">"#));
        assert!(parsed.text.contains("<b>已暂停</b>"));
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
    fn a_card_without_a_status_label_shows_no_badge() {
        let svg = card_svg(&sample_card(), "x", None).unwrap();
        let text = parse(&svg).text;
        for badge in ["已暂停", "已过期", "已注销", "状态异常"] {
            assert!(!text.contains(badge));
        }
        assert!(!svg.contains(&format!(r#"fill="{RED}""#)));
    }

    #[test]
    fn a_status_label_is_shown_as_a_red_badge() {
        for badge in ["已暂停", "已过期", "已注销", "状态异常"] {
            let mut card = sample_card();
            card.status_label = Some(badge);
            let svg = card_svg(&card, "x", None).unwrap();
            assert!(parse(&svg).text.contains(badge), "{badge} missing");
            assert!(svg.contains(&format!(r#"fill="{RED}""#)));
        }
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
}
