use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_dev_code_logs_in_with_a_bearer_token_pair() {
    let app = spawn_app().await;
    let r = app.login("yss", "dev:alice").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert!(r.body["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(r.body["refresh_token"].as_str().unwrap().len() >= 40);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(
        app.platform.call_count(),
        0,
        "dev codes never reach the platform"
    );
}

#[tokio::test]
async fn a_platform_code_is_exchanged_through_jscode2session_with_the_apps_credentials() {
    let app = spawn_app().await;
    let r = app.login("yjm", "ok:openid-123").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let calls = app.platform.state().logins.clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["appid"], YJM_APPID);
    assert_eq!(calls[0]["secret"], YJM_SECRET);
    assert_eq!(calls[0]["js_code"], "ok:openid-123");
    let me = app.get("/api/v1/me", r.body["access_token"].as_str()).await;
    assert_eq!(me.body["app"], "yjm");
    assert_eq!(me.body["identity_bound"], false);
}

#[tokio::test]
async fn the_session_key_never_leaves_the_server() {
    let app = spawn_app().await;
    let r = app.login("yss", "ok:openid-sk").await;
    assert_eq!(r.status, 200);
    assert!(!r.text.contains(FAKE_SESSION_KEY));
    let me = app.get("/api/v1/me", r.body["access_token"].as_str()).await;
    assert!(!me.text.contains(FAKE_SESSION_KEY));
    assert!(!app.raw_database_dump().await.contains(FAKE_SESSION_KEY));
}

#[tokio::test]
async fn the_same_platform_user_logging_in_twice_keeps_one_account() {
    let app = spawn_app().await;
    let first = app.login("yss", "ok:same-user").await;
    let second = app.login("yss", "ok:same-user").await;
    let a = app
        .get("/api/v1/me", first.body["access_token"].as_str())
        .await;
    let b = app
        .get("/api/v1/me", second.body["access_token"].as_str())
        .await;
    assert_eq!(a.body["account_id"], b.body["account_id"]);
    assert_ne!(first.body["refresh_token"], second.body["refresh_token"]);
}

#[tokio::test]
async fn logins_on_both_mini_programs_share_the_identity_through_the_unionid() {
    let app = spawn_app().await;
    let yss = app.login("yss", "union:o-yss:u-shared").await;
    let token = yss.body["access_token"].as_str().unwrap();
    assert_eq!(app.bind(token, ZHANG_NAME, ZHANG_ID).await.status, 200);
    let yjm = app.login("yjm", "union:o-yjm:u-shared").await;
    let me = app
        .get("/api/v1/me", yjm.body["access_token"].as_str())
        .await;
    assert_eq!(me.body["identity_bound"], true, "{}", me.text);
    assert_eq!(me.body["masked_name"], "张*");
    let stranger = app.login("yjm", "union:o-other:u-other").await;
    let me = app
        .get("/api/v1/me", stranger.body["access_token"].as_str())
        .await;
    assert_eq!(me.body["identity_bound"], false);
}

#[tokio::test]
async fn platform_error_codes_become_clear_errors() {
    let app = spawn_app().await;
    let cases = [
        ("err:40029", 401, "LOGIN_CODE_INVALID"),
        ("err:40163", 401, "LOGIN_CODE_INVALID"),
        ("err:45011", 429, "RATE_LIMITED"),
        ("err:40226", 403, "RISKY_USER"),
        ("err:-1", 503, "PLATFORM_UNAVAILABLE"),
        ("http500", 503, "PLATFORM_UNAVAILABLE"),
        ("garbage", 503, "PLATFORM_UNAVAILABLE"),
        ("unknown-code", 401, "LOGIN_CODE_INVALID"),
    ];
    for (code, status, error) in cases {
        app.login("yss", code).await.assert_error(status, error);
    }
}

#[tokio::test]
async fn an_unreachable_platform_is_503_not_500() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = spawn_app_with(&[("YUEJU_WECHAT_API_BASE", &base)]).await;
    app.login("yss", "ok:someone")
        .await
        .assert_error(503, "PLATFORM_UNAVAILABLE");
}

#[tokio::test]
async fn an_unknown_mini_program_is_refused() {
    let app = spawn_app().await;
    app.login("wechat-pay", "dev:alice")
        .await
        .assert_error(422, "UNKNOWN_APP");
}

#[tokio::test]
async fn a_mini_program_without_credentials_cannot_use_platform_codes() {
    let app = spawn_app_with(&[("YUEJU_YJM_APPID", ""), ("YUEJU_YJM_SECRET", "")]).await;
    app.login("yjm", "ok:someone")
        .await
        .assert_error(503, "LOGIN_UNAVAILABLE");
    assert_eq!(app.login("yss", "ok:someone").await.status, 200);
}

#[tokio::test]
async fn bad_dev_codes_are_refused() {
    let app = spawn_app().await;
    for code in [
        "dev:",
        "dev:has space",
        "dev:<script>",
        &format!("dev:{}", "a".repeat(65)),
    ] {
        app.login("yss", code)
            .await
            .assert_error(401, "LOGIN_CODE_INVALID");
    }
}

#[tokio::test]
async fn dev_codes_are_refused_in_prod_mode() {
    let key = "k:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let pem_dir = tempfile::tempdir().unwrap();
    let pem = write_signing_key(pem_dir.path(), 5);
    let app = spawn_app_with(&[
        ("YUEJU_ENV", "prod"),
        ("YUEJU_PUBLIC_URL", PROD_PUBLIC_URL),
        ("YUEJU_SIGNING_KEYS", &pem),
        ("YUEJU_ISSUER_CREDIT_CODE", "11440000000000000X"),
        ("YUEJU_DEMO_DATA", "false"),
        ("YUEJU_DATA_KEYS", key),
        (
            "YUEJU_BLIND_INDEX_KEY",
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        ),
        ("YUEJU_PAYMENT_API_BASE", PROD_PAYMENT_API_BASE),
        (
            "YUEJU_PAYMENT_NOTIFY_SECRET",
            crate::fake_payment::NOTIFY_SECRET,
        ),
    ])
    .await;
    app.login("yss", "dev:alice")
        .await
        .assert_error(401, "DEV_LOGIN_REFUSED");
    assert_eq!(app.login("yss", "ok:real-user").await.status, 200);
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/v1/auth/miniprogram/login"))
        .header("content-type", "application/json")
        .body("{\"app\": \"yss\", ")
        .send()
        .await
        .unwrap();
    reply(r).await.assert_error(400, "INVALID_JSON");
}

#[tokio::test]
async fn a_missing_field_is_a_400_naming_it() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/auth/miniprogram/login",
            &json!({"app": "yss"}),
            None,
        )
        .await;
    r.assert_error(400, "INVALID_JSON");
    assert!(r.message().contains("code"), "{}", r.text);
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/v1/auth/miniprogram/login"))
        .header("content-type", "text/plain")
        .body("{\"app\":\"yss\",\"code\":\"dev:a\"}")
        .send()
        .await
        .unwrap();
    reply(r).await.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
}

#[tokio::test]
async fn a_huge_body_is_a_413() {
    let app = spawn_app().await;
    let huge = json!({"app": "yss", "code": "x".repeat(200_000)});
    app.post("/api/v1/auth/miniprogram/login", &huge, None)
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
}
