//! Registering agencies and their client-credentials tokens (RFC 6749 §4.4).

use base64::Engine as _;
use serde_json::json;

use crate::helpers::*;

pub(crate) async fn oauth_form(app: &TestApp, form: &[(&str, &str)]) -> Reply {
    reply(
        app.client
            .post(app.url("/oauth/token"))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn staff_register_an_agency_whose_secret_is_shown_once_and_stored_hashed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/staff/agencies",
            &json!({"name": "广州市住房公积金管理中心", "credit_code": credit_code(7),
                    "contact": "020-12329", "scopes": ["permit:verify", "permit:download"],
                    "fields": ["name", "id_number", "residence_address"]}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let secret = r.body["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 40);
    assert!(r.body["client_id"].as_str().unwrap().starts_with("ag_"));

    let list = app.get("/api/v1/staff/agencies", Some(&admin)).await;
    assert!(list.text.contains("广州市住房公积金管理中心"));
    assert!(!list.text.contains(&secret));
    assert!(!app.raw_database_dump().await.contains(&secret));

    // The same credit code twice is a conflict; reviewers may not register agencies.
    app.post(
        "/api/v1/staff/agencies",
        &json!({"name": "另一个", "credit_code": credit_code(7), "contact": "x",
                "scopes": ["permit:verify"]}),
        Some(&admin),
    )
    .await
    .assert_error(409, "AGENCY_EXISTS");
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    app.post(
        "/api/v1/staff/agencies",
        &json!({"name": "x", "credit_code": credit_code(8), "contact": "x", "scopes": ["permit:verify"]}),
        Some(&reviewer),
    )
    .await
    .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn registration_checks_the_credit_code_scopes_and_fields() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut wrong_check = credit_code(9);
    wrong_check.pop();
    wrong_check.push('0');
    if wrong_check == credit_code(9) {
        wrong_check.pop();
        wrong_check.push('1');
    }
    for (body, field) in [
        (
            json!({"name": "x", "credit_code": wrong_check, "contact": "x", "scopes": ["permit:verify"]}),
            "credit_code",
        ),
        (
            json!({"name": "x", "credit_code": credit_code(9), "contact": "x", "scopes": ["permit:all"]}),
            "scopes",
        ),
        (
            json!({"name": "x", "credit_code": credit_code(9), "contact": "x", "scopes": []}),
            "scopes",
        ),
        (
            json!({"name": "x", "credit_code": credit_code(9), "contact": "x", "scopes": ["permit:verify"], "fields": ["salary"]}),
            "fields",
        ),
        (
            json!({"name": " ", "credit_code": credit_code(9), "contact": "x", "scopes": ["permit:verify"]}),
            "name",
        ),
    ] {
        let r = app
            .post("/api/v1/staff/agencies", &body, Some(&admin))
            .await;
        r.assert_error(422, "VALIDATION_FAILED");
        assert!(
            r.text.contains(field) || !r.message().is_empty(),
            "{}",
            r.text
        );
    }
}

#[tokio::test]
async fn client_credentials_give_a_scoped_token_by_basic_auth_form_or_json() {
    let app = spawn_app().await;
    let agency = app
        .agency(
            1,
            "佛山市教育局",
            &["permit:verify", "permit:download"],
            &["name"],
        )
        .await;
    let r = oauth_form(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &agency.client_id),
            ("client_secret", &agency.secret),
            ("scope", "permit:verify"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "permit:verify");
    assert_eq!(r.headers["cache-control"], "no-store");

    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", agency.client_id, agency.secret));
    let r = reply(
        app.client
            .post(app.url("/oauth/token"))
            .header("authorization", format!("Basic {basic}"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["scope"], "permit:verify permit:download");

    let r = app
        .post(
            "/oauth/token",
            &json!({"grant_type": "client_credentials", "client_id": agency.client_id, "client_secret": agency.secret}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // An agency token is not a resident's or a staff member's.
    let token = r.body["access_token"].as_str().unwrap();
    app.get("/api/v1/me", Some(token))
        .await
        .assert_error(403, "FORBIDDEN");
    app.get("/api/v1/staff/agencies", Some(token))
        .await
        .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let app = spawn_app().await;
    let agency = app
        .agency(2, "东莞市人社局", &["permit:verify"], &["name"])
        .await;
    type Form<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(Form, u16, &str)> = vec![
        (
            vec![
                ("client_id", &agency.client_id),
                ("client_secret", &agency.secret),
            ],
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", &agency.client_id),
                ("client_secret", &agency.secret),
            ],
            400,
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "ag_nobody"),
                ("client_secret", "x"),
            ],
            401,
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &agency.client_id),
                ("client_secret", &agency.secret),
                ("scope", "permit:download"),
            ],
            400,
            "invalid_scope",
        ),
    ];
    for (form, status, error) in cases {
        let r = oauth_form(&app, &form).await;
        assert_eq!(r.status, status, "{form:?}: {}", r.text);
        assert_eq!(r.body["error"], error, "{form:?}");
        assert!(r.body["error_description"].is_string());
    }
    let r = reply(
        app.client
            .post(app.url("/oauth/token"))
            .header("content-type", "text/plain")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.body["error"], "invalid_request");
}

#[tokio::test]
async fn brute_forcing_a_client_secret_locks_the_client_out() {
    let app = spawn_app().await;
    let agency = app
        .agency(3, "惠州市公安局", &["permit:verify"], &["name"])
        .await;
    for attempt in 0..5 {
        let r = oauth_form(
            &app,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &agency.client_id),
                ("client_secret", &format!("guess-{attempt}")),
            ],
        )
        .await;
        assert_eq!(r.status, 401, "attempt {attempt}: {}", r.text);
    }
    // Now even the right secret waits.
    let r = oauth_form(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &agency.client_id),
            ("client_secret", &agency.secret),
        ],
    )
    .await;
    assert_eq!(r.status, 429, "{}", r.text);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 800 && retry <= 900, "{retry}");
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .contains("分钟")
    );
}

#[tokio::test]
async fn a_correct_secret_resets_the_count_of_failures() {
    let app = spawn_app_with(&[("YUEJU_AGENCY_LOCKOUT_ATTEMPTS", "3")]).await;
    let agency = app
        .agency(4, "江门市人社局", &["permit:verify"], &["name"])
        .await;
    let wrong = [
        ("grant_type", "client_credentials"),
        ("client_id", agency.client_id.as_str()),
        ("client_secret", "wrong"),
    ];
    for _ in 0..2 {
        assert_eq!(oauth_form(&app, &wrong).await.status, 401);
    }
    app.agency_token(&agency.client_id, &agency.secret).await;
    for _ in 0..2 {
        assert_eq!(oauth_form(&app, &wrong).await.status, 401);
    }
    app.agency_token(&agency.client_id, &agency.secret).await;
}
