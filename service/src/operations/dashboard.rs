//! The staff dashboard: per day in China (Asia/Shanghai) over a window, applications by their
//! outcome at filing, later review decisions, notices delivered by channel and agency
//! verifications; and the review queue now. Counts only, never a person.
//!
//! Every series is one `GROUP BY` over the day of a timestamp. China keeps one offset all year
//! (+08:00, no daylight saving), so the day is the UTC timestamp moved by eight hours on
//! SQLite and the timestamp at time zone `Asia/Shanghai` on PostgreSQL; both give the date as
//! `YYYY-MM-DD` text, read the same way on either database.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use entity::statuses::{ApplicationStatus, OutboxStatus};
use entity::{access_log_entry, application, outbox};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::Context;
use crate::error::Result;

/// Days shown when the request names none.
pub const DEFAULT_DAYS: u32 = 30;
/// The longest window: a year and a day, so a year ago today is still in it.
pub const MAX_DAYS: u32 = 366;

/// The review queue's age groups, in whole days waiting: 0, 1, 2–4, 5 and more. Two working
/// days is the operators' alert threshold; five covers a long weekend.
const AGE_GROUPS: [(u32, &str); 4] = [(0, "0"), (1, "1"), (2, "2-4"), (5, "5+")];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// The first and the last day of the window (China's calendar).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// One entry a day, oldest first, every day of the window (zeros included).
    pub days: Vec<Day>,
    /// The sums over the window.
    pub totals: Totals,
    pub review_queue: ReviewQueue,
    /// When these figures were read.
    pub generated_at: DateTime<Utc>,
}

#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct Day {
    pub date: NaiveDate,
    /// Applications filed that day, by the outcome of the government-data check at filing.
    pub applications: Outcomes,
    /// The share of that day's applications issued at once (0–1); null without applications.
    pub issued_at_once_share: Option<f64>,
    /// Reviewers' decisions made that day, whenever the application was filed.
    pub decisions: Decisions,
    /// Reminders and notices delivered that day, by the channel that carried them.
    pub notices: Channels,
    /// Codes verified by agencies that day.
    pub agency_verifications: u64,
}

/// Applications by the outcome at filing.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct Outcomes {
    /// The data proved everything: a permit at once, no documents.
    pub issued_at_once: u64,
    /// Documents were asked for (whatever a reviewer decided since).
    pub needs_materials: u64,
    /// Refused at filing.
    pub rejected: u64,
}

impl Outcomes {
    pub fn total(&self) -> u64 {
        self.issued_at_once + self.needs_materials + self.rejected
    }
}

#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct Decisions {
    pub approved: u64,
    pub rejected: u64,
}

/// Notices by delivery channel; `not_delivered` counts those that failed for good or had no
/// channel, on the day they were written.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct Channels {
    /// Mini-program subscribe messages.
    pub subscribe: u64,
    /// Official-account customer messages.
    pub wechat: u64,
    pub email: u64,
    pub not_delivered: u64,
}

#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub applications: Outcomes,
    pub issued_at_once_share: Option<f64>,
    pub decisions: Decisions,
    pub notices: Channels,
    pub agency_verifications: u64,
}

/// The applications waiting for a reviewer now.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ReviewQueue {
    pub length: u64,
    /// When the longest-waiting application became ready for review; null when none waits.
    pub oldest_since: Option<DateTime<Utc>>,
    /// How long it has waited, in seconds.
    pub oldest_age_seconds: Option<i64>,
    /// How many wait how many whole days: `0`, `1`, `2-4`, `5+`.
    pub by_age: Vec<AgeGroup>,
    /// Applications waiting for the resident's documents (not yet in the queue).
    pub awaiting_materials: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgeGroup {
    pub days: &'static str,
    pub count: u64,
}

/// The window of `days` days ending today, bounded to 1..=[`MAX_DAYS`].
pub fn window(today: NaiveDate, days: Option<u64>) -> (NaiveDate, NaiveDate) {
    let days = days.map_or(DEFAULT_DAYS, |d| d.clamp(1, u64::from(MAX_DAYS)) as u32);
    let from = today
        .checked_sub_days(Days::new(u64::from(days - 1)))
        .unwrap_or(today);
    (from, today)
}

/// The dashboard over the `days` days ending today (see [`window`]).
pub async fn dashboard(ctx: &Context, days: Option<u64>) -> Result<Dashboard> {
    let now = ctx.clock.now();
    let (from, to) = window(ctx.clock.today(), days);
    // From the window's first midnight in China; the index on each timestamp can serve it.
    let since = from
        .and_time(NaiveTime::MIN)
        .and_local_timezone(chrono_tz::Asia::Shanghai)
        .earliest()
        .map_or(now, |t| t.with_timezone(&Utc));
    let db = &ctx.db;
    let backend = db.get_database_backend();

    let mut by_day: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    let mut d = from;
    while d <= to {
        by_day.insert(
            d,
            Day {
                date: d,
                ..Day::default()
            },
        );
        d = match d.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }

    // Applications by the day filed and the outcome at filing: no reviewer (`decided_by`) and
    // issued or rejected means the data decided at once; everything else asked for documents.
    let outcome = "CASE WHEN decided_by IS NULL AND status = 'issued' THEN 'issued_at_once' \
                   WHEN decided_by IS NULL AND status = 'rejected' THEN 'rejected' \
                   ELSE 'needs_materials' END";
    let rows: Vec<(String, String, i64)> = application::Entity::find()
        .select_only()
        .column_as(day_of(backend, "created_at"), "day")
        .column_as(Expr::cust(outcome), "outcome")
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(application::Column::CreatedAt.gte(since))
        .group_by(day_of(backend, "created_at"))
        .group_by(Expr::cust(outcome))
        .into_tuple()
        .all(db)
        .await?;
    for (date, outcome, n) in rows {
        if let Some(day) = day_in(&mut by_day, &date) {
            let n = count(n);
            match outcome.as_str() {
                "issued_at_once" => day.applications.issued_at_once += n,
                "rejected" => day.applications.rejected += n,
                _ => day.applications.needs_materials += n,
            }
        }
    }

    // Reviewers' decisions by the day made.
    let rows: Vec<(String, ApplicationStatus, i64)> = application::Entity::find()
        .select_only()
        .column_as(day_of(backend, "decided_at"), "day")
        .column(application::Column::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(application::Column::DecidedBy.is_not_null())
        .filter(application::Column::DecidedAt.gte(since))
        .group_by(day_of(backend, "decided_at"))
        .group_by(application::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    for (date, status, n) in rows {
        if let Some(day) = day_in(&mut by_day, &date) {
            match status {
                ApplicationStatus::Issued => day.decisions.approved += count(n),
                ApplicationStatus::Rejected => day.decisions.rejected += count(n),
                _ => {}
            }
        }
    }

    // Notices delivered, by the day sent and the channel.
    let rows: Vec<(String, Option<String>, i64)> = outbox::Entity::find()
        .select_only()
        .column_as(day_of(backend, "sent_at"), "day")
        .column(outbox::Column::Channel)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(outbox::Column::Status.eq(OutboxStatus::Sent))
        .filter(outbox::Column::SentAt.gte(since))
        .group_by(day_of(backend, "sent_at"))
        .group_by(outbox::Column::Channel)
        .into_tuple()
        .all(db)
        .await?;
    for (date, channel, n) in rows {
        if let Some(day) = day_in(&mut by_day, &date) {
            let n = count(n);
            match channel.as_deref() {
                Some("subscribe") => day.notices.subscribe += n,
                Some("wechat") => day.notices.wechat += n,
                Some("email") => day.notices.email += n,
                // A channel this dashboard does not know yet is left out, not guessed.
                _ => {}
            }
        }
    }
    let rows: Vec<(String, i64)> = outbox::Entity::find()
        .select_only()
        .column_as(day_of(backend, "created_at"), "day")
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(outbox::Column::Status.is_in([OutboxStatus::Failed, OutboxStatus::Undeliverable]))
        .filter(outbox::Column::CreatedAt.gte(since))
        .group_by(day_of(backend, "created_at"))
        .into_tuple()
        .all(db)
        .await?;
    for (date, n) in rows {
        if let Some(day) = day_in(&mut by_day, &date) {
            day.notices.not_delivered += count(n);
        }
    }

    // Agency verifications, from the holders' access logs.
    let rows: Vec<(String, i64)> = access_log_entry::Entity::find()
        .select_only()
        .column_as(day_of(backend, "at"), "day")
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(access_log_entry::Column::Action.eq("verify"))
        .filter(access_log_entry::Column::ActorKind.eq("agency"))
        .filter(access_log_entry::Column::At.gte(since))
        .group_by(day_of(backend, "at"))
        .into_tuple()
        .all(db)
        .await?;
    for (date, n) in rows {
        if let Some(day) = day_in(&mut by_day, &date) {
            day.agency_verifications += count(n);
        }
    }

    let mut totals = Totals::default();
    let days: Vec<Day> = by_day
        .into_values()
        .map(|mut day| {
            day.issued_at_once_share = share(&day.applications);
            totals.applications.issued_at_once += day.applications.issued_at_once;
            totals.applications.needs_materials += day.applications.needs_materials;
            totals.applications.rejected += day.applications.rejected;
            totals.decisions.approved += day.decisions.approved;
            totals.decisions.rejected += day.decisions.rejected;
            totals.notices.subscribe += day.notices.subscribe;
            totals.notices.wechat += day.notices.wechat;
            totals.notices.email += day.notices.email;
            totals.notices.not_delivered += day.notices.not_delivered;
            totals.agency_verifications += day.agency_verifications;
            day
        })
        .collect();
    totals.issued_at_once_share = share(&totals.applications);

    Ok(Dashboard {
        from,
        to,
        days,
        totals,
        review_queue: review_queue(db, backend, now).await?,
        generated_at: now,
    })
}

/// The queue now: its length, its oldest entry and how many wait how long. An application
/// enters the queue when its last missing document arrives, the row's `updated_at`.
async fn review_queue<C: ConnectionTrait>(
    db: &C,
    backend: DatabaseBackend,
    now: DateTime<Utc>,
) -> Result<ReviewQueue> {
    let pending = application::Column::Status.eq(ApplicationStatus::PendingReview);
    let oldest: Option<DateTime<Utc>> = application::Entity::find()
        .select_only()
        .column(application::Column::UpdatedAt)
        .filter(pending.clone())
        .order_by_asc(application::Column::UpdatedAt)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    // Waiting per day entered; few rows (one a day at most), grouped by age here.
    let rows: Vec<(String, i64)> = application::Entity::find()
        .select_only()
        .column_as(day_of(backend, "updated_at"), "day")
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(pending)
        .group_by(day_of(backend, "updated_at"))
        .into_tuple()
        .all(db)
        .await?;
    let today = crate::config::day_in_china(now);
    let mut by_age: Vec<AgeGroup> = AGE_GROUPS
        .iter()
        .map(|(_, label)| AgeGroup {
            days: label,
            count: 0,
        })
        .collect();
    let mut length = 0;
    for (date, n) in rows {
        let n = count(n);
        length += n;
        let waited = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .map(|d| (today - d).num_days().max(0))
            .unwrap_or(0);
        let group = AGE_GROUPS
            .iter()
            .rposition(|(min, _)| waited >= i64::from(*min))
            .unwrap_or(0);
        if let Some(g) = by_age.get_mut(group) {
            g.count += n;
        }
    }
    let awaiting_materials = application::Entity::find()
        .filter(application::Column::Status.eq(ApplicationStatus::NeedsMaterials))
        .count(db)
        .await?;
    Ok(ReviewQueue {
        length,
        oldest_since: oldest,
        oldest_age_seconds: oldest.map(|at| (now - at).num_seconds().max(0)),
        by_age,
        awaiting_materials,
    })
}

/// The calendar day in China of a timestamp column, as `YYYY-MM-DD` text.
fn day_of(backend: DatabaseBackend, column: &str) -> Expr {
    match backend {
        DatabaseBackend::Postgres => Expr::cust(format!(
            "to_char({column} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"
        )),
        // SQLite reads the stored RFC 3339 text with its offset, in UTC, then moves it.
        _ => Expr::cust(format!("date({column}, '+8 hours')")),
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn share(o: &Outcomes) -> Option<f64> {
    let total = o.total();
    (total > 0).then(|| o.issued_at_once as f64 / total as f64)
}

/// The entry of a day the database named, when it is in the window.
fn day_in<'a>(by_day: &'a mut BTreeMap<NaiveDate, Day>, text: &str) -> Option<&'a mut Day> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    by_day.get_mut(&date)
}
