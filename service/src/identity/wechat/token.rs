//! Access tokens from the platform's `POST /cgi-bin/stable_token` in normal mode, one per
//! account, cached in this process until five minutes before they expire.
//!
//! Normal mode is what lets several instances run at once: every instance asking within a
//! token's life gets the same token, where the old `GET /cgi-bin/token` (never used here)
//! cancels the token every other instance holds. `force_refresh` is never sent: it also
//! cancels the others' tokens, and the platform allows it twenty times a day. When the
//! platform refuses a token (40001, 42001) the caller fetches again once, in normal mode,
//! passing the refused token so that one fetch serves every caller that saw it refused.

use secrecy::ExposeSecret as _;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

use super::{Account, PlatformError};
use crate::config::AppCredentials;

/// A token is fetched again this long before the platform's expiry: in normal mode the
/// platform itself hands out the next token in the last five minutes, and both work then.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
struct Cached {
    token: String,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct StableTokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

/// The token cache of one process: one slot per configured account, each behind its own
/// lock so that callers waiting for one account's token do not hold up another's.
pub struct AccessTokens {
    slots: HashMap<Account, (AppCredentials, Mutex<Option<Cached>>)>,
}

impl AccessTokens {
    pub fn new(accounts: impl IntoIterator<Item = (Account, AppCredentials)>) -> AccessTokens {
        AccessTokens {
            slots: accounts
                .into_iter()
                .map(|(account, creds)| (account, (creds, Mutex::new(None))))
                .collect(),
        }
    }

    pub fn is_configured(&self, account: Account) -> bool {
        self.slots.contains_key(&account)
    }

    pub fn appid(&self, account: Account) -> Option<&str> {
        self.slots.get(&account).map(|(c, _)| c.appid.as_str())
    }

    /// The cached token of `account`, or a new one when there is none, it is near its
    /// expiry, or it is `refused` (the token the platform just turned down).
    pub async fn get(
        &self,
        http: &reqwest::Client,
        base: &str,
        account: Account,
        refused: Option<&str>,
    ) -> Result<String, PlatformError> {
        let (creds, slot) = self
            .slots
            .get(&account)
            .ok_or(PlatformError::NotConfigured(account.setting()))?;
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.refresh_at
            && Some(c.token.as_str()) != refused
        {
            return Ok(c.token.clone());
        }
        let started = Instant::now();
        let fetch = fetch(http, base, creds);
        let (token, answer) =
            crate::metrics::platform_call("stable_token", crate::metrics::platform_outcome, fetch)
                .await?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(7200));
        // The platform promises at least 300 s; a shorter answer is used for half its life.
        let keep = match lifetime.checked_sub(REFRESH_MARGIN) {
            Some(keep) if !keep.is_zero() => keep,
            _ => lifetime / 2,
        };
        *cached = Some(Cached {
            token: token.clone(),
            refresh_at: started + keep,
        });
        tracing::info!(
            account = account.name(),
            expires_in = lifetime.as_secs(),
            "platform access token fetched (stable_token)"
        );
        Ok(token)
    }
}

/// One `stable_token` call: the token and the answer it came in.
async fn fetch(
    http: &reqwest::Client,
    base: &str,
    creds: &AppCredentials,
) -> Result<(String, StableTokenAnswer), PlatformError> {
    let response = http
        .post(format!("{base}/cgi-bin/stable_token"))
        .json(&serde_json::json!({
            "grant_type": "client_credential",
            "appid": creds.appid,
            "secret": creds.secret.expose_secret(),
        }))
        .send()
        .await
        .map_err(|e| PlatformError::from_transport("stable_token", &e))?;
    if !response.status().is_success() {
        return Err(PlatformError::Http(response.status().as_u16()));
    }
    let answer: StableTokenAnswer = response
        .json()
        .await
        .map_err(|e| PlatformError::from_body("stable_token", &e))?;
    match answer.access_token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) if answer.errcode.unwrap_or(0) == 0 => Ok((token.to_owned(), answer)),
        _ => Err(PlatformError::Refused {
            code: answer.errcode.unwrap_or(-1),
            message: answer.errmsg.unwrap_or_default(),
        }),
    }
}
