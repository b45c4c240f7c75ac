//! The card fee through the province's non-tax payment platform (tests/api/fake_payment.rs):
//! a replacement card answers a payment notice and waits in `ordered`; the platform's signed
//! callback pays it once; forged, altered or misdirected callbacks change nothing; a platform
//! down or slow refuses the order whole; an expired notice cancels its order.

use chrono::Duration as Days;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use std::time::{Duration, Instant};

use crate::fake_payment::{FakePayment, NOTICE_DAYS, NOTIFY_SECRET, PaymentFault, deliver_raw};
use crate::helpers::*;

const FEE: i64 = 2000;

/// A server whose fees go to a fresh fake platform, with a one-second deadline.
async fn app_with_payment() -> (TestApp, FakePayment) {
    let fake = FakePayment::start().await;
    let app = spawn_app_with(&[
        ("YUEJU_PAYMENT_API_BASE", &fake.base),
        ("YUEJU_PAYMENT_NOTIFY_SECRET", NOTIFY_SECRET),
        ("YUEJU_HTTP_TIMEOUT_SECS", "1"),
    ])
    .await;
    fake.follow_clock(app.clock());
    (app, fake)
}

/// Chen holds a permit and collected his free first card, so the next one costs the fee.
/// Returns his tokens and a staff token.
async fn chen_due_a_replacement(app: &TestApp) -> (Tokens, String) {
    let tokens = app.chen_with_permit().await;
    let first = order(app, &tokens).await;
    assert_eq!(first.body["status"], "paid", "{}", first.text);
    let staff = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    let id = first.body["id"].as_str().unwrap();
    for to in ["produced", "ready", "collected"] {
        let r = advance(app, &staff, id, to).await;
        assert_eq!(r.body["status"], to, "{}", r.text);
    }
    (tokens, staff)
}

async fn order(app: &TestApp, tokens: &Tokens) -> Reply {
    app.post(
        "/api/v1/me/physical-card",
        &json!({"pickup_station": "天河派出所"}),
        Some(&tokens.access),
    )
    .await
}

async fn my_order(app: &TestApp, tokens: &Tokens) -> Reply {
    app.get("/api/v1/me/physical-card", Some(&tokens.access))
        .await
}

async fn advance(app: &TestApp, staff: &str, id: &str, to: &str) -> Reply {
    app.post(
        &format!("/api/v1/staff/card-orders/{id}/status"),
        &json!({"status": to}),
        Some(staff),
    )
    .await
}

/// A replacement ordered and waiting for payment: its reply and notice number.
async fn ordered_replacement(app: &TestApp, tokens: &Tokens) -> (Reply, String) {
    let r = order(app, tokens).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let notice_no = r.body["payment"]["notice_no"].as_str().unwrap().to_owned();
    (r, notice_no)
}

async fn rows(app: &TestApp) -> (u64, u64) {
    let orders = entity::card_order::Entity::find()
        .count(&app.app.db)
        .await
        .unwrap();
    let payments = entity::card_payment::Entity::find()
        .count(&app.app.db)
        .await
        .unwrap();
    (orders, payments)
}

fn callback(notice_no: &str, amount_cents: i64, paid_at: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"notice_no": notice_no, "status": "paid", "amount_cents": amount_cents, "paid_at": paid_at})).unwrap()
}

#[tokio::test]
async fn a_replacement_card_answers_the_platforms_payment_notice_and_waits_ordered_until_paid() {
    let (app, fake) = app_with_payment().await;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    let (r, notice_no) = ordered_replacement(&app, &tokens).await;
    assert_eq!(r.body["status"], "ordered");
    assert_eq!(r.body["fee_cents"], FEE);
    let issued = fake.notices();
    assert_eq!(issued.len(), 1);
    let notice = &issued[0];
    assert_eq!(notice.order_id, r.body["id"].as_str().unwrap());
    assert_eq!(notice.amount_cents, FEE);
    assert_eq!(notice.item, "居住证工本费");
    let payment = &r.body["payment"];
    assert_eq!(notice_no, notice.notice_no);
    assert_eq!(payment["amount_cents"], FEE);
    assert_eq!(payment["pay_url"], notice.pay_url.as_str());
    let expires_at: chrono::DateTime<chrono::Utc> =
        payment["expires_at"].as_str().unwrap().parse().unwrap();
    // The platform's instant, to the microsecond the database keeps.
    let off = (expires_at - notice.expires_at)
        .num_microseconds()
        .unwrap()
        .abs();
    assert!(off < 1, "{expires_at} against {}", notice.expires_at);
    assert!(payment["paid_at"].is_null(), "{}", r.text);
    // Reading it back shows the same notice, on its own and with the permit.
    let again = my_order(&app, &tokens).await;
    assert_eq!(again.body["status"], "ordered");
    assert_eq!(again.body["payment"], r.body["payment"]);
    let permit = app.get("/api/v1/me/permit", Some(&tokens.access)).await;
    assert_eq!(
        permit.body["physical_card"]["payment"]["notice_no"],
        notice_no.as_str()
    );
}

#[tokio::test]
async fn a_signed_callback_pays_the_order_once_whatever_the_number_of_deliveries() {
    let (app, fake) = app_with_payment().await;
    let (tokens, staff) = chen_due_a_replacement(&app).await;
    let (r, notice_no) = ordered_replacement(&app, &tokens).await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let paid = fake.deliver_paid(&app, &notice_no, FEE).await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    assert_eq!(paid.body["notice_no"], notice_no.as_str());
    let mine = my_order(&app, &tokens).await;
    assert_eq!(mine.body["status"], "paid");
    let paid_at = mine.body["payment"]["paid_at"].clone();
    assert!(paid_at.is_string(), "{}", mine.text);
    let updated_at = mine.body["updated_at"].clone();

    app.clock().advance(Days::minutes(5));
    let redelivered = fake.deliver_paid(&app, &notice_no, FEE).await;
    assert_eq!(redelivered.status, 200, "{}", redelivered.text);
    assert_eq!(redelivered.body, paid.body, "the same receipt every time");
    let mine = my_order(&app, &tokens).await;
    assert_eq!(mine.body["payment"]["paid_at"], paid_at);
    assert_eq!(
        mine.body["updated_at"], updated_at,
        "a redelivery writes nothing"
    );

    // Once the card moves on, a late redelivery does not pull it back to `paid`.
    assert_eq!(
        advance(&app, &staff, &id, "produced").await.body["status"],
        "produced"
    );
    let late = fake.deliver_paid(&app, &notice_no, FEE).await;
    assert_eq!(late.status, 200, "{}", late.text);
    assert_eq!(my_order(&app, &tokens).await.body["status"], "produced");
}

#[tokio::test]
async fn a_forged_altered_or_unsigned_callback_is_401_and_pays_nothing() {
    let (app, _fake) = app_with_payment().await;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    let (_, notice_no) = ordered_replacement(&app, &tokens).await;
    let body = callback(&notice_no, FEE, "2026-12-01T10:00:00+08:00");
    let good = FakePayment::sign(&body);

    // Signed under another key.
    let forged = {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"not-the-secret").unwrap();
        mac.update(&body);
        hex::encode(mac.finalize().into_bytes())
    };
    deliver_raw(&app, body.clone(), Some(&forged))
        .await
        .assert_error(401, "SIGNATURE_INVALID");
    // The genuine signature of another body: one changed byte (extra whitespace) breaks it.
    let mut altered = body.clone();
    altered.push(b' ');
    deliver_raw(&app, altered, Some(&good))
        .await
        .assert_error(401, "SIGNATURE_INVALID");
    // No signature, or one that is not hex.
    deliver_raw(&app, body.clone(), None)
        .await
        .assert_error(401, "SIGNATURE_INVALID");
    deliver_raw(&app, body.clone(), Some("zz"))
        .await
        .assert_error(401, "SIGNATURE_INVALID");
    assert_eq!(my_order(&app, &tokens).await.body["status"], "ordered");
    // The genuine one still pays.
    assert_eq!(deliver_raw(&app, body, Some(&good)).await.status, 200);
    assert_eq!(my_order(&app, &tokens).await.body["status"], "paid");
}

#[tokio::test]
async fn a_callback_for_another_amount_is_422_and_for_an_unknown_notice_404() {
    let (app, fake) = app_with_payment().await;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    let (_, notice_no) = ordered_replacement(&app, &tokens).await;
    fake.deliver_paid(&app, &notice_no, FEE - 1)
        .await
        .assert_error(422, "PAYMENT_AMOUNT_MISMATCH");
    fake.deliver_paid(&app, "44009999999999999999", FEE)
        .await
        .assert_error(404, "PAYMENT_NOTICE_NOT_FOUND");
    // Signed, but not a callback the platform sends.
    let refunded = serde_json::to_vec(&json!({"notice_no": notice_no, "status": "refunded", "amount_cents": FEE, "paid_at": "2026-12-01T10:00:00+08:00"})).unwrap();
    let sig = FakePayment::sign(&refunded);
    deliver_raw(&app, refunded, Some(&sig))
        .await
        .assert_error(422, "VALIDATION_FAILED");
    let garbage = b"{\"notice_no\": ".to_vec();
    let sig = FakePayment::sign(&garbage);
    deliver_raw(&app, garbage, Some(&sig))
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    assert_eq!(my_order(&app, &tokens).await.body["status"], "ordered");
}

#[tokio::test]
async fn a_payment_platform_that_is_down_refuses_the_order_whole_and_a_retry_succeeds() {
    let (app, fake) = app_with_payment().await;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    let before = rows(&app).await;
    for status in [500, 503] {
        fake.fail_next(PaymentFault::Down(status));
        order(&app, &tokens)
            .await
            .assert_error(503, "PAYMENT_UNAVAILABLE");
    }
    assert_eq!(rows(&app).await, before, "no order and no notice stored");
    assert_eq!(my_order(&app, &tokens).await.body["status"], "collected");
    let (r, _) = ordered_replacement(&app, &tokens).await;
    assert_eq!(r.body["status"], "ordered");
    assert_eq!(fake.calls(), 3);
}

#[tokio::test]
async fn a_payment_platform_slower_than_the_deadline_refuses_the_order_in_time_and_stores_nothing()
{
    let (app, fake) = app_with_payment().await;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    let before = rows(&app).await;
    fake.fail_next(PaymentFault::Slow(Duration::from_secs(5)));
    let started = Instant::now();
    let r = order(&app, &tokens).await;
    r.assert_error(503, "PAYMENT_UNAVAILABLE");
    assert!(r.message().contains("稍后再试"), "{}", r.text);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(rows(&app).await, before);
    // The platform issued that notice late; asking again for the same card works.
    let (r, _) = ordered_replacement(&app, &tokens).await;
    assert_eq!(r.body["status"], "ordered");
}

#[tokio::test]
async fn a_notice_that_expires_unpaid_cancels_its_order_and_the_holder_may_order_again() {
    let (app, fake) = app_with_payment().await;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    let (_, notice_no) = ordered_replacement(&app, &tokens).await;
    app.clock()
        .advance(Days::days(NOTICE_DAYS) - Days::hours(1));
    assert_eq!(my_order(&app, &tokens).await.body["status"], "ordered");
    app.clock().advance(Days::hours(2));
    let mine = my_order(&app, &tokens).await;
    assert_eq!(mine.body["status"], "cancelled", "{}", mine.text);
    assert_eq!(mine.body["payment"]["notice_no"], notice_no.as_str());
    // A new order gets a new notice.
    let (r, second) = ordered_replacement(&app, &tokens).await;
    assert_ne!(second, notice_no);
    assert_eq!(r.body["status"], "ordered");
    assert_eq!(fake.notices().len(), 2);
}

#[tokio::test]
async fn the_daily_run_cancels_every_order_whose_notice_expired_unpaid_and_only_those() {
    let (app, fake) = app_with_payment().await;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    let (r, _) = ordered_replacement(&app, &tokens).await;
    let id: uuid::Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let expiry = service::permit::fees::expiry::cancel_expired;
    assert_eq!(
        expiry(&app.app.db, app.clock().now(), None).await.unwrap(),
        0
    );
    app.clock()
        .advance(Days::days(NOTICE_DAYS) + Days::minutes(1));
    assert_eq!(
        expiry(&app.app.db, app.clock().now(), None).await.unwrap(),
        1
    );
    let row = entity::card_order::Entity::find_by_id(id)
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, entity::statuses::CardOrderStatus::Cancelled);
    assert_eq!(row.open_for_person, None);
    assert_eq!(
        expiry(&app.app.db, app.clock().now(), None).await.unwrap(),
        0
    );
    // A paid order is never cancelled, however old its notice.
    let (_, notice_no) = ordered_replacement(&app, &tokens).await;
    assert_eq!(fake.deliver_paid(&app, &notice_no, FEE).await.status, 200);
    app.clock().advance(Days::days(NOTICE_DAYS * 2));
    assert_eq!(
        expiry(&app.app.db, app.clock().now(), None).await.unwrap(),
        0
    );
    assert_eq!(my_order(&app, &tokens).await.body["status"], "paid");
}

#[tokio::test]
async fn a_late_callback_of_a_payment_made_before_expiry_restores_the_cancelled_order() {
    let (app, fake) = app_with_payment().await;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    let (r, notice_no) = ordered_replacement(&app, &tokens).await;
    let paid_at = (app.clock().now() + Days::hours(1)).to_rfc3339();
    app.clock().advance(Days::days(NOTICE_DAYS + 1));
    assert_eq!(my_order(&app, &tokens).await.body["status"], "cancelled");
    let body = callback(&notice_no, FEE, &paid_at);
    let sig = FakePayment::sign(&body);
    let late = deliver_raw(&app, body, Some(&sig)).await;
    assert_eq!(late.status, 200, "{}", late.text);
    let mine = my_order(&app, &tokens).await;
    assert_eq!(mine.body["id"], r.body["id"]);
    assert_eq!(mine.body["status"], "paid");
    // And it is open again: a second order is refused.
    order(&app, &tokens)
        .await
        .assert_error(409, "CARD_ORDER_OPEN");
    assert_eq!(fake.notices().len(), 1);
}

#[tokio::test]
async fn staff_cannot_set_an_order_paid_by_hand_but_keep_the_other_steps() {
    let (app, _fake) = app_with_payment().await;
    let (tokens, staff) = chen_due_a_replacement(&app).await;
    let (r, _) = ordered_replacement(&app, &tokens).await;
    let id = r.body["id"].as_str().unwrap();
    let refused = advance(&app, &staff, id, "paid").await;
    refused.assert_error(422, "PAID_ONLY_BY_PAYMENT");
    assert!(
        refused.message().contains("非税支付平台"),
        "{}",
        refused.text
    );
    assert_eq!(my_order(&app, &tokens).await.body["status"], "ordered");
    // An unpaid order cannot skip to production either.
    advance(&app, &staff, id, "produced")
        .await
        .assert_error(409, "INVALID_STATUS_TRANSITION");
}

#[tokio::test]
async fn the_first_card_is_free_and_asks_the_platform_for_nothing() {
    let (app, fake) = app_with_payment().await;
    let tokens = app.chen_with_permit().await;
    let r = order(&app, &tokens).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "paid");
    assert_eq!(r.body["fee_cents"], 0);
    assert!(r.body["payment"].is_null(), "{}", r.text);
    assert_eq!(fake.calls(), 0);
}

#[tokio::test]
async fn without_a_platform_dev_issues_notices_itself_paid_by_a_callback_under_the_dev_secret() {
    let app = spawn_app().await;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    let (r, notice_no) = ordered_replacement(&app, &tokens).await;
    assert!(notice_no.starts_with("DEV"), "{}", r.text);
    let pay_url = r.body["payment"]["pay_url"].as_str().unwrap();
    assert!(pay_url.contains(".invalid/"), "{pay_url}");
    let body = callback(&notice_no, FEE, &app.clock().now().to_rfc3339());
    let sig =
        service::permit::fees::notify::sign(service::config::DEV_NOTIFY_SECRET.as_bytes(), &body)
            .unwrap();
    deliver_raw(&app, body.clone(), Some(&FakePayment::sign(&body)))
        .await
        .assert_error(401, "SIGNATURE_INVALID");
    assert_eq!(deliver_raw(&app, body, Some(&sig)).await.status, 200);
    assert_eq!(my_order(&app, &tokens).await.body["status"], "paid");
}

#[tokio::test]
async fn the_fee_answers_and_the_callbacks_answers_match_the_published_schemas() {
    use crate::openapi::check;
    let (app, fake) = app_with_payment().await;
    let spec = app.get("/api/v1/openapi.json", None).await.body;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    fake.fail_next(PaymentFault::Down(502));
    let down = order(&app, &tokens).await;
    check(&spec, "post", "/api/v1/me/physical-card", 503, &down.body);
    let (r, notice_no) = ordered_replacement(&app, &tokens).await;
    check(&spec, "post", "/api/v1/me/physical-card", 201, &r.body);
    let mine = my_order(&app, &tokens).await;
    check(&spec, "get", "/api/v1/me/physical-card", 200, &mine.body);
    let notify = "/api/v1/payments/notify";
    let unsigned = deliver_raw(
        &app,
        callback(&notice_no, FEE, "2026-12-01T10:00:00Z"),
        None,
    )
    .await;
    check(&spec, "post", notify, 401, &unsigned.body);
    let unknown = fake.deliver_paid(&app, "4400000", FEE).await;
    check(&spec, "post", notify, 404, &unknown.body);
    let other = fake.deliver_paid(&app, &notice_no, 1).await;
    check(&spec, "post", notify, 422, &other.body);
    let paid = fake.deliver_paid(&app, &notice_no, FEE).await;
    check(&spec, "post", notify, 200, &paid.body);
    let mine = my_order(&app, &tokens).await;
    check(&spec, "get", "/api/v1/me/physical-card", 200, &mine.body);
}

#[tokio::test]
async fn the_bot_tells_a_holder_the_notice_to_pay_and_then_that_the_card_is_accepted() {
    let (app, fake) = app_with_payment().await;
    let (tokens, _) = chen_due_a_replacement(&app).await;
    let (_, notice_no) = ordered_replacement(&app, &tokens).await;
    let chat = app.chat();
    let u = "u-chen-pays";
    app.say(&chat, u, "绑定 dev:demo-chen").await;
    let waiting = app.say(&chat, u, "实体卡到哪了").await.join("\n");
    assert!(waiting.contains("待缴费"), "{waiting}");
    assert!(waiting.contains(&notice_no), "{waiting}");
    assert!(waiting.contains("20.00元"), "{waiting}");
    assert!(waiting.contains(&fake.notices()[0].pay_url), "{waiting}");
    assert_eq!(fake.deliver_paid(&app, &notice_no, FEE).await.status, 200);
    let paid = app.say(&chat, u, "实体卡到哪了").await.join("\n");
    assert!(paid.contains("等待制证"), "{paid}");
    assert!(!paid.contains(&notice_no), "{paid}");
}
