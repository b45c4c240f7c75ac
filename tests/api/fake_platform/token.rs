//! Access tokens as the platform hands them out. `POST /cgi-bin/stable_token` in normal mode
//! answers the account's current token while it has more than five minutes to live, and a
//! new one (the old staying valid until its own expiry) after that; `force_refresh` cancels
//! the current one at once. `GET /cgi-bin/token` issues a token and cancels the ones it
//! issued before for that account, which is why several instances must never use it.

use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wiremock::{MockServer, ResponseTemplate};

use super::{Call, Shared, errcode, mount, ok};
use crate::helpers::{OA_APPID, OA_SECRET, YJM_APPID, YJM_SECRET, YSS_APPID, YSS_SECRET};

pub struct FakeTokens {
    /// appid → secret of the accounts the platform knows.
    pub apps: HashMap<String, String>,
    /// token → (appid, expires at, issued by the old API).
    pub valid: HashMap<String, (String, Instant, bool)>,
    /// appid → the current stable token.
    pub current: HashMap<String, String>,
    /// The lifetime of new tokens.
    pub lifetime: Duration,
    pub issued: usize,
    pub stable_calls: usize,
    pub force_refresh_calls: usize,
    pub legacy_calls: usize,
}

impl Default for FakeTokens {
    fn default() -> Self {
        FakeTokens {
            apps: [
                (YSS_APPID, YSS_SECRET),
                (YJM_APPID, YJM_SECRET),
                (OA_APPID, OA_SECRET),
            ]
            .into_iter()
            .map(|(a, s)| (a.to_owned(), s.to_owned()))
            .collect(),
            valid: HashMap::new(),
            current: HashMap::new(),
            lifetime: Duration::from_secs(7200),
            issued: 0,
            stable_calls: 0,
            force_refresh_calls: 0,
            legacy_calls: 0,
        }
    }
}

/// Why a token is not accepted: 40001 unknown or cancelled, 42001 expired.
pub type TokenRefusal = i64;

impl FakeTokens {
    fn issue(&mut self, appid: &str, legacy: bool) -> String {
        self.issued += 1;
        let token = format!(
            "{}-{appid}-{}",
            if legacy { "legacy" } else { "stk" },
            self.issued
        );
        self.valid.insert(
            token.clone(),
            (appid.to_owned(), Instant::now() + self.lifetime, legacy),
        );
        token
    }

    /// The appid a token belongs to, or the errcode the platform answers.
    pub fn check(&self, token: &str) -> Result<String, TokenRefusal> {
        match self.valid.get(token) {
            None => Err(40001),
            Some((_, until, _)) if Instant::now() >= *until => Err(42001),
            Some((appid, _, _)) => Ok(appid.clone()),
        }
    }

    /// Cancels one token, as a force refresh elsewhere would.
    pub fn cancel(&mut self, token: &str) {
        self.valid.remove(token);
    }

    /// Lets every token of `appid` expire now.
    pub fn expire_all(&mut self, appid: &str) {
        let now = Instant::now();
        for (owner, until, _) in self.valid.values_mut() {
            if owner == appid {
                *until = now;
            }
        }
    }

    /// The stable tokens handed out so far, in order.
    pub fn stable_tokens(&self) -> usize {
        self.valid.values().filter(|(_, _, legacy)| !legacy).count()
    }
}

/// Checks the `access_token` of a call; `Err` is the answer to give.
#[allow(clippy::result_large_err)] // a test fake: the answer is returned as is
pub fn require(state: &Shared, call: &Call) -> Result<String, ResponseTemplate> {
    state
        .lock()
        .unwrap()
        .tokens
        .check(call.query("access_token"))
        .map_err(|code| {
            errcode(
                code,
                if code == 42001 {
                    "access_token expired"
                } else {
                    "invalid credential, access_token is invalid or not latest"
                },
            )
        })
}

pub async fn mount_routes(server: &MockServer, state: &Shared) {
    mount(server, state, "POST", "/cgi-bin/stable_token", stable_token).await;
    mount(server, state, "GET", "/cgi-bin/token", legacy_token).await;
}

fn stable_token(state: &Shared, call: &Call) -> ResponseTemplate {
    let body = &call.body;
    let mut s = state.lock().unwrap();
    let t = &mut s.tokens;
    t.stable_calls += 1;
    let appid = body["appid"].as_str().unwrap_or_default().to_owned();
    if body["grant_type"] != "client_credential" {
        return errcode(40002, "invalid grant_type");
    }
    match t.apps.get(&appid) {
        None => return errcode(40013, "invalid appid"),
        Some(secret) if body["secret"].as_str() != Some(secret.as_str()) => {
            return errcode(40125, "invalid appsecret");
        }
        Some(_) => {}
    }
    if body["force_refresh"].as_bool().unwrap_or(false) {
        t.force_refresh_calls += 1;
        if let Some(old) = t.current.remove(&appid) {
            t.valid.remove(&old);
        }
    }
    let now = Instant::now();
    let reusable = t.current.get(&appid).and_then(|token| {
        let (_, until, _) = t.valid.get(token)?;
        (*until > now + Duration::from_secs(300)).then(|| (token.clone(), *until))
    });
    let (token, until) = match reusable {
        Some(found) => found,
        None => {
            let token = t.issue(&appid, false);
            t.current.insert(appid, token.clone());
            (token, now + t.lifetime)
        }
    };
    ok(json!({
        "access_token": token,
        "expires_in": until.saturating_duration_since(now).as_secs(),
    }))
}

fn legacy_token(state: &Shared, call: &Call) -> ResponseTemplate {
    let mut s = state.lock().unwrap();
    let t = &mut s.tokens;
    t.legacy_calls += 1;
    let appid = call.query("appid").to_owned();
    if t.apps.get(&appid).map(String::as_str) != Some(call.query("secret")) {
        return errcode(40013, "invalid appid");
    }
    t.valid
        .retain(|_, (owner, _, legacy)| !(*legacy && *owner == appid));
    let token = t.issue(&appid, true);
    ok(json!({"access_token": token, "expires_in": 7200}))
}
