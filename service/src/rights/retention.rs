//! Retention: uploaded materials are deleted a configured number of days after the decision
//! on their application (the row stays, marked purged); access-log entries older than the
//! configured days are deleted from the head of each person's chain ([`access_log::expire`]);
//! consent records (grants and requests) that ended before that same cut-off go with them;
//! face verifications a day after they expired, with the sealed name and number they hold; counts
//! of failed logins a day after the last failure, unless they lock something now; the log of
//! status-list changes after a day (instances read it within a second).
//! Everything runs in batches, each its own transaction, so a run's work is proportional to
//! what is due and a run stopped anywhere is simply finished by the next one.
//!
//! The bot expires its own dialogues (`bot::store::expire`); the daily job in `api` runs both.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Asia::Shanghai;
use entity::statuses::RequestStatus;
use entity::{
    access_log_entry, application, authorization, authorization_request, face_verification,
    material,
};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use crate::Context;
use crate::applying::materials;
use crate::consent::access_log;
use crate::error::Result;

/// Rows handled per batch (and per transaction).
pub const BATCH: u64 = 200;

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = RetentionRules)]
pub struct Report {
    pub as_of: NaiveDate,
    pub materials_purged: u64,
    pub access_log_deleted: u64,
    /// Persons whose chain got a new anchor.
    pub chains_anchored: u64,
    pub consent_records_deleted: u64,
    pub face_verifications_deleted: u64,
    pub login_failures_deleted: u64,
    pub status_changes_deleted: u64,
}

/// The first instant of the day `days` before `as_of`, in China: what happened before it is
/// due. Something decided (or logged) on day D is kept through day D + `days`.
pub fn cutoff(as_of: NaiveDate, days: u32) -> DateTime<Utc> {
    let day = as_of
        .checked_sub_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN);
    let midnight = day.and_time(NaiveTime::MIN);
    Shanghai
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| midnight.and_utc())
}

/// Runs every retention rule as of `as_of` (normally today in China).
pub async fn run(ctx: &Context, as_of: NaiveDate) -> Result<Report> {
    let rules = &ctx.settings.retention;
    let materials_purged = purge_materials(ctx, cutoff(as_of, rules.materials_days)).await?;
    let log_cutoff = cutoff(as_of, rules.access_log_days);
    let (access_log_deleted, chains_anchored) = expire_access_log(ctx, log_cutoff).await?;
    let consent_records_deleted = expire_consent_records(ctx, log_cutoff).await?;
    let face_verifications_deleted = expire_face_verifications(ctx).await?;
    let now = ctx.clock.now();
    let login_failures_deleted =
        crate::identity::lockout::delete_stale(&ctx.db, now - chrono::Duration::days(1), now)
            .await?;
    // The change log runs on the system time (see `places::set_state`).
    let status_changes_deleted = crate::verify::status_list::places::expire_changes(
        &ctx.db,
        crate::clock::system_now() - chrono::Duration::days(1),
    )
    .await?;
    let report = Report {
        as_of,
        materials_purged,
        access_log_deleted,
        chains_anchored,
        consent_records_deleted,
        face_verifications_deleted,
        login_failures_deleted,
        status_changes_deleted,
    };
    // The report's counts in one field, so a new count cannot be left out of the log.
    tracing::info!(report = ?report, "retention run finished");
    Ok(report)
}

/// Face verifications a day past their expiry: they can bind nothing any more, and the day
/// leaves room to look into a binding that went wrong. One statement: the rows are small.
async fn expire_face_verifications(ctx: &Context) -> Result<u64> {
    let expired_before = ctx.clock.now() - chrono::Duration::days(1);
    let deleted = face_verification::Entity::delete_many()
        .filter(face_verification::Column::ExpiresAt.lt(expired_before))
        .exec(&ctx.db)
        .await?
        .rows_affected;
    Ok(deleted)
}

async fn purge_materials(ctx: &Context, cutoff: DateTime<Utc>) -> Result<u64> {
    let decided_before = Query::select()
        .column(application::Column::Id)
        .from(application::Entity)
        .and_where(application::Column::DecidedAt.lt(cutoff))
        .to_owned();
    let mut purged = 0;
    loop {
        let due = material::Entity::find()
            .filter(material::Column::PurgedAt.is_null())
            .filter(material::Column::ApplicationId.in_subquery(decided_before.clone()))
            .order_by_asc(material::Column::Id)
            .limit(BATCH)
            .all(&ctx.db)
            .await?;
        if !due.is_empty() {
            let txn = ctx.db.begin().await?;
            purged += materials::purge_material_files(ctx, &txn, &due).await?;
            txn.commit().await?;
        }
        if (due.len() as u64) < BATCH {
            return Ok(purged);
        }
    }
}

async fn expire_access_log(ctx: &Context, cutoff: DateTime<Utc>) -> Result<(u64, u64)> {
    let (mut deleted, mut anchored) = (0, 0);
    // Keyset over persons, so each is visited once per run even when an entry cannot go yet.
    let mut after: Option<Uuid> = None;
    loop {
        let mut query = access_log_entry::Entity::find()
            .select_only()
            .column(access_log_entry::Column::PersonId)
            .distinct()
            .filter(access_log_entry::Column::At.lt(cutoff))
            .order_by_asc(access_log_entry::Column::PersonId)
            .limit(BATCH);
        if let Some(after) = after {
            query = query.filter(access_log_entry::Column::PersonId.gt(after));
        }
        let persons: Vec<Uuid> = query.into_tuple().all(&ctx.db).await?;
        for &person_id in &persons {
            let txn = ctx.db.begin().await?;
            let removed = access_log::expire(&txn, person_id, cutoff, ctx.clock.now()).await?;
            txn.commit().await?;
            if removed > 0 {
                deleted += removed;
                anchored += 1;
            }
        }
        if (persons.len() as u64) < BATCH {
            return Ok((deleted, anchored));
        }
        after = persons.last().copied();
    }
}

async fn expire_consent_records(ctx: &Context, cutoff: DateTime<Utc>) -> Result<u64> {
    let mut deleted = 0;
    loop {
        let ended = authorization::Entity::find()
            .filter(
                Condition::any()
                    .add(authorization::Column::ExpiresAt.lt(cutoff))
                    .add(authorization::Column::RevokedAt.lt(cutoff)),
            )
            .limit(BATCH)
            .all(&ctx.db)
            .await?;
        if ended.is_empty() {
            break;
        }
        let txn = ctx.db.begin().await?;
        let grants: Vec<Uuid> = ended.iter().map(|g| g.id).collect();
        let requests: Vec<Uuid> = ended.iter().map(|g| g.request_id).collect();
        deleted += authorization::Entity::delete_many()
            .filter(authorization::Column::Id.is_in(grants))
            .exec(&txn)
            .await?
            .rows_affected;
        deleted += authorization_request::Entity::delete_many()
            .filter(authorization_request::Column::Id.is_in(requests))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        if (ended.len() as u64) < BATCH {
            break;
        }
    }
    // Requests never approved end when they expire (a denial comes before that).
    loop {
        let ended: Vec<Uuid> = authorization_request::Entity::find()
            .select_only()
            .column(authorization_request::Column::Id)
            .filter(authorization_request::Column::Status.ne(RequestStatus::Approved))
            .filter(authorization_request::Column::ExpiresAt.lt(cutoff))
            .limit(BATCH)
            .into_tuple()
            .all(&ctx.db)
            .await?;
        let n = ended.len() as u64;
        deleted += authorization_request::Entity::delete_many()
            .filter(authorization_request::Column::Id.is_in(ended))
            .exec(&ctx.db)
            .await?
            .rows_affected;
        if n < BATCH {
            return Ok(deleted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_cutoff_is_midnight_in_china_that_many_days_back() {
        let c = cutoff(date("2026-03-31"), 90);
        assert_eq!(c.to_rfc3339(), "2025-12-30T16:00:00+00:00");
        assert_eq!(
            cutoff(date("2026-03-31"), 0).to_rfc3339(),
            "2026-03-30T16:00:00+00:00"
        );
    }
}
