//! Review: the queue of applications waiting for a reviewer, what the reviewer sees, and the
//! decision, which issues the permit in the same transaction when it approves.

use chrono::{DateTime, Utc};
use entity::statuses::ApplicationStatus;
use entity::{application, material, person};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait,
    PaginatorTrait, QueryFilter, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use crate::Context;
use crate::applying::eligibility::RejectReason;
use crate::domain::divisions::{self};
use crate::error::{FieldProblem, Missing, Refusal, Result, invalid};
use crate::keys::privacy::{Kind, mask_id_number, mask_name};
use crate::notices::outbox::{self, Notice};
use crate::permit::permits;

use super::applications::*;

/// An application as a reviewer sees it: the applicant's name and ID number in full (a
/// reviewer compares them with the documents), masked forms for lists.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    #[serde(flatten)]
    pub application: ApplicationView,
    pub applicant_name: String,
    pub applicant_id_number: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub id: Uuid,
    pub status: ApplicationStatus,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub city: String,
    pub district: String,
    pub basis: String,
    pub missing: Vec<String>,
    pub materials: u64,
    pub created_at: DateTime<Utc>,
}

pub async fn queue(
    ctx: &Context,
    status: Option<&str>,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> Result<Page<QueueItem>> {
    let status = match status {
        None => ApplicationStatus::PendingReview,
        Some(name) => ApplicationStatus::try_from_value(&name.to_owned())
            .map_err(|_| invalid("status", FieldProblem::NotAllowed))?,
    };
    let (rows, next_cursor) = page_of(
        ctx,
        Condition::all().add(application::Column::Status.eq(status)),
        limit,
        cursor,
    )
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let (name, id_number) = applicant(ctx, row.person_id).await?;
        let materials = material::Entity::find()
            .filter(material::Column::ApplicationId.eq(row.id))
            .count(&ctx.db)
            .await?;
        items.push(QueueItem {
            id: row.id,
            status: row.status,
            applicant_name: mask_name(&name),
            applicant_id_number: mask_id_number(&id_number),
            city: row.city,
            district: row.district,
            basis: row.basis,
            missing: from_json(&row.missing),
            materials,
            created_at: row.created_at,
        });
    }
    Ok(Page { items, next_cursor })
}

async fn applicant(ctx: &Context, person_id: Uuid) -> Result<(String, String)> {
    let p = person::Entity::find_by_id(person_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("applicant {person_id} missing"))?;
    Ok((
        ctx.vault.open_string(Kind::Name, &p.name_enc)?,
        ctx.vault.open_string(Kind::IdNumber, &p.id_number_enc)?,
    ))
}

pub async fn review_view(ctx: &Context, id: Uuid) -> Result<ReviewView> {
    let row = application::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::NotFound(Missing::Application))?;
    let (applicant_name, applicant_id_number) = applicant(ctx, row.person_id).await?;
    Ok(ReviewView {
        application: view_of(ctx, &ctx.db, &row).await?,
        applicant_name,
        applicant_id_number,
    })
}

/// A reviewer's decision on an application pending review: approval issues the permit in the
/// same transaction; either way the applicant is told through the outbox.
pub async fn decide(
    ctx: &Context,
    staff_id: Uuid,
    id: Uuid,
    approve: bool,
    reason: &str,
) -> Result<ReviewView> {
    let reason = reason.trim();
    if !approve && reason.is_empty() {
        return Err(invalid("reason", FieldProblem::Empty));
    }
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    // Claim the application with a conditional update, so two reviewers cannot both decide.
    let claimed = application::Entity::update_many()
        .col_expr(
            application::Column::Status,
            Expr::value(if approve {
                ApplicationStatus::Issued
            } else {
                ApplicationStatus::Rejected
            }),
        )
        .col_expr(
            application::Column::OpenForPerson,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(application::Column::DecidedBy, Expr::value(staff_id))
        .col_expr(application::Column::DecidedAt, Expr::value(now))
        .col_expr(application::Column::UpdatedAt, Expr::value(now))
        .filter(application::Column::Id.eq(id))
        .filter(application::Column::Status.eq(ApplicationStatus::PendingReview))
        .exec(&txn)
        .await?
        .rows_affected;
    let row = application::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Refusal::NotFound(Missing::Application))?;
    if claimed == 0 {
        return Err(Refusal::NotPendingReview.into());
    }
    let mut active: application::ActiveModel = row.clone().into();
    if !reason.is_empty() {
        active.review_note_enc = Set(Some(ctx.vault.seal_str(Kind::Note, reason)?));
    }
    let mut permit_no = None;
    if approve {
        let person_id = row.person_id;
        let id_number = person_id_number_in(ctx, &txn, person_id).await?;
        let household = ctx
            .gov
            .household(&id_number)
            .await?
            .ok_or(Refusal::ConditionsNotMet(vec![]))?;
        let city = divisions::find_city(&row.city)
            .ok_or_else(|| anyhow::anyhow!("application city unknown"))?;
        refuse_if_open_or_held(&txn, person_id, row.id, city, ctx.clock.today()).await?;
        let permit = permits::issue(
            ctx,
            &txn,
            permits::Issue {
                person_id,
                id: &id_number,
                household: &household,
                city,
                residence_address: permits::residence_address(
                    &row.city,
                    &row.district,
                    &ctx.vault.open_string(Kind::Address, &row.address_enc)?,
                ),
                continuous_since: row.residence_since,
            },
        )
        .await?;
        permit_no = Some(permit.permit_no.clone());
        active.permit_id = Set(Some(permit.id));
    } else {
        active.reasons = Set(to_json(&[RejectReason::ReviewRejected.code()]));
    }
    active.update(&txn).await?;
    let notice = Notice::ApplicationDecided {
        application_id: id,
        approved: approve,
        permit_no,
        reason: (!reason.is_empty()).then(|| reason.to_owned()),
    };
    outbox::enqueue(
        ctx,
        &txn,
        row.person_id,
        &format!("application_decided:{id}"),
        &notice,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(application_id = %id, %staff_id, approve, "application decided");
    review_view(ctx, id).await
}
