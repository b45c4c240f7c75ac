//! Samples and a strict SVG parser shared by the unit tests of every module.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::{AnnotatedCopy, CardFields, Photo};

pub(crate) const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'];
pub(crate) const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

pub(crate) fn sample_card() -> CardFields<'static> {
    CardFields {
        name: "陈志强",
        gender_label: "男",
        ethnicity: "汉族",
        id_number: "440102199001011234",
        hukou_address: "湖南省衡阳市衡南县云集镇新民村五组",
        residence_address: "广东省广州市天河区天河路385号太古汇一座2801室",
        issuing_authority: "广州市公安局天河区分局",
        issued_on: "2026-01-15",
        valid_from: "2026-01-15",
        valid_until: "2029-01-14",
        permit_no: "粤穗2026000123",
        status_label: None,
        photo: Some(Photo {
            mime: "image/jpeg",
            bytes: JPEG,
        }),
    }
}

pub(crate) fn sample_copy() -> AnnotatedCopy<'static> {
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
pub(crate) struct Parsed {
    /// Names of all elements, in document order.
    pub(crate) elements: Vec<String>,
    /// All character data, entity references resolved.
    pub(crate) text: String,
}

/// Parses `xml` strictly: one root `<svg>` in the SVG namespace,
/// balanced tags, well-formed attributes, only predefined entities or
/// character references. Panics on anything else.
pub(crate) fn parse(xml: &str) -> Parsed {
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

pub(crate) fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}
