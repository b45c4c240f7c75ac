//! The platform's paid callback: `{"notice_no", "status": "paid", "amount_cents", "paid_at"}`,
//! signed with `X-Signature`, the lower-hex HMAC-SHA-256 of the raw body under
//! `YUEJU_PAYMENT_NOTIFY_SECRET`.
//!
//! Checked in order: the signature over the bytes as received (before anything is parsed),
//! then the body, the notice, the amount. The platform delivers until it is answered 200, so
//! a redelivery of a recorded payment answers the same receipt and changes nothing.

use chrono::{DateTime, Utc};
use entity::statuses::CardOrderStatus;
use entity::{card_order, card_payment};
use hmac::{Hmac, KeyInit, Mac as _};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::Context;
use crate::error::{FieldProblem, Missing, Refusal, Result, invalid};

/// The callback's body.
#[derive(Deserialize)]
struct PaidWire {
    notice_no: String,
    status: String,
    amount_cents: i64,
    paid_at: DateTime<Utc>,
}

/// What the platform is answered: the notice and when it was paid, the same on every delivery.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PaymentReceipt)]
pub struct Receipt {
    pub notice_no: String,
    pub paid_at: DateTime<Utc>,
}

/// The lower-hex HMAC-SHA-256 of `body` under `secret`: what the platform puts in
/// `X-Signature` (and the test fake signs with).
pub fn sign(secret: &[u8], body: &[u8]) -> Result<String> {
    let mut mac = mac(secret)?;
    mac.update(body);
    Ok(hex::encode(mac.finalize().into_bytes()))
}

fn mac(secret: &[u8]) -> Result<Hmac<Sha256>> {
    // HMAC takes a key of any length: this does not fail.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .map_err(|e| anyhow::anyhow!("HMAC refused the callback key: {e}").into())
}

/// Whether `signature` is the HMAC of `body` under `secret`, compared in constant time.
fn check_signature(secret: &[u8], body: &[u8], signature: Option<&str>) -> Result<()> {
    let presented = signature
        .and_then(|s| hex::decode(s.trim()).ok())
        .ok_or(Refusal::SignatureInvalid)?;
    let mut mac = mac(secret)?;
    mac.update(body);
    mac.verify_slice(&presented)
        .map_err(|_| Refusal::SignatureInvalid.into())
}

/// Records a paid callback and moves its order to `paid`, in one transaction.
pub async fn paid(ctx: &Context, raw_body: &[u8], signature: Option<&str>) -> Result<Receipt> {
    check_signature(
        ctx.settings
            .payment
            .notify_secret
            .expose_secret()
            .as_bytes(),
        raw_body,
        signature,
    )?;
    let wire: PaidWire = serde_json::from_slice(raw_body).map_err(|_| Refusal::MessageMalformed)?;
    if wire.status != "paid" {
        return Err(invalid("status", FieldProblem::NotAllowed));
    }
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    let payment = card_payment::Entity::find()
        .filter(card_payment::Column::NoticeNo.eq(&wire.notice_no))
        .one(&txn)
        .await?
        .ok_or(Refusal::NotFound(Missing::PaymentNotice))?;
    if payment.amount_cents != wire.amount_cents {
        tracing::warn!(
            notice_no = wire.notice_no,
            expected = payment.amount_cents,
            got = wire.amount_cents,
            "paid callback with another amount"
        );
        return Err(Refusal::PaymentAmountMismatch.into());
    }
    if let Some(paid_at) = payment.paid_at {
        return Ok(Receipt {
            notice_no: payment.notice_no,
            paid_at,
        });
    }
    // Compare-and-set: of two deliveries at the same moment, one records the payment and the
    // other finds it recorded.
    let recorded = card_payment::Entity::update_many()
        .col_expr(card_payment::Column::PaidAt, Expr::value(wire.paid_at))
        .filter(card_payment::Column::OrderId.eq(payment.order_id))
        .filter(card_payment::Column::PaidAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if recorded == 1 {
        settle_order(&txn, &payment, wire.paid_at, now).await?;
    }
    txn.commit().await?;
    let stored = card_payment::Entity::find_by_id(payment.order_id)
        .one(&ctx.db)
        .await?
        .and_then(|p| p.paid_at)
        .unwrap_or(wire.paid_at);
    Ok(Receipt {
        notice_no: payment.notice_no,
        paid_at: stored,
    })
}

/// Moves the paid notice's order from `ordered` to `paid`. An order already cancelled because
/// its notice expired, yet paid before that expiry (the callback came late), is restored when
/// its holder has no other open order; otherwise the money needs refunding, which the log says.
async fn settle_order(
    txn: &impl ConnectionTrait,
    payment: &card_payment::Model,
    paid_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    let moved = card_order::Entity::update_many()
        .col_expr(
            card_order::Column::Status,
            Expr::value(CardOrderStatus::Paid),
        )
        .col_expr(card_order::Column::UpdatedAt, Expr::value(now))
        .filter(card_order::Column::Id.eq(payment.order_id))
        .filter(card_order::Column::Status.eq(CardOrderStatus::Ordered))
        .exec(txn)
        .await?
        .rows_affected;
    if moved == 1 {
        return Ok(());
    }
    let Some(order) = card_order::Entity::find_by_id(payment.order_id)
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    if order.status == CardOrderStatus::Cancelled && paid_at <= payment.expires_at {
        let other_open = card_order::Entity::find()
            .filter(card_order::Column::OpenForPerson.eq(order.person_id))
            .count(txn)
            .await?;
        if other_open == 0 {
            card_order::Entity::update_many()
                .col_expr(
                    card_order::Column::Status,
                    Expr::value(CardOrderStatus::Paid),
                )
                .col_expr(
                    card_order::Column::OpenForPerson,
                    Expr::value(order.person_id),
                )
                .col_expr(card_order::Column::UpdatedAt, Expr::value(now))
                .filter(card_order::Column::Id.eq(order.id))
                .exec(txn)
                .await?;
            tracing::info!(order_id = %order.id, "late paid callback restored a cancelled card order");
            return Ok(());
        }
    }
    tracing::warn!(
        order_id = %order.id,
        notice_no = payment.notice_no,
        status = ?order.status,
        "fee paid for a card order that cannot take it: refund needed"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_over_the_same_bytes_and_key() {
        let body = br#"{"notice_no":"N1","status":"paid","amount_cents":2000,"paid_at":"2026-12-01T10:00:00+08:00"}"#;
        let good = sign(b"key", body).unwrap();
        assert_eq!(good.len(), 64);
        assert!(check_signature(b"key", body, Some(&good)).is_ok());
        assert!(check_signature(b"other", body, Some(&good)).is_err());
        assert!(check_signature(b"key", &body[1..], Some(&good)).is_err());
        assert!(check_signature(b"key", body, None).is_err());
        assert!(check_signature(b"key", body, Some("not hex")).is_err());
        let mut flipped = good.into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert!(check_signature(b"key", body, Some(&flipped)).is_err());
    }

    #[test]
    fn the_signature_matches_an_independent_hmac() {
        // printf 'hello' | openssl dgst -sha256 -hmac key
        assert_eq!(
            sign(b"key", b"hello").unwrap(),
            "9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b"
        );
    }
}
