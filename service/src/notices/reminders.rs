//! The reminder sweep: permits whose endorsement window is open or whose expiry is near, and
//! residents who have just reached six months of residence without a permit, get a notice in
//! the outbox. Each notice has a key naming the event (permit, date, threshold), so a second
//! sweep, or two instances sweeping at once, adds nothing twice. The queries select current
//! versions by the indexed dates, so the cost follows the permits due, not all permits; the
//! rules in [`permit_rules`] decide each row selected.

use anyhow::Context as _;
use chrono::{Days, Months, NaiveDate};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::Context;
use crate::domain::permit_rules::{self, StatusFacts};
use crate::error::Result;
use crate::notices::outbox::{self, Notice};
use crate::permit::permits::WITH_CURRENT_VERSION;

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct SweepReport {
    /// Notices written by this sweep (ones already queued are not counted).
    pub queued: u64,
    /// Candidates looked at.
    pub considered: u64,
}

/// A reminder due: to whom, the key naming the event, and what it says.
#[derive(Debug, Clone)]
pub struct Due {
    pub person_id: Uuid,
    pub key: String,
    pub notice: Notice,
}

/// A permit's current version, whose holder wants reminders.
fn current_versions_reminded() -> String {
    format!(
        "FROM {WITH_CURRENT_VERSION} JOIN persons pe ON pe.id = p.person_id \
         WHERE pe.reminders_enabled = $3"
    )
}

/// Revoked or not, as a number both databases put in JSON alike.
const REVOKED: &str = "CASE WHEN p.revoked_at IS NULL THEN 0 ELSE 1 END";

/// Runs `SELECT {columns} {from}` and answers its rows, decoded from one JSON array of
/// arrays built by the database (`json_group_array` on SQLite, `json_agg` on PostgreSQL).
/// Thousands of rows come back as one value: sqlx-sqlite hands every row from its worker
/// thread to the async task through a channel, waking the task once a row; at 1M permits that
/// added 5–10 µs a row, half as much again as SQLite's own work for the selection. A UUID
/// column must be wrapped in [`uuid_text`].
async fn select_all<T: DeserializeOwned>(
    ctx: &Context,
    what: &str,
    columns: &str,
    from: &str,
    values: [Value; 3],
) -> Result<Vec<T>> {
    let backend = ctx.db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        format!("SELECT json_agg(json_build_array({columns}))::text AS rows {from}")
    } else {
        format!("SELECT json_group_array(json_array({columns})) AS rows {from}")
    };
    let row = ctx
        .db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    // No row or NULL: PostgreSQL's json_agg over no rows.
    let Some(json) = row
        .map(|r| r.try_get::<Option<String>>("", "rows"))
        .transpose()?
        .flatten()
    else {
        return Ok(Vec::new());
    };
    Ok(serde_json::from_str(&json)
        .with_context(|| format!("decoding the {what} reminders selected"))?)
}

/// A UUID column as JSON text: SQLite stores UUIDs as 16-byte blobs, which JSON cannot hold.
fn uuid_text(backend: DbBackend, column: &str) -> String {
    if backend == DbBackend::Postgres {
        column.to_owned()
    } else {
        format!("hex({column})")
    }
}

fn parse_uuid(text: &str) -> Result<Uuid> {
    Ok(Uuid::parse_str(text).with_context(|| format!("a person id selected, `{text}`"))?)
}

/// A selected permit: holder, number and what the rules read.
type PermitRow = (String, String, u8, NaiveDate, NaiveDate);

fn permit_facts(revoked: u8, valid_until: NaiveDate, endorsement_due: NaiveDate) -> StatusFacts {
    StatusFacts {
        revoked: revoked != 0,
        valid_until,
        endorsement_due,
    }
}

/// The reminders due on `as_of`, as the sweep selects them (whether already queued or not).
pub async fn due_on(ctx: &Context, as_of: NaiveDate) -> Result<Vec<Due>> {
    let rules = &ctx.settings.permit;
    let periods = rules.periods();
    let backend = ctx.db.get_database_backend();
    let person = uuid_text(backend, "p.person_id");
    let columns = format!("{person}, p.permit_no, {REVOKED}, v.valid_until, v.endorsement_due");
    let mut due = Vec::new();

    // Endorsement windows open now (until the due date; after that the permit is suspended).
    let (first, last) = permit_rules::endorsement_reminder_dues(as_of, periods);
    let rows: Vec<PermitRow> = select_all(
        ctx,
        "endorsement",
        &columns,
        &format!(
            "{} AND v.endorsement_due >= $1 AND v.endorsement_due <= $2",
            current_versions_reminded()
        ),
        [first.into(), last.into(), true.into()],
    )
    .await?;
    for (person_id, permit_no, revoked, valid_until, endorsement_due) in rows {
        let facts = permit_facts(revoked, valid_until, endorsement_due);
        let Some(due_date) = permit_rules::endorsement_reminder(&facts, as_of, periods) else {
            continue;
        };
        due.push(Due {
            person_id: parse_uuid(&person_id)?,
            key: format!("endorsement:{permit_no}:{due_date}"),
            notice: Notice::EndorsementDue {
                permit_no,
                due: due_date,
            },
        });
    }

    // Expiry near: the smallest threshold reached, once per threshold.
    let thresholds = &ctx.settings.reminders.expiry_days;
    if let Some((first, last)) = permit_rules::expiry_reminder_dates(as_of, thresholds) {
        let rows: Vec<PermitRow> = select_all(
            ctx,
            "expiry",
            &columns,
            &format!(
                "{} AND v.valid_until >= $1 AND v.valid_until <= $2",
                current_versions_reminded()
            ),
            [first.into(), last.into(), true.into()],
        )
        .await?;
        for (person_id, permit_no, revoked, valid_until, endorsement_due) in rows {
            let facts = permit_facts(revoked, valid_until, endorsement_due);
            let Some(reminder) = permit_rules::expiry_reminder(&facts, as_of, thresholds) else {
                continue;
            };
            due.push(Due {
                person_id: parse_uuid(&person_id)?,
                key: format!("expiry:{permit_no}:{valid_until}:{}", reminder.threshold),
                notice: Notice::ExpiryNear {
                    permit_no,
                    valid_until,
                    days_left: reminder.days_left,
                },
            });
        }
    }

    // Six months of residence reached in the last 30 days, and no permit: told once.
    let reached_on = as_of
        .checked_sub_months(Months::new(rules.residence_months))
        .unwrap_or(NaiveDate::MIN);
    let catch_up = reached_on - Days::new(30);
    let rows: Vec<(String, String)> = select_all(
        ctx,
        "eligibility",
        &format!("{}, r.city", uuid_text(backend, "pe.id")),
        "FROM gov_residence_registrations r JOIN persons pe ON pe.id_number_blind = r.id_number_blind \
         WHERE r.since <= $1 AND r.since > $2 AND pe.reminders_enabled = $3 \
           AND NOT EXISTS (SELECT 1 FROM permits p WHERE p.person_id = pe.id)",
        [reached_on.into(), catch_up.into(), true.into()],
    )
    .await?;
    for (person_id, city) in rows {
        let person_id = parse_uuid(&person_id)?;
        due.push(Due {
            person_id,
            key: format!("eligible:{person_id}"),
            notice: Notice::EligibleNow { city },
        });
    }
    Ok(due)
}

/// Writes the reminders due on `as_of` to the outbox, each once.
pub async fn sweep(ctx: &Context, as_of: NaiveDate) -> Result<SweepReport> {
    let due = due_on(ctx, as_of).await?;
    let mut report = SweepReport {
        considered: due.len() as u64,
        ..Default::default()
    };
    // One transaction per multi-row INSERT: a crash leaves each chunk either written or not
    // (the next sweep writes what is missing; the keys skip what is there), and SQLite's write
    // lock is held for one statement at a time, so applications and decisions are not kept
    // waiting behind a large sweep. The lock is taken by the INSERT, not by BEGIN (deferred),
    // so the sealing before it does not hold it.
    for chunk in due.chunks(outbox::MAX_NOTICES_PER_INSERT) {
        let rows: Vec<(Uuid, &str, &Notice)> = chunk
            .iter()
            .map(|d| (d.person_id, d.key.as_str(), &d.notice))
            .collect();
        let txn = ctx.db.begin().await?;
        report.queued += outbox::enqueue_many(ctx, &txn, &rows).await?;
        txn.commit().await?;
    }
    tracing::info!(%as_of, queued = report.queued, considered = report.considered, "reminder sweep done");
    Ok(report)
}
