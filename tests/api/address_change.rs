//! A change of address within the permit's city: a new signed version with the new address
//! and the same dates; codes already shown run to their short expiry; another city is a new
//! application there, in the API and in the bot.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::*;

fn ymd(day: chrono::NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn haizhu(since: chrono::NaiveDate) -> Value {
    json!({"district": "海珠区", "address": "江南大道中100号302房", "since": ymd(since)})
}

fn is_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Chen's government data gains a residence in 佛山市南海区 and a job there since 2025-01-01.
async fn chen_moves_to_foshan(app: &TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/staff/gov-records",
            &json!({
                "residence_registrations": [{"id_number": CHEN_ID, "city": "佛山市", "district": "南海区",
                    "address": "佛山市南海区桂城街道南海大道1号", "since": "2025-01-01"}],
                "employment": [{"id_number": CHEN_ID, "employer": "佛山某公司", "city": "佛山市", "since": "2025-01-01"}]
            }),
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["errors"], json!([]), "{}", r.text);
}

#[tokio::test]
async fn a_change_within_the_city_signs_a_new_version_with_the_new_address() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let before = app.get("/api/v1/me/permit", Some(&chen.access)).await.body;
    let old_document = app.permit_document(&chen.access).await;
    let old_code = app.code(&chen.access).await;

    let r = app
        .change_address(&chen.access, &haizhu(app.clock().today()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let permit = &r.body["permit"];
    assert_eq!(permit["version"], 2);
    assert_eq!(
        permit["residence_address"],
        "广州市海珠区江南大道中100号302房"
    );
    assert_eq!(r.body["card_reissue_offered"], false);
    assert_eq!(r.body["restored"], false);
    // The same dates and count: only the address changed.
    for field in [
        "permit_no",
        "valid_from",
        "valid_until",
        "next_endorsement_due",
        "continuous_since",
        "issued_on",
        "status",
    ] {
        assert_eq!(permit[field], before[field], "{field}");
    }

    // The signed document of the new version verifies with the published keys.
    let signed = app.permit_document(&chen.access).await;
    let document = &signed["document"];
    assert_eq!(document["kind"], "address_change");
    assert_eq!(document["version"], 2);
    assert_eq!(
        document["residence_address"],
        "广州市海珠区江南大道中100号302房"
    );
    assert_eq!(document["residence_since"], ymd(app.clock().today()));
    assert_eq!(
        document["previous_licence_id"],
        old_document["document"]["licence_id"]
    );
    let signed: service::permit::permits::SignedDocument =
        serde_json::from_value(signed.clone()).unwrap();
    assert!(service::permit::permits::verify_document(&app.app, &signed));
    let mut forged = signed.clone();
    forged.document.residence_address = "广州市天河区天河路385号501房".into();
    assert!(!service::permit::permits::verify_document(
        &app.app, &forged
    ));
    // The old version's document still verifies: it was genuine when signed.
    let old: service::permit::permits::SignedDocument =
        serde_json::from_value(old_document).unwrap();
    assert!(service::permit::permits::verify_document(&app.app, &old));

    // Codes: the new one verifies, and the one shown before still does until its short expiry.
    let new_code = app.code(&chen.access).await;
    assert_eq!(app.verify(&new_code, None).await.body["valid"], true);
    assert_eq!(app.verify(&old_code, None).await.body["valid"], true);
    let ttl = i64::from(app.app.settings.code_ttl_secs);
    // Past its expiry and the verifiers' leeway for clocks that differ.
    app.clock()
        .advance(Duration::seconds(ttl) + Duration::minutes(5));
    let r = app.verify(&old_code, None).await;
    assert_eq!(r.body["valid"], false, "{}", r.text);
    assert_eq!(r.body["reason"], "CODE_EXPIRED");

    // With a card ordered, a later change offers ordering it again.
    let r = app
        .post(
            "/api/v1/me/physical-card",
            &json!({"pickup_station": "海珠区江南中街派出所"}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .change_address(
            &chen.access,
            &json!({"city": "广州", "district": "天河", "address": "体育西路1号", "since": ymd(app.clock().today())}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["card_reissue_offered"], true);
    assert_eq!(r.body["permit"]["version"], 3);
    assert_eq!(
        r.body["permit"]["residence_address"],
        "广州市天河区体育西路1号"
    );
}

#[tokio::test]
async fn another_city_needs_a_new_application_which_ends_the_old_permit_when_issued() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let old_no = app.permit_no(&chen.access).await;
    let old_code = app.code(&chen.access).await;
    let mut body = haizhu(app.clock().today());
    body["city"] = json!("佛山市");
    body["district"] = json!("南海区");
    let r = app.change_address(&chen.access, &body).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "CITY_CHANGE_NEEDS_NEW_APPLICATION");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("佛山市") && message.contains("重新申领"),
        "{message}"
    );
    body["city"] = json!("深圳市");
    let r = app.change_address(&chen.access, &body).await;
    assert_eq!(
        r.body["error"]["code"], "REGION_NOT_SUPPORTED",
        "{}",
        r.text
    );
    // Nothing was signed.
    assert_eq!(
        app.get("/api/v1/me/permit", Some(&chen.access)).await.body["version"],
        1
    );

    // The new application there is taken although a permit of 广州市 is held.
    chen_moves_to_foshan(&app).await;
    let r = app
        .apply(
            &chen.access,
            &json!({"city": "佛山市", "district": "南海区", "address": "桂城街道南海大道1号",
                    "residence_since": "2025-01-01", "basis": "employment"}),
            None,
        )
        .await;
    assert_eq!(r.body["status"], "issued", "{}", r.text);
    let new_no = r.body["permit_no"].as_str().unwrap().to_owned();
    assert!(new_no.starts_with("440600"), "{new_no}");
    assert_eq!(app.permit_no(&chen.access).await, new_no);
    assert_eq!(app.permit_status(&chen.access).await, "valid");
    // The permit of the old city ended with the move.
    assert!(app.permit_row(&old_no).await.revoked_at.is_some());
    let agency = app
        .agency(
            41,
            "佛山市南海区人力资源和社会保障局",
            &["permit:verify"],
            &["name"],
        )
        .await;
    let r = app.verify(&old_code, Some(&agency.token)).await;
    assert_eq!(r.body["reason"], "PERMIT_REVOKED", "{}", r.text);
    // In the same city a second permit is still refused.
    let r = app
        .apply(
            &chen.access,
            &json!({"city": "佛山市", "district": "顺德区", "address": "大良街道1号",
                    "residence_since": "2025-01-01", "basis": "employment"}),
            None,
        )
        .await;
    assert_eq!(r.body["error"]["code"], "PERMIT_ALREADY_HELD", "{}", r.text);
}

#[tokio::test]
async fn a_permit_suspended_for_a_missed_endorsement_is_endorsed_before_its_address_changes() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    app.set_permit_dates(&permit_no, Some(days_ago(1)), None)
        .await;
    assert_eq!(app.permit_status(&chen.access).await, "suspended");
    let r = app
        .change_address(&chen.access, &haizhu(app.clock().today()))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "ENDORSEMENT_REQUIRED");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("先办理签注"),
        "{}",
        r.text
    );
    assert_eq!(app.endorse(&chen.access).await.status, 201);
    let r = app
        .change_address(&chen.access, &haizhu(app.clock().today()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["permit"]["status"], "valid");
    assert_eq!(r.body["permit"]["version"], 3);
}

#[tokio::test]
async fn revoked_expired_and_absent_permits_change_no_address() {
    let app = spawn_app().await;
    let today = app.clock().today();
    let unbound = app.login_dev("no-identity").await;
    let r = app.change_address(&unbound.access, &haizhu(today)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let wang = app.bound_resident("no-permit", WANG_NAME, WANG_ID).await;
    let r = app.change_address(&wang.access, &haizhu(today)).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "PERMIT_NOT_FOUND");

    let (expired, expired_no) = app.resident_with_permit(5).await;
    app.set_permit_dates(&expired_no, Some(days_ago(10)), Some(days_ago(1)))
        .await;
    let r = app
        .change_address(
            &expired.access,
            &json!({"district": "白云区", "address": "某路1号", "since": ymd(today)}),
        )
        .await;
    assert_eq!(r.body["error"]["code"], "PERMIT_EXPIRED", "{}", r.text);

    let (revoked, revoked_no) = app.resident_with_permit(6).await;
    app.revoke_permit(&revoked_no).await;
    let r = app
        .change_address(
            &revoked.access,
            &json!({"district": "白云区", "address": "某路1号", "since": ymd(today)}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "PERMIT_REVOKED");
}

#[tokio::test]
async fn bad_inputs_are_refused_with_chinese_messages_and_sign_nothing() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let today = app.clock().today();
    let cases = [
        (
            json!({"district": "朝阳区", "address": "某路1号", "since": ymd(today)}),
            422,
            "UNKNOWN_DISTRICT",
        ),
        (
            json!({"city": "北京市", "district": "朝阳区", "address": "某路1号", "since": ymd(today)}),
            422,
            "UNKNOWN_CITY",
        ),
        (
            json!({"district": "海珠区", "address": "  ", "since": ymd(today)}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"district": "海珠区", "address": "长".repeat(121), "since": ymd(today)}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"district": "海珠区", "address": "某路1号", "since": "2026/01/01"}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"district": "海珠区", "address": "某路1号", "since": ymd(today + Duration::days(1))}),
            422,
            "VALIDATION_FAILED",
        ),
        // Before the permit was issued: that address is the one it printed.
        (
            json!({"district": "海珠区", "address": "某路1号", "since": ymd(today - Duration::days(1))}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"address": "某路1号", "since": ymd(today)}),
            400,
            "INVALID_JSON",
        ),
        (json!(["海珠区"]), 400, "INVALID_JSON"),
    ];
    for (body, status, code) in cases {
        let r = app.change_address(&chen.access, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["code"], code, "{body}: {}", r.text);
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(is_chinese(message), "{body}: {message}");
    }
    let r = app
        .change_address(
            &chen.access,
            &json!({"district": "海珠区", "address": "某路1号", "since": ymd(today - Duration::days(1))}),
        )
        .await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("签发日期"),
        "{}",
        r.text
    );
    assert_eq!(
        app.get("/api/v1/me/permit", Some(&chen.access)).await.body["version"],
        1
    );
}

#[tokio::test]
async fn the_bot_changes_the_address_in_the_city_and_starts_an_application_for_another() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let chat = app.chat();
    let user = "u-move";
    app.say(&chat, user, "绑定 dev:demo-chen").await;

    let replies = app.say(&chat, user, "我要改地址").await;
    assert!(replies.join("").contains("广州市"), "{replies:?}");
    let replies = app.say(&chat, user, "海珠").await;
    assert!(replies.join("").contains("海珠区"), "{replies:?}");
    app.say(&chat, user, "江南大道中100号302房").await;
    let today = app.clock().today();
    let replies = app.say(&chat, user, &ymd(today)).await;
    assert!(
        replies
            .join("")
            .contains("广州市海珠区江南大道中100号302房"),
        "{replies:?}"
    );
    let replies = app.say(&chat, user, "确认").await;
    assert!(replies.join("").contains("居住地址已变更"), "{replies:?}");
    let permit = app.get("/api/v1/me/permit", Some(&chen.access)).await.body;
    assert_eq!(permit["version"], 2);
    assert_eq!(
        permit["residence_address"],
        "广州市海珠区江南大道中100号302房"
    );

    // Another city: the same refusal as the API's, and the application there begins.
    chen_moves_to_foshan(&app).await;
    let replies = app.say(&chat, user, "搬家了").await;
    assert!(replies.join("").contains("区县"), "{replies:?}");
    let replies = app.say(&chat, user, "佛山南海").await;
    let all = replies.join("\n");
    assert!(
        all.contains("佛山市") && all.contains("重新申领"),
        "{replies:?}"
    );
    assert!(
        matches!(
            app.state_of(user).await,
            bot::state::State::Apply {
                step: bot::state::ApplyStep::Address { .. },
                ..
            }
        ),
        "{:?}",
        app.state_of(user).await
    );
    app.say(&chat, user, "桂城街道南海大道1号").await;
    app.say(&chat, user, "2025-01-01").await;
    app.say(&chat, user, "1").await;
    let replies = app.say(&chat, user, "确认").await;
    assert!(replies.join("").contains("440600"), "{replies:?}");
    assert!(app.permit_no(&chen.access).await.starts_with("440600"));
}
