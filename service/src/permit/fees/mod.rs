//! The card fee, collected as the province collects fees.
//!
//! A card that costs a fee is paid through the fee-collector port, [`FeeCollector`]: it asks
//! for a payment notice (缴款书: its number, where to pay, until when), which the holder pays
//! at the province's non-tax payment platform; the platform then calls back, signed, and
//! [`notify`] marks the order paid, once whatever the number of deliveries. A notice that
//! expires unpaid cancels its order ([`expiry`]).
//!
//! Two adapters: [`HttpFeeCollector`] speaks to the platform at `YUEJU_PAYMENT_API_BASE`;
//! [`DevFeeCollector`] issues notices in-process when no platform is named in dev (prod
//! refuses to start without one), paid by a callback signed by hand with the dev secret.

mod dev;
pub mod expiry;
mod http;
pub mod notify;

pub use dev::DevFeeCollector;
pub use http::HttpFeeCollector;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound as _, Utc};
use entity::card_payment;
use serde::Serialize;
use std::sync::Arc;
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::{FeeCollectorSettings, Settings};
use crate::error::{Refusal, Result};

/// What the fee is for, as the platform prints it on the notice.
pub const ITEM: &str = "居住证工本费";

/// Longest notice number and payment address we store; a platform answering longer ones is
/// answering something else.
const MAX_NOTICE_NO_CHARS: usize = 64;
const MAX_PAY_URL_CHARS: usize = 2048;

/// The fee of one order, to be paid through one notice.
#[derive(Debug, Clone, Copy)]
pub struct NoticeRequest {
    pub order_id: Uuid,
    pub amount_cents: i64,
}

/// A payment notice as the platform issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub notice_no: String,
    pub pay_url: String,
    pub expires_at: DateTime<Utc>,
}

/// The fee-collector port.
#[async_trait]
pub trait FeeCollector: Send + Sync {
    /// Issues a payment notice for the order. A collector that is unreachable, slow past its
    /// deadline or answering an error refuses with [`Refusal::PaymentUnavailable`].
    async fn create_notice(&self, request: &NoticeRequest) -> Result<Notice>;
}

/// The collector the settings name.
pub fn collector(settings: &Settings, clock: Arc<Clock>) -> anyhow::Result<Arc<dyn FeeCollector>> {
    Ok(match &settings.payment.collector {
        FeeCollectorSettings::Dev => Arc::new(DevFeeCollector::new(clock)),
        FeeCollectorSettings::Http { base_url, token } => Arc::new(HttpFeeCollector::new(
            base_url,
            token.clone(),
            settings.http_timeout,
        )?),
    })
}

/// Asks `collector` for a notice and checks that it is one the holder can pay: a number and
/// an address of sane length, an `http(s)` address, an expiry after `now`.
pub async fn issue_notice(
    collector: &dyn FeeCollector,
    request: &NoticeRequest,
    now: DateTime<Utc>,
) -> Result<Notice> {
    let mut notice = collector.create_notice(request).await?;
    // Stored to the microsecond, as PostgreSQL keeps it: every answer shows the same instant.
    notice.expires_at = notice.expires_at.trunc_subsecs(6);
    let number_ok = !notice.notice_no.trim().is_empty()
        && notice.notice_no.chars().count() <= MAX_NOTICE_NO_CHARS;
    let url_ok = (notice.pay_url.starts_with("https://") || notice.pay_url.starts_with("http://"))
        && notice.pay_url.chars().count() <= MAX_PAY_URL_CHARS;
    if !number_ok || !url_ok || notice.expires_at <= now {
        tracing::warn!(
            order_id = %request.order_id,
            number_ok,
            url_ok,
            expires_at = %notice.expires_at,
            "payment platform issued a notice that cannot be paid"
        );
        return Err(Refusal::PaymentUnavailable.into());
    }
    Ok(notice)
}

/// The payment notice of an order, as the holder sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PaymentNotice)]
pub struct PaymentView {
    pub notice_no: String,
    pub amount_cents: i64,
    pub pay_url: String,
    pub expires_at: DateTime<Utc>,
    /// When the platform says it was paid; `null` while unpaid.
    pub paid_at: Option<DateTime<Utc>>,
}

impl From<card_payment::Model> for PaymentView {
    fn from(row: card_payment::Model) -> PaymentView {
        PaymentView {
            notice_no: row.notice_no,
            amount_cents: row.amount_cents,
            pay_url: row.pay_url,
            expires_at: row.expires_at,
            paid_at: row.paid_at,
        }
    }
}
