//! The mini-programs' subscribe messages (`POST /cgi-bin/message/subscribe/send`) as the
//! platform behaves: the token must be a mini-program's (48001 otherwise); the platform keeps
//! its own view of what each user accepted, per openid and template (tests set it apart from
//! ours, so it can answer 43101 while we think a credit is left); a one-time credit is used
//! by each message it accepts; every data value is checked against its field type's rule
//! (47003 when one breaks it); accepted messages are recorded.

use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use wiremock::{MockServer, ResponseTemplate};

use super::token::require;
use super::{Call, FakePlatform, Shared, errcode, mount, ok};
use crate::helpers::{YJM_APPID, YSS_APPID};

/// What the platform holds for one user and template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// One-time subscriptions not yet used.
    Credits(u32),
    /// A long-term subscription, on.
    LongTerm,
}

#[derive(Default)]
pub struct FakeSubscribe {
    /// (openid, template_id) → what the user accepted, in the platform's view.
    pub grants: HashMap<(String, String), Grant>,
    /// Template ids the mini-program has; empty: any id is taken.
    pub templates: HashSet<String>,
    /// (appid, body) of every message accepted.
    pub sent: Vec<(String, Value)>,
    /// (errcode, body) of every message refused by the rules above.
    pub refused: Vec<(i64, Value)>,
}

/// Why a data value breaks the platform's rule for its field type, if it does.
pub fn data_problem(key: &str, value: &str) -> Option<String> {
    let n = value.chars().count();
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y年%m月%d日").is_ok();
    let clock = |s: &str| chrono::NaiveTime::parse_from_str(s, "%H:%M").is_ok();
    let chinese = |c: char| ('\u{4E00}'..='\u{9FFF}').contains(&c);
    let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let ok = !value.is_empty()
        && match kind {
            "thing" => {
                n <= 20
                    && value
                        .chars()
                        .all(|c| (c as u32) <= 0xFFFF && !c.is_control())
            }
            "phrase" => n <= 5 && value.chars().all(chinese),
            "date" => {
                date(value)
                    || value
                        .split_once(' ')
                        .is_some_and(|(d, t)| date(d) && clock(t))
            }
            "time" => {
                clock(value)
                    || value
                        .split_once(' ')
                        .is_some_and(|(d, t)| date(d) && clock(t))
            }
            "character_string" => n <= 32 && value.chars().all(|c| c.is_ascii_graphic()),
            "number" => n <= 32 && value.chars().all(|c| c.is_ascii_digit() || c == '.'),
            "name" => {
                (n <= 10 && value.chars().all(chinese))
                    || (n <= 20 && value.chars().all(|c| c.is_ascii_alphabetic()))
            }
            _ => false,
        };
    (!ok).then(|| format!("argument invalid! data.{key}.value invalid"))
}

fn send(state: &Shared, call: &Call) -> ResponseTemplate {
    let body = call.body.clone();
    let appid = match require(state, call) {
        Ok(appid) => appid,
        Err(refusal) => return refusal,
    };
    if appid != YSS_APPID && appid != YJM_APPID {
        return errcode(48001, "api unauthorized");
    }
    let mut s = state.lock().unwrap();
    let sub = &mut s.subscribe;
    let refuse = |sub: &mut FakeSubscribe, code: i64, message: &str, body: Value| {
        sub.refused.push((code, body));
        errcode(code, message)
    };
    let touser = body["touser"].as_str().unwrap_or_default().to_owned();
    let template_id = body["template_id"].as_str().unwrap_or_default().to_owned();
    if touser.is_empty() {
        return refuse(sub, 40003, "invalid openid", body);
    }
    if template_id.is_empty()
        || (!sub.templates.is_empty() && !sub.templates.contains(&template_id))
    {
        return refuse(sub, 40037, "invalid template id", body);
    }
    let page = body["page"].as_str().unwrap_or_default();
    if page.starts_with('/') || page.contains("://") {
        return refuse(sub, 41030, "invalid page", body);
    }
    if !matches!(
        body["miniprogram_state"].as_str(),
        None | Some("formal" | "trial" | "developer")
    ) {
        return refuse(sub, 47001, "data format error", body);
    }
    let Some(data) = body["data"].as_object().filter(|d| !d.is_empty()) else {
        return refuse(sub, 47003, "argument invalid! data is empty", body);
    };
    for (key, field) in data {
        let value = field["value"].as_str().unwrap_or_default();
        if let Some(problem) = data_problem(key, value) {
            return refuse(sub, 47003, &problem, body);
        }
    }
    let key = (touser, template_id);
    match sub.grants.get(&key).copied() {
        Some(Grant::LongTerm) => {}
        Some(Grant::Credits(n)) if n > 0 => {
            sub.grants.insert(key, Grant::Credits(n - 1));
        }
        _ => return refuse(sub, 43101, "user refuse to accept the msg", body),
    }
    sub.sent.push((appid, body));
    let msgid = 1_700_000_000_000 + sub.sent.len() as u64;
    ok(json!({"errcode": 0, "errmsg": "ok", "msgid": msgid}))
}

pub async fn mount_routes(server: &MockServer, state: &Shared) {
    mount(
        server,
        state,
        "POST",
        "/cgi-bin/message/subscribe/send",
        send,
    )
    .await;
}

impl FakePlatform {
    /// Sets what the platform holds for `openid` and `template_id`.
    pub fn grant_subscription(&self, openid: &str, template_id: &str, grant: Grant) {
        self.state()
            .subscribe
            .grants
            .insert((openid.to_owned(), template_id.to_owned()), grant);
    }

    /// What the platform holds for `openid` and `template_id`.
    pub fn subscription_grant(&self, openid: &str, template_id: &str) -> Option<Grant> {
        self.state()
            .subscribe
            .grants
            .get(&(openid.to_owned(), template_id.to_owned()))
            .copied()
    }

    /// The bodies of the subscribe messages the platform accepted.
    pub fn subscribe_messages(&self) -> Vec<Value> {
        self.state()
            .subscribe
            .sent
            .iter()
            .map(|(_, body)| body.clone())
            .collect()
    }

    /// The errcodes of the subscribe messages the platform refused, in order.
    pub fn refused_subscribe_codes(&self) -> Vec<i64> {
        self.state()
            .subscribe
            .refused
            .iter()
            .map(|(code, _)| *code)
            .collect()
    }
}

#[test]
fn the_fakes_rules_refuse_what_the_platform_refuses() {
    assert!(data_problem("thing1", "居住证年度签注").is_none());
    assert!(data_problem("thing1", &"长".repeat(21)).is_some());
    assert!(data_problem("thing1", "签注😀").is_some());
    assert!(data_problem("thing1", "").is_some());
    assert!(data_problem("phrase2", "已通过").is_none());
    assert!(data_problem("phrase2", "已通过OK").is_some());
    assert!(data_problem("date3", "2027年03月05日").is_none());
    assert!(data_problem("date3", "2027-03-05").is_some());
    assert!(data_problem("time4", "2027年03月05日 09:30").is_none());
    assert!(data_problem("time4", "下午三点").is_some());
    assert!(data_problem("character_string2", "4401002026000001").is_none());
    assert!(data_problem("character_string2", "证号4401").is_some());
    assert!(data_problem("number4", "30").is_none());
    assert!(data_problem("number4", "三十").is_some());
    assert!(data_problem("name1", "陈志强").is_none());
    assert!(data_problem("unknown1", "x").is_some());
}
