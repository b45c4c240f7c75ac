//! The platform's XML as every message server receives it: a flat `<xml>` element of fields.
//! Parsed with quick-xml; a DOCTYPE is refused (so no entity can be declared, let alone
//! expanded), only the five predefined entities and character references are read, nesting
//! and sizes are bounded.

use quick_xml::Reader;
use quick_xml::events::Event;
use std::collections::HashMap;

/// Largest body accepted; the platform's messages are far smaller (in 兼容模式 a message
/// comes twice, in clear and encrypted, and the ciphertext is a third larger than the text).
pub const MAX_BYTES: usize = 32 * 1024;
const MAX_FIELDS: usize = 32;
/// Longest field of a message.
pub const MAX_FIELD_CHARS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlError {
    TooLarge,
    DocType,
    Malformed,
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// The character an entity or character reference stands for: only the five predefined
/// entities and character references are read, anything else is malformed. Shared with the
/// event reader of [`super::push`].
pub(crate) fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<char, XmlError> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => Ok(c),
        Ok(None) => predefined(&r.xml10_content()).ok_or(XmlError::Malformed),
        Err(_) => Err(XmlError::Malformed),
    }
}

/// The fields of a flat `<xml>` document, each at most `max_field_chars` characters.
pub fn fields(body: &[u8], max_field_chars: usize) -> Result<HashMap<String, String>, XmlError> {
    if body.len() > MAX_BYTES {
        return Err(XmlError::TooLarge);
    }
    let text = std::str::from_utf8(body).map_err(|_| XmlError::Malformed)?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut fields = HashMap::new();
    let mut depth = 0usize;
    let mut field: Option<String> = None;
    let mut value = String::new();
    let mut seen_root = false;
    loop {
        match reader.read_event().map_err(|_| XmlError::Malformed)? {
            Event::DocType(_) => return Err(XmlError::DocType),
            Event::Start(e) => {
                depth += 1;
                let qname = e.name();
                let name = AsRef::<str>::as_ref(&qname).to_owned();
                match depth {
                    1 if name == "xml" && !seen_root => seen_root = true,
                    2 => {
                        field = Some(name);
                        value.clear();
                    }
                    _ => return Err(XmlError::Malformed),
                }
            }
            Event::Empty(e) => {
                if depth != 1 {
                    return Err(XmlError::Malformed);
                }
                let qname = e.name();
                let name = AsRef::<str>::as_ref(&qname).to_owned();
                fields.insert(name, String::new());
            }
            Event::Text(t) => {
                if depth != 2 {
                    return Err(XmlError::Malformed);
                }
                value.push_str(&t.xml10_content());
            }
            Event::CData(t) => {
                if depth != 2 {
                    return Err(XmlError::Malformed);
                }
                value.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) => {
                if depth != 2 {
                    return Err(XmlError::Malformed);
                }
                value.push(resolve_reference(&r)?);
            }
            Event::End(_) => {
                if depth == 2
                    && let Some(name) = field.take()
                {
                    if value.chars().count() > max_field_chars || fields.len() >= MAX_FIELDS {
                        return Err(XmlError::TooLarge);
                    }
                    fields.insert(name, std::mem::take(&mut value));
                }
                depth = depth.checked_sub(1).ok_or(XmlError::Malformed)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
        }
    }
    if !seen_root || depth != 0 {
        return Err(XmlError::Malformed);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_field_longer_than_the_limit_is_refused_as_too_large() {
        let body = format!("<xml><Encrypt>{}</Encrypt></xml>", "a".repeat(5000));
        assert_eq!(
            fields(body.as_bytes(), MAX_FIELD_CHARS),
            Err(XmlError::TooLarge)
        );
        assert_eq!(
            fields(body.as_bytes(), MAX_BYTES).unwrap()["Encrypt"].len(),
            5000
        );
    }

    #[test]
    fn a_doctype_is_refused_before_any_entity_is_read() {
        let doctype = b"<!DOCTYPE x [<!ENTITY e \"boom\">]><xml><Encrypt>&e;</Encrypt></xml>";
        assert_eq!(fields(doctype, MAX_BYTES), Err(XmlError::DocType));
    }

    // The platform's pushes reach us from the network: any bytes give fields or a clean error.
    proptest::proptest! {
        #[test]
        fn reading_any_bytes_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000)) {
            let _ = fields(&bytes, MAX_FIELD_CHARS);
        }

        #[test]
        fn reading_any_text_inside_an_envelope_never_panics(inner in "\\PC{0,500}") {
            let body = format!("<xml><Content>{inner}</Content></xml>");
            let _ = fields(body.as_bytes(), MAX_FIELD_CHARS);
        }
    }
}
