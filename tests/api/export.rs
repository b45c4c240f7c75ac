//! `GET /api/v1/me/export`: everything held about the person, in full, and nobody else's.

use serde_json::json;

use crate::helpers::*;

/// Chen holds a permit, has an e-mail address, and granted an agency access.
async fn chen_with_grant(app: &TestApp) -> (Tokens, AgencyClient) {
    let chen = app.chen_with_permit().await;
    let r = app.set_email(&chen.access, "chen.zq@example.com").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let agency = app
        .agency(
            31,
            "广州市天河区社会保险基金管理局",
            &["permit:verify", "permit:download"],
            &["name", "id_number", "residence_address"],
        )
        .await;
    let code = app.code(&chen.access).await;
    let r = app.ask_access(&agency, &code, "办理社保卡", 30).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    let g = app.decide(&chen.access, id, "approve").await;
    assert_eq!(g.status, 201, "{}", g.text);
    (chen, agency)
}

#[tokio::test]
async fn the_export_holds_the_persons_own_data_in_full_and_nothing_of_another_person() {
    let app = spawn_app().await;
    let (chen, _agency) = chen_with_grant(&app).await;
    let zhang = app.zhang_with_permit("export-zhang").await;

    let export = app.get("/api/v1/me/export", Some(&chen.access)).await;
    assert_eq!(export.status, 200, "{}", export.text);
    assert_eq!(export.headers["cache-control"], "no-store");
    let e = &export.body;
    assert_eq!(e["format"], "yueju-export-v1");
    assert_eq!(e["accounts"][0]["openid"], "dev:demo-chen");
    assert!(!e["accounts"][0]["sessions"].as_array().unwrap().is_empty());
    assert_eq!(e["identity"]["name"], CHEN_NAME);
    assert_eq!(e["identity"]["id_number"], CHEN_ID);
    assert_eq!(e["contact"]["email"], "chen.zq@example.com");
    assert_eq!(e["applications"][0]["address"], "天河路385号501房");
    assert_eq!(e["applications"][0]["status"], "issued");
    let version = &e["permits"][0]["versions"][0];
    assert_eq!(version["document"]["id_number"], CHEN_ID);
    assert_eq!(version["document"]["name"], CHEN_NAME);
    assert_eq!(version["alg"], "EdDSA");
    assert!(!version["signature"].as_str().unwrap().is_empty());
    let request = &e["authorization_requests"][0];
    assert_eq!(request["status"], "approved");
    assert!(
        request["consent_text"]
            .as_str()
            .unwrap()
            .contains("广州市天河区社会保险基金管理局"),
        "{request}"
    );
    assert_eq!(e["authorizations"][0]["status"], "active");
    assert_eq!(
        e["authorizations"][0]["consent_sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let actions: Vec<&str> = e["access_log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["request", "approve"]);
    assert_eq!(e["access_log"]["check"]["intact"], true);

    for other in [ZHANG_ID, ZHANG_NAME, "白云大道北1688号", "export-zhang"] {
        assert!(!export.text.contains(other), "{other} is in Chen's export");
    }
    // Zhang's own export is Zhang's.
    let theirs = app.get("/api/v1/me/export", Some(&zhang.access)).await;
    assert_eq!(theirs.body["identity"]["id_number"], ZHANG_ID);
    assert!(!theirs.text.contains(CHEN_ID));
    assert_eq!(theirs.body["authorizations"], json!([]));

    // The access is logged, without the data.
    let log = captured_log();
    assert!(log.contains("personal data exported to its holder"));
    for value in ["chen.zq@example.com", CHEN_ID, "天河路385号501房"] {
        assert!(!log.contains(value), "the log holds {value}");
    }
}

#[tokio::test]
async fn the_export_needs_a_login_and_before_binding_holds_only_the_login() {
    let app = spawn_app().await;
    app.get("/api/v1/me/export", None)
        .await
        .assert_error(401, "UNAUTHENTICATED");
    let fresh = app.login_dev("export-unbound").await;
    let r = app.get("/api/v1/me/export", Some(&fresh.access)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["accounts"][0]["openid"], "dev:export-unbound");
    assert_eq!(r.body["identity"], serde_json::Value::Null);
    assert_eq!(r.body["permits"], json!([]));
}
