//! Background jobs inside the server: the daily reminder sweep at the configured local time
//! (and once at start, to catch up a day the server was down; the sweep is idempotent), the
//! daily retention job (the rules of `service` and the bot's dialogue expiry, see
//! [`retention`]), and the outbox delivery worker. Several instances may run them at once:
//! the outbox keys and row claims keep that safe, and every retention step is idempotent.

use actix_web::web;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde::Serialize;
use service::Context;
use service::rights::retention;
use std::time::Duration;

pub fn spawn(ctx: web::Data<Context>) {
    if !ctx.settings.reminders.background {
        return;
    }
    tokio::spawn(sweep_daily(ctx.clone()));
    if let Some(at) = ctx.settings.retention.daily_at {
        tokio::spawn(retention_daily(ctx.clone(), at));
    }
    // Always: a notice may go by subscribe message, customer message or e-mail, and one that
    // no channel can carry is marked undeliverable rather than left pending.
    tokio::spawn(deliver_forever(ctx));
}

/// How long until the next `at` (Asia/Shanghai).
fn until_next(at: chrono::NaiveTime) -> Duration {
    let now = Utc::now().with_timezone(&Shanghai);
    let today = now.date_naive().and_time(at);
    let next = if now.naive_local() < today {
        today
    } else {
        today + chrono::Duration::days(1)
    };
    Shanghai
        .from_local_datetime(&next)
        .earliest()
        .map(|t| {
            (t.with_timezone(&Utc) - Utc::now())
                .to_std()
                .unwrap_or_default()
        })
        .unwrap_or(Duration::from_secs(3600))
}

/// What one retention run did: the rules of `service` and the dialogues the bot expired.
#[derive(Debug, Serialize)]
pub struct RetentionReport {
    #[serde(flatten)]
    pub rules: retention::Report,
    pub dialogues_deleted: u64,
}

/// One retention run as of `as_of`: `service`'s rules, then the bot's unused dialogues.
pub async fn retention(ctx: &Context, as_of: NaiveDate) -> service::error::Result<RetentionReport> {
    let rules = retention::run(ctx, as_of).await?;
    let dialogues_deleted = bot::store::expire(ctx).await?;
    Ok(RetentionReport {
        rules,
        dialogues_deleted,
    })
}

/// The daily retention schedule: as of each day in China at `at`.
async fn retention_daily(ctx: web::Data<Context>, at: NaiveTime) {
    loop {
        tokio::time::sleep(retention::until_next(Utc::now(), at)).await;
        if let Err(e) = retention(&ctx, service::config::today_in_china()).await {
            tracing::error!(error = ?e, "retention run failed; the next run finishes it");
        }
    }
}

async fn sweep_daily(ctx: web::Data<Context>) {
    loop {
        let today = service::config::today_in_china();
        if let Err(e) = service::notices::reminders::sweep(&ctx, today).await {
            tracing::error!(error = ?e, "reminder sweep failed");
        }
        tokio::time::sleep(until_next(ctx.settings.reminders.sweep_at)).await;
    }
}

async fn deliver_forever(ctx: web::Data<Context>) {
    let interval = Duration::from_secs(ctx.settings.reminders.delivery_interval_secs.max(1));
    loop {
        if let Err(e) = service::notices::delivery::run_once(&ctx).await {
            tracing::error!(error = ?e, "outbox delivery run failed");
        }
        tokio::time::sleep(interval).await;
    }
}
