//! The embedded dev collector: notices issued in-process, so that `cargo run` can order a
//! replacement card without the province's platform. Nobody can pay them at their address;
//! a developer pays one by posting the platform's callback, signed with the dev secret
//! (`.env.example` shows how). Prod refuses to start with it.

use async_trait::async_trait;
use chrono::Duration;
use std::sync::Arc;
use uuid::Uuid;

use super::{FeeCollector, Notice, NoticeRequest};
use crate::clock::Clock;
use crate::error::Result;

/// How long a dev notice may be paid.
const DEV_NOTICE_HOURS: i64 = 72;

pub struct DevFeeCollector {
    clock: Arc<Clock>,
}

impl DevFeeCollector {
    pub fn new(clock: Arc<Clock>) -> DevFeeCollector {
        DevFeeCollector { clock }
    }
}

#[async_trait]
impl FeeCollector for DevFeeCollector {
    async fn create_notice(&self, request: &NoticeRequest) -> Result<Notice> {
        let digits: String = Uuid::new_v4().simple().to_string()[..16].to_uppercase();
        let notice_no = format!("DEV{digits}");
        tracing::info!(order_id = %request.order_id, notice_no, "dev fee collector issued a notice");
        Ok(Notice {
            // `.invalid` is reserved: the address says plainly that it leads nowhere.
            pay_url: format!("https://payment.dev.invalid/notices/{notice_no}"),
            notice_no,
            expires_at: self.clock.now() + Duration::hours(DEV_NOTICE_HOURS),
        })
    }
}
