//! The WeChat platform's HTTP APIs, through a real client with a configurable base URL
//! (`YUEJU_WECHAT_API_BASE`), so tests point it at a local fake. Every call runs under the
//! client's deadline (`YUEJU_HTTP_TIMEOUT_SECS`, the whole exchange, not only the connect).
//!
//! A tour: logging in (`jscode2session`, here), access tokens ([`token`]), the official
//! account's customer messages and user info ([`oa`]), the mini-programs' face verification
//! ([`face`]) and subscribe messages ([`subscribe`]); and the message servers' side: the
//! signature of every call ([`signature`]), 安全模式 encryption ([`crypto`]), the hardened
//! XML reader ([`xml`]), the transport that ties them ([`message_server`]) and the
//! subscribe events the mini-programs push ([`push`]).

pub mod crypto;
pub mod face;
pub mod message_server;
pub mod oa;
pub mod push;
pub mod signature;
pub mod subscribe;
pub mod token;
pub mod xml;

use secrecy::ExposeSecret as _;
use serde::Deserialize;
use serde_json::Value;

use crate::config::{AppCredentials, Settings};
use crate::error::{Refusal, Result};
use token::AccessTokens;

/// errcodes meaning the access token is invalid (40001, 40014) or expired (42001).
const TOKEN_REFUSED: [i64; 3] = [40001, 40014, 42001];

/// The two mini-programs that log residents in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MiniApp {
    /// 粤省事: applying for and managing the permit.
    Yss,
    /// 粤居码: showing the code.
    Yjm,
}

impl MiniApp {
    pub fn parse(s: &str) -> Option<MiniApp> {
        match s {
            "yss" => Some(MiniApp::Yss),
            "yjm" => Some(MiniApp::Yjm),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MiniApp::Yss => "yss",
            MiniApp::Yjm => "yjm",
        }
    }
}

/// An account on the platform that calls its APIs with an access token of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Account {
    Mini(MiniApp),
    /// The official account behind the bot and the customer messages.
    OfficialAccount,
}

impl Account {
    pub fn name(self) -> &'static str {
        match self {
            Account::Mini(app) => app.as_str(),
            Account::OfficialAccount => "oa",
        }
    }

    /// The settings that configure this account, for messages naming what is missing.
    pub fn setting(self) -> &'static str {
        match self {
            Account::Mini(MiniApp::Yss) => "YUEJU_YSS_APPID/YUEJU_YSS_SECRET",
            Account::Mini(MiniApp::Yjm) => "YUEJU_YJM_APPID/YUEJU_YJM_SECRET",
            Account::OfficialAccount => "YUEJU_WECHAT_OA_APPID/YUEJU_WECHAT_OA_SECRET",
        }
    }
}

/// A platform call that did not succeed. The texts name the kind of failure only: URLs
/// carry secrets and tokens, bodies carry personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("platform call {0} timed out")]
    Timeout(&'static str),
    #[error("platform call {0} could not reach the platform")]
    Unreachable(&'static str),
    #[error("platform answered HTTP {0}")]
    Http(u16),
    #[error("platform call {0} answered something that is not its JSON")]
    NotJson(&'static str),
    #[error("platform refused: errcode {code} {message}")]
    Refused { code: i64, message: String },
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
}

impl PlatformError {
    fn from_transport(call: &'static str, e: &reqwest::Error) -> PlatformError {
        if e.is_timeout() {
            PlatformError::Timeout(call)
        } else {
            PlatformError::Unreachable(call)
        }
    }

    fn from_body(call: &'static str, e: &reqwest::Error) -> PlatformError {
        // The deadline covers reading the body too: a peer that stalls mid-answer times out.
        if e.is_timeout() {
            PlatformError::Timeout(call)
        } else {
            PlatformError::NotJson(call)
        }
    }

    /// The platform's errcode, when it answered one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            PlatformError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Worth trying again later (the platform was slow, away or busy), as opposed to a
    /// refusal that another attempt would meet again.
    pub fn is_transient(&self) -> bool {
        match self {
            PlatformError::Timeout(_) | PlatformError::Unreachable(_) => true,
            PlatformError::Http(status) => *status >= 500 || *status == 429,
            PlatformError::NotJson(_) => true,
            // -1: system busy; 45009/45011: rate limits.
            PlatformError::Refused { code, .. } => matches!(code, -1 | 45009 | 45011),
            PlatformError::NotConfigured(_) => false,
        }
    }
}

/// What `jscode2session` tells us. The `session_key` is deliberately not kept: nothing here
/// needs it, and what is not kept cannot leak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformUser {
    pub openid: String,
    pub unionid: Option<String>,
}

#[derive(Deserialize)]
struct Code2SessionResponse {
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

pub struct WechatClient {
    http: reqwest::Client,
    base: String,
    yss: Option<AppCredentials>,
    yjm: Option<AppCredentials>,
    tokens: AccessTokens,
}

impl WechatClient {
    pub fn new(settings: &Settings) -> anyhow::Result<WechatClient> {
        let http = reqwest::Client::builder()
            .timeout(settings.http_timeout)
            .connect_timeout(settings.http_timeout)
            .user_agent("yueju/0.1")
            .build()?;
        let accounts = [
            (Account::Mini(MiniApp::Yss), settings.yss.clone()),
            (Account::Mini(MiniApp::Yjm), settings.yjm.clone()),
            (Account::OfficialAccount, settings.wechat_oa.clone()),
        ]
        .into_iter()
        .filter_map(|(account, creds)| Some((account, creds?)));
        Ok(WechatClient {
            http,
            base: settings.wechat_api_base.trim_end_matches('/').to_owned(),
            yss: settings.yss.clone(),
            yjm: settings.yjm.clone(),
            tokens: AccessTokens::new(accounts),
        })
    }

    /// Whether the account's credentials are configured (its token can be fetched).
    pub fn has_account(&self, account: Account) -> bool {
        self.tokens.is_configured(account)
    }

    /// The appid of a configured account.
    pub fn appid(&self, account: Account) -> Option<&str> {
        self.tokens.appid(account)
    }

    /// `POST {base}{path}?access_token=…` with a JSON body, for the APIs that take the
    /// account's access token. Answers the JSON on errcode 0 (or none); a refused token is
    /// fetched again once and the call repeated; any other errcode is
    /// [`PlatformError::Refused`].
    pub async fn post_json(
        &self,
        account: Account,
        call: &'static str,
        path: &str,
        body: &Value,
    ) -> std::result::Result<Value, PlatformError> {
        self.with_token(account, call, |token| {
            self.http
                .post(format!("{}{path}", self.base))
                .query(&[("access_token", token)])
                .json(body)
        })
        .await
    }

    /// `GET {base}{path}?access_token=…&query…`, as [`WechatClient::post_json`].
    pub async fn get_json(
        &self,
        account: Account,
        call: &'static str,
        path: &str,
        query: &[(&str, &str)],
    ) -> std::result::Result<Value, PlatformError> {
        self.with_token(account, call, |token| {
            self.http
                .get(format!("{}{path}", self.base))
                .query(&[("access_token", token)])
                .query(query)
        })
        .await
    }

    async fn with_token(
        &self,
        account: Account,
        call: &'static str,
        request: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> std::result::Result<Value, PlatformError> {
        let token = self
            .tokens
            .get(&self.http, &self.base, account, None)
            .await?;
        match self.send(call, request(&token)).await {
            Err(e) if e.errcode().is_some_and(|c| TOKEN_REFUSED.contains(&c)) => {
                tracing::info!(
                    account = account.name(),
                    call,
                    errcode = e.errcode(),
                    "access token refused; fetching it again"
                );
                let fresh = self
                    .tokens
                    .get(&self.http, &self.base, account, Some(&token))
                    .await?;
                self.send(call, request(&fresh)).await
            }
            other => other,
        }
    }

    async fn send(
        &self,
        call: &'static str,
        request: reqwest::RequestBuilder,
    ) -> std::result::Result<Value, PlatformError> {
        crate::metrics::platform_call(
            call,
            crate::metrics::platform_outcome,
            self.send_unmeasured(call, request),
        )
        .await
    }

    async fn send_unmeasured(
        &self,
        call: &'static str,
        request: reqwest::RequestBuilder,
    ) -> std::result::Result<Value, PlatformError> {
        let response = request
            .send()
            .await
            .map_err(|e| PlatformError::from_transport(call, &e))?;
        if !response.status().is_success() {
            return Err(PlatformError::Http(response.status().as_u16()));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| PlatformError::from_body(call, &e))?;
        match body.get("errcode").and_then(Value::as_i64).unwrap_or(0) {
            0 => Ok(body),
            code => Err(PlatformError::Refused {
                code,
                message: body
                    .get("errmsg")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect(),
            }),
        }
    }

    pub fn is_configured(&self, app: MiniApp) -> bool {
        self.credentials(app).is_some()
    }

    fn credentials(&self, app: MiniApp) -> Option<&AppCredentials> {
        match app {
            MiniApp::Yss => self.yss.as_ref(),
            MiniApp::Yjm => self.yjm.as_ref(),
        }
    }

    /// Exchanges a `wx.login` code for the user's openid (and unionid when the platform
    /// gives one), mapping the platform's error codes to refusals.
    pub async fn code_to_session(&self, app: MiniApp, code: &str) -> Result<PlatformUser> {
        crate::metrics::platform_call(
            "jscode2session",
            login_outcome,
            self.code_to_session_unmeasured(app, code),
        )
        .await
    }

    async fn code_to_session_unmeasured(&self, app: MiniApp, code: &str) -> Result<PlatformUser> {
        let creds = self.credentials(app).ok_or(Refusal::LoginNotConfigured)?;
        let response = self
            .http
            .get(format!("{}/sns/jscode2session", self.base))
            .query(&[
                ("appid", creds.appid.as_str()),
                ("secret", creds.secret.expose_secret()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            .map_err(|e| {
                // The URL carries the secret: log only the kind of failure.
                tracing::warn!(
                    app = app.as_str(),
                    timeout = e.is_timeout(),
                    connect = e.is_connect(),
                    "jscode2session unreachable"
                );
                Refusal::PlatformUnavailable
            })?;
        if !response.status().is_success() {
            tracing::warn!(app = app.as_str(), status = %response.status(), "jscode2session answered an HTTP error");
            return Err(Refusal::PlatformUnavailable.into());
        }
        let body: Code2SessionResponse = response.json().await.map_err(|_| {
            tracing::warn!(
                app = app.as_str(),
                "jscode2session answered something that is not its JSON"
            );
            Refusal::PlatformUnavailable
        })?;
        match body.errcode.unwrap_or(0) {
            0 => {}
            40029 | 40163 => return Err(Refusal::LoginCodeInvalid.into()),
            45011 => return Err(Refusal::PlatformRateLimited.into()),
            40226 => return Err(Refusal::PlatformRiskyUser.into()),
            code => {
                tracing::warn!(
                    app = app.as_str(),
                    errcode = code,
                    errmsg = body.errmsg.as_deref().unwrap_or(""),
                    "jscode2session refused"
                );
                return Err(Refusal::PlatformUnavailable.into());
            }
        }
        let openid = body
            .openid
            .filter(|o| !o.is_empty())
            .ok_or(Refusal::PlatformUnavailable)?;
        Ok(PlatformUser {
            openid,
            unionid: body.unionid.filter(|u| !u.is_empty()),
        })
    }
}

/// A login's outcome for the metrics: the platform away is an error, a refused code a refusal.
fn login_outcome(result: &Result<PlatformUser>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(crate::Error::Refused(Refusal::PlatformUnavailable)) => "error",
        Err(crate::Error::Refused(Refusal::LoginNotConfigured) | crate::Error::Internal(_)) => {
            "error"
        }
        Err(crate::Error::Refused(_)) => "refused",
    }
}
