//! Background jobs inside the server: the daily reminder sweep at the configured local time
//! (and once at start, to catch up a day the server was down; the sweep is idempotent), the
//! daily retention job, and the outbox delivery worker. Several instances may run them at
//! once: the outbox keys and row claims keep that safe.

use actix_web::web;
use chrono::{TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use service::Context;
use std::time::Duration;

pub fn spawn(ctx: web::Data<Context>) {
    if !ctx.settings.reminders.background {
        return;
    }
    tokio::spawn(sweep_daily(ctx.clone()));
    if let Some(at) = ctx.settings.retention.daily_at {
        tokio::spawn(service::rights::retention::daily(
            ctx.clone().into_inner(),
            at,
        ));
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
