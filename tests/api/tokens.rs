use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::*;

fn forge(claims: Value, kid: &str, secret: &[u8]) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn me_without_a_token_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/me", None).await;
    r.assert_error(401, "UNAUTHENTICATED");
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    reply(r).await.assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let app = spawn_app().await;
    let tokens = app.login_dev("exp").await;
    let mut claims = claims_of(&tokens.access);
    claims["exp"] = json!(chrono::Utc::now().timestamp() - 60);
    let expired = forge(claims, JWT_KID, &JWT_SECRET);
    app.get("/api/v1/me", Some(&expired))
        .await
        .assert_error(401, "TOKEN_EXPIRED");
}

#[tokio::test]
async fn a_token_with_any_changed_character_is_refused() {
    let app = spawn_app().await;
    let tokens = app.login_dev("tamper").await;
    assert_eq!(
        app.get("/api/v1/me", Some(&tokens.access)).await.status,
        200
    );
    let mut claims = claims_of(&tokens.access);
    claims["sub"] = json!(uuid::Uuid::new_v4());
    let (head, _, sig) = {
        let mut it = tokens.access.split('.');
        (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
    };
    let swapped = format!(
        "{head}.{}.{sig}",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    app.get("/api/v1/me", Some(&swapped))
        .await
        .assert_error(401, "UNAUTHENTICATED");
    // Flip characters across the whole token, a handful of positions.
    let bytes = tokens.access.as_bytes();
    for pos in (0..bytes.len()).step_by(bytes.len() / 9) {
        let mut changed = bytes.to_vec();
        changed[pos] = if changed[pos] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(changed).unwrap();
        if changed == tokens.access {
            continue;
        }
        let r = app.get("/api/v1/me", Some(&changed)).await;
        assert_eq!(r.status, 401, "position {pos}: {}", r.text);
    }
}

#[tokio::test]
async fn an_alg_none_token_is_refused() {
    let app = spawn_app().await;
    let tokens = app.login_dev("none").await;
    let header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": JWT_KID}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims_of(&tokens.access).to_string());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        app.get("/api/v1/me", Some(&token))
            .await
            .assert_error(401, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn a_token_for_another_audience_or_issuer_is_refused() {
    let app = spawn_app().await;
    let tokens = app.login_dev("aud").await;
    let mut other_aud = claims_of(&tokens.access);
    other_aud["aud"] = json!("some-other-service");
    app.get("/api/v1/me", Some(&forge(other_aud, JWT_KID, &JWT_SECRET)))
        .await
        .assert_error(401, "UNAUTHENTICATED");
    let mut other_iss = claims_of(&tokens.access);
    other_iss["iss"] = json!("not-yueju");
    app.get("/api/v1/me", Some(&forge(other_iss, JWT_KID, &JWT_SECRET)))
        .await
        .assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_staff_token_on_a_resident_route_is_403() {
    let app = spawn_app().await;
    let staff = app.admin_token().await;
    app.get("/api/v1/me", Some(&staff))
        .await
        .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn a_token_with_an_unknown_key_id_or_wrong_key_is_refused() {
    let app = spawn_app().await;
    let tokens = app.login_dev("kid").await;
    let claims = claims_of(&tokens.access);
    app.get(
        "/api/v1/me",
        Some(&forge(claims.clone(), "no-such-kid", &JWT_SECRET)),
    )
    .await
    .assert_error(401, "UNAUTHENTICATED");
    app.get("/api/v1/me", Some(&forge(claims, JWT_KID, &[2u8; 32])))
        .await
        .assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_the_new_tokens_work() {
    let app = spawn_app().await;
    let tokens = app.login_dev("rot").await;
    let r = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": tokens.refresh}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new_refresh = r.body["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, tokens.refresh);
    assert_eq!(
        app.get("/api/v1/me", r.body["access_token"].as_str())
            .await
            .status,
        200
    );
    let again = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": new_refresh}),
            None,
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_the_whole_family() {
    let app = spawn_app().await;
    let tokens = app.login_dev("reuse").await;
    let other_session = app.login_dev("reuse").await;
    let first = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": tokens.refresh}),
            None,
        )
        .await;
    assert_eq!(first.status, 200);
    let reuse = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": tokens.refresh}),
            None,
        )
        .await;
    reuse.assert_error(401, "REFRESH_TOKEN_REUSED");
    // The legitimate newer token and every access token of that family are dead too.
    let newer = first.body["refresh_token"].as_str().unwrap();
    app.post(
        "/api/v1/auth/refresh",
        &json!({"refresh_token": newer}),
        None,
    )
    .await
    .assert_error(401, "REFRESH_TOKEN_INVALID");
    app.get("/api/v1/me", first.body["access_token"].as_str())
        .await
        .assert_error(401, "UNAUTHENTICATED");
    app.get("/api/v1/me", Some(&tokens.access))
        .await
        .assert_error(401, "UNAUTHENTICATED");
    // Another login of the same person is a different family and lives on.
    assert_eq!(
        app.get("/api/v1/me", Some(&other_session.access))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_unknown_refresh_token_is_refused() {
    let app = spawn_app().await;
    app.post(
        "/api/v1/auth/refresh",
        &json!({"refresh_token": "not-a-token"}),
        None,
    )
    .await
    .assert_error(401, "REFRESH_TOKEN_INVALID");
    app.post("/api/v1/auth/refresh", &json!({"refresh_token": ""}), None)
        .await
        .assert_error(401, "REFRESH_TOKEN_INVALID");
}

#[tokio::test]
async fn logout_revokes_the_session_and_its_refresh_token() {
    let app = spawn_app().await;
    let tokens = app.login_dev("bye").await;
    let r = app
        .post("/api/v1/auth/logout", &json!({}), Some(&tokens.access))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get("/api/v1/me", Some(&tokens.access))
        .await
        .assert_error(401, "UNAUTHENTICATED");
    app.post(
        "/api/v1/auth/refresh",
        &json!({"refresh_token": tokens.refresh}),
        None,
    )
    .await
    .assert_error(401, "REFRESH_TOKEN_INVALID");
}

#[tokio::test]
async fn a_new_signing_key_does_not_log_anyone_out() {
    let app = spawn_app().await;
    let tokens = app.login_dev("rotate").await;
    let rotated_keys = jwt_keys_var(&[("test-k2", [9u8; 32]), (JWT_KID, JWT_SECRET)]);
    let rotated = app
        .restart_with(&[
            ("YUEJU_JWT_KEYS", &rotated_keys),
            ("YUEJU_DEMO_DATA", "false"),
        ])
        .await;
    assert_eq!(
        rotated.get("/api/v1/me", Some(&tokens.access)).await.status,
        200
    );
    let fresh = rotated.login_dev("rotate").await;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(fresh.access.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], "test-k2");
    assert_eq!(header["alg"], "HS256");
    // Once the old key is retired, its tokens stop working.
    let retired = app
        .restart_with(&[
            ("YUEJU_JWT_KEYS", &jwt_keys_var(&[("test-k2", [9u8; 32])])),
            ("YUEJU_DEMO_DATA", "false"),
        ])
        .await;
    retired
        .get("/api/v1/me", Some(&tokens.access))
        .await
        .assert_error(401, "UNAUTHENTICATED");
}
