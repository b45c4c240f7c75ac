//! `jscode2session`: the code decides the answer: `ok:<openid>`, `union:<openid>:<unionid>`,
//! `err:<errcode>`, `http500`, `garbage`; anything else is 40029 (invalid code).

use actix_web::{HttpResponse, web};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::helpers::{FAKE_SESSION_KEY, YJM_APPID, YJM_SECRET, YSS_APPID, YSS_SECRET};

pub fn routes(cfg: &mut web::ServiceConfig, calls: Arc<Mutex<Vec<HashMap<String, String>>>>) {
    cfg.route(
        "/sns/jscode2session",
        web::get().to(move |q: web::Query<HashMap<String, String>>| {
            let recorded = calls.clone();
            async move { jscode2session(q.into_inner(), &recorded) }
        }),
    );
}

fn jscode2session(
    q: HashMap<String, String>,
    recorded: &Mutex<Vec<HashMap<String, String>>>,
) -> HttpResponse {
    if let Ok(mut calls) = recorded.lock() {
        calls.push(q.clone());
    }
    let known = [(YSS_APPID, YSS_SECRET), (YJM_APPID, YJM_SECRET)];
    let appid = q.get("appid").map(String::as_str).unwrap_or("");
    let secret = q.get("secret").map(String::as_str).unwrap_or("");
    if !known.contains(&(appid, secret))
        || q.get("grant_type").map(String::as_str) != Some("authorization_code")
    {
        return HttpResponse::Ok().json(json!({"errcode": 40013, "errmsg": "invalid appid"}));
    }
    let code = q.get("js_code").cloned().unwrap_or_default();
    let parts: Vec<&str> = code.split(':').collect();
    match parts.as_slice() {
        ["ok", openid] => {
            HttpResponse::Ok().json(json!({"openid": openid, "session_key": FAKE_SESSION_KEY}))
        }
        ["union", openid, unionid] => HttpResponse::Ok()
            .json(json!({"openid": openid, "unionid": unionid, "session_key": FAKE_SESSION_KEY})),
        ["err", code] => HttpResponse::Ok()
            .json(json!({"errcode": code.parse::<i64>().unwrap_or(-1), "errmsg": "fake error"})),
        ["http500"] => HttpResponse::InternalServerError().body("upstream broke"),
        ["garbage"] => HttpResponse::Ok()
            .content_type("text/plain")
            .body("<html>not json</html>"),
        _ => HttpResponse::Ok().json(json!({"errcode": 40029, "errmsg": "invalid code"})),
    }
}
