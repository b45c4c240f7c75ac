//! The WeChat platform's HTTP APIs, through a real client with a configurable base URL
//! (`YUEJU_WECHAT_API_BASE`), so tests point it at a local fake.

use serde::Deserialize;

use crate::config::{AppCredentials, Settings};
use crate::error::{Refusal, Result};

/// The two mini-programs that log residents in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl WechatClient {
    pub fn new(settings: &Settings) -> anyhow::Result<WechatClient> {
        let http = reqwest::Client::builder()
            .timeout(settings.http_timeout)
            .user_agent("yueju/0.1")
            .build()?;
        Ok(WechatClient {
            http,
            base: settings.wechat_api_base.trim_end_matches('/').to_owned(),
            yss: settings.yss.clone(),
            yjm: settings.yjm.clone(),
        })
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
        let creds = self.credentials(app).ok_or(Refusal::LoginNotConfigured)?;
        let response = self
            .http
            .get(format!("{}/sns/jscode2session", self.base))
            .query(&[
                ("appid", creds.appid.as_str()),
                ("secret", creds.secret.as_str()),
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
