//! Background jobs inside the server: one scheduler for the daily jobs (the reminder sweep at
//! its local time, with the suspension of permits whose ended residence registration was not
//! replaced in time, and once at start to catch up a day the server was down; the cancelling of
//! card orders whose payment notice expired unpaid; the retention run: the rules of `service`
//! and the bot's dialogue expiry, see [`retention`]), and the
//! outbox delivery worker. Several instances may run them at
//! once: the outbox keys and row claims keep that safe.

use actix_web::web;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde::Serialize;
use service::Context;
use service::rights::retention;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub fn spawn(ctx: web::Data<Context>) {
    if !ctx.settings.reminders.background {
        return;
    }
    let ctx = ctx.into_inner();
    // The sweep also runs once at start, to catch up a day the server was down.
    every_day(
        ctx.clone(),
        Daily {
            name: "reminder sweep",
            at: ctx.settings.reminders.sweep_at,
            at_start: true,
        },
        |ctx, today| async move {
            let report = service::notices::reminders::sweep(&ctx, today).await?;
            // Permits whose holder registered no new address in time after their residence
            // registration ended are suspended the same morning (today, by the clock).
            service::permit::registration_end::suspend_overdue(&ctx).await?;
            Ok::<_, service::Error>(report)
        },
    );
    // Card orders whose payment notice expired unpaid are cancelled (the holder's own reads
    // check theirs too); at the sweep's hour, and at start to catch up.
    every_day(
        ctx.clone(),
        Daily {
            name: "card payment expiry",
            at: ctx.settings.reminders.sweep_at,
            at_start: true,
        },
        |ctx, _today| async move {
            service::permit::fees::expiry::cancel_expired(&ctx.db, ctx.clock.now(), None).await
        },
    );
    if let Some(at) = ctx.settings.retention.daily_at {
        every_day(
            ctx.clone(),
            Daily {
                name: "retention run",
                at,
                at_start: false,
            },
            |ctx, today| async move { retention(&ctx, today).await },
        );
    }
    // Always: a notice may go by subscribe message, customer message or e-mail, and one that
    // no channel can carry is marked undeliverable rather than left pending.
    tokio::spawn(deliver_forever(ctx));
}

/// What one retention run did: the rules of `service` and the dialogues the bot expired.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// A job run once a day at a local time in China.
struct Daily {
    /// For the log.
    name: &'static str,
    at: NaiveTime,
    /// Also run once when the server starts.
    at_start: bool,
}

/// The one scheduler of the daily jobs: runs `job` as of each day in China at `daily.at`.
/// A failed run is logged and the next day's run picks up what it left: every daily job is
/// idempotent, and safe with several instances running it at once.
fn every_day<F, Fut, T, E>(ctx: Arc<Context>, daily: Daily, job: F)
where
    F: Fn(Arc<Context>, NaiveDate) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send,
    E: std::fmt::Debug,
{
    tokio::spawn(async move {
        let mut first = daily.at_start;
        loop {
            if !first {
                tokio::time::sleep(until_next(ctx.clock.now(), daily.at)).await;
            }
            first = false;
            if let Err(e) = job(ctx.clone(), ctx.clock.today()).await {
                tracing::error!(job = daily.name, error = ?e, "daily job failed; the next run finishes it");
            }
        }
    });
}

/// How long from `now` until the next `at` o'clock in China.
fn until_next(now: DateTime<Utc>, at: NaiveTime) -> Duration {
    let local = now.with_timezone(&Shanghai);
    let mut day = local.date_naive();
    if local.time() >= at {
        day = day.succ_opt().unwrap_or(day);
    }
    let next = Shanghai
        .from_local_datetime(&day.and_time(at))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    (next - now).to_std().unwrap_or(Duration::ZERO)
}

async fn deliver_forever(ctx: Arc<Context>) {
    let interval = Duration::from_secs(ctx.settings.reminders.delivery_interval_secs.max(1));
    loop {
        if let Err(e) = service::notices::delivery::run_once(&ctx).await {
            tracing::error!(error = ?e, "outbox delivery run failed");
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_next_run_is_later_today_or_tomorrow() {
        let at = NaiveTime::from_hms_opt(3, 30, 0).unwrap();
        // 02:00 in China → 1h30 later.
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 18, 0, 0).unwrap();
        assert_eq!(until_next(now, at), Duration::from_secs(90 * 60));
        // 04:00 in China → 23h30 later.
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 20, 0, 0).unwrap();
        assert_eq!(
            until_next(now, at),
            Duration::from_secs(23 * 3600 + 30 * 60)
        );
        // Exactly at the hour → tomorrow, not now again.
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 19, 30, 0).unwrap();
        assert_eq!(until_next(now, at), Duration::from_secs(24 * 3600));
    }
}
