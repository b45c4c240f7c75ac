//! The HTTP adapter for the province's non-tax payment platform.
//!
//! Protocol: `POST {base}/notices` with `{"order_id", "amount_cents", "item": "居住证工本费"}`
//! (and `Authorization: Bearer {token}` when configured) answers the notice,
//! `{"notice_no", "pay_url", "expires_at"}`. The order id lets the platform recognise a
//! repeated request. Every failure (unreachable, past the deadline, an error status, a body
//! that does not read) is one refusal, [`Refusal::PaymentUnavailable`]; the log keeps which.

use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use std::time::Duration;

use super::{FeeCollector, ITEM, Notice, NoticeRequest};
use crate::error::{Refusal, Result};

/// How much of an error body goes to the log.
const LOGGED_BODY_CHARS: usize = 300;

pub struct HttpFeeCollector {
    http: reqwest::Client,
    base: String,
    token: Option<SecretString>,
}

#[derive(Deserialize)]
struct NoticeWire {
    notice_no: String,
    pay_url: String,
    expires_at: DateTime<Utc>,
}

impl HttpFeeCollector {
    pub fn new(
        base: &str,
        token: Option<SecretString>,
        timeout: Duration,
    ) -> anyhow::Result<HttpFeeCollector> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent("yueju/0.1")
            .build()
            .context("building the payment platform's HTTP client")?;
        Ok(HttpFeeCollector {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
        })
    }
}

#[async_trait]
impl FeeCollector for HttpFeeCollector {
    async fn create_notice(&self, request: &NoticeRequest) -> Result<Notice> {
        let order_id = request.order_id;
        let mut call = self
            .http
            .post(format!("{}/notices", self.base))
            .json(&serde_json::json!({
                "order_id": order_id,
                "amount_cents": request.amount_cents,
                "item": ITEM,
            }));
        if let Some(token) = &self.token {
            call = call.bearer_auth(token.expose_secret());
        }
        let response = call.send().await.map_err(|e| {
            tracing::warn!(%order_id, timeout = e.is_timeout(), error = %e, "payment platform unreachable");
            Refusal::PaymentUnavailable
        })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let body: String = body.chars().take(LOGGED_BODY_CHARS).collect();
            tracing::warn!(%order_id, %status, body, "payment platform answered an error");
            return Err(Refusal::PaymentUnavailable.into());
        }
        // Reading the body is under the same deadline as the call.
        let wire = response.json::<NoticeWire>().await.map_err(|e| {
            tracing::warn!(%order_id, timeout = e.is_timeout(), error = %e, "payment platform answered an unreadable notice");
            Refusal::PaymentUnavailable
        })?;
        Ok(Notice {
            notice_no: wire.notice_no,
            pay_url: wire.pay_url,
            expires_at: wire.expires_at,
        })
    }
}
