//! Grants: what a holder's approval allows an agency (a number of downloads of the annotated
//! copy until it expires), where each stands, and the holder's revocation, in the access log
//! in the same transaction.

use chrono::{DateTime, Utc};
use entity::{agency, authorization};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::Context;
use crate::consent::access_log::{self, Action, Actor};
use crate::error::{Missing, Refusal, Result};
use crate::permit::fields;

use super::agencies;
use super::consents::{AgencyInfo, agency_info, names};

/// A grant, as the holder and the agency see it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Grant)]
pub struct GrantView {
    pub id: Uuid,
    pub request_id: Uuid,
    pub agency: AgencyInfo,
    pub purpose: String,
    pub fields: Vec<String>,
    /// A grant for a residence proof: what it states (no permit field, no copy).
    pub residence_proof: Option<super::proof_grants::ProofAsk>,
    pub retention_days: i32,
    pub expires_at: DateTime<Utc>,
    pub max_downloads: i32,
    pub downloads: i32,
    /// `active`, `revoked`, `expired` or `exhausted`.
    pub status: GrantStatus,
    pub consent_version: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where a grant stands; derived from its row, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    Active,
    Revoked,
    Expired,
    /// Every allowed download was made.
    Exhausted,
}

impl GrantStatus {
    pub const ALL: [GrantStatus; 4] = [
        GrantStatus::Active,
        GrantStatus::Revoked,
        GrantStatus::Expired,
        GrantStatus::Exhausted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Active => "active",
            GrantStatus::Revoked => "revoked",
            GrantStatus::Expired => "expired",
            GrantStatus::Exhausted => "exhausted",
        }
    }
}

pub fn grant_status(g: &authorization::Model, now: DateTime<Utc>) -> GrantStatus {
    if g.revoked_at.is_some() {
        GrantStatus::Revoked
    } else if now > g.expires_at {
        GrantStatus::Expired
    } else if g.downloads >= g.max_downloads {
        GrantStatus::Exhausted
    } else {
        GrantStatus::Active
    }
}

pub(crate) fn grant_view(
    agency: &agency::Model,
    g: &authorization::Model,
    now: DateTime<Utc>,
) -> GrantView {
    GrantView {
        id: g.id,
        request_id: g.request_id,
        agency: agency_info(agency),
        purpose: g.purpose.clone(),
        fields: names(&fields::parse_list(&g.fields)),
        residence_proof: super::proof_grants::ProofAsk::of_grant(g),
        retention_days: g.retention_days,
        expires_at: g.expires_at,
        max_downloads: g.max_downloads,
        downloads: g.downloads,
        status: grant_status(g, now),
        consent_version: g.consent_version.clone(),
        created_at: g.created_at,
        revoked_at: g.revoked_at,
    }
}

pub async fn grants_for_holder(ctx: &Context, person_id: Uuid) -> Result<Vec<GrantView>> {
    let columns = (
        authorization::Column::PersonId,
        authorization::Column::CreatedAt,
    );
    let rows =
        agencies::newest_for_holder::<authorization::Entity, _>(&ctx.db, columns, person_id, |g| {
            g.agency_id
        });
    let now = ctx.clock.now();
    Ok(rows
        .await?
        .iter()
        .map(|(a, g)| grant_view(a, g, now))
        .collect())
}

/// Marks a grant revoked and logs it as the holder's act, in the caller's transaction;
/// `reason` says why when it was not the holder's own choice (`account_closed`). Answers the
/// grant's agency.
pub(crate) async fn withdraw<C: sea_orm::ConnectionTrait>(
    txn: &C,
    person_id: Uuid,
    grant: &authorization::Model,
    now: DateTime<Utc>,
    reason: Option<&str>,
) -> Result<agency::Model> {
    let agency = agencies::row(txn, grant.agency_id).await?;
    authorization::Entity::update_many()
        .col_expr(authorization::Column::RevokedAt, Expr::value(Some(now)))
        .filter(authorization::Column::Id.eq(grant.id))
        .filter(authorization::Column::RevokedAt.is_null())
        .exec(txn)
        .await?;
    let mut detail = json!({"authorization_id": grant.id.to_string(), "agency": agency.name});
    if let Some(reason) = reason {
        detail["reason"] = json!(reason);
    }
    access_log::record(
        txn,
        access_log::Event {
            person_id,
            at: now,
            actor: Actor::Holder,
            action: Action::Revoke,
            purpose: Some(&grant.purpose),
            detail,
        },
    )
    .await?;
    Ok(agency)
}

/// The holder withdraws consent; further downloads stop at once. The agency sees the grant
/// as `revoked` when it follows its request.
pub async fn revoke(ctx: &Context, person_id: Uuid, grant_id: Uuid) -> Result<GrantView> {
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    let grant = authorization::Entity::find_by_id(grant_id)
        .filter(authorization::Column::PersonId.eq(person_id))
        .one(&txn)
        .await?
        .ok_or(Refusal::NotFound(Missing::Authorization))?;
    if grant.revoked_at.is_some() {
        return Err(Refusal::AuthorizationRevoked.into());
    }
    let agency = withdraw(&txn, person_id, &grant, now, None).await?;
    txn.commit().await?;
    tracing::info!(authorization_id = %grant.id, "authorization revoked by the holder");
    let mut grant = grant;
    grant.revoked_at = Some(now);
    Ok(grant_view(&agency, &grant, now))
}

/// Counts one download (of the copy or a proof) while the grant still allows it, in the
/// caller's transaction, so concurrent downloads cannot exceed the limit and a revocation that
/// commits first wins.
pub(crate) async fn count_download<C: sea_orm::ConnectionTrait>(
    txn: &C,
    grant: &authorization::Model,
) -> Result<()> {
    let counted = authorization::Entity::update_many()
        .col_expr(
            authorization::Column::Downloads,
            Expr::col(authorization::Column::Downloads).add(1),
        )
        .filter(authorization::Column::Id.eq(grant.id))
        .filter(authorization::Column::RevokedAt.is_null())
        .filter(authorization::Column::Downloads.lt(grant.max_downloads))
        .exec(txn)
        .await?;
    if counted.rows_affected != 1 {
        return Err(Refusal::DownloadLimitReached.into());
    }
    Ok(())
}
