use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_full_flow_leaves_no_id_number_name_token_or_secret_in_the_log() {
    let app = spawn_app().await;
    let tokens = app.bound_resident("log-check", WANG_NAME, WANG_ID).await;
    let email = "log.check@example.com";
    app.send_json(
        Method::PATCH,
        "/api/v1/me",
        &json!({"email": email}),
        Some(&tokens.access),
    )
    .await;
    app.bind(&tokens.access, CHEN_NAME, CHEN_ID)
        .await
        .assert_error(409, "IDENTITY_ALREADY_BOUND");
    let platform = app.login("yjm", "union:o-log:u-log").await;
    let refreshed = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": tokens.refresh}),
            None,
        )
        .await;
    app.post(
        "/api/v1/auth/refresh",
        &json!({"refresh_token": tokens.refresh}),
        None,
    )
    .await;
    let admin = app.admin_token().await;
    app.post(
        "/api/v1/staff/gov-records",
        &json!({"people": [{"id_number": ZHANG_ID, "name": ZHANG_NAME, "gender": "female", "ethnicity": "汉族", "hukou_address": "江西省南昌市某路"}]}),
        Some(&admin),
    )
    .await;
    app.post(
        "/api/v1/staff/login",
        &json!({"username": STAFF_ADMIN.0, "password": "wrong-password"}),
        None,
    )
    .await;

    let log = captured_log();
    assert!(
        log.contains("resident logged in"),
        "the log was not captured"
    );
    assert!(log.contains("request_id"), "log lines carry the request id");
    let secrets = [
        WANG_ID,
        CHEN_ID,
        ZHANG_ID,
        WANG_NAME,
        CHEN_NAME,
        ZHANG_NAME,
        email,
        "民族大道",
        &tokens.access,
        &tokens.refresh,
        refreshed.body["refresh_token"].as_str().unwrap(),
        platform.body["access_token"].as_str().unwrap(),
        &admin,
        FAKE_SESSION_KEY,
        YSS_SECRET,
        YJM_SECRET,
        STAFF_ADMIN.1,
        "wrong-password",
    ];
    for secret in secrets {
        assert!(
            !log.contains(secret),
            "the log holds something it must not: {secret}"
        );
    }
}
