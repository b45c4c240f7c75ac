//! The official account's messages: a flat `<xml>` element of fields in (read by the hardened
//! reader of `service::identity::wechat::xml`), a text reply out.

pub use service::identity::wechat::xml::{MAX_BYTES, XmlError};
use service::identity::wechat::xml::{MAX_FIELD_CHARS, fields};

/// A pushed message (in 安全模式 the decrypted inner one).
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

pub fn parse(body: &[u8]) -> Result<Inbound, XmlError> {
    let mut f = fields(body, MAX_FIELD_CHARS)?;
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

/// The passive text reply to `inbound`, created at `now` (Unix seconds of the system time,
/// which the platform compares with its own).
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
