//! Face verification 2.0 (人脸核身 2.0) as the platform runs it. `getverifyid` checks its
//! arguments (40097 invalid args: an `out_seq_no` that is not 5–32 characters of letters,
//! digits, `_` and `-`, or was used before by the same appid; a missing cert or openid) and
//! opens a session of 3600 s for the token's appid. `queryverifyinfo` answers 84001 for a
//! verify_id it does not know (or another appid's, or expired) and 40097 when the out_seq_no,
//! openid or cert_hash differ from what opened it: errcodes, not a verify_ret. Otherwise it
//! answers the verify_ret the test chose for that session (10000 by default), as if the user
//! had done the face check in the mini-program.

use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use wiremock::{MockServer, ResponseTemplate};

use super::token::require;
use super::{Call, Shared, errcode, mount, ok};

/// errcode of bad or inconsistent arguments.
pub const INVALID_ARGS: i64 = 40097;
/// errcode of a verify_id the platform does not know (any more).
pub const INVALID_VERIFY_ID: i64 = 84001;

#[derive(Debug, Clone)]
pub struct FaceSession {
    pub appid: String,
    pub out_seq_no: String,
    pub openid: String,
    pub cert_name: String,
    pub cert_no: String,
    pub expires_at: Instant,
    /// What `queryverifyinfo` answers, when a test chose it for this session.
    pub verify_ret: Option<i64>,
}

#[derive(Default)]
pub struct FakeFace {
    /// verify_id → the session it opened.
    pub sessions: HashMap<String, FaceSession>,
    /// (appid, out_seq_no) pairs used so far.
    pub out_seq_nos: HashSet<(String, String)>,
    /// verify_ret for sessions of a cert name or an openid (the openid wins).
    pub results: HashMap<String, i64>,
    /// The body of every `getverifyid` call, as sent.
    pub started: Vec<Value>,
}

impl FakeFace {
    /// Sessions of this cert name or openid answer `verify_ret` (e.g. 90002, user cancelled).
    pub fn set_result(&mut self, name_or_openid: &str, verify_ret: i64) {
        self.results.insert(name_or_openid.to_owned(), verify_ret);
    }

    /// Lets the session of `verify_id` expire now.
    pub fn expire(&mut self, verify_id: &str) {
        if let Some(s) = self.sessions.get_mut(verify_id) {
            s.expires_at = Instant::now();
        }
    }

    fn verify_ret(&self, session: &FaceSession) -> i64 {
        session
            .verify_ret
            .or_else(|| self.results.get(&session.openid).copied())
            .or_else(|| self.results.get(&session.cert_name).copied())
            .unwrap_or(10000)
    }
}

fn valid_out_seq_no(s: &str) -> bool {
    (5..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

pub async fn mount_routes(server: &MockServer, state: &Shared) {
    mount(
        server,
        state,
        "POST",
        "/cityservice/face/identify/getverifyid",
        start,
    )
    .await;
    mount(
        server,
        state,
        "POST",
        "/cityservice/face/identify/queryverifyinfo",
        query,
    )
    .await;
}

fn start(state: &Shared, call: &Call) -> ResponseTemplate {
    let appid = match require(state, call) {
        Ok(appid) => appid,
        Err(refusal) => return refusal,
    };
    let body = &call.body;
    let mut s = state.lock().unwrap();
    let face = &mut s.face;
    face.started.push(body.clone());
    let out_seq_no = text(body, "out_seq_no");
    let cert = body.get("cert_info").cloned().unwrap_or_default();
    let openid = text(body, "openid");
    if !valid_out_seq_no(out_seq_no) {
        return errcode(INVALID_ARGS, "invalid args: out_seq_no");
    }
    if text(&cert, "cert_type") != "IDENTITY_CARD"
        || text(&cert, "cert_name").is_empty()
        || text(&cert, "cert_no").is_empty()
        || openid.is_empty()
    {
        return errcode(INVALID_ARGS, "invalid args: cert_info or openid");
    }
    if !face
        .out_seq_nos
        .insert((appid.clone(), out_seq_no.to_owned()))
    {
        return errcode(INVALID_ARGS, "invalid args: out_seq_no used before");
    }
    let verify_id = format!("fv-{}", uuid::Uuid::new_v4().simple());
    face.sessions.insert(
        verify_id.clone(),
        FaceSession {
            appid,
            out_seq_no: out_seq_no.to_owned(),
            openid: openid.to_owned(),
            cert_name: text(&cert, "cert_name").to_owned(),
            cert_no: text(&cert, "cert_no").to_owned(),
            expires_at: Instant::now() + Duration::from_secs(3600),
            verify_ret: None,
        },
    );
    ok(json!({"errcode": 0, "errmsg": "ok", "verify_id": verify_id, "expires_in": 3600}))
}

fn query(state: &Shared, call: &Call) -> ResponseTemplate {
    let appid = match require(state, call) {
        Ok(appid) => appid,
        Err(refusal) => return refusal,
    };
    let body = &call.body;
    let s = state.lock().unwrap();
    let face = &s.face;
    let Some(session) = face
        .sessions
        .get(text(body, "verify_id"))
        .filter(|session| session.appid == appid)
    else {
        return errcode(INVALID_VERIFY_ID, "invalid verify_id");
    };
    if Instant::now() >= session.expires_at {
        return errcode(INVALID_VERIFY_ID, "verify_id expired");
    }
    let expected_hash = service::identity::wechat::face::cert_hash(
        "IDENTITY_CARD",
        &session.cert_name,
        &session.cert_no,
    );
    if text(body, "out_seq_no") != session.out_seq_no
        || text(body, "openid") != session.openid
        || text(body, "cert_hash") != expected_hash
    {
        return errcode(
            INVALID_ARGS,
            "invalid args: out_seq_no, openid or cert_hash mismatch",
        );
    }
    ok(json!({"errcode": 0, "errmsg": "ok", "verify_ret": face.verify_ret(session)}))
}
