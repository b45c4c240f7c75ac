//! The mini-programs' subscribe messages (订阅消息): the template kinds we send, the data of
//! each kind's template (one table, [`template_data`]), every value fitted to the limits the
//! platform sets per field type, and the send call
//! (`POST /cgi-bin/message/subscribe/send` with the mini-program's access token).
//!
//! The platform refuses a whole message (47003) when one value breaks its field type's rule,
//! so nothing leaves here unfitted: text too long is cut with an ellipsis within the limit,
//! characters a type does not take are dropped, dates and times are written in the formats
//! the platform reads.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::{Account, MiniApp, PlatformError, WechatClient};
use crate::notices::outbox::Notice;

/// What a template is used for. Each kind has one template, configured in
/// `YUEJU_SUBSCRIBE_TEMPLATES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateKind {
    EndorsementDue,
    Expiry,
    Decision,
    AuthorizationRequest,
    EligibleNow,
    RegistrationEnded,
}

impl TemplateKind {
    pub const ALL: [TemplateKind; 6] = [
        TemplateKind::EndorsementDue,
        TemplateKind::Expiry,
        TemplateKind::Decision,
        TemplateKind::AuthorizationRequest,
        TemplateKind::EligibleNow,
        TemplateKind::RegistrationEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateKind::EndorsementDue => "endorsement_due",
            TemplateKind::Expiry => "expiry",
            TemplateKind::Decision => "decision",
            TemplateKind::AuthorizationRequest => "authorization_request",
            TemplateKind::EligibleNow => "eligible_now",
            TemplateKind::RegistrationEnded => "registration_ended",
        }
    }

    pub fn parse(s: &str) -> Option<TemplateKind> {
        TemplateKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The template that carries this notice; `None`: the notice has no subscribe channel
    /// (a revocation is told by chat or e-mail only).
    pub fn of_notice(notice: &Notice) -> Option<TemplateKind> {
        match notice {
            Notice::EndorsementDue { .. } => Some(TemplateKind::EndorsementDue),
            Notice::ExpiryNear { .. } => Some(TemplateKind::Expiry),
            Notice::ApplicationDecided { .. } => Some(TemplateKind::Decision),
            Notice::AccessRequested { .. } => Some(TemplateKind::AuthorizationRequest),
            Notice::EligibleNow { .. } => Some(TemplateKind::EligibleNow),
            Notice::RegistrationEnded { .. } => Some(TemplateKind::RegistrationEnded),
            Notice::PermitRevoked { .. } => None,
        }
    }
}

/// How a template is subscribed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Each accept allows one message.
    OneTime,
    /// Accepted once, on until the user turns it off (government-services category only).
    LongTerm,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::OneTime => "one_time",
            Mode::LongTerm => "long_term",
        }
    }
}

/// A configured template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub kind: TemplateKind,
    pub id: String,
    pub mode: Mode,
}

/// A value of template data before fitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Text(String),
    Date(NaiveDate),
    Time(DateTime<Utc>),
    Number(i64),
}

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.to_owned())
}

/// The data of the template that carries `notice`, as the platform takes it
/// (`{"thing1": {"value": …}, …}`). The key of each field names its type (`thing`, `date`,
/// `time`, `phrase`, `character_string`, `number`, `name`) and its position in the template:
/// the templates chosen on the platform must have these fields. `queued_at` is when the
/// event happened (the notice was queued). No name or ID number is ever written here.
pub fn template_data(notice: &Notice, queued_at: DateTime<Utc>) -> Option<(TemplateKind, Value)> {
    let kind = TemplateKind::of_notice(notice)?;
    let fields: Vec<(&str, FieldValue)> = match notice {
        Notice::EndorsementDue { permit_no, due } => vec![
            ("thing1", text("居住证年度签注")),
            ("character_string2", text(permit_no)),
            ("date3", FieldValue::Date(*due)),
            ("thing4", text("逾期未签注的，居住证将暂停使用")),
        ],
        Notice::ExpiryNear {
            permit_no,
            valid_until,
            days_left,
        } => vec![
            ("thing1", text("广东省居住证")),
            ("character_string2", text(permit_no)),
            ("date3", FieldValue::Date(*valid_until)),
            ("number4", FieldValue::Number(*days_left)),
            ("thing5", text("到期前30日内可在粤省事换领")),
        ],
        Notice::ApplicationDecided {
            approved, reason, ..
        } => vec![
            ("thing1", text("居住证申领")),
            ("phrase2", text(if *approved { "已通过" } else { "未通过" })),
            (
                "thing3",
                if *approved {
                    text("电子居住证已签发，请在粤省事查看")
                } else {
                    text(reason.as_deref().unwrap_or("材料不能证明您符合申领条件"))
                },
            ),
            ("time4", FieldValue::Time(queued_at)),
        ],
        Notice::AccessRequested {
            agency, purpose, ..
        } => vec![
            ("thing1", text(agency)),
            ("thing2", text(purpose)),
            ("time3", FieldValue::Time(queued_at)),
            ("thing4", text("请在粤省事“授权管理”中决定")),
        ],
        Notice::EligibleNow { city } => vec![
            ("thing1", text("居住证申领")),
            (
                "thing2",
                FieldValue::Text(format!("您在{city}居住已满半年")),
            ),
            ("thing3", text("可在粤省事申领，核验通过免材料")),
        ],
        Notice::RegistrationEnded {
            permit_no,
            until,
            register_by,
            ..
        } => vec![
            ("thing1", text("居住登记已结束")),
            ("character_string2", text(permit_no)),
            ("date3", FieldValue::Date(*until)),
            ("date4", FieldValue::Date(*register_by)),
            ("thing5", text("逾期未变更地址的，居住证将暂停使用")),
        ],
        Notice::PermitRevoked { .. } => return None,
    };
    let mut data = Map::new();
    for (key, value) in fields {
        data.insert(
            key.to_owned(),
            json!({"value": fit(key, &value, queued_at)}),
        );
    }
    Some((kind, Value::Object(data)))
}

/// The field types the platform knows, by the key's prefix (`thing3` → thing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldType {
    /// ≤ 20 characters of text.
    Thing,
    /// ≤ 5 Chinese characters.
    Phrase,
    /// `YYYY年MM月DD日`.
    Date,
    /// `YYYY年MM月DD日 HH:MM`.
    Time,
    /// ≤ 32 ASCII letters, digits and symbols.
    CharacterString,
    /// ≤ 32 digits (a decimal point allowed).
    Number,
    /// ≤ 10 characters (≤ 20 when all letters).
    Name,
}

fn field_type(key: &str) -> FieldType {
    match key.trim_end_matches(|c: char| c.is_ascii_digit()) {
        "phrase" => FieldType::Phrase,
        "date" => FieldType::Date,
        "time" => FieldType::Time,
        "character_string" => FieldType::CharacterString,
        "number" => FieldType::Number,
        "name" => FieldType::Name,
        // The strictest text rule for anything else.
        _ => FieldType::Thing,
    }
}

const THING_MAX: usize = 20;
const PHRASE_MAX: usize = 5;
const CHARACTER_STRING_MAX: usize = 32;
const NUMBER_MAX: usize = 32;
const NAME_MAX: usize = 10;
const NAME_LETTERS_MAX: usize = 20;

fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// Characters a text field may carry: no control characters, no emoji or pictographs (outside
/// the basic plane, dingbats, joiners and variation selectors), which the platform refuses.
fn is_plain(c: char) -> bool {
    !(c.is_control()
        || u32::from(c) > 0xFFFF
        || matches!(c, '\u{2600}'..='\u{27BF}' | '\u{FE00}'..='\u{FE0F}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{206F}' | '\u{E000}'..='\u{F8FF}'))
}

/// Whitespace runs (newlines included) become one space, the ends trimmed.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters; a longer text keeps `max - len(ellipsis)` and the ellipsis.
fn cut(s: &str, max: usize, ellipsis: &str) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let keep = max.saturating_sub(ellipsis.chars().count());
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(ellipsis);
    out
}

fn or_placeholder(s: String, placeholder: &str) -> String {
    if s.is_empty() {
        placeholder.to_owned()
    } else {
        s
    }
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

fn time_text(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

fn as_text(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(s) => s.clone(),
        FieldValue::Date(d) => date_text(*d),
        FieldValue::Time(t) => time_text(*t),
        // Counts here are never negative; the platform's numbers have no sign.
        FieldValue::Number(n) => (*n).max(0).to_string(),
    }
}

/// The value as the field `key` takes it: within its type's limits, never empty. A date or
/// time field fed no date shows `queued_at`, the notice's time.
pub fn fit(key: &str, value: &FieldValue, queued_at: DateTime<Utc>) -> String {
    match field_type(key) {
        FieldType::Thing => {
            let clean: String = as_text(value)
                .chars()
                .filter(|c| c.is_whitespace() || is_plain(*c))
                .collect();
            or_placeholder(cut(&one_line(&clean), THING_MAX, "…"), "无")
        }
        FieldType::Phrase => {
            // Chinese only, so no ellipsis: the first five characters.
            let clean: String = as_text(value)
                .chars()
                .filter(|c| is_chinese(*c))
                .take(PHRASE_MAX)
                .collect();
            or_placeholder(clean, "无")
        }
        FieldType::Date => match value {
            FieldValue::Date(d) => date_text(*d),
            FieldValue::Time(t) => {
                date_text(t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive())
            }
            // A date field fed anything else is a mistake in the table above; the notice's
            // day is still a date the platform takes.
            _ => date_text(crate::config::day_in_china(queued_at)),
        },
        FieldType::Time => match value {
            FieldValue::Time(t) => time_text(*t),
            FieldValue::Date(d) => format!("{} 00:00", date_text(*d)),
            _ => time_text(queued_at),
        },
        FieldType::CharacterString => {
            let clean: String = as_text(value)
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .collect();
            or_placeholder(cut(&clean, CHARACTER_STRING_MAX, "..."), "-")
        }
        FieldType::Number => {
            let mut seen_point = false;
            let clean: String = as_text(value)
                .chars()
                .filter(|c| {
                    c.is_ascii_digit() || (*c == '.' && !std::mem::replace(&mut seen_point, true))
                })
                .take(NUMBER_MAX)
                .collect();
            let clean = clean.trim_matches('.').to_owned();
            or_placeholder(clean, "0")
        }
        FieldType::Name => {
            // Chinese only (≤ 10) or letters only (≤ 20), never mixed; a name is not
            // shortened with an ellipsis (it would stop being a name).
            let text = as_text(value);
            let chinese: String = text
                .chars()
                .filter(|c| is_chinese(*c))
                .take(NAME_MAX)
                .collect();
            let clean = if chinese.is_empty() {
                text.chars()
                    .filter(char::is_ascii_alphabetic)
                    .take(NAME_LETTERS_MAX)
                    .collect()
            } else {
                chinese
            };
            or_placeholder(clean, "无")
        }
    }
}

/// errcodes that mean our configuration does not match the platform: 40037 (template id
/// unknown), 47003 (data does not fit the template), 41030 (page not in the mini-program),
/// 48001 (API not authorised), 41028/47001 (request malformed), 40036 (template id empty).
const MISCONFIGURED: [i64; 7] = [40037, 47003, 41030, 48001, 41028, 47001, 40036];

/// How a subscribe message failed.
#[derive(Debug)]
pub enum SubscribeFailure {
    /// 43101: the user refused or has no subscription left. The platform counts the credit
    /// as used; the notice goes by the next channel.
    Refused(PlatformError),
    /// The platform will not deliver to this user (40003: the openid is not a user of this
    /// mini-program, or another refusal for this user); the next channel may.
    Undeliverable(PlatformError),
    /// Our configuration does not match the platform (template, page, data); logged loudly,
    /// the notice goes by the next channel.
    Misconfigured(PlatformError),
    /// The platform was slow, away or busy: try again later.
    Transient(PlatformError),
}

/// A subscribe message ready to send.
#[derive(Debug, Clone)]
pub struct SubscribeMessage<'a> {
    pub app: MiniApp,
    pub openid: &'a str,
    pub template_id: &'a str,
    /// The mini-program page opened from the message, with its query.
    pub page: String,
    pub data: Value,
    /// `formal`, `trial` or `developer`.
    pub miniprogram_state: &'a str,
}

impl WechatClient {
    /// Sends a subscribe message; answers the platform's `msgid` when it gives one.
    pub async fn send_subscribe(
        &self,
        message: &SubscribeMessage<'_>,
    ) -> Result<Option<String>, SubscribeFailure> {
        let body = json!({
            "touser": message.openid,
            "template_id": message.template_id,
            "page": message.page,
            "data": message.data,
            "miniprogram_state": message.miniprogram_state,
            "lang": "zh_CN",
        });
        match self
            .post_json(
                Account::Mini(message.app),
                "message/subscribe/send",
                "/cgi-bin/message/subscribe/send",
                &body,
            )
            .await
        {
            Ok(answer) => Ok(answer.get("msgid").map(|id| match id {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })),
            Err(e) => Err(classify(e)),
        }
    }
}

fn classify(e: PlatformError) -> SubscribeFailure {
    if e.is_transient() {
        return SubscribeFailure::Transient(e);
    }
    match e.errcode() {
        Some(43101) => SubscribeFailure::Refused(e),
        Some(code) if MISCONFIGURED.contains(&code) => SubscribeFailure::Misconfigured(e),
        Some(_) => SubscribeFailure::Undeliverable(e),
        // Not configured, or an HTTP status that is not worth repeating.
        None => SubscribeFailure::Misconfigured(e),
    }
}

#[cfg(test)]
mod tests;
