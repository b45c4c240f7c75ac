//! `GET /api/v1/labels`: the Chinese label of every value the screens show, public and
//! cacheable; and what happens when a stored status is outside its vocabulary.

use entity::statuses::{ApplicationStatus, CardOrderStatus, OutboxStatus, RequestStatus};
use sea_orm::Iterable;
use serde_json::Value;
use service::applying::eligibility::{Basis, MaterialKind};
use service::consent::access_log::Action;
use service::consent::grants::GrantStatus;
use service::domain::Gender;
use service::domain::permit_rules::PermitStatus;
use service::identity::wechat::subscribe::TemplateKind;
use service::permit::fields::PermitField;
use service::verify::verification::VerifyReason;

use crate::helpers::*;

/// The names values go by in the API's JSON.
fn wire<T: serde::Serialize>(values: impl IntoIterator<Item = T>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Every vocabulary the H5 shows, with every value of it, named from the domain's own types.
fn expected() -> Vec<(&'static str, Vec<String>)> {
    let access_actions = Action::ALL.iter().map(|a| a.as_str().to_owned());
    let subscription_kinds = TemplateKind::ALL.iter().map(|k| k.as_str().to_owned());
    vec![
        ("application_status", wire(ApplicationStatus::iter())),
        ("authorization_request_status", wire(RequestStatus::iter())),
        ("grant_status", wire(GrantStatus::ALL)),
        ("card_order_status", wire(CardOrderStatus::iter())),
        ("outbox_status", wire(OutboxStatus::iter())),
        ("permit_status", wire(PermitStatus::ALL)),
        ("gender", wire(Gender::ALL)),
        ("verify_reason", wire(VerifyReason::ALL)),
        ("permit_field", wire(PermitField::ALL)),
        ("material_kind", wire(MaterialKind::ALL)),
        ("basis", wire(Basis::ALL)),
        ("access_action", access_actions.collect()),
        ("subscription_kind", subscription_kinds.collect()),
    ]
}

fn is_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[tokio::test]
async fn the_labels_endpoint_words_every_value_of_each_vocabulary_in_chinese() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/labels", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for (vocabulary, values) in expected() {
        let table = r.body[vocabulary]
            .as_object()
            .unwrap_or_else(|| panic!("no vocabulary {vocabulary}: {}", r.text));
        assert_eq!(table.len(), values.len(), "{vocabulary}: {table:?}");
        for value in values {
            let label = table.get(&value).and_then(Value::as_str).unwrap_or("");
            assert!(is_chinese(label), "{vocabulary}.{value} reads {label:?}");
        }
    }
    // The labels the H5 showed from its own tables before, word for word.
    assert_eq!(r.body["application_status"]["pending_review"], "待审核");
    assert_eq!(r.body["grant_status"]["revoked"], "已撤回");
    assert_eq!(r.body["permit_status"]["suspended"], "暂停使用");
    assert_eq!(r.body["basis"]["employment"], "合法稳定就业");
    assert_eq!(
        r.body["subscription_kind"]["registration_ended"],
        "居住登记变更通知"
    );
}

#[tokio::test]
async fn the_labels_are_public_cacheable_and_validated_by_their_etag() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/labels", None).await;
    assert_eq!(r.status, 200);
    let header = |name: &str| {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header("cache-control"), "public, max-age=3600");
    let etag = header("etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag:?}");

    let again = app
        .client
        .get(app.url("/api/v1/labels"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);

    let stale = app
        .client
        .get(app.url("/api/v1/labels"))
        .header("If-None-Match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 200);
}

#[tokio::test]
async fn a_stored_status_outside_its_vocabulary_is_an_internal_error_with_context() {
    use sea_orm::ConnectionTrait;

    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    let list = app.get("/api/v1/applications", Some(&tokens.access)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();

    app.app
        .db
        .execute_unprepared("UPDATE applications SET status = 'archived'")
        .await
        .unwrap();

    let r = app
        .get(&format!("/api/v1/applications/{id}"), Some(&tokens.access))
        .await;
    r.assert_error(500, "INTERNAL");
    assert!(!r.text.contains("archived"), "{}", r.text);
    let log = captured_log();
    assert!(
        log.contains("archived") && log.contains("ApplicationStatus"),
        "the log names the value and its vocabulary"
    );
    // The server is still serving.
    let again = app.get("/api/v1/labels", None).await;
    assert_eq!(again.status, 200);
}
