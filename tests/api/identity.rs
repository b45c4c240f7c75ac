use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn binding_with_matching_household_data_verifies_and_masks_the_number() {
    let app = spawn_app().await;
    let tokens = app.login_dev("bind-ok").await;
    let r = app.bind(&tokens.access, WANG_NAME, WANG_ID).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["verified"], true);
    assert_eq!(r.body["masked_id_number"], "4501**********1352");
    assert!(!r.text.contains(WANG_ID));
    let me = app.get("/api/v1/me", Some(&tokens.access)).await;
    assert_eq!(me.body["identity_bound"], true);
    assert_eq!(me.body["masked_name"], "王*");
    assert!(!me.text.contains(WANG_ID));
}

#[tokio::test]
async fn a_lower_case_x_and_blanks_around_the_number_are_accepted() {
    let app = spawn_app().await;
    let id = "11010519491231002X";
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/staff/gov-records",
            &json!({"people": [{"id_number": id, "name": "赵丽", "gender": "female", "ethnicity": "满族", "hukou_address": "北京市西城区某街1号"}]}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["upserted"], 1, "{}", r.text);
    let tokens = app.login_dev("lower-x").await;
    let r = app
        .bind(
            &tokens.access,
            "赵丽",
            &format!("  {}  ", id.to_lowercase()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["masked_id_number"], "1101**********002X");
}

#[tokio::test]
async fn a_wrong_name_and_an_unknown_number_get_the_same_mismatch_answer() {
    let app = spawn_app().await;
    let tokens = app.login_dev("bind-bad").await;
    let wrong_name = app.bind(&tokens.access, "王五", WANG_ID).await;
    wrong_name.assert_error(422, "IDENTITY_MISMATCH");
    // A valid number that no household record has.
    let unknown = app
        .bind(&tokens.access, WANG_NAME, "11010519491231002X")
        .await;
    unknown.assert_error(422, "IDENTITY_MISMATCH");
    assert_eq!(wrong_name.body, unknown.body);
    let me = app.get("/api/v1/me", Some(&tokens.access)).await;
    assert_eq!(me.body["identity_bound"], false);
}

#[tokio::test]
async fn invalid_id_numbers_are_refused_with_the_reason() {
    let app = spawn_app().await;
    let tokens = app.login_dev("bind-invalid").await;
    let cases = [
        ("45010319980512135", "18位"),
        ("4501031998051213A2", "数字"),
        ("990103199805121352", "地区码"),
        ("450103199802301352", "出生日期"),
        ("450103199805121353", "校验位"),
        ("", "18位"),
    ];
    for (id, reason) in cases {
        let r = app.bind(&tokens.access, WANG_NAME, id).await;
        r.assert_error(422, "ID_NUMBER_INVALID");
        assert!(r.message().contains(reason), "{id}: {}", r.text);
    }
}

#[tokio::test]
async fn an_empty_name_is_a_validation_error() {
    let app = spawn_app().await;
    let tokens = app.login_dev("bind-empty").await;
    let r = app.bind(&tokens.access, "   ", WANG_ID).await;
    r.assert_error(422, "VALIDATION_FAILED");
    assert!(r.message().contains("姓名"));
}

#[tokio::test]
async fn binding_the_same_identity_twice_is_harmless_but_another_identity_is_409() {
    let app = spawn_app().await;
    let tokens = app.bound_resident("bind-twice", WANG_NAME, WANG_ID).await;
    assert_eq!(
        app.bind(&tokens.access, WANG_NAME, WANG_ID).await.status,
        200
    );
    app.bind(&tokens.access, ZHANG_NAME, ZHANG_ID)
        .await
        .assert_error(409, "IDENTITY_ALREADY_BOUND");
}

#[tokio::test]
async fn two_logins_bound_to_one_person_are_the_same_person() {
    let app = spawn_app().await;
    let a = app.bound_resident("person-a", WANG_NAME, WANG_ID).await;
    let b = app.bound_resident("person-b", WANG_NAME, WANG_ID).await;
    let me_a = app.get("/api/v1/me", Some(&a.access)).await;
    let me_b = app.get("/api/v1/me", Some(&b.access)).await;
    assert_ne!(me_a.body["account_id"], me_b.body["account_id"]);
    // Contact settings belong to the person, so both logins see a change made by one.
    let r = app
        .send_json(
            Method::PATCH,
            "/api/v1/me",
            &json!({"email": "wang@example.com"}),
            Some(&a.access),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me_b = app.get("/api/v1/me", Some(&b.access)).await;
    assert_eq!(me_b.body["email"], "wang@example.com");
}

#[tokio::test]
async fn the_demo_login_is_already_bound() {
    let app = spawn_app().await;
    let tokens = app.login_dev("demo-chen").await;
    let me = app.get("/api/v1/me", Some(&tokens.access)).await;
    assert_eq!(me.body["identity_bound"], true);
    assert_eq!(me.body["masked_id_number"], "4405**********1234");
    assert_eq!(me.body["masked_name"], "陈*强");
}

#[tokio::test]
async fn contact_settings_can_be_set_and_cleared() {
    let app = spawn_app().await;
    let tokens = app.bound_resident("contact", ZHANG_NAME, ZHANG_ID).await;
    let r = app
        .send_json(
            Method::PATCH,
            "/api/v1/me",
            &json!({"email": " zhang@example.com ", "reminders_enabled": false}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email"], "zhang@example.com");
    assert_eq!(r.body["reminders_enabled"], false);
    // Absent fields stay as they are; null clears.
    let r = app
        .send_json(
            Method::PATCH,
            "/api/v1/me",
            &json!({"reminders_enabled": true}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(r.body["email"], "zhang@example.com");
    let r = app
        .send_json(
            Method::PATCH,
            "/api/v1/me",
            &json!({"email": null}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(r.body["email"], serde_json::Value::Null);
    assert_eq!(r.body["reminders_enabled"], true);
}

#[tokio::test]
async fn a_malformed_email_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let tokens = app.bound_resident("bad-mail", ZHANG_NAME, ZHANG_ID).await;
    for email in [
        "not-an-address",
        "a@b",
        "two@@example.com",
        "sp ace@example.com",
        "",
    ] {
        let r = app
            .send_json(
                Method::PATCH,
                "/api/v1/me",
                &json!({"email": email, "reminders_enabled": false}),
                Some(&tokens.access),
            )
            .await;
        r.assert_error(422, "VALIDATION_FAILED");
    }
    let me = app.get("/api/v1/me", Some(&tokens.access)).await;
    assert_eq!(me.body["reminders_enabled"], true);
    assert_eq!(me.body["email"], serde_json::Value::Null);
}

#[tokio::test]
async fn contact_settings_need_a_bound_identity() {
    let app = spawn_app().await;
    let tokens = app.login_dev("unbound").await;
    app.send_json(
        Method::PATCH,
        "/api/v1/me",
        &json!({"email": "x@example.com"}),
        Some(&tokens.access),
    )
    .await
    .assert_error(403, "IDENTITY_REQUIRED");
}

#[tokio::test]
async fn the_database_holds_no_clear_id_number_name_address_or_email() {
    let app = spawn_app().await;
    let tokens = app.bound_resident("raw-check", WANG_NAME, WANG_ID).await;
    let r = app
        .send_json(
            Method::PATCH,
            "/api/v1/me",
            &json!({"email": "wang.wei@example.com"}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(r.status, 200);
    let dump = app.raw_database_dump().await;
    assert!(dump.len() > 1000, "the dump should hold the database");
    for secret in [
        WANG_ID,
        CHEN_ID,
        WANG_NAME,
        CHEN_NAME,
        "民族大道100号",
        "天河路385号",
        "wang.wei@example.com",
    ] {
        assert!(
            !dump.contains(secret),
            "{secret} found in clear in the database"
        );
    }
}
