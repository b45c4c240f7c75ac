//! The reminder sweep: permits whose endorsement window is open or whose expiry is near, and
//! residents who have just reached six months of residence without a permit, get a notice in
//! the outbox. Each notice has a key naming the event (permit, date, threshold), so a second
//! sweep, or two instances sweeping at once, adds nothing twice. The queries select by the
//! indexed dates, so the cost follows the permits due, not all permits.

use anyhow::Context as _;
use chrono::{Days, Months, NaiveDate};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::Context;
use crate::error::Result;
use crate::outbox::{self, Notice};

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct SweepReport {
    /// Notices written by this sweep (ones already queued are not counted).
    pub queued: u64,
    /// Candidates looked at.
    pub considered: u64,
}

struct Due {
    person_id: Uuid,
    key: String,
    notice: Notice,
}

/// The smallest configured threshold that `days_left` has reached, e.g. 5 days left with
/// thresholds 30, 7, 1 → 7. `None` when expiry is further away than every threshold.
pub fn expiry_threshold(days_left: i64, thresholds: &[u32]) -> Option<u32> {
    thresholds
        .iter()
        .copied()
        .filter(|d| days_left <= i64::from(*d))
        .min()
}

/// The current version of a permit not revoked, whose holder wants reminders.
const CURRENT: &str = "p.revoked_at IS NULL AND pe.reminders_enabled = $3 \
    AND NOT EXISTS (SELECT 1 FROM permit_versions w WHERE w.permit_id = v.permit_id AND w.version > v.version)";

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

pub async fn sweep(ctx: &Context, as_of: NaiveDate) -> Result<SweepReport> {
    let rules = &ctx.settings.permit;
    let backend = ctx.db.get_database_backend();
    let person = uuid_text(backend, "p.person_id");
    let mut due = Vec::new();

    // Endorsement windows open now (until the due date; after that the permit is suspended).
    let window_end = as_of + Days::new(u64::from(rules.endorsement_window_days));
    let rows: Vec<(String, String, NaiveDate)> = select_all(
        ctx,
        "endorsement",
        &format!("{person}, p.permit_no, v.endorsement_due"),
        &format!(
            "FROM permit_versions v JOIN permits p ON p.id = v.permit_id JOIN persons pe ON pe.id = p.person_id \
             WHERE v.endorsement_due >= $1 AND v.endorsement_due <= $2 AND v.endorsement_due < v.valid_until AND {CURRENT}"
        ),
        [as_of.into(), window_end.into(), true.into()],
    )
    .await?;
    for (person_id, permit_no, due_on) in rows {
        due.push(Due {
            person_id: parse_uuid(&person_id)?,
            key: format!("endorsement:{permit_no}:{due_on}"),
            notice: Notice::EndorsementDue {
                permit_no,
                due: due_on,
            },
        });
    }

    // Expiry near: the smallest threshold reached, once per threshold.
    let thresholds = &ctx.settings.reminders.expiry_days;
    if let Some(max) = thresholds.iter().copied().max() {
        let horizon = as_of + Days::new(u64::from(max));
        let rows: Vec<(String, String, NaiveDate)> = select_all(
            ctx,
            "expiry",
            &format!("{person}, p.permit_no, v.valid_until"),
            &format!(
                "FROM permit_versions v JOIN permits p ON p.id = v.permit_id JOIN persons pe ON pe.id = p.person_id \
                 WHERE v.valid_until >= $1 AND v.valid_until <= $2 AND {CURRENT}"
            ),
            [as_of.into(), horizon.into(), true.into()],
        )
        .await?;
        for (person_id, permit_no, valid_until) in rows {
            let days_left = (valid_until - as_of).num_days();
            let Some(threshold) = expiry_threshold(days_left, thresholds) else {
                continue;
            };
            due.push(Due {
                person_id: parse_uuid(&person_id)?,
                key: format!("expiry:{permit_no}:{valid_until}:{threshold}"),
                notice: Notice::ExpiryNear {
                    permit_no,
                    valid_until,
                    days_left,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_reached_threshold_is_chosen() {
        let t = [30, 7, 1];
        assert_eq!(expiry_threshold(31, &t), None);
        assert_eq!(expiry_threshold(30, &t), Some(30));
        assert_eq!(expiry_threshold(8, &t), Some(30));
        assert_eq!(expiry_threshold(7, &t), Some(7));
        assert_eq!(expiry_threshold(2, &t), Some(7));
        assert_eq!(expiry_threshold(1, &t), Some(1));
        assert_eq!(expiry_threshold(0, &t), Some(1));
    }
}
