//! The mini-programs' message push (消息推送): the subscribe events the platform sends to
//! `/api/v1/wechat/miniprogram/{app}` as XML (opened by [`super::message_server`] first).
//! Read with quick-xml as hardened as the flat reader in [`super::xml`]: a DOCTYPE is refused (so no entity can be declared, let alone expanded), only the
//! five predefined entities and character references are read, and size, depth, element
//! count and text length are bounded. Unlike the bot's flat messages these events nest
//! (`<SubscribeMsgPopupEvent><List>…</List></SubscribeMsgPopupEvent>`), four levels at most.

use quick_xml::Reader;
use quick_xml::events::Event;

pub use super::xml::XmlError;

/// Largest event accepted; the platform's events are far smaller.
pub const MAX_BYTES: usize = 16 * 1024;
/// `xml` > `SubscribeMsgPopupEvent` > `List` > `TemplateId`.
const MAX_DEPTH: usize = 4;
const MAX_ELEMENTS: usize = 256;
const MAX_TEXT_CHARS: usize = 1024;
/// Templates one event reports at most (a popup asks for three at most).
const MAX_ITEMS: usize = 20;

/// What an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `subscribe_msg_popup_event`: the user answered `wx.requestSubscribeMessage`.
    Popup,
    /// `subscribe_msg_change_event`: the user changed a subscription in the settings.
    Change,
    /// `subscribe_msg_sent_event`: what became of a message sent.
    Sent,
    /// Anything else the push brings (acknowledged and ignored).
    Other(String),
}

/// One template in an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventItem {
    pub template_id: String,
    /// `accept` or `reject` (popup and change events).
    pub status: Option<String>,
    pub popup_scene: Option<String>,
    /// The message's id (sent events).
    pub msg_id: Option<String>,
    /// 0 when delivered (sent events).
    pub error_code: Option<i64>,
    pub error_status: Option<String>,
}

/// A pushed event (plaintext).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    /// The mini-program's original id (`gh_…`).
    pub to: String,
    /// The user's openid in that mini-program.
    pub from: String,
    pub create_time: i64,
    pub msg_type: String,
    /// The `Event` field as sent (empty for messages that are not events).
    pub event: String,
    pub kind: EventKind,
    pub items: Vec<EventItem>,
}

#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn field(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_owned())
            .filter(|t| !t.is_empty())
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    // Text outside the root is not XML; inside, it belongs to the innermost open element.
    let current = stack.last_mut().ok_or(XmlError::Malformed)?;
    current.text.push_str(text);
    if current.text.chars().count() > MAX_TEXT_CHARS {
        return Err(XmlError::TooLarge);
    }
    Ok(())
}

fn tree(body: &[u8]) -> Result<Element, XmlError> {
    if body.len() > MAX_BYTES {
        return Err(XmlError::TooLarge);
    }
    let text = std::str::from_utf8(body).map_err(|_| XmlError::Malformed)?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        match reader.read_event().map_err(|_| XmlError::Malformed)? {
            Event::DocType(_) => return Err(XmlError::DocType),
            Event::Start(e) => {
                elements += 1;
                if root.is_some() || stack.len() >= MAX_DEPTH {
                    return Err(XmlError::Malformed);
                }
                if elements > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge);
                }
                let qname = e.name();
                stack.push(Element {
                    name: AsRef::<str>::as_ref(&qname).to_owned(),
                    ..Element::default()
                });
            }
            Event::Empty(e) => {
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge);
                }
                let qname = e.name();
                let element = Element {
                    name: AsRef::<str>::as_ref(&qname).to_owned(),
                    ..Element::default()
                };
                let room = stack.len() < MAX_DEPTH;
                match stack.last_mut() {
                    Some(parent) if room => parent.children.push(element),
                    _ => return Err(XmlError::Malformed),
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::CData(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::GeneralRef(r) => {
                let c = super::xml::resolve_reference(&r)?;
                push_text(&mut stack, c.encode_utf8(&mut [0u8; 4]))?;
            }
            Event::End(_) => {
                let done = stack.pop().ok_or(XmlError::Malformed)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
        }
    }
    match root {
        Some(root) if stack.is_empty() && root.name == "xml" => Ok(root),
        _ => Err(XmlError::Malformed),
    }
}

/// Reads a pushed event.
pub fn parse(body: &[u8]) -> Result<PushEvent, XmlError> {
    let root = tree(body)?;
    let required = |name: &str| root.field(name).ok_or(XmlError::Malformed);
    let to = required("ToUserName")?;
    let from = required("FromUserName")?;
    let create_time = required("CreateTime")?
        .parse()
        .map_err(|_| XmlError::Malformed)?;
    let msg_type = required("MsgType")?;
    let event = root.field("Event").unwrap_or_default();
    let (kind, container) = match event.as_str() {
        "subscribe_msg_popup_event" => (EventKind::Popup, "SubscribeMsgPopupEvent"),
        "subscribe_msg_change_event" => (EventKind::Change, "SubscribeMsgChangeEvent"),
        "subscribe_msg_sent_event" => (EventKind::Sent, "SubscribeMsgSentEvent"),
        other => (EventKind::Other(other.to_owned()), ""),
    };
    let mut items = Vec::new();
    if let Some(list) = root.child(container) {
        for entry in list.children.iter().filter(|c| c.name == "List") {
            if items.len() >= MAX_ITEMS {
                return Err(XmlError::TooLarge);
            }
            let Some(template_id) = entry.field("TemplateId") else {
                return Err(XmlError::Malformed);
            };
            items.push(EventItem {
                template_id,
                status: entry.field("SubscribeStatusString"),
                popup_scene: entry.field("PopupScene"),
                msg_id: entry.field("MsgID"),
                error_code: entry
                    .field("ErrorCode")
                    .map(|c| c.parse().map_err(|_| XmlError::Malformed))
                    .transpose()?,
                error_status: entry.field("ErrorStatus"),
            });
        }
    }
    Ok(PushEvent {
        to,
        from,
        create_time,
        msg_type,
        event,
        kind,
        items,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HEAD: &str = "<ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[o-user]]></FromUserName><CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType>";

    #[test]
    fn a_popup_event_with_two_templates_is_read() {
        let body = format!(
            "<xml>{HEAD}<Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>\
             <List><TemplateId><![CDATA[T-endorse]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>\
             <List><TemplateId>T-expiry</TemplateId><SubscribeStatusString>reject</SubscribeStatusString><PopupScene>2</PopupScene></List>\
             </SubscribeMsgPopupEvent></xml>"
        );
        let e = parse(body.as_bytes()).unwrap();
        assert_eq!(e.from, "o-user");
        assert_eq!(e.create_time, 1610969440);
        assert_eq!(e.kind, EventKind::Popup);
        assert_eq!(e.items.len(), 2);
        assert_eq!(e.items[0].template_id, "T-endorse");
        assert_eq!(e.items[0].status.as_deref(), Some("accept"));
        assert_eq!(e.items[1].status.as_deref(), Some("reject"));
        assert_eq!(e.items[1].popup_scene.as_deref(), Some("2"));
    }

    #[test]
    fn change_and_sent_events_are_read() {
        let change = format!(
            "<xml>{HEAD}<Event>subscribe_msg_change_event</Event><SubscribeMsgChangeEvent><List><TemplateId>T1</TemplateId><SubscribeStatusString>reject</SubscribeStatusString></List></SubscribeMsgChangeEvent></xml>"
        );
        let e = parse(change.as_bytes()).unwrap();
        assert_eq!(e.kind, EventKind::Change);
        assert_eq!(e.items[0].status.as_deref(), Some("reject"));
        let sent = format!(
            "<xml>{HEAD}<Event>subscribe_msg_sent_event</Event><SubscribeMsgSentEvent><List><TemplateId>T1</TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>43101</ErrorCode><ErrorStatus>failed:user refuse to accept the msg</ErrorStatus></List></SubscribeMsgSentEvent></xml>"
        );
        let e = parse(sent.as_bytes()).unwrap();
        assert_eq!(e.kind, EventKind::Sent);
        assert_eq!(e.items[0].msg_id.as_deref(), Some("1700827132819554304"));
        assert_eq!(e.items[0].error_code, Some(43101));
        let other = format!("<xml>{HEAD}<Event>user_enter_tempsession</Event></xml>");
        let e = parse(other.as_bytes()).unwrap();
        assert_eq!(e.kind, EventKind::Other("user_enter_tempsession".into()));
        assert!(e.items.is_empty());
    }

    #[test]
    fn doctype_unknown_entities_depth_size_and_junk_are_refused() {
        let doctype = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]><xml>{HEAD}<Event>&e;</Event></xml>"
        );
        assert_eq!(parse(doctype.as_bytes()), Err(XmlError::DocType));
        let entity = format!("<xml>{HEAD}<Event>&e;</Event></xml>");
        assert_eq!(parse(entity.as_bytes()), Err(XmlError::Malformed));
        let deep = format!(
            "<xml>{HEAD}<SubscribeMsgPopupEvent><List><TemplateId><b>x</b></TemplateId></List></SubscribeMsgPopupEvent></xml>"
        );
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::Malformed));
        let many: String = (0..300).map(|i| format!("<F{i}>x</F{i}>")).collect();
        let wide = format!("<xml>{HEAD}{many}</xml>");
        assert_eq!(parse(wide.as_bytes()), Err(XmlError::TooLarge));
        let long = format!("<xml>{HEAD}<Event>{}</Event></xml>", "a".repeat(2000));
        assert_eq!(parse(long.as_bytes()), Err(XmlError::TooLarge));
        assert_eq!(parse(&vec![b' '; MAX_BYTES + 1]), Err(XmlError::TooLarge));
        assert_eq!(parse(b"not xml"), Err(XmlError::Malformed));
        assert_eq!(
            parse(b"<xml><ToUserName>a</ToUserName>"),
            Err(XmlError::Malformed)
        );
        assert_eq!(parse(b"<other></other>"), Err(XmlError::Malformed));
        let two_roots = format!("<xml>{HEAD}</xml><xml>{HEAD}</xml>");
        assert_eq!(parse(two_roots.as_bytes()), Err(XmlError::Malformed));
        let no_template = format!(
            "<xml>{HEAD}<Event>subscribe_msg_change_event</Event><SubscribeMsgChangeEvent><List><SubscribeStatusString>reject</SubscribeStatusString></List></SubscribeMsgChangeEvent></xml>"
        );
        assert_eq!(parse(no_template.as_bytes()), Err(XmlError::Malformed));
    }

    #[test]
    fn entities_and_character_references_are_read() {
        let body = format!("<xml>{HEAD}<Event>a&amp;b&#x4F60;</Event></xml>");
        assert_eq!(parse(body.as_bytes()).unwrap().event, "a&b你");
    }

    proptest::proptest! {
        #[test]
        fn reading_any_pushed_event_never_panics(lists in "\\PC{0,400}", bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1000)) {
            let _ = parse(&bytes);
            let body = format!("<xml>{HEAD}<Event>subscribe_msg_popup_event</Event><SubscribeMsgPopupEvent>{lists}</SubscribeMsgPopupEvent></xml>");
            let _ = parse(body.as_bytes());
        }
    }
}
