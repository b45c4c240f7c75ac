//! The reminder sweep: permits whose endorsement window is open or whose expiry is near, and
//! residents who have just reached six months of residence without a permit, get a notice in
//! the outbox. Each notice has a key naming the event (permit, date, threshold), so a second
//! sweep, or two instances sweeping at once, adds nothing twice. The queries select by the
//! indexed dates, so the cost follows the permits due, not all permits.

use chrono::{Days, Months, NaiveDate};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use serde::Serialize;
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

pub async fn sweep(ctx: &Context, as_of: NaiveDate) -> Result<SweepReport> {
    let rules = &ctx.settings.permit;
    let backend = ctx.db.get_database_backend();
    let mut due = Vec::new();

    // Endorsement windows open now (until the due date; after that the permit is suspended).
    let window_end = as_of + Days::new(u64::from(rules.endorsement_window_days));
    let sql = format!(
        "SELECT p.person_id AS person_id, p.permit_no AS permit_no, v.endorsement_due AS due \
         FROM permit_versions v JOIN permits p ON p.id = v.permit_id JOIN persons pe ON pe.id = p.person_id \
         WHERE v.endorsement_due >= $1 AND v.endorsement_due <= $2 AND v.endorsement_due < v.valid_until AND {CURRENT}"
    );
    for row in ctx
        .db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            &sql,
            [as_of.into(), window_end.into(), true.into()],
        ))
        .await?
    {
        let permit_no: String = row.try_get("", "permit_no")?;
        let due_on: NaiveDate = row.try_get("", "due")?;
        due.push(Due {
            person_id: row.try_get("", "person_id")?,
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
        let sql = format!(
            "SELECT p.person_id AS person_id, p.permit_no AS permit_no, v.valid_until AS valid_until \
             FROM permit_versions v JOIN permits p ON p.id = v.permit_id JOIN persons pe ON pe.id = p.person_id \
             WHERE v.valid_until >= $1 AND v.valid_until <= $2 AND {CURRENT}"
        );
        for row in ctx
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                &sql,
                [as_of.into(), horizon.into(), true.into()],
            ))
            .await?
        {
            let permit_no: String = row.try_get("", "permit_no")?;
            let valid_until: NaiveDate = row.try_get("", "valid_until")?;
            let days_left = (valid_until - as_of).num_days();
            let Some(threshold) = expiry_threshold(days_left, thresholds) else {
                continue;
            };
            due.push(Due {
                person_id: row.try_get("", "person_id")?,
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
    let sql = "SELECT pe.id AS person_id, r.city AS city \
               FROM gov_residence_registrations r JOIN persons pe ON pe.id_number_blind = r.id_number_blind \
               WHERE r.since <= $1 AND r.since > $2 AND pe.reminders_enabled = $3 \
                 AND NOT EXISTS (SELECT 1 FROM permits p WHERE p.person_id = pe.id)";
    for row in ctx
        .db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [reached_on.into(), catch_up.into(), true.into()],
        ))
        .await?
    {
        let person_id: Uuid = row.try_get("", "person_id")?;
        due.push(Due {
            person_id,
            key: format!("eligible:{person_id}"),
            notice: Notice::EligibleNow {
                city: row.try_get("", "city")?,
            },
        });
    }

    let mut report = SweepReport {
        considered: due.len() as u64,
        ..Default::default()
    };
    // One multi-row INSERT per chunk (12 values a row: well under SQLite's and PostgreSQL's
    // parameter limits); row by row, the inserts cost most of the sweep.
    for chunk in due.chunks(500) {
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
