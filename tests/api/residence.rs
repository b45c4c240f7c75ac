//! Residence years (`GET /me/residence-years`) and residence proofs (`POST
//! /me/residence-proofs`, `POST /verify/residence-proof`, `yueju verify`): the count from the
//! permit history, a late endorsement restarting it, and proofs that say yes or no and nothing
//! else, refused when forged, tampered with or expired.

use base64::Engine as _;
use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

use crate::helpers::*;

fn date(v: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(v.as_str().unwrap(), "%Y-%m-%d").unwrap()
}

async fn years(app: &TestApp, token: &str, as_of: Option<&str>) -> Value {
    let path = match as_of {
        Some(day) => format!("/api/v1/me/residence-years?as_of={day}"),
        None => "/api/v1/me/residence-years".to_owned(),
    };
    let r = app.get(&path, Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn prove(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/api/v1/me/residence-proofs", &body, Some(token))
        .await
}

async fn check(app: &TestApp, body: &Value, agency: Option<&str>) -> Value {
    let r = app
        .post("/api/v1/verify/residence-proof", body, agency)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// The proof as handed out: statement, kid and signature.
fn proof_of(issued: &Value) -> Value {
    json!({
        "statement": issued["statement"],
        "alg": issued["alg"],
        "kid": issued["kid"],
        "signature": issued["signature"],
    })
}

#[tokio::test]
async fn a_holder_sees_one_running_count_from_the_registration_in_their_city() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let since =
        date(&app.get("/api/v1/me/permit", Some(&chen.access)).await.body["continuous_since"]);
    let today = app.clock().today();
    let body = years(&app, &chen.access, None).await;
    assert_eq!(body["as_of"], today.to_string());
    assert_eq!(
        body["periods"],
        json!([{"city": "广州市", "from": since.to_string(), "to": null, "ended_by": null}])
    );
    let counted = body["continuous"][0]["years"].as_u64().unwrap();
    assert_eq!(
        counted,
        u64::from(service::domain::residence_years::whole_years(since, today))
    );
    assert_eq!(body["continuous"][0]["since"], since.to_string());
}

#[tokio::test]
async fn a_late_endorsement_restarts_the_count_on_the_day_it_is_made() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let permit = app.get("/api/v1/me/permit", Some(&chen.access)).await.body;
    let since = date(&permit["continuous_since"]);
    let due = date(&permit["next_endorsement_due"]);
    // One day late.
    let late = due + Duration::days(1);
    app.set_today(late);
    let suspended = years(&app, &chen.access, None).await;
    assert_eq!(
        suspended["continuous"],
        json!([]),
        "no count while suspended"
    );
    let r = app.endorse(&chen.access).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let body = years(&app, &chen.access, None).await;
    assert_eq!(
        body["periods"],
        json!([
            {"city": "广州市", "from": since.to_string(), "to": due.to_string(), "ended_by": "late_endorsement"},
            {"city": "广州市", "from": late.to_string(), "to": null, "ended_by": null},
        ])
    );
    assert_eq!(
        body["continuous"],
        json!([{"city": "广州市", "since": late.to_string(), "years": 0}])
    );
    // Asked as of the day before the due date, the old count still stands.
    let before = years(
        &app,
        &chen.access,
        Some(&(due - Duration::days(1)).to_string()),
    )
    .await;
    assert_eq!(before["continuous"][0]["since"], since.to_string());
}

#[tokio::test]
async fn a_count_asked_for_a_day_to_come_or_without_identity_is_refused() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let tomorrow = app.clock().today() + Duration::days(1);
    app.get(
        &format!("/api/v1/me/residence-years?as_of={tomorrow}"),
        Some(&chen.access),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    let r = app
        .get(
            "/api/v1/me/residence-years?as_of=2024-02-30",
            Some(&chen.access),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let stranger = app.login_dev("someone-unbound").await;
    let r = app
        .get("/api/v1/me/residence-years", Some(&stranger.access))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app.get("/api/v1/me/residence-years", None).await;
    assert_eq!(r.status, 401, "{}", r.text);
}

#[tokio::test]
async fn a_proof_says_yes_or_no_and_nothing_else_of_the_history() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let count = years(&app, &chen.access, None).await["continuous"][0]["years"]
        .as_u64()
        .unwrap();
    let yes = prove(
        &app,
        &chen.access,
        json!({"city": "广州", "min_years": count}),
    )
    .await;
    assert_eq!(yes.status, 201, "{}", yes.text);
    let statement = &yes.body["statement"];
    assert_eq!(statement["holds"], true);
    assert_eq!(statement["city"], "广州市");
    assert_eq!(statement["min_years"], count);
    assert_eq!(statement["as_of"], app.clock().today().to_string());
    let mut keys: Vec<&str> = statement
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "as_of",
            "city",
            "expires_at",
            "holds",
            "issued_at",
            "min_years",
            "name",
            "permit_no",
            "proof_id"
        ]
    );
    assert!(
        statement["name"].as_str().unwrap().contains('*'),
        "name masked"
    );
    assert!(yes.body["qr_svg"].as_str().unwrap().starts_with("<svg"));
    assert!(yes.body["token"].as_str().unwrap().starts_with("YJRP1."));

    let no = prove(
        &app,
        &chen.access,
        json!({"city": "广州市", "min_years": count + 1}),
    )
    .await;
    assert_eq!(no.body["statement"]["holds"], false);
    let elsewhere = prove(
        &app,
        &chen.access,
        json!({"city": "佛山市", "min_years": 1}),
    )
    .await;
    assert_eq!(elsewhere.body["statement"]["holds"], false);

    for proof in [proof_of(&yes.body), json!({"token": yes.body["token"]})] {
        let answer = check(&app, &proof, None).await;
        assert_eq!(answer["valid"], true, "{answer}");
        assert_eq!(answer["statement"], yes.body["statement"]);
    }
}

#[tokio::test]
async fn tampered_forged_expired_and_malformed_proofs_do_not_check() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let issued = prove(
        &app,
        &chen.access,
        json!({"city": "广州市", "min_years": 10}),
    )
    .await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    assert_eq!(issued.body["statement"]["holds"], false);

    // Tampered: the "no" turned into a "yes".
    let mut tampered = proof_of(&issued.body);
    tampered["statement"]["holds"] = json!(true);
    let answer = check(&app, &tampered, None).await;
    assert_eq!(answer, json!({"valid": false, "reason": "BAD_SIGNATURE"}));

    // Forged: the same statement signed by a key that is not the authority's.
    let forger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let mut forged = proof_of(&issued.body);
    forged["statement"]["holds"] = json!(true);
    let message = service::keys::signing::signed_message(
        service::residence::proofs::SIGNATURE_PURPOSE,
        &forged["statement"],
    );
    use ed25519_dalek::Signer as _;
    forged["signature"] =
        json!(base64::engine::general_purpose::STANDARD.encode(forger.sign(&message).to_bytes()));
    let answer = check(&app, &forged, None).await;
    assert_eq!(answer["reason"], "BAD_SIGNATURE");
    forged["kid"] = json!(service::keys::signing::key_id(&forger.verifying_key()));
    let answer = check(&app, &forged, None).await;
    assert_eq!(answer["reason"], "UNKNOWN_KEY");

    for body in [
        json!({}),
        json!({"token": "YJRP1.bm90LWpzb24"}),
        json!({"token": 5}),
        json!([1]),
    ] {
        let answer = check(&app, &body, None).await;
        assert_eq!(
            answer,
            json!({"valid": false, "reason": "MALFORMED"}),
            "{body}"
        );
    }

    // Expired: past its validity (30 days by default).
    app.clock().advance(Duration::days(31));
    let answer = check(&app, &proof_of(&issued.body), None).await;
    assert_eq!(answer["reason"], "PROOF_EXPIRED");
}

#[tokio::test]
async fn bad_proof_requests_get_clear_errors() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let tomorrow = (app.clock().today() + Duration::days(1)).to_string();
    for (body, status, code) in [
        (
            json!({"city": "广州市", "min_years": 0}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"city": "广州市", "min_years": 101}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"city": "广州市", "min_years": -3}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"city": "广州市", "min_years": 1, "as_of": tomorrow}),
            422,
            "VALIDATION_FAILED",
        ),
        (json!({"city": "纽约", "min_years": 1}), 422, "UNKNOWN_CITY"),
    ] {
        prove(&app, &chen.access, body)
            .await
            .assert_error(status, code);
    }
    let r = prove(
        &app,
        &chen.access,
        json!({"city": "广州市", "min_years": 101}),
    )
    .await;
    assert_eq!(r.message(), "居住年限不在允许的范围内");
    let r = prove(&app, &chen.access, json!({"city": "广州市"})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let unbound = app.login_dev("nobody-here").await;
    let r = prove(
        &app,
        &unbound.access,
        json!({"city": "广州市", "min_years": 1}),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

async fn access_log(app: &TestApp, token: &str) -> Value {
    app.get("/api/v1/me/access-log", Some(token)).await.body["items"].clone()
}

#[tokio::test]
async fn an_agency_checking_a_proof_is_in_the_holders_access_log_and_anyone_else_is_not() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = app
        .agency(1, "广州市测试学校", &["permit:verify"], &["name"])
        .await;
    let issued = prove(
        &app,
        &chen.access,
        json!({"city": "广州市", "min_years": 1}),
    )
    .await;
    let before = access_log(&app, &chen.access)
        .await
        .as_array()
        .unwrap()
        .len();
    check(&app, &proof_of(&issued.body), None).await;
    assert_eq!(
        access_log(&app, &chen.access)
            .await
            .as_array()
            .unwrap()
            .len(),
        before
    );
    let answer = check(&app, &proof_of(&issued.body), Some(&agency.token)).await;
    assert_eq!(answer["valid"], true);
    let items = access_log(&app, &chen.access).await;
    let entry = items
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "proof_check")
        .unwrap_or_else(|| panic!("no proof_check entry: {items}"));
    assert_eq!(entry["actor_name"], "广州市测试学校");
    assert_eq!(
        entry["detail"]["proof_id"],
        issued.body["statement"]["proof_id"]
    );
}

#[tokio::test]
async fn the_offline_verifier_checks_a_proof_with_the_published_keys() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let issued = prove(
        &app,
        &chen.access,
        json!({"city": "广州市", "min_years": 1}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, app.get("/api/v1/keys", None).await.text).unwrap();
    let run = |token: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_yueju"))
            .args(["verify", token, "--keys", keys.to_str().unwrap()])
            .env("YUEJU_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let out = run(issued.body["token"].as_str().unwrap());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed["statement"]["holds"],
        issued.body["statement"]["holds"]
    );

    // The token with its statement altered no longer checks.
    let mut tampered = proof_of(&issued.body);
    tampered["statement"]["min_years"] = json!(9);
    let token = format!(
        "YJRP1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&tampered).unwrap())
    );
    let out = run(&token);
    assert_eq!(out.status.code(), Some(1));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["reason"], "BAD_SIGNATURE");
}

#[tokio::test]
async fn the_bot_answers_how_many_years_in_the_city_asked_about() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let body = years(&app, &chen.access, None).await;
    let count = body["continuous"][0]["years"].as_u64().unwrap();
    let chat = app.chat();
    let user = "chen-years";
    // Not linked: nothing of anyone's is shown.
    let unlinked = app
        .say(&chat, user, "我在广州住满几年了？")
        .await
        .join("\n");
    assert!(!unlinked.contains("连续居住"), "{unlinked}");
    app.say(&chat, user, "绑定 dev:demo-chen").await;
    let answer = app
        .say(&chat, user, "我在广州住满几年了？")
        .await
        .join("\n");
    assert!(answer.contains("广州市"), "{answer}");
    assert!(answer.contains(&format!("已满 {count} 年")), "{answer}");
    let elsewhere = app.say(&chat, user, "我在佛山住了几年").await.join("\n");
    assert!(
        elsewhere.contains("在佛山市没有正在连续计算的居住年限"),
        "{elsewhere}"
    );
}
