use lopdf::{Document, Object};

use super::*;
use crate::Photo;
use crate::test_support::sample_copy;

const DATE: PdfDate = PdfDate {
    year: 2026,
    month: 3,
    day: 1,
    hour: 10,
    minute: 24,
    second: 5,
};

const ENVELOPE: &[u8] =
    br#"{"copy":{"annotation":{"text":"x"}},"alg":"EdDSA","kid":"k","signature":"s"}"#;

fn extras() -> PdfExtras<'static> {
    PdfExtras {
        qr_payload: "https://yueju.example.gov.cn/api/v1/verify/annotated-copy?sig=abc",
        qr_title: "扫码在线核验",
        qr_note: "用手机扫描二维码核验本加注件；附件 envelope.json 为签名数据。",
        envelope: ENVELOPE,
        made_at: DATE,
        fallback_font: None,
    }
}

/// A real 40×50 PNG, grey with a dark band.
fn png_photo() -> Vec<u8> {
    let (w, h) = (40u32, 50u32);
    let mut pixels = vec![200u8; (w * h * 3) as usize];
    for px in pixels.chunks_mut(3).take((w * 10) as usize) {
        px.copy_from_slice(&[20, 40, 90]);
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&pixels)
        .unwrap();
    out
}

fn page_texts(doc: &Document) -> Vec<String> {
    doc.get_pages()
        .keys()
        .map(|n| doc.extract_text(&[*n]).unwrap())
        .map(|t| t.chars().filter(|c| !c.is_whitespace()).collect())
        .collect()
}

fn fonts(doc: &Document) -> Vec<&lopdf::Dictionary> {
    doc.objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Type").and_then(Object::as_name).ok() == Some(b"Font"))
        .collect()
}

#[test]
fn the_pdf_is_an_a4_page_with_the_annotation_the_fields_and_the_footer_as_text() {
    let copy = sample_copy();
    let pdf = annotated_copy_pdf(&copy, &extras()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let doc = Document::load_mem(&pdf).unwrap();
    assert_eq!(doc.get_pages().len(), 1);
    let (_, page_id) = doc.get_pages().into_iter().next().unwrap();
    let page = doc.get_dictionary(page_id).unwrap();
    let media_box: Vec<f32> = page
        .get(b"MediaBox")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_float().unwrap())
        .collect();
    assert_eq!(media_box, [0.0, 0.0, 595.28, 841.89]);
    let text = &page_texts(&doc)[0];
    for needle in [
        "广东省电子居住证",
        "加注件",
        "陈志强",
        "4401**********1234",
        "广东省广州市天河区天河路385号太古汇一座2801室",
        "加注信息",
        "用证部门",
        "GR-20260301-000042",
        "yueju-sign-2026-01",
        "MEUCIQDx…AbCdEfGh",
        "扫码在线核验",
        "第1页，共1页",
    ] {
        assert!(text.contains(needle), "missing {needle} in {text}");
    }
    let watermark: String = copy.watermark.split_whitespace().collect();
    assert!(
        text.matches(watermark.as_str()).count() >= 8,
        "the watermark is not repeated across the page"
    );
}

#[test]
fn the_envelope_is_attached_byte_for_byte_as_envelope_json() {
    let pdf = annotated_copy_pdf(&sample_copy(), &extras()).unwrap();
    let doc = Document::load_mem(&pdf).unwrap();
    let spec = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .find(|d| d.get(b"Type").and_then(Object::as_name).ok() == Some(b"Filespec"))
        .expect("a file specification");
    assert_eq!(spec.get(b"F").unwrap().as_str().unwrap(), b"envelope.json");
    let stream_id = spec
        .get(b"EF")
        .unwrap()
        .as_dict()
        .unwrap()
        .get(b"F")
        .unwrap()
        .as_reference()
        .unwrap();
    let stream = doc.get_object(stream_id).unwrap().as_stream().unwrap();
    assert_eq!(stream.decompressed_content().unwrap(), ENVELOPE);
}

#[test]
fn the_font_is_embedded_as_a_subset_with_a_to_unicode_map() {
    let pdf = annotated_copy_pdf(&sample_copy(), &extras()).unwrap();
    // Far smaller than the 5 MB font: only the glyphs used are in it.
    assert!(pdf.len() < 400_000, "{} bytes", pdf.len());
    let doc = Document::load_mem(&pdf).unwrap();
    let fonts = fonts(&doc);
    let composite: Vec<_> = fonts
        .iter()
        .filter(|f| f.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Type0"))
        .collect();
    assert!(!composite.is_empty());
    for font in composite {
        assert!(font.has(b"ToUnicode"));
        let name = font.get(b"BaseFont").unwrap().as_name().unwrap();
        // A subset's name starts with six capital letters and a plus sign.
        assert_eq!(name[6], b'+', "{}", String::from_utf8_lossy(name));
        assert!(name[..6].iter().all(u8::is_ascii_uppercase));
    }
    assert!(doc.objects.values().any(|o| {
        o.as_dict()
            .is_ok_and(|d| d.has(b"FontFile2") || d.has(b"FontFile3"))
    }));
}

#[test]
fn a_real_photo_is_embedded_as_an_image() {
    let bytes = png_photo();
    let mut copy = sample_copy();
    copy.photo = Some(Photo {
        mime: "image/png",
        bytes: &bytes,
    });
    let pdf = annotated_copy_pdf(&copy, &extras()).unwrap();
    let doc = Document::load_mem(&pdf).unwrap();
    let images = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image"))
        .count();
    assert_eq!(images, 1);
    assert!(!page_texts(&doc)[0].contains("无相片"));
}

#[test]
fn a_photo_that_is_not_an_image_is_the_placeholder() {
    // sample_copy's photo is a PNG signature and nothing else.
    let pdf = annotated_copy_pdf(&sample_copy(), &extras()).unwrap();
    let doc = Document::load_mem(&pdf).unwrap();
    assert!(page_texts(&doc)[0].contains("无相片"));
}

#[test]
fn a_long_copy_runs_onto_a_second_page_with_the_annotation_on_both() {
    let mut copy = sample_copy();
    let long = "广东省广州市天河区天河路三百八十五号太古汇商业中心一座二十八层二八零一室东侧再往里走第三间办公室内靠窗的位置";
    for label in [
        "甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬", "癸", "子", "丑", "寅", "卯",
    ] {
        copy.fields.push((label, long.to_owned()));
    }
    let pdf = annotated_copy_pdf(&copy, &extras()).unwrap();
    let doc = Document::load_mem(&pdf).unwrap();
    let texts = page_texts(&doc);
    assert_eq!(texts.len(), 2);
    let watermark: String = copy.watermark.split_whitespace().collect();
    for (i, text) in texts.iter().enumerate() {
        assert!(
            text.matches(watermark.as_str()).count() >= 8,
            "page {}",
            i + 1
        );
        assert!(text.contains(&format!("第{}页，共2页", i + 1)));
    }
    assert!(texts[1].contains("加注信息"));
}

#[test]
fn an_oversized_qr_payload_is_qr_too_long() {
    let payload = "A".repeat(5000);
    let mut extras = extras();
    extras.qr_payload = &payload;
    assert_eq!(
        annotated_copy_pdf(&sample_copy(), &extras),
        Err(RenderError::QrTooLong)
    );
}

#[test]
fn write_the_sample_for_a_look() {
    if let Ok(path) = std::env::var("YUEJU_PDF_SAMPLE") {
        let bytes = png_photo();
        let mut copy = sample_copy();
        copy.photo = Some(Photo {
            mime: "image/png",
            bytes: &bytes,
        });
        std::fs::write(path, annotated_copy_pdf(&copy, &extras()).unwrap()).unwrap();
    }
}

#[test]
fn the_embedded_font_prints_common_chinese_latin_and_punctuation() {
    let text = "仅供广州市天河区教育局用于子女入学，2026年03月31日前有效（ABC-123 №5·、。）";
    assert_eq!(unprintable_chars(text), Vec::<char>::new());
}

#[test]
fn characters_beyond_the_embedded_font_are_named_once_each() {
    // U+20BB7 and U+2A6A5 are in CJK Extension B, which WenQuanYi Micro Hei does not cover.
    let text = "用于𠮷祥𪚥事务𠮷";
    assert_eq!(unprintable_chars(text), vec!['𠮷', '𪚥']);
}

#[test]
fn whitespace_and_direction_overrides_are_not_counted_as_unprintable() {
    assert_eq!(
        unprintable_chars(" 入学\u{202E}\n\t核验 "),
        Vec::<char>::new()
    );
}

/// The URIs of the link annotations on each page.
fn link_uris(doc: &Document) -> Vec<Vec<String>> {
    doc.get_pages()
        .values()
        .map(|page| {
            let page = doc.get_dictionary(*page).unwrap();
            let Ok(annots) = page.get(b"Annots") else {
                return Vec::new();
            };
            let annots = match annots {
                Object::Reference(id) => doc.get_object(*id).unwrap().as_array().unwrap(),
                other => other.as_array().unwrap(),
            };
            annots
                .iter()
                .map(|a| {
                    let a = match a {
                        Object::Reference(id) => doc.get_dictionary(*id).unwrap(),
                        other => other.as_dict().unwrap(),
                    };
                    assert_eq!(a.get(b"Subtype").unwrap().as_name().unwrap(), b"Link");
                    let action = a.get(b"A").unwrap().as_dict().unwrap();
                    let uri = action.get(b"URI").unwrap().as_str().unwrap();
                    String::from_utf8(uri.to_vec()).unwrap()
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_qr_code_is_also_a_link_to_what_it_carries() {
    let pdf = annotated_copy_pdf(&sample_copy(), &extras()).unwrap();
    let doc = Document::load_mem(&pdf).unwrap();
    let links = link_uris(&doc);
    assert_eq!(links.concat(), vec![extras().qr_payload.to_owned()]);
}

/// Debian's fonts-hanazono: HanaMinB covers CJK Extension B.
const HANAZONO_B: &str = "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf";

#[test]
fn a_file_that_is_not_a_font_is_refused_as_a_fallback() {
    assert_eq!(
        FallbackFont::from_bytes(b"not a font at all".to_vec()).err(),
        Some(RenderError::Font)
    );
    assert_eq!(
        FallbackFont::from_bytes(Vec::new()).err(),
        Some(RenderError::Font)
    );
}

#[test]
fn without_a_fallback_font_the_text_is_one_run_of_the_built_in_font() {
    assert_eq!(font_runs("陈𠮷强", None), vec![("陈𠮷强", false)]);
}

#[test]
#[ignore = "needs HanaMinB.ttf (Debian fonts-hanazono); .ci/run installs it"]
fn with_a_fallback_font_a_rare_character_in_a_name_is_drawn_and_reads_back() {
    let fallback = FallbackFont::from_bytes(std::fs::read(HANAZONO_B).unwrap()).unwrap();
    assert!(fallback.has('𠮷') && !unprintable_chars("𠮷").is_empty());
    assert_eq!(
        font_runs("陈𠮷强 A", Some(&fallback)),
        vec![("陈", false), ("𠮷", true), ("强 A", false)]
    );

    let mut copy = sample_copy();
    copy.fields[0] = ("姓名", "陈𠮷强".to_owned());
    let without = Document::load_mem(&annotated_copy_pdf(&copy, &extras()).unwrap()).unwrap();
    assert!(!page_texts(&without)[0].contains("陈𠮷强"));

    let pdf = annotated_copy_pdf(
        &copy,
        &PdfExtras {
            fallback_font: Some(&fallback),
            ..extras()
        },
    )
    .unwrap();
    // Only the glyph used is embedded, not the 30 MB font.
    assert!(pdf.len() < 400_000, "{} bytes", pdf.len());
    let doc = Document::load_mem(&pdf).unwrap();
    assert!(
        page_texts(&doc)[0].contains("陈𠮷强"),
        "{:?}",
        page_texts(&doc)
    );
    let base_fonts: Vec<String> = fonts(&doc)
        .iter()
        .filter(|f| f.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Type0"))
        .map(|f| String::from_utf8_lossy(f.get(b"BaseFont").unwrap().as_name().unwrap()).into())
        .collect();
    assert!(
        base_fonts.iter().any(|n| n.contains("HanaMinB")),
        "{base_fonts:?}"
    );
}
