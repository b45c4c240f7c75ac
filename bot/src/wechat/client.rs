//! The official account's message APIs through a real HTTP client (base URL
//! `YUEJU_WECHAT_API_BASE`): the access token, fetched once and cached until shortly before
//! it expires, refreshed at once when the platform says it is no longer valid; customer
//! messages (allowed within 48 hours of the user's last message, which a reply always is);
//! and the user's unionid.

use serde::Deserialize;
use service::config::{AppCredentials, Settings};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Refresh this long before the platform's expiry, so a token is never used at its edge.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);
/// errcodes meaning the access token is invalid or expired.
const TOKEN_INVALID: [i64; 3] = [40001, 40014, 42001];

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    errcode: Option<i64>,
}

#[derive(Deserialize)]
struct PlainResponse {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    unionid: Option<String>,
}

/// The platform answered a customer message with an error code: 45015 (48-hour window
/// closed), 43004 (not following), 40003 (unknown openid), 45047 (too many messages) and the
/// like. Another channel may still reach the user.
#[derive(Debug, Clone, Copy)]
pub struct Refused(pub i64);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "customer message refused: errcode {}", self.0)
    }
}

impl std::error::Error for Refused {}

/// The notifier's chat port, over customer messages.
#[async_trait::async_trait]
impl service::chat::ChatChannel for OaClient {
    fn channel(&self) -> &'static str {
        super::webhook::CHANNEL
    }

    async fn send_text(
        &self,
        channel_user: &str,
        text: &str,
    ) -> Result<(), service::chat::ChatFailure> {
        use service::chat::ChatFailure;
        OaClient::send_text(self, channel_user, text)
            .await
            .map_err(|e| match e.downcast_ref::<Refused>() {
                // -1 is "system busy": worth a retry, not another channel.
                Some(Refused(code)) if *code != -1 => {
                    ChatFailure::Refused(format!("errcode {code}"))
                }
                _ => ChatFailure::Failed(e),
            })
    }
}

pub struct OaClient {
    http: reqwest::Client,
    base: String,
    creds: AppCredentials,
    token: Mutex<Option<(String, Instant)>>,
}

impl OaClient {
    pub fn new(settings: &Settings, creds: AppCredentials) -> anyhow::Result<OaClient> {
        let http = reqwest::Client::builder()
            .timeout(settings.http_timeout)
            .user_agent("yueju/0.1")
            .build()?;
        Ok(OaClient {
            http,
            base: settings.wechat_api_base.trim_end_matches('/').to_owned(),
            creds,
            token: Mutex::new(None),
        })
    }

    /// The cached access token, or a new one when there is none, it is near expiry, or
    /// `stale` is the token the platform just refused.
    async fn access_token(&self, stale: Option<&str>) -> anyhow::Result<String> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
            && Some(token.as_str()) != stale
        {
            return Ok(token.clone());
        }
        let response = self
            .http
            .get(format!("{}/cgi-bin/token", self.base))
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", self.creds.appid.as_str()),
                ("secret", self.creds.secret.as_str()),
            ])
            .send()
            .await
            // The URL carries the secret: keep only the kind of failure.
            .map_err(|e| {
                anyhow::anyhow!("access token request failed (timeout: {})", e.is_timeout())
            })?;
        let body: TokenResponse = response
            .json()
            .await
            .map_err(|_| anyhow::anyhow!("access token answer is not its JSON"))?;
        let token = body
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| anyhow::anyhow!("access token refused: errcode {:?}", body.errcode))?;
        let lifetime = Duration::from_secs(body.expires_in.unwrap_or(7200));
        *cached = Some((
            token.clone(),
            Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN),
        ));
        tracing::info!("official-account access token refreshed");
        Ok(token)
    }

    /// Runs `call` with a token, once more with a fresh token when the platform refuses it.
    async fn with_token<F, Fut>(&self, call: F) -> anyhow::Result<PlainResponse>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<PlainResponse>>,
    {
        let token = self.access_token(None).await?;
        let first = call(token.clone()).await?;
        match first.errcode {
            Some(code) if TOKEN_INVALID.contains(&code) => {
                let fresh = self.access_token(Some(&token)).await?;
                call(fresh).await
            }
            _ => Ok(first),
        }
    }

    /// Sends a text customer message to `openid`.
    pub async fn send_text(&self, openid: &str, content: &str) -> anyhow::Result<()> {
        let body =
            serde_json::json!({"touser": openid, "msgtype": "text", "text": {"content": content}});
        let answer = self
            .with_token(|token| {
                let request = self
                    .http
                    .post(format!("{}/cgi-bin/message/custom/send", self.base))
                    .query(&[("access_token", token)])
                    .json(&body);
                async move {
                    let response = request.send().await.map_err(|e| {
                        anyhow::anyhow!("customer message failed (timeout: {})", e.is_timeout())
                    })?;
                    response
                        .json::<PlainResponse>()
                        .await
                        .map_err(|_| anyhow::anyhow!("customer message answer is not its JSON"))
                }
            })
            .await?;
        match answer.errcode.unwrap_or(0) {
            0 => Ok(()),
            code => Err(anyhow::Error::new(Refused(code))),
        }
    }

    /// The unionid of a follower, when the official account is tied to an open platform.
    pub async fn unionid(&self, openid: &str) -> anyhow::Result<Option<String>> {
        let answer = self
            .with_token(|token| {
                let request = self
                    .http
                    .get(format!("{}/cgi-bin/user/info", self.base))
                    .query(&[
                        ("access_token", token.as_str()),
                        ("openid", openid),
                        ("lang", "zh_CN"),
                    ]);
                async move {
                    let response = request.send().await.map_err(|e| {
                        anyhow::anyhow!("user info failed (timeout: {})", e.is_timeout())
                    })?;
                    response
                        .json::<PlainResponse>()
                        .await
                        .map_err(|_| anyhow::anyhow!("user info answer is not its JSON"))
                }
            })
            .await?;
        Ok(answer.unionid.filter(|u| !u.is_empty()))
    }
}
