//! The signer port's HTTP adapter against a fake seal server (tests/api/fake_signer.rs): the
//! private keys live there, the service sends SM2 digests (`e = SM3(Z ‖ M)`) or Ed25519
//! messages and checks every answer; a slow, failing or lying signer is a clear 503 that
//! leaves nothing half-issued.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;
use service::keys::signing::Alg;
use std::time::Duration;

use crate::fake_signer::{FakeSigner, SignerFault};
use crate::helpers::*;

/// A server whose keys are held by the fake signer, signing with `alg`.
async fn app_with_signer(alg: &str) -> (TestApp, FakeSigner, tempfile::TempDir) {
    let signer = FakeSigner::start().await;
    let dir = tempfile::tempdir().unwrap();
    let files = signer.public_key_files(dir.path());
    let app = spawn_app_with(&[
        ("YUEJU_SIGNER_URL", &signer.base),
        ("YUEJU_SIGNER_KEYS", &files),
        ("YUEJU_SIGNING_ALG", alg),
        ("YUEJU_SIGNER_TIMEOUT_MS", "500"),
    ])
    .await;
    (app, signer, dir)
}

async fn permit_rows(app: &TestApp) -> usize {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entity::permit::Entity::find()
        .count(&app.app.db)
        .await
        .unwrap() as usize
}

#[tokio::test]
async fn a_permit_and_its_code_are_signed_by_the_seal_server_with_sm2_digests() {
    let (app, signer, _dir) = app_with_signer("SM2").await;
    let kid = signer.kid(Alg::Sm2);
    let keys = app.get("/api/v1/keys", None).await.body;
    let active: Vec<_> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["status"] == "active")
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["kid"], kid.as_str());

    let chen = app.chen_with_permit().await;
    assert_eq!(app.permit_document(&chen.access).await["kid"], kid.as_str());
    // Every call sent a 32-byte digest under the SM2 key, never the message.
    let requests = signer.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request["kid"], kid.as_str(), "{request}");
        assert_eq!(request["alg"], "SM2");
        assert!(request.get("message").is_none(), "{request}");
        let digest = B64.decode(request["digest"].as_str().unwrap()).unwrap();
        assert_eq!(digest.len(), 32);
    }
    let code = app.code(&chen.access).await;
    assert_eq!(app.verify(&code, None).await.body["valid"], true);
    // A DER-encoded answer, as some devices give, is as good.
    signer.fail_next([SignerFault::Der]);
    let code = app.code(&chen.access).await;
    assert_eq!(app.verify(&code, None).await.body["valid"], true);
}

#[tokio::test]
async fn with_ed25519_the_seal_server_is_sent_the_message_itself() {
    let (app, signer, _dir) = app_with_signer("EdDSA").await;
    let chen = app.chen_with_permit().await;
    let code = app.code(&chen.access).await;
    assert_eq!(app.verify(&code, None).await.body["valid"], true);
    let request = signer.requests().pop().unwrap();
    assert_eq!(request["alg"], "EdDSA");
    assert_eq!(request["kid"], signer.kid(Alg::EdDsa).as_str());
    assert!(request.get("digest").is_none(), "{request}");
    // The code's signed message: its purpose line and 44 bytes.
    let message = B64.decode(request["message"].as_str().unwrap()).unwrap();
    assert!(message.starts_with(b"yueju-code-v2\n"));
    assert_eq!(message.len(), "yueju-code-v2\n".len() + 44);
}

#[tokio::test]
async fn a_slow_signer_refuses_the_application_with_503_and_issues_nothing() {
    let (app, signer, _dir) = app_with_signer("SM2").await;
    let chen = app.login_dev("demo-chen").await;
    signer.fail_all(SignerFault::Slow(Duration::from_secs(3)));
    let started = std::time::Instant::now();
    let r = app.apply(&chen.access, &chen_application(), None).await;
    r.assert_error(503, "SIGNING_UNAVAILABLE");
    assert!(r.message().contains("签章"), "{}", r.text);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the deadline cut the call"
    );
    assert_eq!(permit_rows(&app).await, 0, "no permit half-issued");
    let mine = app.get("/api/v1/applications", Some(&chen.access)).await;
    assert_eq!(
        mine.body["items"].as_array().map(Vec::len).unwrap_or(0),
        0,
        "{}",
        mine.text
    );

    // Once the signer answers again, the same application goes through.
    signer.heal();
    let r = app.apply(&chen.access, &chen_application(), None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "issued");
    assert_eq!(permit_rows(&app).await, 1);
}

#[tokio::test]
async fn a_signer_that_fails_or_signs_with_another_key_is_a_clear_503() {
    let (app, signer, _dir) = app_with_signer("SM2").await;
    let chen = app.chen_with_permit().await;
    for fault in [
        SignerFault::Down(500),
        SignerFault::Down(403),
        SignerFault::WrongKey,
    ] {
        signer.fail_next([fault.clone()]);
        let r = app.get("/api/v1/me/code", Some(&chen.access)).await;
        r.assert_error(503, "SIGNING_UNAVAILABLE");
        assert!(r.message().contains("稍后"), "{fault:?}: {}", r.text);
    }
    // A status list that cannot be signed is 503 too, not a missing list.
    let permit = app.get("/api/v1/me/permit", Some(&chen.access)).await;
    let uri = permit.body["status_list"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    signer.fail_next([SignerFault::Down(502)]);
    app.get(&uri, None)
        .await
        .assert_error(503, "SIGNING_UNAVAILABLE");
    let r = app.get(&uri, None).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A download whose copy cannot be signed is not counted.
    let agency = app
        .agency(
            31,
            "广州市公积金管理中心",
            &["permit:verify", "permit:download"],
            &["name"],
        )
        .await;
    let code = app.code(&chen.access).await;
    let asked = app.ask_access(&agency, &code, "办理公积金提取", 30).await;
    let grant = app
        .decide(&chen.access, asked.body["id"].as_str().unwrap(), "approve")
        .await;
    let path = format!(
        "/api/v1/agency/authorizations/{}/annotated-copy",
        grant.body["id"].as_str().unwrap()
    );
    signer.fail_next([SignerFault::Slow(Duration::from_secs(2))]);
    app.get(&path, Some(&agency.token))
        .await
        .assert_error(503, "SIGNING_UNAVAILABLE");
    let copy = app.get(&path, Some(&agency.token)).await;
    assert_eq!(copy.status, 200, "{}", copy.text);
    assert_eq!(copy.body["copy"]["annotation"]["download_no"], json!(1));
}

#[tokio::test]
async fn a_signer_url_without_its_public_keys_stops_start_up() {
    let vars = [
        ("YUEJU_ENV", "dev"),
        ("YUEJU_SIGNER_URL", "http://127.0.0.1:9"),
    ];
    let settings = service::config::Settings::from_lookup(|k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    let err = service::keys::signing::KeyRing::load(&settings)
        .err()
        .expect("refused");
    assert!(format!("{err:#}").contains("YUEJU_SIGNER_KEYS"), "{err:#}");
}

#[tokio::test]
async fn every_operation_that_signs_documents_its_503_when_the_signer_is_away() {
    let app = spawn_app().await;
    let spec = app.get("/api/v1/openapi.json", None).await.body;
    for (method, path) in [
        ("post", "/api/v1/applications"),
        ("get", "/api/v1/me/code"),
        ("get", "/api/v1/me/permit/card.svg"),
        ("get", "/api/v1/status-lists/{list_id}"),
        ("get", "/api/v1/agency/authorizations/{id}/annotated-copy"),
        ("get", "/api/v1/agency/authorizations/{id}/residence-proof"),
        ("post", "/api/v1/me/permit/endorsements"),
        ("post", "/api/v1/me/permit/address-change"),
        ("post", "/api/v1/me/residence-proofs"),
        ("post", "/api/v1/staff/applications/{id}/decision"),
    ] {
        let answer = &spec["paths"][path][method]["responses"]["503"];
        let description = answer["description"].as_str().unwrap_or_default();
        assert!(
            description.contains("SIGNING_UNAVAILABLE"),
            "{method} {path}: {answer}"
        );
    }
}
