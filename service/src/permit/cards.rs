//! The voluntary physical card: ordered by the holder (the first card is free, a replacement
//! costs the regulation's fee, paid through [`fees`]), then moved by staff through its steps
//! until collected.

use chrono::{DateTime, Utc};
use entity::statuses::CardOrderStatus;
use entity::{card_order, card_payment};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use crate::Context;
use crate::domain::permit_rules::PermitStatus;
use crate::error::{FieldProblem, Missing, Refusal, Result, invalid, on_unique};
use crate::permit::fees::{self, PaymentView, expiry};
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
    /// The payment notice of a card that costs a fee; `null` for a free one.
    pub payment: Option<PaymentView>,
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
    // An order whose notice expired unpaid no longer stands in the way.
    expiry::cancel_expired(&ctx.db, now, Some(person_id)).await?;
    // Refused before a notice is asked for, so a refused order leaves none at the platform.
    let open = card_order::Entity::find()
        .filter(card_order::Column::OpenForPerson.eq(person_id))
        .count(&ctx.db)
        .await?;
    if open > 0 {
        return Err(Refusal::CardOrderOpen.into());
    }
    let earlier = card_order::Entity::find()
        .filter(card_order::Column::PersonId.eq(person_id))
        .count(&ctx.db)
        .await?;
    let fee_cents = if earlier == 0 {
        0
    } else {
        ctx.settings.permit.card_fee_cents
    };
    let order_id = Uuid::new_v4();
    // The notice is asked for before anything is written: a platform that is down, slow or
    // answering an error refuses the order whole, and no order is ever stored without the
    // notice it waits on. The opposite leftover is harmless: a notice whose order then fails
    // to be stored (a concurrent order of the same person won) was shown to nobody, expires
    // unpaid at the platform, and a callback for it would find no notice here (404).
    let notice = if fee_cents > 0 {
        let request = fees::NoticeRequest {
            order_id,
            amount_cents: fee_cents,
        };
        Some(fees::issue_notice(ctx.fees.as_ref(), &request, now).await?)
    } else {
        None
    };
    // Nothing to pay for the first card: it starts as paid.
    let status = if notice.is_some() {
        CardOrderStatus::Ordered
    } else {
        CardOrderStatus::Paid
    };
    let txn = ctx.db.begin().await?;
    let row = card_order::ActiveModel {
        id: Set(order_id),
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
    let payment = match notice {
        Some(notice) => Some(
            card_payment::ActiveModel {
                order_id: Set(order_id),
                notice_no: Set(notice.notice_no),
                amount_cents: Set(fee_cents),
                pay_url: Set(notice.pay_url),
                expires_at: Set(notice.expires_at),
                paid_at: Set(None),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?,
        ),
        None => None,
    };
    txn.commit().await?;
    Ok(view(row, permit.permit_no, payment))
}

fn view(
    row: card_order::Model,
    permit_no: String,
    payment: Option<card_payment::Model>,
) -> CardOrderView {
    CardOrderView {
        id: row.id,
        permit_no,
        pickup_station: row.pickup_station,
        fee_cents: row.fee_cents,
        status: row.status,
        payment: payment.map(PaymentView::from),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

async fn full_view(ctx: &Context, row: card_order::Model) -> Result<CardOrderView> {
    let permit_no = entity::permit::Entity::find_by_id(row.permit_id)
        .one(&ctx.db)
        .await?
        .map(|p| p.permit_no)
        .unwrap_or_default();
    let payment = card_payment::Entity::find_by_id(row.id)
        .one(&ctx.db)
        .await?;
    Ok(view(row, permit_no, payment))
}

/// The person's latest order.
pub async fn latest(ctx: &Context, person_id: Uuid) -> Result<CardOrderView> {
    // Checked on read too, so the daily run's hour never shows as a payable expired notice.
    expiry::cancel_expired(&ctx.db, ctx.clock.now(), Some(person_id)).await?;
    let row = card_order::Entity::find()
        .filter(card_order::Column::PersonId.eq(person_id))
        .order_by_desc(card_order::Column::CreatedAt)
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::NotFound(Missing::CardOrder))?;
    full_view(ctx, row).await
}

/// Staff move an order one step on; skipping or going back is refused. Whether the fee was
/// paid is the payment platform's to say ([`fees::notify`]), never staff's.
pub async fn advance(ctx: &Context, order_id: Uuid, to: &str) -> Result<CardOrderView> {
    let target = CardOrderStatus::try_from_value(&to.to_owned())
        .map_err(|_| invalid("status", FieldProblem::NotAllowed))?;
    if target == CardOrderStatus::Paid {
        return Err(Refusal::PaidOnlyByPayment.into());
    }
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
    full_view(ctx, row).await
}

/// The step after this one; a collected or cancelled order has none.
fn next_step(status: CardOrderStatus) -> Option<CardOrderStatus> {
    match status {
        CardOrderStatus::Ordered => Some(CardOrderStatus::Paid),
        CardOrderStatus::Paid => Some(CardOrderStatus::Produced),
        CardOrderStatus::Produced => Some(CardOrderStatus::Ready),
        CardOrderStatus::Ready => Some(CardOrderStatus::Collected),
        CardOrderStatus::Collected | CardOrderStatus::Cancelled => None,
    }
}
