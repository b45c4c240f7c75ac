//! `jscode2session`: the code decides the answer: `ok:<openid>`, `union:<openid>:<unionid>`,
//! `err:<errcode>`, `http500`, `garbage`; anything else is 40029 (invalid code).

use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use super::{Call, Shared, errcode, mount, ok};
use crate::helpers::{FAKE_SESSION_KEY, YJM_APPID, YJM_SECRET, YSS_APPID, YSS_SECRET};

pub async fn mount_routes(server: &MockServer, state: &Shared) {
    mount(server, state, "GET", "/sns/jscode2session", jscode2session).await;
}

fn jscode2session(state: &Shared, call: &Call) -> ResponseTemplate {
    state.lock().unwrap().logins.push(call.query.clone());
    let known = [(YSS_APPID, YSS_SECRET), (YJM_APPID, YJM_SECRET)];
    if !known.contains(&(call.query("appid"), call.query("secret")))
        || call.query("grant_type") != "authorization_code"
    {
        return errcode(40013, "invalid appid");
    }
    let parts: Vec<&str> = call.query("js_code").split(':').collect();
    match parts.as_slice() {
        ["ok", openid] => ok(json!({"openid": openid, "session_key": FAKE_SESSION_KEY})),
        ["union", openid, unionid] => {
            ok(json!({"openid": openid, "unionid": unionid, "session_key": FAKE_SESSION_KEY}))
        }
        ["err", code] => {
            ok(json!({"errcode": code.parse::<i64>().unwrap_or(-1), "errmsg": "fake error"}))
        }
        ["http500"] => ResponseTemplate::new(500).set_body_string("upstream broke"),
        ["garbage"] => ResponseTemplate::new(200)
            .insert_header("content-type", "text/plain")
            .set_body_string("<html>not json</html>"),
        _ => errcode(40029, "invalid code"),
    }
}
