//! The resident's e-mail address is checked by the mailer's own parser (lettre), so an address
//! that is saved is one a reminder can be sent to.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn addresses_the_mailer_would_refuse_are_refused_when_saved() {
    let app = spawn_app().await;
    let tokens = app
        .bound_resident("mail-lettre", ZHANG_NAME, ZHANG_ID)
        .await;
    // The old shape check (one `@`, a dotted domain, no blanks) let these through; lettre
    // refuses an empty atom between dots and parentheses in the local part.
    for email in ["zhang..san@example.com", "zhang(san)@example.com"] {
        let r = app
            .send_json(
                Method::PATCH,
                "/api/v1/me",
                &json!({"email": email}),
                Some(&tokens.access),
            )
            .await;
        r.assert_error(422, "VALIDATION_FAILED");
        assert_eq!(r.message(), "电子邮箱格式不正确", "{}", r.text);
    }
    let me = app.get("/api/v1/me", Some(&tokens.access)).await;
    assert_eq!(me.body["email"], serde_json::Value::Null);

    let r = app
        .send_json(
            Method::PATCH,
            "/api/v1/me",
            &json!({"email": "zhang.san+permit@example.com"}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email"], "zhang.san+permit@example.com");
}
