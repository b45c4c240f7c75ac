//! What an operator watches: every series the service exports, named here and nowhere else,
//! and the one-line calls that record them where things happen. The `api` crate renders them
//! in the Prometheus text format on `YUEJU_METRICS_BIND` (a second listener, never the public
//! port); with no recorder installed every call here costs a load and a branch.
//!
//! Traces line up with the series: a timed call runs in a span named after its series without
//! the unit (`yueju_platform_call` for `yueju_platform_call_duration_seconds`), with the same
//! labels as fields; verifications, applications and deliveries put their labels on the span
//! they happen in as `verdict`/`reason`, `outcome` and `channel`; an HTTP request's span carries
//! `http.route`, the same route pattern as the `route` label.
//!
//! Labels carry no identifiers: routes are patterns (`/api/v1/applications/{id}`), reasons
//! are the API's stable codes, and every other label takes one of a few fixed words.
//!
//! Gauges that describe the database ([`read_gauges`]) are read when Prometheus scrapes, by
//! the instance it scrapes; with several instances on one database each reports the same
//! figures (take `max` across instances, as the dashboard does).

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike as _, Utc, Weekday};
use entity::statuses::{ApplicationStatus, OutboxStatus};
use entity::{application, outbox};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use tracing::Instrument as _;

use crate::Context;
use crate::error::Result;
use crate::identity::wechat::PlatformError;
use crate::verify::verification::{Verdict, VerifyReason};

/// Requests by route pattern, method and status (histogram).
pub const HTTP_REQUEST_DURATION: &str = "yueju_http_request_duration_seconds";
/// Answers of `POST /api/v1/verify` by verdict (`valid`, `invalid`, `undetermined`) and
/// reason (a stable code, or `none`).
pub const VERIFICATIONS: &str = "yueju_verifications_total";
/// Applications filed, by outcome (`issued_at_once`, `needs_materials`, `rejected`).
pub const APPLICATIONS: &str = "yueju_applications_total";
/// Applications waiting for a reviewer.
pub const REVIEW_QUEUE_LENGTH: &str = "yueju_review_queue_length";
/// How long the longest-waiting application has waited for a reviewer.
pub const REVIEW_QUEUE_OLDEST_AGE: &str = "yueju_review_queue_oldest_age_seconds";
/// The same wait counted in working days (Monday to Friday in China).
pub const REVIEW_QUEUE_OLDEST_WORKING_DAYS: &str = "yueju_review_queue_oldest_working_days";
/// Notices not yet delivered (due now or waiting for a retry).
pub const OUTBOX_PENDING: &str = "yueju_outbox_pending";
/// How long the notice that has been due the longest has waited for delivery.
pub const OUTBOX_OLDEST_AGE: &str = "yueju_outbox_oldest_age_seconds";
/// Delivery attempts by channel (`subscribe`, `customer`, `email`) and outcome (`sent`,
/// `refused`: the channel will not reach the person and the next one is tried, `failed`:
/// retried later).
pub const DELIVERIES: &str = "yueju_deliveries_total";
/// WeChat platform calls by call and outcome (`ok`, `refused`, `error`, `timeout`)
/// (histogram; its `_count` counts the calls).
pub const PLATFORM_CALL_DURATION: &str = "yueju_platform_call_duration_seconds";
/// Government data exchange calls by dataset and outcome (`ok`, `error`) (histogram).
pub const GOVDATA_CALL_DURATION: &str = "yueju_govdata_call_duration_seconds";
/// How long since this instance's status lists last caught up with the database: what a
/// verifier answered from them may be this old.
pub const STATUS_LIST_AGE: &str = "yueju_status_list_age_seconds";
/// `YUEJU_STATUS_LIST_TTL_SECS`: how long a verifier may keep a list, which the age above
/// must stay under.
pub const STATUS_LIST_TTL: &str = "yueju_status_list_ttl_seconds";

/// Every series, with its kind and help text, as the exporter describes them.
pub const ALL: [(&str, Kind, &str); 14] = [
    (
        HTTP_REQUEST_DURATION,
        Kind::Histogram,
        "HTTP requests by route pattern, method and status",
    ),
    (
        VERIFICATIONS,
        Kind::Counter,
        "Answers of POST /api/v1/verify by verdict and reason",
    ),
    (
        APPLICATIONS,
        Kind::Counter,
        "Applications filed, by outcome",
    ),
    (
        REVIEW_QUEUE_LENGTH,
        Kind::Gauge,
        "Applications waiting for a reviewer (the whole database)",
    ),
    (
        REVIEW_QUEUE_OLDEST_AGE,
        Kind::Gauge,
        "Seconds the longest-waiting application has waited for a reviewer",
    ),
    (
        REVIEW_QUEUE_OLDEST_WORKING_DAYS,
        Kind::Gauge,
        "Working days (Monday to Friday, China) the longest-waiting application has waited",
    ),
    (
        OUTBOX_PENDING,
        Kind::Gauge,
        "Notices not yet delivered (the whole database)",
    ),
    (
        OUTBOX_OLDEST_AGE,
        Kind::Gauge,
        "Seconds the longest-due notice has waited for delivery",
    ),
    (
        DELIVERIES,
        Kind::Counter,
        "Notice delivery attempts by channel and outcome",
    ),
    (
        PLATFORM_CALL_DURATION,
        Kind::Histogram,
        "WeChat platform calls by call and outcome",
    ),
    (
        GOVDATA_CALL_DURATION,
        Kind::Histogram,
        "Government data exchange calls by dataset and outcome",
    ),
    (
        STATUS_LIST_AGE,
        Kind::Gauge,
        "Seconds since this instance's status lists last caught up with the database",
    ),
    (
        STATUS_LIST_TTL,
        Kind::Gauge,
        "Seconds a verifier may keep a status list (YUEJU_STATUS_LIST_TTL_SECS)",
    ),
    (
        METRICS_READ_FAILURES,
        Kind::Counter,
        "Scrapes whose database figures could not be read (the previous ones were kept)",
    ),
];

/// Scrapes whose database gauges could not be read.
pub const METRICS_READ_FAILURES: &str = "yueju_metrics_read_failures_total";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Describes every series and sets every counter with a known set of labels to zero, so
/// that rates and ratios have a series from the start. Call once, after installing a recorder.
pub fn describe() {
    for (name, kind, help) in ALL {
        match kind {
            Kind::Counter => ::metrics::describe_counter!(name, help),
            Kind::Gauge => ::metrics::describe_gauge!(name, help),
            Kind::Histogram => {
                ::metrics::describe_histogram!(name, ::metrics::Unit::Seconds, help)
            }
        }
    }
    for outcome in ["issued_at_once", "needs_materials", "rejected"] {
        ::metrics::counter!(APPLICATIONS, "outcome" => outcome).absolute(0);
    }
    for channel in [Channel::Subscribe, Channel::Customer, Channel::Email] {
        for outcome in [Delivery::Sent, Delivery::Refused, Delivery::Failed] {
            ::metrics::counter!(DELIVERIES, "channel" => channel.as_str(), "outcome" => outcome.as_str())
                .absolute(0);
        }
    }
    ::metrics::counter!(VERIFICATIONS, "verdict" => "valid", "reason" => "none").absolute(0);
    for reason in VerifyReason::ALL {
        ::metrics::counter!(VERIFICATIONS, "verdict" => verdict_word(Some(reason)), "reason" => reason.code())
            .absolute(0);
    }
    ::metrics::counter!(METRICS_READ_FAILURES).absolute(0);
}

fn verdict_word(reason: Option<VerifyReason>) -> &'static str {
    match reason {
        None => "valid",
        Some(VerifyReason::StatusUndetermined) => "undetermined",
        Some(_) => "invalid",
    }
}

/// Runs one verification of `POST /api/v1/verify` in a `yueju_verifications` span and counts
/// its answer by verdict and reason.
pub async fn verified(work: impl Future<Output = Verdict>) -> Verdict {
    let span = tracing::info_span!(
        "yueju_verifications",
        verdict = tracing::field::Empty,
        reason = tracing::field::Empty
    );
    let verdict = work.instrument(span.clone()).await;
    let reason = if verdict.valid { None } else { verdict.reason };
    let word = verdict_word(reason);
    let code = reason.map_or("none", VerifyReason::code);
    span.record("verdict", word);
    span.record("reason", code);
    ::metrics::counter!(VERIFICATIONS, "verdict" => word, "reason" => code).increment(1);
    verdict
}

/// One application filed (not a replay of an earlier answer), also put on the current
/// `yueju_applications` span.
pub fn application(status: ApplicationStatus) {
    let outcome = match status {
        ApplicationStatus::Issued => "issued_at_once",
        ApplicationStatus::NeedsMaterials | ApplicationStatus::PendingReview => "needs_materials",
        ApplicationStatus::Rejected => "rejected",
    };
    tracing::Span::current().record("outcome", outcome);
    ::metrics::counter!(APPLICATIONS, "outcome" => outcome).increment(1);
}

/// The channels a notice may go by, as the metrics name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A subscribe message (订阅消息) of the mini-program.
    Subscribe,
    /// A customer message (客服消息) of the official account.
    Customer,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Subscribe => "subscribe",
            Channel::Customer => "customer",
            Channel::Email => "email",
        }
    }
}

/// What one attempt on one channel came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The channel will not reach this person (now): the next channel is tried.
    Refused,
    /// The channel failed (timeout, busy, an SMTP error): the notice is retried later.
    Failed,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Sent => "sent",
            Delivery::Refused => "refused",
            Delivery::Failed => "failed",
        }
    }
}

/// One delivery attempt on one channel (also put on the notice's `yueju_deliveries` span).
pub fn delivery(channel: Channel, outcome: Delivery) {
    let span = tracing::Span::current();
    span.record("channel", channel.as_str());
    span.record("outcome", outcome.as_str());
    ::metrics::counter!(DELIVERIES, "channel" => channel.as_str(), "outcome" => outcome.as_str())
        .increment(1);
}

/// A platform call's outcome: `ok`, `refused` (an errcode another attempt would meet again),
/// `timeout`, or `error` (unreachable, an HTTP error, not its JSON, busy).
pub fn platform_outcome<T>(result: &std::result::Result<T, PlatformError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(PlatformError::Timeout(_)) => "timeout",
        Err(e @ PlatformError::Refused { .. }) if !e.is_transient() => "refused",
        Err(_) => "error",
    }
}

/// Runs a WeChat platform call in a `yueju_platform_call` span and records its duration and
/// outcome (as `classify` reads the result).
pub async fn platform_call<T, E>(
    call: &'static str,
    classify: fn(&std::result::Result<T, E>) -> &'static str,
    work: impl Future<Output = std::result::Result<T, E>>,
) -> std::result::Result<T, E> {
    let span = tracing::info_span!("yueju_platform_call", call, outcome = tracing::field::Empty);
    let started = Instant::now();
    let result = work.instrument(span.clone()).await;
    let outcome = classify(&result);
    span.record("outcome", outcome);
    ::metrics::histogram!(PLATFORM_CALL_DURATION, "call" => call, "outcome" => outcome)
        .record(started.elapsed());
    result
}

/// Runs a call to the government data exchange in a `yueju_govdata_call` span and records its
/// duration and outcome.
pub async fn govdata_call<T>(
    dataset: &'static str,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let span = tracing::info_span!(
        "yueju_govdata_call",
        dataset,
        outcome = tracing::field::Empty
    );
    let started = Instant::now();
    let result = work.instrument(span.clone()).await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    span.record("outcome", outcome);
    ::metrics::histogram!(GOVDATA_CALL_DURATION, "dataset" => dataset, "outcome" => outcome)
        .record(started.elapsed());
    result
}

/// Reads the gauges that describe the database (review queue, outbox) and this instance's
/// status lists: three indexed queries, each bounded by the rows waiting.
pub async fn read_gauges(ctx: &Context) -> Result<()> {
    let now = ctx.clock.now();
    let waiting = application::Entity::find()
        .filter(application::Column::Status.eq(ApplicationStatus::PendingReview));
    let queue = waiting.clone().count(&ctx.db).await?;
    // Waiting since the materials were complete (the last change of a pending application).
    let oldest_review: Option<DateTime<Utc>> = waiting
        .select_only()
        .column(application::Column::UpdatedAt)
        .order_by_asc(application::Column::UpdatedAt)
        .limit(1)
        .into_tuple()
        .one(&ctx.db)
        .await?;
    let pending = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .count(&ctx.db)
        .await?;
    // By the index on (status, next_attempt_at): the notice due the longest.
    let oldest_due: Option<DateTime<Utc>> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::NextAttemptAt)
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(1)
        .into_tuple()
        .one(&ctx.db)
        .await?;
    let age = |since: Option<DateTime<Utc>>| {
        since.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
    };
    ::metrics::gauge!(REVIEW_QUEUE_LENGTH).set(queue as f64);
    ::metrics::gauge!(REVIEW_QUEUE_OLDEST_AGE).set(age(oldest_review));
    ::metrics::gauge!(REVIEW_QUEUE_OLDEST_WORKING_DAYS)
        .set(oldest_review.map_or(0.0, |t| working_days(t, now)));
    ::metrics::gauge!(OUTBOX_PENDING).set(pending as f64);
    ::metrics::gauge!(OUTBOX_OLDEST_AGE).set(age(oldest_due));
    let behind = ctx.status_lists.since_caught_up();
    ::metrics::gauge!(STATUS_LIST_AGE).set(behind.as_secs_f64());
    ::metrics::gauge!(STATUS_LIST_TTL).set(f64::from(ctx.settings.agencies.status_list_ttl_secs));
    Ok(())
}

/// Working days (Monday to Friday, in China) between `from` and `to`, with fractions of a
/// day: Friday 18:00 to Monday 09:00 is 0.625 (six hours on Friday, nine on Monday). Public
/// holidays and the weekends made working days (调休) are not known here.
pub fn working_days(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    use chrono_tz::Asia::Shanghai;
    if to <= from {
        return 0.0;
    }
    let start = from.with_timezone(&Shanghai).naive_local();
    let end = to.with_timezone(&Shanghai).naive_local();
    let mut total = Duration::ZERO;
    let mut day = start.date();
    // A wait longer than ten years is counted as ten: the gauge is for alerting.
    let last = end.date().min(day + chrono::Days::new(3653));
    while day <= last {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            let (Some(midnight), Some(next)) = (
                day.and_hms_opt(0, 0, 0),
                day.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)),
            ) else {
                break;
            };
            let lo = midnight.max(start);
            let hi = next.min(end);
            if hi > lo {
                total += (hi - lo).to_std().unwrap_or_default();
            }
        }
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    total.as_secs_f64() / 86_400.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn china(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_weekend_does_not_count_as_working_days() {
        // 2026-12-04 is a Friday.
        let friday_evening = china(2026, 12, 4, 18);
        let monday_morning = china(2026, 12, 7, 9);
        assert!((working_days(friday_evening, monday_morning) - 0.625).abs() < 1e-9);
        // Friday 10:00 to Tuesday 10:00: two working days, four calendar days.
        assert!((working_days(china(2026, 12, 4, 10), china(2026, 12, 8, 10)) - 2.0).abs() < 1e-9);
        // Monday to Wednesday, same hour: two.
        assert!((working_days(china(2026, 12, 7, 8), china(2026, 12, 9, 8)) - 2.0).abs() < 1e-9);
        // Saturday to Sunday: none; backwards: none.
        assert_eq!(
            working_days(china(2026, 12, 5, 8), china(2026, 12, 6, 20)),
            0.0
        );
        assert_eq!(working_days(monday_morning, friday_evening), 0.0);
    }

    #[test]
    fn every_series_is_named_once_and_with_the_service_prefix() {
        let mut names: Vec<&str> = ALL.iter().map(|(n, _, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for (name, kind, _) in ALL {
            assert!(name.starts_with("yueju_"), "{name}");
            match kind {
                Kind::Counter => assert!(name.ends_with("_total"), "{name}"),
                Kind::Histogram => assert!(name.ends_with("_seconds"), "{name}"),
                Kind::Gauge => assert!(!name.ends_with("_total"), "{name}"),
            }
        }
    }

    #[test]
    fn platform_outcomes_tell_a_refusal_from_an_error() {
        let refused: std::result::Result<(), _> = Err(PlatformError::Refused {
            code: 40003,
            message: String::new(),
        });
        let busy: std::result::Result<(), _> = Err(PlatformError::Refused {
            code: -1,
            message: String::new(),
        });
        assert_eq!(platform_outcome(&refused), "refused");
        assert_eq!(platform_outcome(&busy), "error");
        assert_eq!(
            platform_outcome::<()>(&Err(PlatformError::Timeout("x"))),
            "timeout"
        );
        assert_eq!(
            platform_outcome::<()>(&Err(PlatformError::Http(502))),
            "error"
        );
        assert_eq!(platform_outcome(&Ok::<(), PlatformError>(())), "ok");
    }
}
