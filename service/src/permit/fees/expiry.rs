//! A notice that expires unpaid cancels its order, which frees the holder to order again.
//! The daily scheduler runs it for everyone; the holder's own reads and orders run it for them
//! first, so nobody sees an order waiting on a notice that can no longer be paid.

use chrono::{DateTime, Utc};
use entity::statuses::CardOrderStatus;
use entity::{card_order, card_payment};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::Result;

/// Cancels, as of `now`, the orders still `ordered` whose notice expired unpaid: everyone's,
/// or one person's. One statement, so it is safe beside a paid callback for the same order
/// (whichever moves the order first wins; a late callback may still restore it, see
/// [`super::notify`]) and with several instances running it at once. Answers how many.
pub async fn cancel_expired(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    person: Option<Uuid>,
) -> Result<u64> {
    let expired_unpaid = Query::select()
        .column(card_payment::Column::OrderId)
        .from(card_payment::Entity)
        .and_where(card_payment::Column::PaidAt.is_null())
        .and_where(card_payment::Column::ExpiresAt.lte(now))
        .to_owned();
    let mut cancel = card_order::Entity::update_many()
        .col_expr(
            card_order::Column::Status,
            Expr::value(CardOrderStatus::Cancelled),
        )
        .col_expr(card_order::Column::OpenForPerson, Expr::value(None::<Uuid>))
        .col_expr(card_order::Column::UpdatedAt, Expr::value(now))
        .filter(card_order::Column::Status.eq(CardOrderStatus::Ordered))
        .filter(card_order::Column::Id.in_subquery(expired_unpaid));
    if let Some(person_id) = person {
        cancel = cancel.filter(card_order::Column::PersonId.eq(person_id));
    }
    let cancelled = cancel.exec(db).await?.rows_affected;
    if cancelled > 0 {
        tracing::info!(
            cancelled,
            "card orders cancelled: their payment notices expired unpaid"
        );
    }
    Ok(cancelled)
}
