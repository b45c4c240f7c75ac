//! Floods: the costly routes without a credential answer 429 with the JSON envelope and
//! `Retry-After` once a source has used its budget; `/verify` is never limited.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn logins_past_the_budget_of_a_source_get_429_with_retry_after() {
    let app = spawn_app_with(&[("YUEJU_RATE_LIMIT_LOGIN_PER_MINUTE", "3")]).await;
    for i in 0..3 {
        let r = app.login("yss", &format!("dev:flood-{i}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = app.login("yss", "dev:flood-3").await;
    r.assert_error(429, "RATE_LIMITED");
    let retry_after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Staff login and refresh share the budget; nothing behind it runs.
    app.post(
        "/api/v1/staff/login",
        &json!({"username": STAFF_ADMIN.0, "password": STAFF_ADMIN.1}),
        None,
    )
    .await
    .assert_error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn verification_is_never_rate_limited() {
    let app = spawn_app_with(&[
        ("YUEJU_RATE_LIMIT_LOGIN_PER_MINUTE", "1"),
        ("YUEJU_RATE_LIMIT_BOT_PER_MINUTE", "1"),
    ])
    .await;
    for _ in 0..50 {
        let r = app.verify("YJ1NOTACODE", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

#[tokio::test]
async fn identity_binding_has_its_own_small_budget() {
    let app = spawn_app_with(&[("YUEJU_RATE_LIMIT_IDENTITY_PER_MINUTE", "2")]).await;
    let tokens = app.login_dev("binder").await;
    for _ in 0..2 {
        let r = app
            .bind(&tokens.access, WANG_NAME, "450103199805121353")
            .await;
        assert_ne!(r.status, 429, "{}", r.text);
    }
    app.bind(&tokens.access, WANG_NAME, WANG_ID)
        .await
        .assert_error(429, "RATE_LIMITED");
    // Other routes of the same source are not held up.
    let me = app.get("/api/v1/me", Some(&tokens.access)).await;
    assert_eq!(me.status, 200, "{}", me.text);
}

#[tokio::test]
async fn behind_a_load_balancer_each_client_address_has_its_own_budget() {
    let app = spawn_app_with(&[
        ("YUEJU_RATE_LIMIT_OAUTH_PER_MINUTE", "1"),
        ("YUEJU_CLIENT_IP_HEADER", "X-Real-IP"),
    ])
    .await;
    let token = |ip: &'static str| {
        app.client
            .post(app.url("/oauth/token"))
            .header("X-Real-IP", ip)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "x"),
                ("client_secret", "y"),
            ])
            .send()
    };
    assert_eq!(token("10.1.0.1").await.unwrap().status(), 401);
    assert_eq!(token("10.1.0.1").await.unwrap().status(), 429);
    assert_eq!(token("10.1.0.2").await.unwrap().status(), 401);
}
