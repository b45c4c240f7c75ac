//! Agency access under the holder's consent, the annotated copy and the access log.

use serde_json::{Value, json};
use service::consent::annotated_copy::SignedCopy;
use service::keys::signing::PublishedKey;

use crate::helpers::*;

async fn published(app: &TestApp) -> Vec<PublishedKey> {
    serde_json::from_value(app.get("/api/v1/keys", None).await.body["keys"].clone()).unwrap()
}

async fn ask(app: &TestApp, agency: &AgencyClient, holder: &str, body: Value) -> Reply {
    let mut body = body;
    body["token"] = json!(app.code(holder).await);
    app.post(
        "/api/v1/agency/authorization-requests",
        &body,
        Some(&agency.token),
    )
    .await
}

fn copy_path(grant_id: &str) -> String {
    format!("/api/v1/agency/authorizations/{grant_id}/annotated-copy")
}

async fn social_security(app: &TestApp) -> AgencyClient {
    app.agency(
        11,
        "广州市天河区社会保险基金管理局",
        &["permit:verify", "permit:download"],
        &["name", "id_number", "residence_address", "valid_until"],
    )
    .await
}

/// Chen holds a permit; the agency asked and Chen approved. Answers the grant.
async fn approved_grant(app: &TestApp, chen: &Tokens, agency: &AgencyClient) -> Value {
    let r = ask(
        app,
        agency,
        &chen.access,
        json!({"purpose": "办理社保卡", "days": 30}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    let g = app.decide(&chen.access, id, "approve").await;
    assert_eq!(g.status, 201, "{}", g.text);
    g.body
}

#[tokio::test]
async fn the_whole_flow_from_code_to_refused_download_is_in_the_access_log_in_order() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = social_security(&app).await;

    // The resident shows a code; the agency verifies it.
    let code = app.code(&chen.access).await;
    let v = app.verify(&code, Some(&agency.token)).await;
    assert_eq!(v.body["valid"], true, "{}", v.text);

    // The agency asks; the holder is told and sees everything before deciding.
    let r = app
        .post(
            "/api/v1/agency/authorization-requests",
            &json!({"token": code, "purpose": "办理社保卡", "days": 30, "retention_days": 180,
                    "fields": ["name", "id_number", "residence_address"]}),
            Some(&agency.token),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["holder"], "陈*强");
    let request_id = r.body["id"].as_str().unwrap().to_owned();
    assert!(
        app.outbox_kinds()
            .await
            .contains(&"access_requested".to_owned())
    );

    let pending = app
        .get("/api/v1/me/authorization-requests", Some(&chen.access))
        .await;
    let req = &pending.body["items"][0];
    assert_eq!(req["id"], request_id.as_str());
    assert_eq!(req["agency"]["name"], "广州市天河区社会保险基金管理局");
    assert_eq!(req["agency"]["contact"], "020-87654321");
    assert_eq!(req["purpose"], "办理社保卡");
    assert_eq!(req["retention_days"], 180);
    assert_eq!(req["sensitive"], true);
    assert_eq!(req["fields"][1]["label"], "公民身份号码");
    let text = req["consent_text"].as_str().unwrap();
    for needle in [
        "办理社保卡",
        "公民身份号码",
        "敏感个人信息",
        "180日",
        "撤回",
        "020-87654321",
    ] {
        assert!(text.contains(needle), "consent text lacks {needle}: {text}");
    }
    let version = req["consent_version"].as_str().unwrap().to_owned();

    // The holder approves with the text version shown.
    let g = app
        .post(
            &format!("/api/v1/me/authorization-requests/{request_id}/approve"),
            &json!({"consent_version": version}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    assert_eq!(g.body["status"], "active");
    assert_eq!(g.body["max_downloads"], 3);
    assert_eq!(
        g.body["fields"],
        json!(["name", "id_number", "residence_address"])
    );
    let grant_id = g.body["id"].as_str().unwrap().to_owned();

    // The agency follows its request and downloads the copy.
    let followed = app
        .get(
            &format!("/api/v1/agency/authorization-requests/{request_id}"),
            Some(&agency.token),
        )
        .await;
    assert_eq!(followed.body["status"], "approved");
    assert_eq!(followed.body["authorization"]["id"], grant_id.as_str());
    let copy = app.get(&copy_path(&grant_id), Some(&agency.token)).await;
    assert_eq!(copy.status, 200, "{}", copy.text);
    let signed: SignedCopy = serde_json::from_value(copy.body.clone()).unwrap();
    let keys = published(&app).await;
    assert!(service::consent::annotated_copy::verify(&keys, &signed));
    assert_eq!(signed.copy["permit"]["name"], CHEN_NAME);
    assert_eq!(signed.copy["permit"]["id_number"], CHEN_ID);
    assert!(signed.copy["permit"].get("hukou_address").is_none());
    assert_eq!(signed.copy["annotation"]["purpose"], "办理社保卡");
    assert_eq!(
        signed.copy["annotation"]["authorization_id"],
        grant_id.as_str()
    );
    let annotation = signed.copy["annotation"]["text"].as_str().unwrap();
    assert!(
        annotation.starts_with("仅供广州市天河区社会保险基金管理局用于办理社保卡，"),
        "{annotation}"
    );
    assert!(annotation.ends_with("前有效"));

    // Any change to the copy breaks its signature.
    let mut forged = signed.clone();
    forged.copy["permit"]["residence_address"] = json!("广州市越秀区某路1号");
    assert!(!service::consent::annotated_copy::verify(&keys, &forged));

    // The rendered copy carries the annotation across it.
    let svg = app
        .client
        .get(app.url(&format!("{}?format=svg", copy_path(&grant_id))))
        .bearer_auth(&agency.token)
        .send()
        .await
        .unwrap();
    assert!(
        svg.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    let svg = svg.text().await.unwrap();
    assert!(svg.contains("仅供广州市天河区社会保险基金管理局用于办理社保卡"));

    // The holder revokes; the next download is refused at once.
    let revoked = app
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/me/authorizations/{grant_id}"),
            &json!({}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert_eq!(revoked.body["status"], "revoked");
    app.get(&copy_path(&grant_id), Some(&agency.token))
        .await
        .assert_error(403, "AUTHORIZATION_REVOKED");
    let followed = app
        .get(
            &format!("/api/v1/agency/authorization-requests/{request_id}"),
            Some(&agency.token),
        )
        .await;
    assert_eq!(followed.body["authorization"]["status"], "revoked");

    // Everything, in order, in a chain that checks.
    let log = app.get("/api/v1/me/access-log", Some(&chen.access)).await;
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "verify", "request", "approve", "download", "download", "revoke"
        ]
    );
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items[1]["actor_name"], "广州市天河区社会保险基金管理局");
    assert_eq!(items[1]["purpose"], "办理社保卡");
    assert_eq!(items[2]["actor_kind"], "holder");
    assert_eq!(items[2]["detail"]["consent_version"], version.as_str());
    for pair in items.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
    }
    let check = app
        .get("/api/v1/me/access-log/check", Some(&chen.access))
        .await;
    assert_eq!(check.body["intact"], true, "{}", check.text);
    assert_eq!(check.body["entries"], 6);
    assert_eq!(check.body["head"], items[5]["hash"]);
}

#[tokio::test]
async fn a_removed_or_changed_log_entry_is_detected() {
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = social_security(&app).await;
    approved_grant(&app, &chen, &agency).await;
    let entries = entity::access_log_entry::Entity::find()
        .all(&app.app.db)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);

    let first = entries.iter().find(|e| e.seq == 1).unwrap().clone();
    let mut changed: entity::access_log_entry::ActiveModel = first.clone().into();
    changed.purpose = Set(Some("别的用途".into()));
    changed.update(&app.app.db).await.unwrap();
    let check = app
        .get("/api/v1/me/access-log/check", Some(&chen.access))
        .await;
    assert_eq!(check.body["intact"], false);
    assert_eq!(check.body["broken_at"], 1);

    let mut restored: entity::access_log_entry::ActiveModel = first.into();
    restored.purpose = Set(Some("办理社保卡".into()));
    restored.update(&app.app.db).await.unwrap();
    assert_eq!(
        app.get("/api/v1/me/access-log/check", Some(&chen.access))
            .await
            .body["intact"],
        true
    );

    entity::access_log_entry::Entity::delete_many()
        .filter(entity::access_log_entry::Column::Seq.eq(1))
        .exec(&app.app.db)
        .await
        .unwrap();
    let check = app
        .get("/api/v1/me/access-log/check", Some(&chen.access))
        .await;
    assert_eq!(check.body["intact"], false, "{}", check.text);
}

#[tokio::test]
async fn a_holder_cannot_see_or_decide_another_holders_request() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = social_security(&app).await;
    let r = ask(
        &app,
        &agency,
        &chen.access,
        json!({"purpose": "办理社保卡", "days": 30}),
    )
    .await;
    let id = r.body["id"].as_str().unwrap();
    let li = app.login_dev("demo-li").await;
    let other = app
        .get("/api/v1/me/authorization-requests", Some(&li.access))
        .await;
    assert_eq!(other.body["items"], json!([]));
    for action in ["approve", "deny"] {
        app.post(
            &format!("/api/v1/me/authorization-requests/{id}/{action}"),
            &json!({}),
            Some(&li.access),
        )
        .await
        .assert_error(404, "AUTHORIZATION_REQUEST_NOT_FOUND");
    }
    // Still pending for its holder.
    let mine = app
        .get("/api/v1/me/authorization-requests", Some(&chen.access))
        .await;
    assert_eq!(mine.body["items"][0]["status"], "pending");
}

#[tokio::test]
async fn an_agency_cannot_use_or_follow_another_agencys_grant() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = social_security(&app).await;
    let grant = approved_grant(&app, &chen, &agency).await;
    let other = app
        .agency(
            12,
            "佛山市南海区教育局",
            &["permit:verify", "permit:download"],
            &ALL_FIELDS,
        )
        .await;
    app.get(
        &copy_path(grant["id"].as_str().unwrap()),
        Some(&other.token),
    )
    .await
    .assert_error(404, "AUTHORIZATION_NOT_FOUND");
    app.get(
        &format!(
            "/api/v1/agency/authorization-requests/{}",
            grant["request_id"].as_str().unwrap()
        ),
        Some(&other.token),
    )
    .await
    .assert_error(404, "AUTHORIZATION_REQUEST_NOT_FOUND");
    // And the holder's grant cannot be revoked by another holder.
    let li = app.login_dev("demo-li").await;
    app.send_json(
        reqwest::Method::DELETE,
        &format!(
            "/api/v1/me/authorizations/{}",
            grant["id"].as_str().unwrap()
        ),
        &json!({}),
        Some(&li.access),
    )
    .await
    .assert_error(404, "AUTHORIZATION_NOT_FOUND");
}

#[tokio::test]
async fn scopes_and_fields_beyond_the_registration_are_refused() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let verify_only = app
        .agency(13, "某核验点", &["permit:verify"], &["name"])
        .await;
    ask(
        &app,
        &verify_only,
        &chen.access,
        json!({"purpose": "核验", "days": 1}),
    )
    .await
    .assert_error(403, "SCOPE_NOT_ALLOWED");
    let agency = social_security(&app).await;
    ask(
        &app,
        &agency,
        &chen.access,
        json!({"purpose": "办理社保卡", "days": 30, "fields": ["photo"]}),
    )
    .await
    .assert_error(403, "FIELD_NOT_ALLOWED");
    for (body, code) in [
        (json!({"purpose": "", "days": 30}), "VALIDATION_FAILED"),
        (
            json!({"purpose": "办理社保卡", "days": 0}),
            "VALIDATION_FAILED",
        ),
        (
            json!({"purpose": "办理社保卡", "days": 91}),
            "VALIDATION_FAILED",
        ),
        (
            json!({"purpose": "x".repeat(101), "days": 3}),
            "VALIDATION_FAILED",
        ),
    ] {
        ask(&app, &agency, &chen.access, body)
            .await
            .assert_error(422, code);
    }
    // A grant from a verify-only token cannot download either.
    let grant = approved_grant(&app, &chen, &agency).await;
    let narrowed = reply(
        app.client
            .post(app.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", agency.client_id.as_str()),
                ("client_secret", agency.secret.as_str()),
                ("scope", "permit:verify"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let narrowed = narrowed.body["access_token"].as_str().unwrap();
    app.get(&copy_path(grant["id"].as_str().unwrap()), Some(narrowed))
        .await
        .assert_error(403, "SCOPE_NOT_ALLOWED");
}

#[tokio::test]
async fn a_request_needs_a_genuine_current_code_of_a_permit_in_force() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = social_security(&app).await;
    let r = app
        .post(
            "/api/v1/agency/authorization-requests",
            &json!({"token": "YJ1AAAA", "purpose": "办理社保卡", "days": 30}),
            Some(&agency.token),
        )
        .await;
    r.assert_error(422, "CODE_INVALID");
    let permit_no = app.permit_no(&chen.access).await;
    app.set_permit_dates(&permit_no, Some(days_ago(1)), None)
        .await;
    let r = ask(
        &app,
        &agency,
        &chen.access,
        json!({"purpose": "办理社保卡", "days": 30}),
    )
    .await;
    r.assert_error(422, "CODE_INVALID");
    assert!(r.message().contains("签注"), "{}", r.text);
}

#[tokio::test]
async fn a_request_is_decided_once_and_a_denied_one_gives_no_grant() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = social_security(&app).await;
    let r = ask(
        &app,
        &agency,
        &chen.access,
        json!({"purpose": "办理社保卡", "days": 30}),
    )
    .await;
    let id = r.body["id"].as_str().unwrap();
    let denied = app.decide(&chen.access, id, "deny").await;
    assert_eq!(denied.status, 200, "{}", denied.text);
    assert_eq!(denied.body["status"], "denied");
    app.decide(&chen.access, id, "approve")
        .await
        .assert_error(409, "REQUEST_ALREADY_DECIDED");
    let grants = app
        .get("/api/v1/me/authorizations", Some(&chen.access))
        .await;
    assert_eq!(grants.body["items"], json!([]));
    let followed = app
        .get(
            &format!("/api/v1/agency/authorization-requests/{id}"),
            Some(&agency.token),
        )
        .await;
    assert_eq!(followed.body["status"], "denied");
    assert!(followed.body.get("authorization").is_none());

    // Approving with a consent text version other than the one shown is refused.
    let r = ask(
        &app,
        &agency,
        &chen.access,
        json!({"purpose": "办理社保卡", "days": 30}),
    )
    .await;
    let id = r.body["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/me/authorization-requests/{id}/approve"),
        &json!({"consent_version": "1999-01-v0"}),
        Some(&chen.access),
    )
    .await
    .assert_error(409, "CONSENT_TEXT_CHANGED");
}

#[tokio::test]
async fn downloads_stop_at_the_limit_and_at_expiry() {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let app = spawn_app_with(&[("YUEJU_GRANT_MAX_DOWNLOADS", "1")]).await;
    let chen = app.chen_with_permit().await;
    let agency = social_security(&app).await;
    let grant = approved_grant(&app, &chen, &agency).await;
    let id = grant["id"].as_str().unwrap();
    assert_eq!(
        app.get(&copy_path(id), Some(&agency.token)).await.status,
        200
    );
    app.get(&copy_path(id), Some(&agency.token))
        .await
        .assert_error(403, "DOWNLOAD_LIMIT_REACHED");

    let grant = approved_grant(&app, &chen, &agency).await;
    let id: uuid::Uuid = grant["id"].as_str().unwrap().parse().unwrap();
    let row = entity::authorization::Entity::find_by_id(id)
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: entity::authorization::ActiveModel = row.into();
    row.expires_at = Set(chrono::Utc::now() - chrono::Duration::seconds(1));
    row.update(&app.app.db).await.unwrap();
    app.get(&copy_path(&id.to_string()), Some(&agency.token))
        .await
        .assert_error(403, "AUTHORIZATION_EXPIRED");
    let grants = app
        .get("/api/v1/me/authorizations", Some(&chen.access))
        .await;
    let statuses: Vec<&str> = grants.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["expired", "exhausted"]);
}

#[tokio::test]
async fn fields_outside_the_grant_are_left_out_or_masked_in_the_copy() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = social_security(&app).await;
    let r = ask(
        &app,
        &agency,
        &chen.access,
        json!({"purpose": "核对居住地", "days": 7, "fields": ["residence_address"]}),
    )
    .await;
    assert_eq!(r.body["fields"], json!(["residence_address"]));
    let id = r.body["id"].as_str().unwrap();
    let g = app.decide(&chen.access, id, "approve").await;
    let copy = app
        .get(
            &copy_path(g.body["id"].as_str().unwrap()),
            Some(&agency.token),
        )
        .await;
    let permit = &copy.body["copy"]["permit"];
    assert_eq!(permit["name"], "陈*强");
    assert_eq!(permit["id_number"], "4405**********1234");
    assert_eq!(permit["residence_address"], "广州市天河区天河路385号501房");
    assert!(permit.get("gender").is_none());
    assert!(!copy.text.contains(CHEN_ID));
}

#[tokio::test]
async fn a_repeated_request_with_the_same_idempotency_key_is_answered_once() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = social_security(&app).await;
    let code = app.code(&chen.access).await;
    let send = |purpose: &'static str| {
        let body = json!({"token": code, "purpose": purpose, "days": 30});
        let req = app
            .client
            .post(app.url("/api/v1/agency/authorization-requests"))
            .bearer_auth(&agency.token)
            .header("Idempotency-Key", "scan-0001")
            .json(&body);
        async move { reply(req.send().await.unwrap()).await }
    };
    let first = send("办理社保卡").await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = send("办理社保卡").await;
    assert_eq!(again.body["id"], first.body["id"]);
    send("别的用途")
        .await
        .assert_error(422, "IDEMPOTENCY_KEY_REUSED");
    let mine = app
        .get("/api/v1/me/authorization-requests", Some(&chen.access))
        .await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
}
