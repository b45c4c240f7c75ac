//! A change of address within the permit's city (`POST /api/v1/me/permit/address-change`):
//! a new signed version with the new residence address and the same dates; the codes already
//! shown stop at their short expiry like any code. A move to another city is a new
//! application there, and the permit of the old city ends when the new one is issued.
//!
//! An address change is also how the holder registers a new address after the government
//! data showed their residence registration ended ([`super::registration_end`]): in time, the
//! registration counts as replaced and the count of residence years goes on; late (the permit
//! already suspended, or the time allowed passed), it lifts the suspension and the count
//! restarts on the day of the change, as a late endorsement restarts it.

use chrono::NaiveDate;
use entity::{card_order, permit, status_place};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::address;
use super::permits::*;
use crate::Context;
use crate::domain::divisions::{self, City};
use crate::domain::permit_rules::{self, PermitStatus};
use crate::error::{Refusal, Result};
use crate::keys::privacy::Kind;
use crate::verify::status_list::{Status as ListStatus, places};

/// What the holder sends: `city` defaults to the permit's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AddressChangeRequest {
    #[serde(default)]
    pub city: Option<String>,
    pub district: String,
    pub address: String,
    /// The day the holder began living at the new address, `YYYY-MM-DD`.
    pub since: String,
}

/// The answer: the permit as it now stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AddressChange)]
pub struct AddressChanged {
    pub permit: PermitView,
    /// The holder has (or had) a physical card of this permit, which shows the old address:
    /// they may order it again.
    pub card_reissue_offered: bool,
    /// The change lifted the suspension of a permit whose registration had ended.
    pub restored: bool,
}

/// The city a change asks for: the permit's own unless another is named. Another city is
/// refused with the city named, so the screens can start the new application there.
pub fn check_city(permit_city: &'static City, asked: Option<&str>) -> Result<()> {
    let Some(name) = asked.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(());
    };
    let city = divisions::find_city(name).ok_or(Refusal::UnknownCity)?;
    if city.code == permit_city.code {
        return Ok(());
    }
    if city.is_shenzhen() {
        return Err(Refusal::RegionNotSupported.into());
    }
    Err(Refusal::CityChangeNeedsNewApplication {
        city: city.name.to_owned(),
    }
    .into())
}

/// Changes the holder's address within the permit's city.
///
/// Refused: another city (`CITY_CHANGE_NEEDS_NEW_APPLICATION`), a revoked or expired permit,
/// a permit suspended for a missed endorsement (endorse first: the change would otherwise
/// sign a version of a permit not in force), a district outside the city, an empty or long
/// address, a `since` in the future or before the permit was first issued (the permit
/// already printed the address the holder lived at then).
pub async fn change_address(
    ctx: &Context,
    person_id: Uuid,
    req: &AddressChangeRequest,
) -> Result<AddressChanged> {
    let today = ctx.clock.today();
    let (permit, version) = my_permit(ctx, person_id).await?;
    let city = divisions::city_of_region_code(&permit.city_code)
        .ok_or_else(|| anyhow::anyhow!("permit city {} unknown", permit.city_code))?;
    check_city(city, req.city.as_deref())?;
    match status(&permit, &version, today) {
        PermitStatus::Revoked => return Err(Refusal::PermitRevoked.into()),
        PermitStatus::Expired => return Err(Refusal::PermitExpired.into()),
        PermitStatus::Valid | PermitStatus::Suspended => {}
    }
    if permit_rules::endorsement_missed(&facts(&permit, &version), today) {
        return Err(Refusal::EndorsementRequired.into());
    }
    let new = address::check(
        city,
        &req.district,
        &req.address,
        ("since", &req.since),
        today,
    )?;
    let old = open_document(ctx, &version)?;
    if new.since < old.issued_on {
        return Err(Refusal::AddressSinceBeforePermit {
            issued_on: old.issued_on,
        }
        .into());
    }
    let late = permit.suspended_at.is_some()
        || permit.registration_ended_on.is_some_and(|until| {
            today > permit_rules::days_after(until, ctx.settings.permit.reregister_days)
        });
    let next = version.version + 1;
    let document = PermitDocument {
        licence_id: licence_id(ctx, &old.permit_no, next)?,
        version: next,
        kind: "address_change".into(),
        previous_licence_id: Some(old.licence_id.clone()),
        residence_address: residence_address(city.name, new.district.name, &new.address),
        residence_since: Some(new.since),
        // The row's dates are authoritative; the address changes nothing else.
        valid_from: version.valid_from,
        valid_until: version.valid_until,
        endorsement_due: version.endorsement_due,
        continuous_since: if late {
            today
        } else {
            version.continuous_since
        },
        signed_at: ctx.clock.now(),
        ..old
    };
    let txn = ctx.db.begin().await?;
    let written = add_version(ctx, &txn, &permit, &document).await?;
    let replaced = if permit.registration_ended_on.is_some() || permit.suspended_at.is_some() {
        replace_registration(&txn, &permit).await?
    } else {
        None
    };
    txn.commit().await?;
    let restored = replaced.is_some_and(|r| r.was_suspended);
    if let Some(Replaced { place, .. }) = replaced {
        // Seen at once here; other instances follow the change log within a second.
        ctx.status_lists.apply(place, ListStatus::Valid);
    }
    tracing::info!(permit_id = %permit.id, version = next, late, restored, "address changed");
    let card_reissue_offered = card_order::Entity::find()
        .filter(card_order::Column::PermitId.eq(permit.id))
        .count(&ctx.db)
        .await?
        > 0;
    let permit = permit::Model {
        current_version_id: Some(written.id),
        registration_ended_on: None,
        suspended_at: None,
        ..permit
    };
    Ok(AddressChanged {
        permit: view(ctx, &permit, &written, false)?,
        card_reissue_offered,
        restored,
    })
}

/// What replacing an ended registration did to the permit's entry in the status lists.
#[derive(Debug, Clone, Copy)]
struct Replaced {
    place: places::Place,
    /// The entry said suspended before.
    was_suspended: bool,
}

/// The ended registration is replaced: the permit forgets it, and a suspension it caused is
/// lifted (the list entry back to in force) unless staff revoked the permit meanwhile.
async fn replace_registration<C: ConnectionTrait>(
    db: &C,
    permit: &permit::Model,
) -> Result<Option<Replaced>> {
    let cleared = permit::Entity::update_many()
        .col_expr(
            permit::Column::RegistrationEndedOn,
            Expr::value(None::<NaiveDate>),
        )
        .col_expr(
            permit::Column::SuspendedAt,
            Expr::value(None::<chrono::DateTime<chrono::Utc>>),
        )
        .filter(permit::Column::Id.eq(permit.id))
        .filter(permit::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    if cleared != 1 {
        return Ok(None);
    }
    let entry = status_place::Entity::find()
        .filter(status_place::Column::PermitId.eq(permit.id))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("permit {} has no place in the status lists", permit.id))?;
    let place = places::Place {
        list_id: u32::try_from(entry.list_id).map_err(anyhow::Error::from)?,
        idx: u32::try_from(entry.idx).map_err(anyhow::Error::from)?,
    };
    // Also when the row read showed no suspension: the daily sweep may have set one since.
    places::set_state(db, place, ListStatus::Valid).await?;
    Ok(Some(Replaced {
        place,
        was_suspended: entry.state == i16::from(ListStatus::Suspended.as_u8()),
    }))
}

/// The permits in force a person holds in other cities end when a permit of `city` is issued to them:
/// the move to `city` ended their residence there. Each is revoked (list entry and row) in
/// the issuing transaction, with the reason kept; other instances, and this one, follow the
/// change log.
pub(super) async fn end_other_cities<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: Uuid,
    city: &City,
) -> Result<u64> {
    let others = permit::Entity::find()
        .filter(permit::Column::PersonId.eq(person_id))
        .filter(permit::Column::CityCode.ne(city.code))
        .filter(permit::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    let reason = format!("迁居{}，已在{}申领居住证", city.name, city.name);
    let today = ctx.clock.today();
    let mut ended = 0;
    for other in others {
        // An expired permit ended by itself; its history stays as it was.
        if current_version(db, &other).await?.valid_until < today {
            continue;
        }
        permit::Entity::update_many()
            .col_expr(
                permit::Column::RevokedAt,
                Expr::value(Some(ctx.clock.now())),
            )
            .col_expr(
                permit::Column::RevokeReasonEnc,
                Expr::value(Some(ctx.vault.seal_str(Kind::Note, &reason)?)),
            )
            .filter(permit::Column::Id.eq(other.id))
            .exec(db)
            .await?;
        if let Some(place) = places::place_of(db, other.id).await? {
            places::set_state(db, place, ListStatus::Revoked).await?;
        }
        tracing::info!(permit_id = %other.id, "permit of another city ended by a move");
        ended += 1;
    }
    Ok(ended)
}
