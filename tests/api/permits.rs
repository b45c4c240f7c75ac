use base64::Engine as _;
use serde_json::{Value, json};
use service::domain::licence::is_valid_licence_id;
use service::keys::signing::{PublishedKey, signed_message, verify_with_published};

use crate::helpers::*;

async fn published_keys(app: &TestApp) -> Vec<PublishedKey> {
    let r = app.get("/api/v1/keys", None).await;
    serde_json::from_value(r.body["keys"].clone()).unwrap()
}

/// Verifies a signed permit document with nothing but the published keys.
fn verifies(keys: &[PublishedKey], signed: &Value) -> bool {
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signed["signature"].as_str().unwrap())
        .unwrap();
    let message = signed_message("yueju-permit-v1", &signed["document"]);
    verify_with_published(keys, signed["kid"].as_str().unwrap(), &message, &signature).is_ok()
}

#[tokio::test]
async fn the_permit_carries_every_statutory_field_with_the_id_number_masked() {
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let p = app.get("/api/v1/me/permit", Some(&tokens.access)).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.body["name"], CHEN_NAME);
    assert_eq!(p.body["gender"], "male");
    assert_eq!(p.body["ethnicity"], "汉族");
    assert_eq!(p.body["id_number"], "4405**********1234");
    assert_eq!(p.body["hukou_address"], "广东省汕头市金平区金砂路88号");
    assert_eq!(p.body["residence_address"], "广州市天河区天河路385号501房");
    assert_eq!(p.body["issuing_authority"], "广州市公安局");
    let today = app.clock().today();
    assert_eq!(p.body["issued_on"], today.to_string());
    assert_eq!(p.body["valid_from"], today.to_string());
    assert_eq!(
        p.body["valid_until"],
        service::domain::permit_rules::years_after(today, 3).to_string()
    );
    assert_eq!(
        p.body["next_endorsement_due"],
        service::domain::permit_rules::years_after(today, 1).to_string()
    );
    assert_eq!(p.body["status"], "valid");
    assert!(
        is_valid_licence_id(p.body["licence_id"].as_str().unwrap()),
        "{}",
        p.body["licence_id"]
    );
    let revealed = app
        .get("/api/v1/me/permit?reveal=true", Some(&tokens.access))
        .await;
    assert_eq!(revealed.body["id_number"], CHEN_ID);
}

#[tokio::test]
async fn the_signed_document_verifies_with_the_published_key_and_fails_after_any_change() {
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let keys = published_keys(&app).await;
    // Dev has a key of each algorithm; EdDSA (the default) signs, SM2 only verifies.
    let algs: Vec<(&str, &str, service::keys::signing::KeyStatus)> = keys
        .iter()
        .map(|k| (k.alg.as_str(), k.crv.as_str(), k.status))
        .collect();
    assert_eq!(
        algs,
        [
            (
                "EdDSA",
                "Ed25519",
                service::keys::signing::KeyStatus::Active
            ),
            ("SM2", "SM2", service::keys::signing::KeyStatus::Retired),
        ]
    );
    let signed = app.permit_document(&tokens.access).await;
    assert_eq!(signed["alg"], "EdDSA");
    assert_eq!(signed["kid"], keys[0].kid.as_str());
    assert!(verifies(&keys, &signed));
    for field in [
        "name",
        "id_number",
        "valid_until",
        "residence_address",
        "permit_no",
    ] {
        let mut changed = signed.clone();
        let value = changed["document"][field].as_str().unwrap().to_owned();
        let mut bytes = value.into_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        changed["document"][field] = json!(String::from_utf8_lossy(&bytes));
        assert!(
            !verifies(&keys, &changed),
            "a change to {field} went unnoticed"
        );
    }
    let sig = base64::engine::general_purpose::STANDARD
        .decode(signed["signature"].as_str().unwrap())
        .unwrap();
    for i in 0..sig.len() {
        let mut bad = sig.clone();
        bad[i] ^= 1;
        let mut changed = signed.clone();
        changed["signature"] = json!(base64::engine::general_purpose::STANDARD.encode(&bad));
        assert!(!verifies(&keys, &changed), "signature byte {i}");
    }
}

#[tokio::test]
async fn the_endorsement_is_refused_before_its_window_opens() {
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let r = app.endorse(&tokens.access).await;
    r.assert_error(422, "ENDORSEMENT_NOT_DUE");
    let opens = app
        .get("/api/v1/me/permit", Some(&tokens.access))
        .await
        .body["endorsement_window_opens"]
        .clone();
    assert!(r.message().contains(opens.as_str().unwrap()), "{}", r.text);
}

#[tokio::test]
async fn an_endorsement_in_its_window_is_a_new_signed_version_linked_to_the_old() {
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let keys = published_keys(&app).await;
    let v1 = app.permit_document(&tokens.access).await;
    let permit_no = v1["document"]["permit_no"].as_str().unwrap().to_owned();
    let due = days_ahead(10);
    app.set_permit_dates(&permit_no, Some(due.clone()), None)
        .await;
    let r = app.endorse(&tokens.access).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["kind"], "endorsement");
    let due_date = chrono::NaiveDate::parse_from_str(&due, "%Y-%m-%d").unwrap();
    assert_eq!(
        r.body["permit"]["next_endorsement_due"],
        service::domain::permit_rules::years_after(due_date, 1).to_string()
    );
    assert_eq!(r.body["permit"]["status"], "valid");
    let v2 = app.permit_document(&tokens.access).await;
    assert_eq!(v2["document"]["version"], 2);
    assert_eq!(
        v2["document"]["previous_licence_id"],
        v1["document"]["licence_id"]
    );
    assert_ne!(v2["document"]["licence_id"], v1["document"]["licence_id"]);
    assert_eq!(
        v2["document"]["continuous_since"],
        v1["document"]["continuous_since"]
    );
    // Both versions verify: the old copy still proves what held at its time.
    assert!(verifies(&keys, &v1));
    assert!(verifies(&keys, &v2));
}

#[tokio::test]
async fn a_missed_endorsement_suspends_the_permit_until_a_late_endorsement_restores_it() {
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let permit_no = app.permit_no(&tokens.access).await;
    app.set_permit_dates(&permit_no, Some(days_ago(5)), None)
        .await;
    assert_eq!(app.permit_status(&tokens.access).await, "suspended");
    app.post(
        "/api/v1/me/physical-card",
        &json!({"pickup_station": "天河派出所"}),
        Some(&tokens.access),
    )
    .await
    .assert_error(422, "PERMIT_NOT_VALID");
    let r = app.endorse(&tokens.access).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let today = app.clock().today();
    assert_eq!(r.body["permit"]["status"], "valid");
    assert_eq!(
        r.body["permit"]["continuous_since"],
        today.to_string(),
        "years count again from the late endorsement"
    );
    assert_eq!(
        r.body["permit"]["next_endorsement_due"],
        service::domain::permit_rules::years_after(today, 1).to_string()
    );
}

#[tokio::test]
async fn renewal_near_expiry_extends_the_validity_after_rechecking_the_data() {
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let permit_no = app.permit_no(&tokens.access).await;
    let until = days_ahead(12);
    app.set_permit_dates(&permit_no, Some(until.clone()), Some(until.clone()))
        .await;
    let r = app.endorse(&tokens.access).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["kind"], "renewal");
    let until = chrono::NaiveDate::parse_from_str(&until, "%Y-%m-%d").unwrap();
    assert_eq!(
        r.body["permit"]["valid_until"],
        service::domain::permit_rules::years_after(until, 3).to_string()
    );
    assert_eq!(r.body["permit"]["version"], 2);
}

#[tokio::test]
async fn an_endorsement_is_refused_when_the_data_no_longer_proves_the_conditions() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let permit_no = app.permit_no(&tokens.access).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(3)), None)
        .await;
    let blind = app
        .app
        .vault
        .blind_index(service::keys::privacy::Kind::IdNumber, CHEN_ID);
    entity::gov_employment::Entity::delete_many()
        .filter(entity::gov_employment::Column::IdNumberBlind.eq(blind))
        .exec(&app.app.db)
        .await
        .unwrap();
    let r = app.endorse(&tokens.access).await;
    r.assert_error(422, "CONDITIONS_NOT_MET");
    assert!(r.message().contains("就业证明"), "{}", r.text);
    assert_eq!(
        app.get("/api/v1/me/permit", Some(&tokens.access))
            .await
            .body["version"],
        1
    );
}

#[tokio::test]
async fn an_expired_permit_cannot_be_endorsed_and_its_holder_may_apply_again() {
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let permit_no = app.permit_no(&tokens.access).await;
    app.set_permit_dates(&permit_no, Some(days_ago(400)), Some(days_ago(1)))
        .await;
    assert_eq!(app.permit_status(&tokens.access).await, "expired");
    app.endorse(&tokens.access)
        .await
        .assert_error(422, "PERMIT_EXPIRED");
    let again = app.apply(&tokens.access, &chen_application(), None).await;
    assert_eq!(again.body["status"], "issued", "{}", again.text);
    assert_ne!(again.body["permit_no"], permit_no.as_str());
}

#[tokio::test]
async fn staff_revoke_a_permit_with_a_reason_and_the_holder_is_told() {
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let permit_no = app.permit_no(&tokens.access).await;
    let path = format!("/api/v1/staff/permits/{permit_no}/revoke");
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    app.post(&path, &json!({"reason": "x"}), Some(&reviewer))
        .await
        .assert_error(403, "FORBIDDEN");
    let admin = app.admin_token().await;
    app.post(&path, &json!({"reason": " "}), Some(&admin))
        .await
        .assert_error(422, "VALIDATION_FAILED");
    let r = app
        .post(&path, &json!({"reason": "以欺骗手段取得"}), Some(&admin))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.permit_status(&tokens.access).await, "revoked");
    assert_eq!(app.outbox_kinds().await, ["permit_revoked"]);
    app.post(&path, &json!({"reason": "again"}), Some(&admin))
        .await
        .assert_error(422, "PERMIT_REVOKED");
    app.post(
        "/api/v1/staff/permits/440100202699999/revoke",
        &json!({"reason": "x"}),
        Some(&admin),
    )
    .await
    .assert_error(404, "PERMIT_NOT_FOUND");
    app.endorse(&tokens.access)
        .await
        .assert_error(422, "PERMIT_REVOKED");
}

#[tokio::test]
async fn without_a_permit_the_permit_routes_answer_404() {
    let app = spawn_app().await;
    let tokens = app.login_dev("demo-li").await;
    for path in [
        "/api/v1/me/permit",
        "/api/v1/me/permit/document",
        "/api/v1/me/permit/photo",
        "/api/v1/me/physical-card",
    ] {
        let r = app.get(path, Some(&tokens.access)).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
    }
}

#[tokio::test]
async fn the_first_physical_card_is_free_and_moves_through_its_steps() {
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let r = app
        .post(
            "/api/v1/me/physical-card",
            &json!({"pickup_station": "天河派出所"}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["fee_cents"], 0);
    assert_eq!(r.body["status"], "paid");
    let order_id = r.body["id"].as_str().unwrap().to_owned();
    app.post(
        "/api/v1/me/physical-card",
        &json!({"pickup_station": "别处"}),
        Some(&tokens.access),
    )
    .await
    .assert_error(409, "CARD_ORDER_OPEN");
    let staff = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    let step = |to: &'static str| {
        let path = format!("/api/v1/staff/card-orders/{order_id}/status");
        let app = &app;
        let staff = staff.clone();
        async move { app.post(&path, &json!({"status": to}), Some(&staff)).await }
    };
    step("ready")
        .await
        .assert_error(409, "INVALID_STATUS_TRANSITION");
    step("teleported")
        .await
        .assert_error(422, "VALIDATION_FAILED");
    for to in ["produced", "ready", "collected"] {
        assert_eq!(step(to).await.body["status"], to);
    }
    assert_eq!(
        app.get("/api/v1/me/physical-card", Some(&tokens.access))
            .await
            .body["status"],
        "collected"
    );
    let replacement = app
        .post(
            "/api/v1/me/physical-card",
            &json!({"pickup_station": "天河派出所"}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(replacement.body["fee_cents"], 2000, "{}", replacement.text);
    assert_eq!(replacement.body["status"], "ordered");
    app.post(
        "/api/v1/me/physical-card",
        &json!({"pickup_station": ""}),
        Some(&tokens.access),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    app.post(
        "/api/v1/me/physical-card",
        &json!({"pickup_station": "别处"}),
        Some(&tokens.access),
    )
    .await
    .assert_error(409, "CARD_ORDER_OPEN");
}

#[tokio::test]
async fn the_database_holds_no_clear_address_or_permit_content_after_issuing() {
    let app = spawn_app().await;
    let _tokens = app.chen_with_permit().await;
    let dump = app.raw_database_dump().await;
    for secret in [CHEN_ID, CHEN_NAME, "天河路385号", "金砂路88号"] {
        assert!(!dump.contains(secret), "{secret} found in clear");
    }
}
