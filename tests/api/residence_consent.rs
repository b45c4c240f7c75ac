//! Residence proofs asked through the consent flow (scope `residence:proof`): the agency asks
//! for a yes-or-no statement instead of the copy, the holder sees what is asked and decides,
//! and each proof made for the agency counts against the grant and is in the access log.

use serde_json::{Value, json};

use crate::helpers::*;

fn proof_path(grant_id: &str) -> String {
    format!("/api/v1/agency/authorizations/{grant_id}/residence-proof")
}

fn copy_path(grant_id: &str) -> String {
    format!("/api/v1/agency/authorizations/{grant_id}/annotated-copy")
}

/// A school that may ask for residence proofs (and, for the copy tests, download copies).
async fn school(app: &TestApp, n: u32, scopes: &[&str]) -> AgencyClient {
    app.agency(n, "广州市天河区教育局", scopes, &["name"]).await
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

/// A date in the past whatever the day the tests run.
const AS_OF: &str = "2020-09-01";

fn proof_body(min_years: u32) -> Value {
    json!({"purpose": "积分入学审核", "days": 30,
           "residence_proof": {"city": "广州", "min_years": min_years, "as_of": AS_OF}})
}

/// The holder approves a proof request of `agency`; answers the grant's id.
async fn proof_grant(app: &TestApp, holder: &str, agency: &AgencyClient) -> String {
    let r = ask(app, agency, holder, proof_body(1)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let g = app
        .decide(holder, r.body["id"].as_str().unwrap(), "approve")
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    g.body["id"].as_str().unwrap().to_owned()
}

async fn revoke(app: &TestApp, holder: &str, grant_id: &str) {
    let r = app
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/me/authorizations/{grant_id}"),
            &json!({}),
            Some(holder),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn an_agency_asks_for_a_proof_the_holder_approves_and_gets_the_statement_the_holder_would() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = school(&app, 31, &["residence:proof"]).await;

    let r = ask(&app, &agency, &chen.access, proof_body(1)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["fields"],
        json!([]),
        "a proof asks for no permit field"
    );
    assert_eq!(r.body["residence_proof"]["city"], "广州市");
    let request_id = r.body["id"].as_str().unwrap().to_owned();

    // The holder sees what is asked: the city, the years, the date, and no field.
    let mine = app
        .get("/api/v1/me/authorization-requests", Some(&chen.access))
        .await;
    let req = &mine.body["items"][0];
    assert_eq!(req["id"], request_id.as_str());
    assert_eq!(req["fields"], json!([]));
    assert_eq!(req["sensitive"], false);
    assert_eq!(
        req["residence_proof"],
        json!({"city": "广州市", "min_years": 1, "as_of": AS_OF,
               "text": format!("是否在广州市连续居住满1年（截至{AS_OF}）")})
    );
    let text = req["consent_text"].as_str().unwrap();
    for needle in [
        "居住年限证明",
        "广州市连续居住满1年",
        AS_OF,
        "积分入学审核",
        "撤回",
    ] {
        assert!(text.contains(needle), "consent text lacks {needle}: {text}");
    }
    assert!(text.contains("不含敏感个人信息"), "{text}");
    assert!(!text.contains("最多下载"), "the copy's wording: {text}");

    let g = app.decide(&chen.access, &request_id, "approve").await;
    assert_eq!(g.status, 201, "{}", g.text);
    assert_eq!(g.body["residence_proof"]["min_years"], 1);
    let grant_id = g.body["id"].as_str().unwrap().to_owned();

    // The agency's proof says what the holder's own proof says, signed and checkable.
    let got = app.get(&proof_path(&grant_id), Some(&agency.token)).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let own = app
        .post(
            "/api/v1/me/residence-proofs",
            &json!({"city": "广州市", "min_years": 1, "as_of": AS_OF}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(own.status, 201, "{}", own.text);
    let statement = &got.body["statement"];
    for key in ["holds", "city", "min_years", "as_of", "permit_no", "name"] {
        assert_eq!(statement[key], own.body["statement"][key], "{key}");
    }
    assert_eq!(statement["as_of"], AS_OF);
    assert!(got.body["token"].as_str().unwrap().starts_with("YJRP1."));
    assert!(got.body["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(
        got.body.get("periods").is_none() && statement.get("years").is_none(),
        "nothing of the history: {}",
        got.text
    );
    let checked = app
        .post(
            "/api/v1/verify/residence-proof",
            &json!({"token": got.body["token"]}),
            None,
        )
        .await;
    assert_eq!(checked.body["valid"], true, "{}", checked.text);

    // Counted like a download.
    let grants = app
        .get("/api/v1/me/authorizations", Some(&chen.access))
        .await;
    assert_eq!(grants.body["items"][0]["downloads"], 1);

    // In the holder's access log: who, the proof and what it stated.
    let log = app.get("/api/v1/me/access-log", Some(&chen.access)).await;
    let entry = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "residence_proof")
        .cloned()
        .unwrap_or_else(|| panic!("no residence_proof entry: {}", log.text));
    assert_eq!(entry["actor_name"], "广州市天河区教育局");
    assert_eq!(entry["purpose"], "积分入学审核");
    assert_eq!(entry["detail"]["proof_id"], statement["proof_id"]);
    assert_eq!(entry["detail"]["authorization_id"], grant_id.as_str());
    assert_eq!(entry["detail"]["city"], "广州市");
    assert_eq!(entry["detail"]["min_years"], 1);
    assert_eq!(entry["detail"]["as_of"], AS_OF);
    assert_eq!(entry["detail"]["holds"], statement["holds"]);
    let chain = app
        .get("/api/v1/me/access-log/check", Some(&chen.access))
        .await;
    assert_eq!(chain.body["intact"], true, "{}", chain.text);
}

#[tokio::test]
async fn an_agency_without_the_proof_scope_cannot_ask_for_a_proof() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = school(&app, 32, &["permit:verify", "permit:download"]).await;
    ask(&app, &agency, &chen.access, proof_body(1))
        .await
        .assert_error(403, "SCOPE_NOT_ALLOWED");
    let mine = app
        .get("/api/v1/me/authorization-requests", Some(&chen.access))
        .await;
    assert_eq!(mine.body["items"], json!([]), "nothing reached the holder");
}

#[tokio::test]
async fn a_proof_request_asks_for_no_permit_field_and_a_known_city() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = school(&app, 33, &["residence:proof"]).await;
    let mut with_fields = proof_body(1);
    with_fields["fields"] = json!(["name"]);
    ask(&app, &agency, &chen.access, with_fields)
        .await
        .assert_error(422, "VALIDATION_FAILED");
    ask(
        &app,
        &agency,
        &chen.access,
        json!({"purpose": "积分入学审核", "days": 30,
               "residence_proof": {"city": "东京", "min_years": 1}}),
    )
    .await
    .assert_error(422, "UNKNOWN_CITY");
}

#[tokio::test]
async fn a_denied_request_gives_no_proof() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = school(&app, 34, &["residence:proof"]).await;
    let r = ask(&app, &agency, &chen.access, proof_body(1)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    let d = app.decide(&chen.access, id, "deny").await;
    assert_eq!(d.status, 200, "{}", d.text);
    let followed = app
        .get(
            &format!("/api/v1/agency/authorization-requests/{id}"),
            Some(&agency.token),
        )
        .await;
    assert_eq!(followed.body["status"], "denied");
    assert!(
        followed.body.get("authorization").is_none(),
        "{}",
        followed.text
    );
    let log = app.get("/api/v1/me/access-log", Some(&chen.access)).await;
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["request", "deny"], "no proof made: {}", log.text);
}

#[tokio::test]
async fn a_revoked_proof_grant_is_refused_at_once() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = school(&app, 35, &["residence:proof"]).await;
    let grant_id = proof_grant(&app, &chen.access, &agency).await;
    let first = app.get(&proof_path(&grant_id), Some(&agency.token)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    revoke(&app, &chen.access, &grant_id).await;
    app.get(&proof_path(&grant_id), Some(&agency.token))
        .await
        .assert_error(403, "AUTHORIZATION_REVOKED");
}

#[tokio::test]
async fn a_proof_grant_runs_out_like_downloads_and_expires() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = school(&app, 36, &["residence:proof"]).await;
    let grant_id = proof_grant(&app, &chen.access, &agency).await;
    for _ in 0..3 {
        let r = app.get(&proof_path(&grant_id), Some(&agency.token)).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    app.get(&proof_path(&grant_id), Some(&agency.token))
        .await
        .assert_error(403, "DOWNLOAD_LIMIT_REACHED");

    let other = proof_grant(&app, &chen.access, &agency).await;
    app.set_today(app.clock().today() + chrono::Duration::days(31));
    app.get(&proof_path(&other), Some(&agency.token))
        .await
        .assert_error(403, "AUTHORIZATION_EXPIRED");
}

#[tokio::test]
async fn a_proof_grant_does_not_download_the_copy_nor_a_copy_grant_give_a_proof() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = school(
        &app,
        37,
        &["permit:verify", "permit:download", "residence:proof"],
    )
    .await;
    let proof_grant_id = proof_grant(&app, &chen.access, &agency).await;
    app.get(&copy_path(&proof_grant_id), Some(&agency.token))
        .await
        .assert_error(403, "AUTHORIZATION_NOT_FOR_COPY");

    let r = ask(
        &app,
        &agency,
        &chen.access,
        json!({"purpose": "入学登记", "days": 30}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let g = app
        .decide(&chen.access, r.body["id"].as_str().unwrap(), "approve")
        .await;
    let copy_grant_id = g.body["id"].as_str().unwrap();
    assert_eq!(g.body["residence_proof"], Value::Null);
    app.get(&proof_path(copy_grant_id), Some(&agency.token))
        .await
        .assert_error(403, "AUTHORIZATION_NOT_FOR_PROOF");

    // Neither refusal spent anything.
    let grants = app
        .get("/api/v1/me/authorizations", Some(&chen.access))
        .await;
    for g in grants.body["items"].as_array().unwrap() {
        assert_eq!(g["downloads"], 0, "{g}");
    }
}

#[tokio::test]
async fn another_agencys_proof_grant_is_not_found() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = school(&app, 38, &["residence:proof"]).await;
    let other = app
        .agency(39, "佛山市南海区教育局", &["residence:proof"], &[])
        .await;
    let grant_id = proof_grant(&app, &chen.access, &agency).await;
    app.get(&proof_path(&grant_id), Some(&other.token))
        .await
        .assert_error(404, "AUTHORIZATION_NOT_FOUND");
}
