//! A residence registration that ends in the government data (the landlord, employer or
//! school ended it): the holder is told at once on every channel they have, and has
//! `YUEJU_REREGISTER_DAYS` from the registration's last day to register a new address (an
//! address change, [`super::address_change`]). Until then `permits.registration_ended_on`
//! remembers the end (the count of residence years ends there). When no new address came in
//! time, the daily sweep suspends the permit on the day after the deadline: an act, recorded
//! on the row (`suspended_at`) and in the status list, so online and offline verification
//! agree. A later address change lifts it.

use chrono::NaiveDate;
use entity::{permit, person};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use std::collections::BTreeMap;

use super::permits::{self, open_document};
use crate::Context;
use crate::domain::divisions;
use crate::domain::permit_rules::{self, PermitStatus};
use crate::error::Result;
use crate::notices::every_channel;
use crate::notices::outbox::Notice;
use crate::verify::status_list::{Status as ListStatus, places};

/// One residence registration of a person, as an import of the government data wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub city: String,
    pub since: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// The last day a new address may be registered after a registration that ended on `until`;
/// the permit is suspended from the day after.
pub fn register_by(ctx: &Context, until: NaiveDate) -> NaiveDate {
    permit_rules::days_after(until, ctx.settings.permit.reregister_days)
}

/// After an import replaced these people's registrations (keyed by the ID number's blind
/// index), in the import's transaction: for each holder whose registration in the permit's
/// city ended with none left open there, the permit remembers the end and the holder is told.
/// A registration that began before the address the permit now shows is an earlier one,
/// replaced already. Sending the same data again changes nothing. Answers the holders told.
pub async fn registrations_replaced<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    people: &BTreeMap<String, Vec<Registration>>,
) -> Result<u64> {
    let mut told = 0;
    for (blind, registrations) in people {
        if registrations.iter().all(|r| r.until.is_none()) {
            continue;
        }
        let Some(holder) = person::Entity::find()
            .filter(person::Column::IdNumberBlind.eq(blind.as_str()))
            .one(db)
            .await?
        else {
            continue;
        };
        if ended(ctx, db, holder.id, registrations).await? {
            told += 1;
        }
    }
    Ok(told)
}

/// One holder's registrations: records an end and tells them; answers whether it did.
async fn ended<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: uuid::Uuid,
    registrations: &[Registration],
) -> Result<bool> {
    let today = ctx.clock.today();
    let Some((permit, version)) = permits::current(db, person_id).await? else {
        return Ok(false);
    };
    if matches!(
        permits::status(&permit, &version, today),
        PermitStatus::Revoked | PermitStatus::Expired
    ) {
        return Ok(false);
    }
    let city = divisions::city_of_region_code(&permit.city_code)
        .ok_or_else(|| anyhow::anyhow!("permit city {} unknown", permit.city_code))?;
    let document = open_document(ctx, &version)?;
    let current = registrations.iter().filter(|r| {
        divisions::find_city(&r.city).is_some_and(|c| c.code == city.code)
            && document
                .residence_since
                .is_none_or(|since| r.since >= since)
    });
    // Still registered somewhere in the city, or never was since the current address: nothing ended.
    let mut last_day = None;
    for r in current {
        match r.until {
            None => return Ok(false),
            Some(until) => last_day = last_day.max(Some(until)),
        }
    }
    let Some(until) = last_day else {
        return Ok(false);
    };
    if permit.registration_ended_on == Some(until) {
        return Ok(false);
    }
    permit::Entity::update_many()
        .col_expr(
            permit::Column::RegistrationEndedOn,
            Expr::value(Some(until)),
        )
        .filter(permit::Column::Id.eq(permit.id))
        .exec(db)
        .await?;
    let notice = Notice::RegistrationEnded {
        permit_no: permit.permit_no.clone(),
        city: city.name.to_owned(),
        until,
        days: ctx.settings.permit.reregister_days,
        register_by: register_by(ctx, until),
    };
    let key = format!("registration_ended:{}:{until}", permit.permit_no);
    every_channel::enqueue_everywhere(ctx, db, person_id, &key, &notice).await?;
    tracing::info!(permit_id = %permit.id, %until, "residence registration ended; holder told");
    Ok(true)
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct SuspendReport {
    /// Permits suspended by this sweep (ones already suspended are not counted).
    pub suspended: u64,
}

/// The daily sweep: suspends every permit whose registration ended more than
/// `reregister_days` ago with no new address registered. Safe to run again and from several
/// instances at once: each suspension is one conditional update, made once.
pub async fn suspend_overdue(ctx: &Context) -> Result<SuspendReport> {
    let today = ctx.clock.today();
    // Ended before this day: the time to register again is over (today > until + days).
    let cutoff = permit_rules::days_before(today, ctx.settings.permit.reregister_days);
    let candidates: Vec<uuid::Uuid> = permit::Entity::find()
        .select_only()
        .column(permit::Column::Id)
        .filter(permit::Column::RegistrationEndedOn.lt(cutoff))
        .filter(permit::Column::SuspendedAt.is_null())
        .filter(permit::Column::RevokedAt.is_null())
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let mut report = SuspendReport::default();
    for permit_id in candidates {
        let txn = ctx.db.begin().await?;
        // Checked again by the update itself: an address change or another instance may
        // have come first.
        let updated = permit::Entity::update_many()
            .col_expr(
                permit::Column::SuspendedAt,
                Expr::value(Some(ctx.clock.now())),
            )
            .filter(permit::Column::Id.eq(permit_id))
            .filter(permit::Column::RegistrationEndedOn.lt(cutoff))
            .filter(permit::Column::SuspendedAt.is_null())
            .filter(permit::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if updated != 1 {
            txn.rollback().await?;
            continue;
        }
        let place = places::place_of(&txn, permit_id).await?.ok_or_else(|| {
            anyhow::anyhow!("permit {permit_id} has no place in the status lists")
        })?;
        places::set_state(&txn, place, ListStatus::Suspended).await?;
        txn.commit().await?;
        ctx.status_lists.apply(place, ListStatus::Suspended);
        tracing::info!(%permit_id, "permit suspended: no new address after the registration ended");
        report.suspended += 1;
    }
    if report.suspended > 0 {
        tracing::info!(suspended = report.suspended, "registration-end sweep done");
    }
    Ok(report)
}
