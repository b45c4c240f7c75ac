//! The voluntary physical card: ordered by the holder (the first card is free, a replacement
//! costs the regulation's fee), then moved by staff through its steps until collected.

use chrono::{DateTime, Utc};
use entity::card_order;
use entity::statuses::CardOrderStatus;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use crate::Context;
use crate::domain::permit_rules::PermitStatus;
use crate::error::{FieldProblem, Missing, Refusal, Result, invalid, on_unique};
use crate::permit::permits;

const MAX_STATION_CHARS: usize = 100;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = CardOrder)]
pub struct CardOrderView {
    pub id: Uuid,
    pub permit_no: String,
    pub pickup_station: String,
    pub fee_cents: i64,
    pub status: CardOrderStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn order(ctx: &Context, person_id: Uuid, pickup_station: &str) -> Result<CardOrderView> {
    let station = pickup_station.trim();
    if station.is_empty() {
        return Err(invalid("pickup_station", FieldProblem::Empty));
    }
    if station.chars().count() > MAX_STATION_CHARS {
        return Err(invalid("pickup_station", FieldProblem::TooLong));
    }
    let (permit, version) = permits::my_permit(ctx, person_id).await?;
    if permits::status(&permit, &version, ctx.clock.today()) != PermitStatus::Valid {
        return Err(Refusal::PermitNotValid.into());
    }
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    let earlier = card_order::Entity::find()
        .filter(card_order::Column::PersonId.eq(person_id))
        .count(&txn)
        .await?;
    let fee_cents = if earlier == 0 {
        0
    } else {
        ctx.settings.permit.card_fee_cents
    };
    // Nothing to pay for the first card: it starts as paid.
    let status = if fee_cents == 0 {
        CardOrderStatus::Paid
    } else {
        CardOrderStatus::Ordered
    };
    let row = card_order::ActiveModel {
        id: Set(Uuid::new_v4()),
        person_id: Set(person_id),
        permit_id: Set(permit.id),
        open_for_person: Set(Some(person_id)),
        pickup_station: Set(station.to_owned()),
        fee_cents: Set(fee_cents),
        status: Set(status),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| on_unique(e, Refusal::CardOrderOpen))?;
    txn.commit().await?;
    Ok(view(row, permit.permit_no))
}

fn view(row: card_order::Model, permit_no: String) -> CardOrderView {
    CardOrderView {
        id: row.id,
        permit_no,
        pickup_station: row.pickup_station,
        fee_cents: row.fee_cents,
        status: row.status,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

async fn with_permit_no(ctx: &Context, row: card_order::Model) -> Result<CardOrderView> {
    let permit_no = entity::permit::Entity::find_by_id(row.permit_id)
        .one(&ctx.db)
        .await?
        .map(|p| p.permit_no)
        .unwrap_or_default();
    Ok(view(row, permit_no))
}

/// The person's latest order.
pub async fn latest(ctx: &Context, person_id: Uuid) -> Result<CardOrderView> {
    let row = card_order::Entity::find()
        .filter(card_order::Column::PersonId.eq(person_id))
        .order_by_desc(card_order::Column::CreatedAt)
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::NotFound(Missing::CardOrder))?;
    with_permit_no(ctx, row).await
}

/// Staff move an order one step on; skipping or going back is refused.
pub async fn advance(ctx: &Context, order_id: Uuid, to: &str) -> Result<CardOrderView> {
    let target = CardOrderStatus::try_from_value(&to.to_owned())
        .map_err(|_| invalid("status", FieldProblem::NotAllowed))?;
    let txn = ctx.db.begin().await?;
    let row = card_order::Entity::find_by_id(order_id)
        .one(&txn)
        .await?
        .ok_or(Refusal::NotFound(Missing::CardOrder))?;
    if next_step(row.status) != Some(target) {
        return Err(Refusal::InvalidTransition {
            from: row.status.to_value(),
            to: target.to_value(),
        }
        .into());
    }
    let mut active: card_order::ActiveModel = row.into();
    active.status = Set(target);
    if target == CardOrderStatus::Collected {
        active.open_for_person = Set(None);
    }
    active.updated_at = Set(ctx.clock.now());
    let row = active.update(&txn).await?;
    txn.commit().await?;
    with_permit_no(ctx, row).await
}

/// The step after this one; a collected card has none.
fn next_step(status: CardOrderStatus) -> Option<CardOrderStatus> {
    match status {
        CardOrderStatus::Ordered => Some(CardOrderStatus::Paid),
        CardOrderStatus::Paid => Some(CardOrderStatus::Produced),
        CardOrderStatus::Produced => Some(CardOrderStatus::Ready),
        CardOrderStatus::Ready => Some(CardOrderStatus::Collected),
        CardOrderStatus::Collected => None,
    }
}
