//! Agency access under the holder's consent (PIPL art. 14, 23, 29): an agency that scanned a
//! code asks for access; the holder sees who asks, for what, which fields, for how long, how
//! long the copy will be kept and that sensitive data is involved, and decides. A grant allows
//! a limited number of downloads of the annotated copy until it expires or the holder revokes
//! it. Every step is in the holder's access log, written in the same transaction.

use chrono::{DateTime, Duration, Utc};
use entity::statuses::RequestStatus;
use entity::{authorization, authorization_request as request};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Context;
use crate::applying::idempotency;
use crate::consent::access_log::{self, Action, Actor};
use crate::consent::agencies::{self, AgencyPrincipal, Scope};
use crate::error::{FieldProblem, Missing, Refusal, Result, invalid};
use crate::notices::outbox::{self, Notice};
use crate::permit::fields::{self, PermitField};

use super::grants::{GrantView, grant_view};
use super::proof_grants::ProofAsk;
use crate::residence::proofs::ProofRequest;

/// The version of the consent text below; stored with every request and grant. Change the
/// text only together with the version.
pub const CONSENT_VERSION: &str = "2026-11-v1";

/// What an agency sends after scanning a code.
pub struct AccessRequest<'a> {
    /// The `Idempotency-Key` header, when sent.
    pub idempotency_key: Option<&'a str>,
    pub token: &'a str,
    pub purpose: &'a str,
    pub days: i64,
    pub fields: Option<&'a [String]>,
    pub retention_days: Option<i64>,
    /// A residence proof asked instead of permit fields (scope `residence:proof`).
    pub residence_proof: Option<ProofRequest>,
}

use super::request_views::effective_request_status;
pub use super::request_views::*;

/// An agency asks for access with a code it scanned. The code must verify and the permit be
/// in force; the fields must be among those the agency is registered for.
pub async fn request_access(
    ctx: &Context,
    principal: &AgencyPrincipal,
    ask: AccessRequest<'_>,
) -> Result<AgencyRequestView> {
    // A proof is asked under its own scope, and with no permit field: data minimisation.
    let proof = match &ask.residence_proof {
        None => {
            principal.require(Scope::Download)?;
            None
        }
        Some(asked) => {
            principal.require(Scope::ResidenceProof)?;
            if ask.fields.is_some_and(|f| !f.is_empty()) {
                return Err(invalid("fields", FieldProblem::NotAllowed));
            }
            Some(ProofAsk::checked(ctx, asked)?)
        }
    };
    let rules = &ctx.settings.agencies;
    let agency = agencies::find(ctx, principal).await?;
    let purpose = ask.purpose.trim();
    if purpose.is_empty() {
        return Err(invalid("purpose", FieldProblem::Empty));
    }
    if purpose.chars().count() > 100 {
        return Err(invalid("purpose", FieldProblem::TooLong));
    }
    // The purpose is printed in the copy's annotation, which `verify-copy` reads back.
    if !render::unprintable_chars(purpose).is_empty() {
        return Err(invalid("purpose", FieldProblem::Unprintable));
    }
    if ask.days < 1 || ask.days > i64::from(rules.max_grant_days) {
        return Err(invalid("days", FieldProblem::NotAllowed));
    }
    let retention_days = ask.retention_days.unwrap_or(ask.days);
    if !(1..=3650).contains(&retention_days) {
        return Err(invalid("retention_days", FieldProblem::NotAllowed));
    }
    let registered = agencies::fields_of(&agency);
    let wanted: Vec<PermitField> = match ask.fields {
        _ if proof.is_some() => Vec::new(),
        None => registered.clone(),
        Some(list) => {
            let mut wanted = Vec::new();
            for f in list {
                let field = PermitField::parse(f.trim())
                    .filter(|field| registered.contains(field))
                    .ok_or_else(|| Refusal::FieldNotAllowed(f.trim().to_owned()))?;
                if !wanted.contains(&field) {
                    wanted.push(field);
                }
            }
            wanted
        }
    };
    if wanted.is_empty() && proof.is_none() {
        return Err(invalid("fields", FieldProblem::Empty));
    }
    let key = ask
        .idempotency_key
        .map(|k| {
            let mut request = json!({"token": ask.token, "purpose": purpose, "days": ask.days,
                                 "fields": names(&wanted), "retention_days": retention_days});
            if let Some(p) = &proof {
                request["residence_proof"] = json!(p);
            }
            idempotency::Key::new(
                format!("agency:{}:authorization-requests", agency.id),
                k,
                &request,
            )
        })
        .transpose()?;
    if let Some(key) = &key
        && let Some(view) = idempotency::replay::<AgencyRequestView, _>(ctx, &ctx.db, key).await?
    {
        return Ok(view);
    }
    let now = ctx.clock.now();
    // The steps and reasons of `POST /verify`; only a permit in force passes.
    let claims = crate::verify::verification::check_code(ctx, ask.token, now)
        .map_err(Refusal::CodeInvalid)?;
    let txn = ctx.db.begin().await?;
    let permit = crate::verify::verification::permit_in_force(ctx, &txn, &claims)
        .await?
        .map_err(Refusal::CodeInvalid)?;
    let row = request::Model {
        id: Uuid::new_v4(),
        agency_id: agency.id,
        person_id: permit.person_id,
        permit_id: permit.permit_id,
        purpose: purpose.to_owned(),
        fields: fields::join(&wanted),
        days: ask.days as i32,
        retention_days: retention_days as i32,
        max_downloads: rules.max_downloads as i32,
        status: RequestStatus::Pending,
        consent_version: CONSENT_VERSION.into(),
        created_at: now,
        expires_at: now + Duration::hours(i64::from(rules.request_ttl_hours)),
        decided_at: None,
        proof_city: proof.as_ref().map(|p| p.city.clone()),
        proof_min_years: proof.as_ref().map(|p| p.min_years as i32),
        proof_as_of: proof.as_ref().and_then(|p| p.as_of),
    };
    request::Entity::insert(row.clone().into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    access_log::record(
        &txn,
        access_log::Event {
            person_id: permit.person_id,
            at: now,
            actor: agency_actor(&agency),
            action: Action::Request,
            purpose: Some(purpose),
            detail: json!({
                "request_id": row.id.to_string(),
                "fields": wanted.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
                "days": row.days,
                "residence_proof": proof,
            }),
        },
    )
    .await?;
    outbox::enqueue(
        ctx,
        &txn,
        permit.person_id,
        &format!("access_requested:{}", row.id),
        &Notice::AccessRequested {
            request_id: row.id,
            agency: agency.name.clone(),
            purpose: purpose.to_owned(),
        },
    )
    .await?;
    let view = AgencyRequestView {
        id: row.id,
        status: row.status,
        holder: permit.facts.masked_name,
        permit_no: permit.facts.permit_no,
        purpose: row.purpose,
        fields: names(&wanted),
        residence_proof: proof,
        expires_at: row.expires_at,
        authorization: None,
    };
    if let Some(key) = &key {
        idempotency::save(ctx, &txn, key, &view).await?;
    }
    txn.commit().await?;
    tracing::info!(request_id = %view.id, agency_id = %agency.id, "access requested");
    Ok(view)
}

/// The holder's requests, newest first.
pub async fn requests_for_holder(ctx: &Context, person_id: Uuid) -> Result<Vec<RequestView>> {
    let columns = (request::Column::PersonId, request::Column::CreatedAt);
    let rows =
        agencies::newest_for_holder::<request::Entity, _>(&ctx.db, columns, person_id, |r| {
            r.agency_id
        });
    let now = ctx.clock.now();
    Ok(rows
        .await?
        .iter()
        .map(|(a, r)| request_view(a, r, now))
        .collect())
}

/// Optional body of an approval: the consent text version the holder was shown.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Approval {
    pub consent_version: Option<String>,
}

async fn pending_request<C: sea_orm::ConnectionTrait>(
    db: &C,
    person_id: Uuid,
    request_id: Uuid,
    now: DateTime<Utc>,
) -> Result<request::Model> {
    let req = request::Entity::find_by_id(request_id)
        .filter(request::Column::PersonId.eq(person_id))
        .one(db)
        .await?
        .ok_or(Refusal::NotFound(Missing::AuthorizationRequest))?;
    match effective_request_status(&req, now) {
        RequestStatus::Pending => Ok(req),
        RequestStatus::Expired => Err(Refusal::RequestExpired.into()),
        RequestStatus::Approved | RequestStatus::Denied => Err(Refusal::RequestDecided.into()),
    }
}

/// Marks a pending request decided; only one decision wins when two arrive at once.
async fn decide<C: sea_orm::ConnectionTrait>(
    db: &C,
    request_id: Uuid,
    status: RequestStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    let result = request::Entity::update_many()
        .col_expr(request::Column::Status, Expr::value(status))
        .col_expr(request::Column::DecidedAt, Expr::value(Some(now)))
        .filter(request::Column::Id.eq(request_id))
        .filter(request::Column::Status.eq(RequestStatus::Pending))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Err(Refusal::RequestDecided.into());
    }
    Ok(())
}

/// The holder approves: a grant with the request's purpose, fields and limits, and the
/// consent text version (and the hash of its exact text) the holder agreed to.
pub async fn approve(
    ctx: &Context,
    person_id: Uuid,
    request_id: Uuid,
    approval: Approval,
) -> Result<GrantView> {
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    let req = pending_request(&txn, person_id, request_id, now).await?;
    if approval
        .consent_version
        .as_deref()
        .is_some_and(|v| v != req.consent_version)
        || req.consent_version != CONSENT_VERSION
    {
        return Err(Refusal::ConsentTextChanged.into());
    }
    let agency = agencies::row(&txn, req.agency_id).await?;
    let text = consent_text(&agency, &req);
    decide(&txn, req.id, RequestStatus::Approved, now).await?;
    let grant = authorization::Model {
        id: Uuid::new_v4(),
        request_id: req.id,
        agency_id: req.agency_id,
        person_id,
        permit_id: req.permit_id,
        purpose: req.purpose.clone(),
        fields: req.fields.clone(),
        retention_days: req.retention_days,
        max_downloads: req.max_downloads,
        downloads: 0,
        consent_version: req.consent_version.clone(),
        consent_sha256: hex::encode(Sha256::digest(text.as_bytes())),
        created_at: now,
        expires_at: now + Duration::days(i64::from(req.days)),
        revoked_at: None,
        proof_city: req.proof_city.clone(),
        proof_min_years: req.proof_min_years,
        proof_as_of: req.proof_as_of,
    };
    authorization::Entity::insert(grant.clone().into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    access_log::record(
        &txn,
        access_log::Event {
            person_id,
            at: now,
            actor: Actor::Holder,
            action: Action::Approve,
            purpose: Some(&req.purpose),
            detail: json!({
                "request_id": req.id.to_string(),
                "authorization_id": grant.id.to_string(),
                "agency": agency.name,
                "consent_version": grant.consent_version,
                "consent_sha256": grant.consent_sha256,
            }),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(request_id = %req.id, authorization_id = %grant.id, "access approved");
    Ok(grant_view(&agency, &grant, now))
}

pub async fn deny(ctx: &Context, person_id: Uuid, request_id: Uuid) -> Result<RequestView> {
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    let mut req = pending_request(&txn, person_id, request_id, now).await?;
    let agency = agencies::row(&txn, req.agency_id).await?;
    decide(&txn, req.id, RequestStatus::Denied, now).await?;
    access_log::record(
        &txn,
        access_log::Event {
            person_id,
            at: now,
            actor: Actor::Holder,
            action: Action::Deny,
            purpose: Some(&req.purpose),
            detail: json!({"request_id": req.id.to_string(), "agency": agency.name}),
        },
    )
    .await?;
    txn.commit().await?;
    req.status = RequestStatus::Denied;
    req.decided_at = Some(now);
    Ok(request_view(&agency, &req, now))
}

/// The agency follows its request (and the grant, once there is one). Another agency's
/// request is not found.
pub async fn request_for_agency(
    ctx: &Context,
    principal: &AgencyPrincipal,
    request_id: Uuid,
) -> Result<AgencyRequestView> {
    let req = request::Entity::find_by_id(request_id)
        .filter(request::Column::AgencyId.eq(principal.agency_id))
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::NotFound(Missing::AuthorizationRequest))?;
    let agency = agencies::row(&ctx.db, req.agency_id).await?;
    let permit = entity::permit::Entity::find_by_id(req.permit_id)
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::NotFound(Missing::AuthorizationRequest))?;
    let version = crate::permit::permits::current_version(&ctx.db, &permit).await?;
    let document = crate::permit::permits::open_document(ctx, &version)?;
    let grant = authorization::Entity::find()
        .filter(authorization::Column::RequestId.eq(req.id))
        .one(&ctx.db)
        .await?;
    let now = ctx.clock.now();
    Ok(AgencyRequestView {
        id: req.id,
        status: effective_request_status(&req, now),
        holder: crate::keys::privacy::mask_name(&document.name),
        permit_no: permit.permit_no,
        purpose: req.purpose.clone(),
        fields: names(&fields::parse_list(&req.fields)),
        residence_proof: ProofAsk::of_request(&req),
        expires_at: req.expires_at,
        authorization: grant.map(|g| grant_view(&agency, &g, now)),
    })
}
