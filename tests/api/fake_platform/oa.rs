//! The official account's customer messages (refused with 45015 for a follower whose
//! 48-hour window is closed) and user info (an openid `with-union.<unionid>` has that
//! unionid).

use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

use super::token::require;
use super::{Call, Shared, errcode, mount, ok};
use crate::helpers::OA_APPID;

#[derive(Default)]
pub struct FakeOa {
    /// (access_token, body) of every customer message accepted.
    pub sent: Vec<(String, Value)>,
    /// Openids whose customer messages are refused with 45015 (the 48-hour window closed).
    pub window_closed: Vec<String>,
}

pub async fn mount_routes(server: &MockServer, state: &Shared) {
    mount(
        server,
        state,
        "POST",
        "/cgi-bin/message/custom/send",
        custom_send,
    )
    .await;
    mount(server, state, "GET", "/cgi-bin/user/info", user_info).await;
}

fn custom_send(state: &Shared, call: &Call) -> ResponseTemplate {
    let appid = match require(state, call) {
        Ok(appid) => appid,
        Err(refusal) => return refusal,
    };
    if appid != OA_APPID {
        return errcode(48001, "api unauthorized");
    }
    let mut s = state.lock().unwrap();
    let touser = call.body["touser"].as_str().unwrap_or_default().to_owned();
    if s.oa.window_closed.contains(&touser) {
        return errcode(45015, "response out of time limit");
    }
    s.oa.sent
        .push((call.query("access_token").to_owned(), call.body.clone()));
    errcode(0, "ok")
}

fn user_info(state: &Shared, call: &Call) -> ResponseTemplate {
    if let Err(refusal) = require(state, call) {
        return refusal;
    }
    let openid = call.query("openid");
    match openid.strip_prefix("with-union.") {
        Some(unionid) => ok(json!({"subscribe": 1, "openid": openid, "unionid": unionid})),
        None => ok(json!({"subscribe": 1, "openid": openid})),
    }
}
