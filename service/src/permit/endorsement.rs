//! The yearly endorsement (签注) and the renewal near expiry: whether the holder may do which
//! today (the rules are [`crate::domain::permit_rules`]), and doing it, after government data
//! proves the conditions again, as a new signed version.

use entity::{application, permit, permit_version};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use crate::Context;
use crate::applying::eligibility::{Basis, missing_proofs};
use crate::domain::IdNumber;
use crate::domain::divisions;
use crate::domain::permit_rules::{self, NotNow, Renewal};
use crate::error::{Refusal, Result};
use crate::govdata::fetch_dossier;

use super::permits::*;

impl From<NotNow> for Refusal {
    fn from(not_now: NotNow) -> Refusal {
        match not_now {
            NotNow::Revoked => Refusal::PermitRevoked,
            NotNow::Expired => Refusal::PermitExpired,
            NotNow::NotDue { opens_on } => Refusal::EndorsementNotDue { opens_on },
        }
    }
}

/// Whether the holder may endorse or renew the permit today, and which (the bot asks before
/// it confirms; [`endorse`] asks again).
pub fn endorse_or_renew(
    ctx: &Context,
    permit: &permit::Model,
    version: &permit_version::Model,
) -> Result<Renewal> {
    Ok(permit_rules::endorse_or_renew(
        &facts(permit, version),
        ctx.clock.today(),
        ctx.settings.permit.periods(),
    )
    .map_err(Refusal::from)?)
}

/// The yearly endorsement, or the renewal when expiry is near. Both re-check that the
/// government data still proves the conditions, and add a new signed version.
pub async fn endorse(ctx: &Context, person_id: Uuid) -> Result<(Renewal, PermitView)> {
    let today = ctx.clock.today();
    let rules = &ctx.settings.permit;
    let (permit, version) = my_permit(ctx, person_id).await?;
    let kind = permit_rules::endorse_or_renew(&facts(&permit, &version), today, rules.periods())
        .map_err(Refusal::from)?;
    let next_dates = permit_rules::next_dates(&dates(&version), kind, today, rules.periods());
    let city = divisions::city_of_region_code(&permit.city_code)
        .ok_or_else(|| anyhow::anyhow!("permit city {} unknown", permit.city_code))?;
    let basis = permit_basis(&ctx.db, permit.id).await?;
    let old = open_document(ctx, &version)?;
    let id = IdNumber::parse_at(&old.id_number, today)?;
    let dossier = fetch_dossier(ctx.gov.as_ref(), &id).await?;
    if let Some(missing) = missing_proofs(city, basis, &dossier, today, rules.residence_months) {
        return Err(Refusal::ConditionsNotMet(missing).into());
    }
    let household = dossier.household.ok_or(Refusal::ConditionsNotMet(vec![]))?;
    let next = version.version + 1;
    let document = PermitDocument {
        licence_id: licence_id(ctx, &old.permit_no, next)?,
        version: next,
        kind: kind.kind().into(),
        previous_licence_id: Some(old.licence_id.clone()),
        name: household.name,
        ethnicity: household.ethnicity,
        hukou_address: household.hukou_address,
        valid_from: next_dates.valid_from,
        valid_until: next_dates.valid_until,
        endorsement_due: next_dates.endorsement_due,
        continuous_since: next_dates.continuous_since,
        signed_at: ctx.clock.now(),
        ..old
    };
    let txn = ctx.db.begin().await?;
    let version = add_version(ctx, &txn, &permit, &document).await?;
    txn.commit().await?;
    tracing::info!(permit_id = %permit.id, version = next, ?kind, "permit endorsed");
    let permit = permit::Model {
        current_version_id: Some(version.id),
        ..permit
    };
    Ok((kind, view(ctx, &permit, &version, false)?))
}

/// The basis the permit was issued on, from the application that produced it.
pub(super) async fn permit_basis<C: ConnectionTrait>(db: &C, permit_id: Uuid) -> Result<Basis> {
    let app = application::Entity::find()
        .filter(application::Column::PermitId.eq(permit_id))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("permit {permit_id} has no application"))?;
    Basis::parse(&app.basis).ok_or_else(|| anyhow::anyhow!("application basis unreadable").into())
}
