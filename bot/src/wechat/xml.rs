//! The platform's XML: a flat `<xml>` element of fields in, a text reply out. Parsed with
//! quick-xml; a DOCTYPE is refused (so no entity can be declared, let alone expanded), only
//! the five predefined entities and character references are read, nesting and sizes are
//! bounded.

use quick_xml::Reader;
use quick_xml::events::Event;
use std::collections::HashMap;

/// Largest body accepted; the platform's messages are far smaller.
pub const MAX_BYTES: usize = 16 * 1024;
const MAX_FIELDS: usize = 32;
const MAX_FIELD_CHARS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlError {
    TooLarge,
    DocType,
    Malformed,
}

/// A pushed message (plaintext mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The official account (`gh_…`).
    pub to: String,
    /// The user's openid.
    pub from: String,
    pub create_time: i64,
    pub msg_type: String,
    pub content: Option<String>,
    pub msg_id: Option<String>,
    pub event: Option<String>,
    pub event_key: Option<String>,
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

fn fields(body: &[u8]) -> Result<HashMap<String, String>, XmlError> {
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
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => predefined(&r.xml10_content()).ok_or(XmlError::Malformed)?,
                    Err(_) => return Err(XmlError::Malformed),
                };
                value.push(c);
            }
            Event::End(_) => {
                if depth == 2
                    && let Some(name) = field.take()
                {
                    if value.chars().count() > MAX_FIELD_CHARS || fields.len() >= MAX_FIELDS {
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

pub fn parse(body: &[u8]) -> Result<Inbound, XmlError> {
    let mut f = fields(body)?;
    let mut required = |name: &str| {
        f.remove(name)
            .filter(|v| !v.is_empty())
            .ok_or(XmlError::Malformed)
    };
    let to = required("ToUserName")?;
    let from = required("FromUserName")?;
    let create_time = required("CreateTime")?
        .trim()
        .parse()
        .map_err(|_| XmlError::Malformed)?;
    let msg_type = required("MsgType")?;
    let mut optional = |name: &str| f.remove(name).filter(|v| !v.is_empty());
    Ok(Inbound {
        to,
        from,
        create_time,
        msg_type,
        content: optional("Content"),
        msg_id: optional("MsgId"),
        event: optional("Event"),
        event_key: optional("EventKey"),
    })
}

/// The passive text reply to `inbound`.
pub fn text_reply(inbound: &Inbound, content: &str, now: i64) -> String {
    use quick_xml::escape::escape;
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{now}</CreateTime><MsgType>text</MsgType><Content>{}</Content></xml>",
        escape(inbound.from.as_str()),
        escape(inbound.to.as_str()),
        escape(content)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_text_message_with_cdata_and_entities_is_read() {
        let body = b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o-1]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>a&amp;b&#x4F60;</Content><MsgId>42</MsgId></xml>";
        let m = parse(body).unwrap();
        assert_eq!(m.from, "o-1");
        assert_eq!(m.content.as_deref(), Some("a&b你"));
        assert_eq!(m.msg_id.as_deref(), Some("42"));
    }

    #[test]
    fn doctype_unknown_entities_nesting_and_junk_are_refused() {
        let doctype = b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]><xml><Content>&e;</Content></xml>";
        assert_eq!(parse(doctype), Err(XmlError::DocType));
        let entity = b"<xml><ToUserName>a</ToUserName><Content>&e;</Content></xml>";
        assert_eq!(parse(entity), Err(XmlError::Malformed));
        let nested = b"<xml><Content><b>x</b></Content></xml>";
        assert_eq!(parse(nested), Err(XmlError::Malformed));
        assert_eq!(parse(b"not xml at all"), Err(XmlError::Malformed));
        assert_eq!(
            parse(b"<xml><ToUserName>a</ToUserName>"),
            Err(XmlError::Malformed)
        );
        assert_eq!(parse(&vec![b' '; MAX_BYTES + 1]), Err(XmlError::TooLarge));
    }

    #[test]
    fn the_reply_escapes_what_it_carries() {
        let m = parse(b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>").unwrap();
        let reply = text_reply(&m, "a<b>&", 5);
        assert!(
            reply.contains("<Content>a&lt;b&gt;&amp;</Content>"),
            "{reply}"
        );
        assert!(reply.contains("<ToUserName>o</ToUserName>"));
    }
}
