//! The official account's customer messages (refused with 45015 for a follower whose
//! 48-hour window is closed) and user info (an openid `with-union.<unionid>` has that
//! unionid).

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use std::collections::HashMap;

use super::token::require;
use super::{Shared, errcode};
use crate::helpers::OA_APPID;

#[derive(Default)]
pub struct FakeOa {
    /// (access_token, body) of every customer message accepted.
    pub sent: Vec<(String, Value)>,
    /// Openids whose customer messages are refused with 45015 (the 48-hour window closed).
    pub window_closed: Vec<String>,
}

pub fn routes(cfg: &mut web::ServiceConfig, state: Shared) {
    let send = state.clone();
    cfg.route(
        "/cgi-bin/message/custom/send",
        web::post().to(
            move |q: web::Query<HashMap<String, String>>, body: web::Json<Value>| {
                let state = send.clone();
                async move {
                    let appid = match require(&state, &q) {
                        Ok(appid) => appid,
                        Err(refusal) => return refusal,
                    };
                    if appid != OA_APPID {
                        return errcode(48001, "api unauthorized");
                    }
                    let mut s = state.lock().unwrap();
                    let touser = body["touser"].as_str().unwrap_or_default().to_owned();
                    if s.oa.window_closed.contains(&touser) {
                        return errcode(45015, "response out of time limit");
                    }
                    let token = q.get("access_token").cloned().unwrap_or_default();
                    s.oa.sent.push((token, body.into_inner()));
                    errcode(0, "ok")
                }
            },
        ),
    );
    let info = state;
    cfg.route(
        "/cgi-bin/user/info",
        web::get().to(move |q: web::Query<HashMap<String, String>>| {
            let state = info.clone();
            async move {
                if let Err(refusal) = require(&state, &q) {
                    return refusal;
                }
                let openid = q.get("openid").cloned().unwrap_or_default();
                match openid.strip_prefix("with-union.") {
                    Some(unionid) => HttpResponse::Ok()
                        .json(json!({"subscribe": 1, "openid": openid, "unionid": unionid})),
                    None => HttpResponse::Ok().json(json!({"subscribe": 1, "openid": openid})),
                }
            }
        }),
    );
}
