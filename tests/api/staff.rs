use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_bootstrap_account_logs_in_with_a_staff_token() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/staff/login",
            &json!({"username": STAFF_ADMIN.0, "password": STAFF_ADMIN.1}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(r.body["expires_in"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong = app
        .post(
            "/api/v1/staff/login",
            &json!({"username": STAFF_ADMIN.0, "password": "nope"}),
            None,
        )
        .await;
    wrong.assert_error(401, "INVALID_CREDENTIALS");
    let unknown = app
        .post(
            "/api/v1/staff/login",
            &json!({"username": "ghost", "password": "nope"}),
            None,
        )
        .await;
    unknown.assert_error(401, "INVALID_CREDENTIALS");
    assert_eq!(wrong.body, unknown.body);
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app().await;
    let user = entity::staff_user::Entity::find()
        .filter(entity::staff_user::Column::Username.eq(STAFF_ADMIN.0))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash.starts_with("$argon2id$"),
        "{}",
        user.password_hash
    );
    assert!(!user.password_hash.contains(STAFF_ADMIN.1));
}

#[tokio::test]
async fn staff_routes_without_a_token_are_401() {
    let app = spawn_app().await;
    app.post("/api/v1/staff/gov-records", &json!({}), None)
        .await
        .assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn staff_routes_refuse_resident_tokens() {
    let app = spawn_app().await;
    let resident = app.login_dev("sneaky").await;
    app.post(
        "/api/v1/staff/gov-records",
        &json!({}),
        Some(&resident.access),
    )
    .await
    .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn admin_routes_refuse_a_reviewer() {
    let app = spawn_app().await;
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    app.post(
        "/api/v1/staff/gov-records",
        &json!({"people": []}),
        Some(&reviewer),
    )
    .await
    .assert_error(403, "FORBIDDEN");
}
