//! A residence registration that ends in the government data: the holder is told at once on
//! every channel they have, with the days they have; without a new address in time the daily
//! sweep suspends the permit (an act in the status list, so every verifier agrees); an
//! address change restores it.

use chrono::{Duration, NaiveDate};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use service::notices::outbox::{Notice, open_notice};
use service::permit::registration_end::suspend_overdue;

use crate::fake_platform::subscribe::Grant;
use crate::helpers::*;

/// The registration template of the test mini-program.
const TPL_ENDED: &str = "tpl-registration-ended";
const CHEN_OPENID: &str = "dev:demo-chen";
const CHEN_FOLLOWER: &str = "with-union.dev:demo-chen";

fn ymd(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Staff load the government data: `id_number`'s registrations in 广州市, as given.
async fn registrations(app: &TestApp, id_number: &str, records: &[Value]) -> Reply {
    let admin = app.admin_token().await;
    let records: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["id_number"] = json!(id_number);
            r
        })
        .collect();
    let r = app
        .post(
            "/api/v1/staff/gov-records",
            &json!({"residence_registrations": records}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

/// The registration in 白云区 every numbered resident has, ended on `until`.
fn ended_in_baiyun(until: NaiveDate) -> Value {
    json!({"city": "广州市", "district": "白云区", "address": "广州市白云区某路2号",
           "since": "2024-03-01", "until": ymd(until)})
}

async fn outbox(app: &TestApp) -> Vec<entity::outbox::Model> {
    entity::outbox::Entity::find()
        .all(&app.app.db)
        .await
        .unwrap()
}

async fn registration_notices(app: &TestApp) -> Vec<entity::outbox::Model> {
    outbox(app)
        .await
        .into_iter()
        .filter(|r| r.kind == "registration_ended")
        .collect()
}

/// The entry of the holder's place in the status list as served and verified offline.
async fn list_entry(app: &TestApp, token: &str) -> service::verify::status_list::Lookup {
    let permit = app.get("/api/v1/me/permit", Some(token)).await;
    let uri = permit.body["status_list"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let idx = permit.body["status_list"]["idx"].as_u64().unwrap() as usize;
    let served = app.get(&uri, None).await;
    assert_eq!(served.status, 200, "{}", served.text);
    let keys: Vec<service::keys::signing::PublishedKey> =
        serde_json::from_value(app.get("/api/v1/keys", None).await.body["keys"].clone()).unwrap();
    let list =
        service::verify::status_list::verify(&served.text, &keys, app.clock().now()).unwrap();
    list.status(idx)
}

#[tokio::test]
async fn an_ended_registration_is_told_at_once_on_every_channel_with_the_days_left() {
    // A mailer that reaches nobody: the e-mail row is queued, its delivery is not the test.
    let mut vars = wechat_vars();
    vars.push(("YUEJU_SMTP_URL", "smtp://127.0.0.1:9"));
    let app = spawn_app_with(&vars).await;
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    assert_eq!(
        app.set_email(&chen.access, "chen@example.com").await.status,
        200
    );
    // A chat user who wrote just now, and an accepted subscribe template.
    let r = app
        .wechat_push(&wechat_text(CHEN_FOLLOWER, 1, "你好"), now())
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            "/api/v1/me/subscriptions",
            &json!({"app": "yss", "results": {TPL_ENDED: "accept"}}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.platform
        .grant_subscription(CHEN_OPENID, TPL_ENDED, Grant::Credits(1));

    let until = app.clock().today() - Duration::days(2);
    let register_by = until + Duration::days(30);
    let ended = json!({"city": "广州市", "district": "天河区", "address": "广州市天河区天河路385号501房",
                       "since": "2024-01-15", "until": ymd(until)});
    registrations(&app, CHEN_ID, std::slice::from_ref(&ended)).await;

    assert_eq!(
        app.permit_row(&permit_no).await.registration_ended_on,
        Some(until)
    );
    let rows = registration_notices(&app).await;
    let mut channels: Vec<&str> = rows.iter().filter_map(|r| r.channel.as_deref()).collect();
    channels.sort_unstable();
    assert_eq!(channels, ["email", "subscribe", "wechat"], "{rows:?}");
    for row in &rows {
        assert_eq!(
            open_notice(&app.app, row).unwrap(),
            Notice::RegistrationEnded {
                permit_no: permit_no.clone(),
                city: "广州市".into(),
                until,
                days: 30,
                register_by,
            }
        );
    }
    let text = service::notices::notice_text::render(&open_notice(&app.app, &rows[0]).unwrap());
    assert!(text.body.contains("30日内"), "{}", text.body);
    assert!(
        text.body
            .contains(&register_by.format("%Y年%-m月%-d日").to_string()),
        "{}",
        text.body
    );
    // Still in force: the holder has time.
    assert_eq!(app.permit_status(&chen.access).await, "valid");

    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/staff/reminders/run",
            &json!({"deliver": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["sent"], 2, "{}", r.text);
    let sent = app.platform.subscribe_messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["template_id"], TPL_ENDED);
    assert_eq!(
        sent[0]["data"]["date4"]["value"],
        register_by.format("%Y年%m月%d日").to_string()
    );
    let chats = app.platform.customer_messages();
    assert_eq!(chats.len(), 1, "{chats:?}");
    assert_eq!(chats[0].1, CHEN_FOLLOWER);
    assert!(chats[0].2.contains("30日内"), "{}", chats[0].2);

    // The same data sent again tells nobody twice.
    registrations(&app, CHEN_ID, &[ended]).await;
    assert_eq!(registration_notices(&app).await.len(), 3);
}

#[tokio::test]
async fn a_registration_still_open_in_the_city_or_ended_in_another_city_ends_nothing() {
    let app = spawn_app().await;
    let (tokens, permit_no) = app.resident_with_permit(1).await;
    let id = resident_id_number(1);
    let until = app.clock().today() - Duration::days(1);
    let open_elsewhere_in_city = json!({"city": "广州市", "district": "海珠区",
        "address": "广州市海珠区某路9号", "since": ymd(until)});
    registrations(&app, &id, &[ended_in_baiyun(until), open_elsewhere_in_city]).await;
    let ended_in_foshan = json!({"city": "佛山市", "district": "南海区", "address": "佛山市南海区某路1号",
        "since": "2023-01-01", "until": "2024-02-01"});
    registrations(
        &app,
        &id,
        &[
            ended_in_foshan,
            json!({"city": "广州市", "district": "白云区", "address": "广州市白云区某路2号", "since": "2024-03-01"}),
        ],
    )
    .await;
    assert_eq!(app.permit_row(&permit_no).await.registration_ended_on, None);
    assert!(registration_notices(&app).await.is_empty());
    assert_eq!(app.permit_status(&tokens.access).await, "valid");
}

#[tokio::test]
async fn an_end_before_its_start_or_in_the_future_is_refused_record_by_record() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = resident_id_number(2);
    let r = app
        .post(
            "/api/v1/staff/gov-records",
            &json!({"residence_registrations": [
                {"id_number": id, "city": "广州市", "district": "白云区", "address": "某路2号", "since": "2024-03-01", "until": "2024-02-01"},
                {"id_number": id, "city": "广州市", "district": "白云区", "address": "某路2号", "since": "2024-03-01", "until": days_ahead(5)},
                {"id_number": id, "city": "广州市", "district": "白云区", "address": "某路2号", "since": "2024-03-01", "until": "2024/05/01"}
            ]}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let codes: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["FIELD_INVALID", "DATE_IN_FUTURE", "FIELD_INVALID"],
        "{}",
        r.text
    );
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("结束日期"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn without_a_new_address_in_time_the_permit_is_suspended_the_day_after_and_a_change_restores_it()
 {
    let app = spawn_app().await;
    let (tokens, permit_no) = app.resident_with_permit(3).await;
    let day0 = app.clock().today();
    registrations(&app, &resident_id_number(3), &[ended_in_baiyun(day0)]).await;

    // The count of residence ended with the registration.
    let years = app
        .get("/api/v1/me/residence-years", Some(&tokens.access))
        .await;
    assert_eq!(years.status, 200, "{}", years.text);
    let last = years.body["periods"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["ended_by"], "registration_ended", "{}", years.text);
    assert_eq!(last["to"], ymd(day0), "{}", years.text);
    assert_eq!(years.body["continuous"], json!([]), "{}", years.text);

    // The last day to register a new address: still in force, and the sweep leaves it.
    app.set_today(day0 + Duration::days(30));
    assert_eq!(suspend_overdue(&app.app).await.unwrap().suspended, 0);
    assert_eq!(app.permit_status(&tokens.access).await, "valid");
    let code = app.code(&tokens.access).await;
    assert_eq!(app.verify(&code, None).await.body["valid"], true);

    // The day after: suspended, once, by an act every verifier reads.
    app.set_today(day0 + Duration::days(31));
    assert_eq!(suspend_overdue(&app.app).await.unwrap().suspended, 1);
    assert_eq!(suspend_overdue(&app.app).await.unwrap().suspended, 0);
    assert_eq!(app.permit_status(&tokens.access).await, "suspended");
    let code = app.code(&tokens.access).await;
    let r = app.verify(&code, None).await;
    assert_eq!(r.body["valid"], false, "{}", r.text);
    assert_eq!(r.body["reason"], "PERMIT_SUSPENDED", "{}", r.text);
    assert_eq!(
        list_entry(&app, &tokens.access).await,
        service::verify::status_list::Lookup::Known(
            service::verify::status_list::Status::Suspended
        )
    );
    let agency = app
        .agency(
            31,
            "广州市白云区人力资源和社会保障局",
            &["permit:verify"],
            &["name"],
        )
        .await;
    let r = app.verify(&code, Some(&agency.token)).await;
    assert_eq!(r.body["reason"], "PERMIT_SUSPENDED", "{}", r.text);
    let changes = entity::status_change::Entity::find()
        .all(&app.app.db)
        .await
        .unwrap()
        .len();

    // A new address afterwards: in force again, the count of residence restarted today.
    let today = app.clock().today();
    let r = app
        .change_address(
            &tokens.access,
            &json!({"district": "白云区", "address": "白云大道北1700号", "since": ymd(today)}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["restored"], true, "{}", r.text);
    assert_eq!(r.body["permit"]["status"], "valid", "{}", r.text);
    assert_eq!(r.body["permit"]["continuous_since"], ymd(today));
    assert_eq!(app.permit_status(&tokens.access).await, "valid");
    let code = app.code(&tokens.access).await;
    assert_eq!(app.verify(&code, None).await.body["valid"], true);
    assert_eq!(
        list_entry(&app, &tokens.access).await,
        service::verify::status_list::Lookup::Known(service::verify::status_list::Status::Valid)
    );
    let row = app.permit_row(&permit_no).await;
    assert_eq!((row.registration_ended_on, row.suspended_at), (None, None));
    let years = app
        .get("/api/v1/me/residence-years", Some(&tokens.access))
        .await;
    assert_eq!(
        years.body["continuous"][0]["city"], "广州市",
        "{}",
        years.text
    );
    assert_eq!(
        years.body["continuous"][0]["since"],
        ymd(today),
        "{}",
        years.text
    );
    // Nothing left for the sweep: a day later it suspends nothing again.
    app.set_today(today + Duration::days(1));
    assert_eq!(suspend_overdue(&app.app).await.unwrap().suspended, 0);
    assert_eq!(
        entity::status_change::Entity::find()
            .all(&app.app.db)
            .await
            .unwrap()
            .len(),
        changes + 1
    );
}

#[tokio::test]
async fn a_new_address_in_time_replaces_the_registration_and_nothing_is_suspended() {
    let app = spawn_app().await;
    let (tokens, permit_no) = app.resident_with_permit(4).await;
    let day0 = app.clock().today();
    let continuous_since = app
        .get("/api/v1/me/permit", Some(&tokens.access))
        .await
        .body["continuous_since"]
        .clone();
    registrations(&app, &resident_id_number(4), &[ended_in_baiyun(day0)]).await;
    assert_eq!(registration_notices(&app).await.len(), 1);

    app.set_today(day0 + Duration::days(10));
    let r = app
        .change_address(
            &tokens.access,
            &json!({"city": "广州市", "district": "海珠区", "address": "江南大道中100号302房",
                    "since": ymd(day0 + Duration::days(8))}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["restored"], false, "{}", r.text);
    // In time: the count of residence goes on.
    assert_eq!(r.body["permit"]["continuous_since"], continuous_since);
    let years = app
        .get("/api/v1/me/residence-years", Some(&tokens.access))
        .await;
    assert_eq!(
        years.body["continuous"][0]["since"], continuous_since,
        "{}",
        years.text
    );
    assert_eq!(app.permit_row(&permit_no).await.registration_ended_on, None);

    app.set_today(day0 + Duration::days(40));
    assert_eq!(suspend_overdue(&app.app).await.unwrap().suspended, 0);
    assert_eq!(app.permit_status(&tokens.access).await, "valid");

    // The same ended registration sent again is the one replaced: nothing ends, nobody is told.
    registrations(&app, &resident_id_number(4), &[ended_in_baiyun(day0)]).await;
    assert_eq!(app.permit_row(&permit_no).await.registration_ended_on, None);
    assert_eq!(registration_notices(&app).await.len(), 1);
}
