//! Bodies over their limit get the contract's JSON envelope naming the limit, on every kind
//! of route: JSON bodies, raw bodies read by the handler, and forms.

use crate::helpers::*;

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    token: Option<&str>,
) -> Reply {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    reply(request.send().await.expect("request")).await
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_the_json_envelope_and_the_configured_limit() {
    let app = spawn_app_with(&[("YUEJU_MAX_JSON_BYTES", "1024")]).await;
    let admin = app.admin_token().await;
    let big = vec![b' '; 300 * 1024];
    for (path, content_type, token) in [
        ("/api/v1/verify", "application/json", None),
        ("/oauth/token", "application/x-www-form-urlencoded", None),
        (
            "/api/v1/staff/reminders/run",
            "application/json",
            Some(admin.as_str()),
        ),
        ("/api/v1/auth/miniprogram/login", "application/json", None),
    ] {
        let r = post_raw(&app, path, content_type, big.clone(), token).await;
        r.assert_error(413, "PAYLOAD_TOO_LARGE");
        assert!(r.message().contains("1024"), "{path}: {}", r.text);
    }
}
