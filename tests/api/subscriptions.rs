//! Subscribe messages (订阅消息): what the mini-program and the platform's events report is
//! recorded per person and template, and each notice goes by the first channel that reaches
//! the person: a subscribe message while a credit or a long-term subscription lasts, a
//! customer message to a chat user who wrote within 48 hours, else e-mail.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::fake_platform::subscribe::Grant;
use crate::helpers::*;
use crate::smtp::SmtpSink;

const SEND: &str = "/cgi-bin/message/subscribe/send";
/// The openid of demo-chen's 粤省事 login (dev login codes keep the code as the openid).
const CHEN_OPENID: &str = "dev:demo-chen";
/// A follower of the official account sharing demo-chen's unionid: the bot links it.
const CHEN_FOLLOWER: &str = "with-union.dev:demo-chen";

async fn record(app: &TestApp, token: &str, results: Value) -> Reply {
    app.post(
        "/api/v1/me/subscriptions",
        &json!({"app": "yss", "results": results}),
        Some(token),
    )
    .await
}

async fn subscriptions(app: &TestApp, token: &str) -> Value {
    let r = app.get("/api/v1/me/subscriptions", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn item<'a>(list: &'a Value, template_id: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["template_id"] == template_id)
        .unwrap_or_else(|| panic!("no {template_id} in {list}"))
}

async fn credits(app: &TestApp, token: &str, template_id: &str) -> i64 {
    item(&subscriptions(app, token).await, template_id)["credits"]
        .as_i64()
        .unwrap()
}

async fn deliver(app: &TestApp) -> Value {
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/staff/reminders/run",
            &json!({"deliver": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn outbox(app: &TestApp) -> Vec<entity::outbox::Model> {
    entity::outbox::Entity::find()
        .all(&app.app.db)
        .await
        .unwrap()
}

/// Chen holds a permit whose endorsement window is open; answers his token and permit number.
async fn chen_due(app: &TestApp) -> (Tokens, String) {
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    (chen, permit_no)
}

/// Chen's chat user writes to the official account now (and is linked by unionid).
async fn chen_chats(app: &TestApp) {
    let r = app
        .wechat_push(&wechat_text(CHEN_FOLLOWER, 1, "你好"), now())
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Moves the chat user's last message `hours` into the past.
async fn chat_silent_for(app: &TestApp, hours: i64) {
    let updated = entity::chat_link::Entity::update_many()
        .col_expr(
            entity::chat_link::Column::LastMessageAt,
            Expr::value(Some(chrono::Utc::now() - chrono::Duration::hours(hours))),
        )
        .filter(entity::chat_link::Column::ChannelUser.eq(CHEN_FOLLOWER))
        .exec(&app.app.db)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected, 1);
}

/// Pushes XML to a mini-program's message push, signed with the test token at `timestamp`.
async fn push(app: &TestApp, mini: &str, body: &str, timestamp: i64) -> Reply {
    let ts = timestamp.to_string();
    let nonce = "n0nce";
    let signature = service::identity::wechat::signature::sign(WECHAT_TOKEN, &ts, nonce);
    let r = app
        .client
        .post(app.url(&format!(
            "/api/v1/wechat/miniprogram/{mini}?signature={signature}&timestamp={ts}&nonce={nonce}"
        )))
        .header("content-type", "text/xml")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    reply(r).await
}

fn event_xml(openid: &str, time: i64, event: &str, container: &str, lists: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_yss]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{time}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event><{container}>{lists}</{container}></xml>"
    )
}

/// A `subscribe_msg_popup_event` with one List per (template, status).
fn popup(openid: &str, time: i64, answers: &[(&str, &str)]) -> String {
    let lists: String = answers
        .iter()
        .map(|(t, s)| format!("<List><TemplateId><![CDATA[{t}]]></TemplateId><SubscribeStatusString><![CDATA[{s}]]></SubscribeStatusString><PopupScene>0</PopupScene></List>"))
        .collect();
    event_xml(
        openid,
        time,
        "subscribe_msg_popup_event",
        "SubscribeMsgPopupEvent",
        &lists,
    )
}

fn change(openid: &str, time: i64, template: &str, status: &str) -> String {
    event_xml(
        openid,
        time,
        "subscribe_msg_change_event",
        "SubscribeMsgChangeEvent",
        &format!(
            "<List><TemplateId>{template}</TemplateId><SubscribeStatusString>{status}</SubscribeStatusString></List>"
        ),
    )
}

#[tokio::test]
async fn each_one_time_accept_adds_a_credit_and_a_long_term_accept_stays_on_until_turned_off() {
    let app = spawn_app().await;
    let chen = app.login_dev("demo-chen").await;
    let t = chen.access.as_str();

    let r = record(&app, t, json!({TPL_ENDORSEMENT: "accept"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let e = item(&r.body, TPL_ENDORSEMENT);
    assert_eq!(e["kind"], "endorsement_due");
    assert_eq!(e["mode"], "one_time");
    assert_eq!(e["credits"], 1);
    assert_eq!(e["status"], "accept");
    // The post answers what GET answers, with the configured templates to ask for.
    assert_eq!(r.body, subscriptions(&app, t).await);
    assert_eq!(r.body["app"], "yss");
    assert_eq!(r.body["templates"].as_array().unwrap().len(), 6);

    // The mini-program posts the result object as wx.requestSubscribeMessage gives it.
    let r = record(
        &app,
        t,
        json!({"errMsg": "requestSubscribeMessage:ok", TPL_ENDORSEMENT: "accept", TPL_EXPIRY: "accept", TPL_DECISION: "filter"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(item(&r.body, TPL_ENDORSEMENT)["credits"], 2);
    let expiry = item(&r.body, TPL_EXPIRY);
    assert_eq!(expiry["mode"], "long_term");
    assert_eq!(expiry["status"], "accept");
    assert_eq!(expiry["credits"], 0);
    // A filtered template was never asked: nothing is recorded for it.
    assert!(
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["template_id"] != TPL_DECISION)
    );

    // Accepting a long-term template again changes nothing; a reject turns it off, a ban too.
    record(&app, t, json!({TPL_EXPIRY: "accept"})).await;
    assert_eq!(credits(&app, t, TPL_EXPIRY).await, 0);
    let r = record(
        &app,
        t,
        json!({TPL_EXPIRY: "reject", TPL_ENDORSEMENT: "ban"}),
    )
    .await;
    assert_eq!(item(&r.body, TPL_EXPIRY)["status"], "reject");
    assert_eq!(item(&r.body, TPL_ENDORSEMENT)["status"], "ban");
    assert_eq!(item(&r.body, TPL_ENDORSEMENT)["credits"], 2);

    // Every login of the person sees the same subscriptions.
    let yjm = app.login("yjm", "dev:demo-chen").await;
    let yjm = yjm.body["access_token"].as_str().unwrap();
    assert_eq!(
        item(&subscriptions(&app, yjm).await, TPL_ENDORSEMENT)["status"],
        "ban"
    );
}

#[tokio::test]
async fn unknown_templates_unknown_answers_and_other_mini_programs_are_refused_whole() {
    let app = spawn_app().await;
    let chen = app.login_dev("demo-chen").await;
    let t = chen.access.as_str();

    let r = record(
        &app,
        t,
        json!({TPL_ENDORSEMENT: "accept", "tpl-unknown": "accept"}),
    )
    .await;
    r.assert_error(422, "VALIDATION_FAILED");
    assert!(r.message().contains("订阅结果"), "{}", r.text);
    // Nothing of that post was recorded, not even the known template.
    assert_eq!(subscriptions(&app, t).await["items"], json!([]));

    record(&app, t, json!({TPL_ENDORSEMENT: "maybe"}))
        .await
        .assert_error(422, "VALIDATION_FAILED");
    app.post(
        "/api/v1/me/subscriptions",
        &json!({"app": "yjm", "results": {TPL_ENDORSEMENT: "accept"}}),
        Some(t),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    app.post(
        "/api/v1/me/subscriptions",
        &json!({"app": "wx", "results": {}}),
        Some(t),
    )
    .await
    .assert_error(422, "UNKNOWN_APP");
    app.post("/api/v1/me/subscriptions", &json!({"app": "yss"}), Some(t))
        .await
        .assert_error(400, "INVALID_JSON");
    app.post(
        "/api/v1/me/subscriptions",
        &json!({"app": "yss", "results": {TPL_ENDORSEMENT: 1}}),
        Some(t),
    )
    .await
    .assert_error(400, "INVALID_JSON");
    assert_eq!(subscriptions(&app, t).await["items"], json!([]));
}

#[tokio::test]
async fn a_login_with_no_bound_identity_has_no_subscriptions_to_keep() {
    let app = spawn_app().await;
    let nobody = app.login_dev("not-bound-yet").await;
    app.get("/api/v1/me/subscriptions", Some(&nobody.access))
        .await
        .assert_error(403, "IDENTITY_REQUIRED");
    record(&app, &nobody.access, json!({TPL_ENDORSEMENT: "accept"}))
        .await
        .assert_error(403, "IDENTITY_REQUIRED");
    app.get("/api/v1/me/subscriptions", None)
        .await
        .assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_reminder_goes_by_subscribe_message_and_spends_exactly_one_credit() {
    let app = spawn_app_with(&wechat_vars()).await;
    let (chen, permit_no) = chen_due(&app).await;
    // A chat user who wrote just now: the subscribe message still comes first.
    chen_chats(&app).await;
    record(&app, &chen.access, json!({TPL_ENDORSEMENT: "accept"})).await;
    record(&app, &chen.access, json!({TPL_ENDORSEMENT: "accept"})).await;
    app.platform
        .grant_subscription(CHEN_OPENID, TPL_ENDORSEMENT, Grant::Credits(2));

    let r = deliver(&app).await;
    assert_eq!(r["sent"], 1, "{r}");
    let sent = app.platform.subscribe_messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, entity::statuses::OutboxStatus::Sent);
    assert_eq!(rows[0].channel.as_deref(), Some("subscribe"));
    assert_eq!(m["touser"], CHEN_OPENID);
    assert_eq!(m["template_id"], TPL_ENDORSEMENT);
    assert_eq!(m["miniprogram_state"], "formal");
    assert_eq!(m["lang"], "zh_CN");
    // The notice's id travels with the message, so a duplicate can be recognised.
    assert_eq!(
        m["page"],
        format!("pages/index/index?notice={}", rows[0].id)
    );
    assert_eq!(m["data"]["character_string2"]["value"], permit_no.as_str());
    let due = chrono::NaiveDate::parse_from_str(&days_ahead(10), "%Y-%m-%d").unwrap();
    assert_eq!(
        m["data"]["date3"]["value"],
        due.format("%Y年%m月%d日").to_string()
    );
    assert!(!m.to_string().contains(CHEN_NAME));
    assert!(app.platform.customer_messages().is_empty());

    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 1);
    assert_eq!(
        app.platform
            .subscription_grant(CHEN_OPENID, TPL_ENDORSEMENT),
        Some(Grant::Credits(1))
    );
    // Nothing more to send: the credit left stays.
    assert_eq!(deliver(&app).await["sent"], 0);
    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 1);
}

#[tokio::test]
async fn without_a_credit_a_reminder_goes_by_customer_message_to_a_chat_user_who_wrote_lately() {
    let app = spawn_app_with(&wechat_vars()).await;
    let (chen, _) = chen_due(&app).await;
    chen_chats(&app).await;
    // Accepted once, and the credit used by an earlier message.
    record(&app, &chen.access, json!({TPL_ENDORSEMENT: "reject"})).await;

    assert_eq!(deliver(&app).await["sent"], 1);
    assert_eq!(app.platform.calls_to(SEND), 0);
    let chats = app.platform.customer_messages();
    assert_eq!(chats.len(), 1, "{chats:?}");
    assert_eq!(chats[0].1, CHEN_FOLLOWER);
    assert!(chats[0].2.contains("签注"), "{}", chats[0].2);
    assert_eq!(outbox(&app).await[0].channel.as_deref(), Some("wechat"));
}

#[tokio::test]
async fn after_48_hours_of_silence_the_chat_is_skipped() {
    // Without e-mail: the notice has no channel left, and the platform is not even asked.
    let app = spawn_app_with(&wechat_vars()).await;
    chen_due(&app).await;
    chen_chats(&app).await;
    chat_silent_for(&app, 49).await;
    let r = deliver(&app).await;
    assert_eq!(r["sent"], 0, "{r}");
    assert_eq!(r["undeliverable"], 1, "{r}");
    assert_eq!(app.platform.calls_to("/cgi-bin/message/custom/send"), 0);
    assert!(app.platform.customer_messages().is_empty());
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn after_48_hours_of_silence_a_reminder_goes_by_email() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let mut vars = wechat_vars();
    vars.push(("YUEJU_SMTP_URL", url.as_str()));
    let app = spawn_app_with(&vars).await;
    let (chen, _) = chen_due(&app).await;
    app.set_email(&chen.access, "chen.zhiqiang@example.com")
        .await;
    chen_chats(&app).await;
    chat_silent_for(&app, 47).await;
    // Within the window: by chat.
    assert_eq!(deliver(&app).await["sent"], 1);
    assert_eq!(app.platform.customer_messages().len(), 1);

    chat_silent_for(&app, 49).await;
    let permit_no = app.permit_no(&chen.access).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(40)), Some(days_ahead(5)))
        .await;
    assert_eq!(deliver(&app).await["sent"], 1);
    assert_eq!(app.platform.customer_messages().len(), 1);
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert!(mails[0]["subject"].as_str().unwrap().contains("到期"));
    let mut channels: Vec<_> = outbox(&app)
        .await
        .into_iter()
        .map(|r| r.channel.unwrap_or_default())
        .collect();
    channels.sort();
    assert_eq!(channels, ["email", "wechat"]);
}

#[tokio::test]
async fn a_refusal_43101_spends_the_credit_and_the_notice_falls_through_to_the_next_channel() {
    let app = spawn_app_with(&wechat_vars()).await;
    let (chen, _) = chen_due(&app).await;
    chen_chats(&app).await;
    // We count a credit; the platform holds none (the user turned the template off).
    record(&app, &chen.access, json!({TPL_ENDORSEMENT: "accept"})).await;

    assert_eq!(deliver(&app).await["sent"], 1);
    assert_eq!(app.platform.refused_subscribe_codes(), [43101]);
    assert!(app.platform.subscribe_messages().is_empty());
    assert_eq!(app.platform.customer_messages().len(), 1);
    assert_eq!(outbox(&app).await[0].channel.as_deref(), Some("wechat"));
    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 0);
}

#[tokio::test]
async fn a_misconfigured_template_is_logged_and_the_notice_falls_through_without_spending() {
    let app = spawn_app_with(&wechat_vars()).await;
    let (chen, _) = chen_due(&app).await;
    chen_chats(&app).await;
    record(&app, &chen.access, json!({TPL_ENDORSEMENT: "accept"})).await;
    app.platform
        .grant_subscription(CHEN_OPENID, TPL_ENDORSEMENT, Grant::Credits(1));
    app.platform.fail_next(SEND, Fault::Errcode(40037));

    assert_eq!(deliver(&app).await["sent"], 1);
    assert_eq!(app.platform.customer_messages().len(), 1);
    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 1);
    assert!(captured_log().contains("does not match the platform"));
}

#[tokio::test]
async fn a_platform_timeout_spends_no_credit_and_the_notice_is_sent_by_a_later_run() {
    let mut vars = wechat_vars();
    vars.extend([
        ("YUEJU_HTTP_TIMEOUT_SECS", "1"),
        ("YUEJU_DELIVERY_BACKOFF_SECS", "0"),
    ]);
    let app = spawn_app_with(&vars).await;
    let (chen, _) = chen_due(&app).await;
    chen_chats(&app).await;
    record(&app, &chen.access, json!({TPL_ENDORSEMENT: "accept"})).await;
    // Two on the platform's side: the stalled call may still be taken after we gave up.
    app.platform
        .grant_subscription(CHEN_OPENID, TPL_ENDORSEMENT, Grant::Credits(2));
    app.platform
        .fail_next(SEND, Fault::Delay(std::time::Duration::from_secs(2)));

    let r = deliver(&app).await;
    assert_eq!(r["sent"], 0, "{r}");
    assert_eq!(r["failed"], 1, "{r}");
    let row = &outbox(&app).await[0];
    assert_eq!(row.status, entity::statuses::OutboxStatus::Pending);
    assert!(
        row.last_error.as_deref().unwrap().contains("timed out"),
        "{:?}",
        row.last_error
    );
    // Not spent, and no other channel was tried: the notice waits for the platform.
    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 1);
    assert!(app.platform.customer_messages().is_empty());

    // A platform answering 503 is the same: later.
    app.platform.fail_next(SEND, Fault::Http(503));
    let r = deliver(&app).await;
    assert_eq!(r["failed"], 1, "{r}");
    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 1);

    let r = deliver(&app).await;
    assert_eq!(r["sent"], 1, "{r}");
    let row = &outbox(&app).await[0];
    assert_eq!(row.channel.as_deref(), Some("subscribe"));
    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 0);
}

#[tokio::test]
async fn a_long_chinese_notice_is_shortened_to_what_the_platform_accepts() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    record(&app, &chen.access, json!({TPL_REQUEST: "accept"})).await;
    app.platform
        .grant_subscription(CHEN_OPENID, TPL_REQUEST, Grant::Credits(1));
    let name = "广州市天河区人力资源和社会保障局社会保险基金管理中心第一服务窗口";
    let agency = app.agency(61, name, &["permit:download"], &["name"]).await;
    let code = app.code(&chen.access).await;
    let r = app
        .ask_access(
            &agency,
            &code,
            // No emoji here: a purpose the annotated copy cannot print is refused up front
            // (copy_pdf.rs); the notice's own emoji stripping is tested in `subscribe`.
            "办理社会保障卡申领及社保待遇资格认证等相关业务手续",
            3,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    assert_eq!(deliver(&app).await["sent"], 1);
    // The fake refuses (47003) any value over its type's limit; none was refused.
    assert!(app.platform.refused_subscribe_codes().is_empty());
    let sent = app.platform.subscribe_messages();
    assert_eq!(sent.len(), 1);
    let data = &sent[0]["data"];
    let agency_value = data["thing1"]["value"].as_str().unwrap();
    assert_eq!(agency_value.chars().count(), 20, "{agency_value}");
    assert!(agency_value.ends_with('…'), "{agency_value}");
    assert!(name.starts_with(agency_value.trim_end_matches('…')));
    let purpose = data["thing2"]["value"].as_str().unwrap();
    assert!(purpose.chars().count() <= 20, "{purpose}");
    assert!(purpose.starts_with("办理社会保障卡"), "{purpose}");
    assert!(data["time3"]["value"].as_str().unwrap().contains('年'));
}

#[tokio::test]
async fn a_popup_event_and_the_post_of_the_same_choice_count_as_one_whichever_comes_first() {
    let app = spawn_app_with(&wechat_vars()).await;
    let chen = app.login_dev("demo-chen").await;
    let t = chen.access.as_str();
    let time = now();

    // The event first, then the mini-program's post of the same choice.
    let r = push(
        &app,
        "yss",
        &popup(
            CHEN_OPENID,
            time,
            &[(TPL_ENDORSEMENT, "accept"), (TPL_DECISION, "reject")],
        ),
        now(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "success");
    assert_eq!(credits(&app, t, TPL_ENDORSEMENT).await, 1);
    assert_eq!(
        item(&subscriptions(&app, t).await, TPL_DECISION)["status"],
        "reject"
    );
    record(
        &app,
        t,
        json!({TPL_ENDORSEMENT: "accept", TPL_DECISION: "reject"}),
    )
    .await;
    assert_eq!(credits(&app, t, TPL_ENDORSEMENT).await, 1);

    // The post first, then the event.
    record(&app, t, json!({TPL_ENDORSEMENT: "accept"})).await;
    assert_eq!(credits(&app, t, TPL_ENDORSEMENT).await, 2);
    push(
        &app,
        "yss",
        &popup(CHEN_OPENID, time + 1, &[(TPL_ENDORSEMENT, "accept")]),
        now(),
    )
    .await;
    assert_eq!(credits(&app, t, TPL_ENDORSEMENT).await, 2);

    // A new choice is a new credit, from either source.
    push(
        &app,
        "yss",
        &popup(CHEN_OPENID, time + 2, &[(TPL_ENDORSEMENT, "accept")]),
        now(),
    )
    .await;
    assert_eq!(credits(&app, t, TPL_ENDORSEMENT).await, 3);
}

#[tokio::test]
async fn a_redelivered_event_is_applied_once() {
    let app = spawn_app_with(&wechat_vars()).await;
    let chen = app.login_dev("demo-chen").await;
    let event = popup(CHEN_OPENID, now(), &[(TPL_ENDORSEMENT, "accept")]);
    for _ in 0..3 {
        let r = push(&app, "yss", &event, now()).await;
        assert_eq!(r.text, "success");
    }
    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 1);
}

#[tokio::test]
async fn a_change_event_turns_a_long_term_subscription_off() {
    let app = spawn_app_with(&wechat_vars()).await;
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    record(&app, &chen.access, json!({TPL_EXPIRY: "accept"})).await;
    app.platform
        .grant_subscription(CHEN_OPENID, TPL_EXPIRY, Grant::LongTerm);

    // Long-term: sent, nothing spent.
    app.set_permit_dates(&permit_no, Some(days_ahead(40)), Some(days_ahead(20)))
        .await;
    assert_eq!(deliver(&app).await["sent"], 1);
    assert_eq!(app.platform.subscribe_messages().len(), 1);
    let expiry = item(&subscriptions(&app, &chen.access).await, TPL_EXPIRY).clone();
    assert_eq!(expiry["status"], "accept");
    assert_eq!(expiry["credits"], 0);

    // The resident turns it off in the mini-program's settings.
    let r = push(
        &app,
        "yss",
        &change(CHEN_OPENID, now(), TPL_EXPIRY, "reject"),
        now(),
    )
    .await;
    assert_eq!(r.text, "success");
    assert_eq!(
        item(&subscriptions(&app, &chen.access).await, TPL_EXPIRY)["status"],
        "reject"
    );
    app.set_permit_dates(&permit_no, None, Some(days_ahead(5)))
        .await;
    let r = deliver(&app).await;
    assert_eq!(r["sent"], 0, "{r}");
    assert_eq!(app.platform.subscribe_messages().len(), 1);
    assert_eq!(app.platform.calls_to(SEND), 1);

    // Turned on again in the settings: on, with no popup and so no credit.
    push(
        &app,
        "yss",
        &change(CHEN_OPENID, now() + 1, TPL_EXPIRY, "accept"),
        now(),
    )
    .await;
    assert_eq!(
        item(&subscriptions(&app, &chen.access).await, TPL_EXPIRY)["status"],
        "accept"
    );
}

#[tokio::test]
async fn the_push_endpoint_answers_the_url_check_and_refuses_what_is_not_the_platforms() {
    let app = spawn_app_with(&wechat_vars()).await;
    let ts = now().to_string();
    let signature = service::identity::wechat::signature::sign(WECHAT_TOKEN, &ts, "abc");
    let r = app
        .get(
            &format!("/api/v1/wechat/miniprogram/yss?signature={signature}&timestamp={ts}&nonce=abc&echostr=4213071906446376553"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "4213071906446376553");
    app.get(
        &format!(
            "/api/v1/wechat/miniprogram/yss?signature={}&timestamp={ts}&nonce=abc&echostr=1",
            "0".repeat(40)
        ),
        None,
    )
    .await
    .assert_error(401, "SIGNATURE_INVALID");

    let chen = app.login_dev("demo-chen").await;
    let event = popup(CHEN_OPENID, now(), &[(TPL_ENDORSEMENT, "accept")]);
    let forged = app
        .client
        .post(app.url(&format!(
            "/api/v1/wechat/miniprogram/yss?signature={}&timestamp={ts}&nonce=abc",
            "0".repeat(40)
        )))
        .body(event.clone())
        .send()
        .await
        .unwrap();
    reply(forged).await.assert_error(401, "SIGNATURE_INVALID");
    push(&app, "yss", &event, now() - 3600)
        .await
        .assert_error(401, "TIMESTAMP_OUT_OF_WINDOW");
    push(&app, "wx", &event, now())
        .await
        .assert_error(422, "UNKNOWN_APP");
    push(&app, "yss", "<xml><ToUserName>gh</ToUserName>", now())
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    assert_eq!(subscriptions(&app, &chen.access).await["items"], json!([]));

    // An openid with no bound login, and another event: acknowledged, nothing recorded.
    let r = push(
        &app,
        "yss",
        &popup("o-stranger", now(), &[(TPL_ENDORSEMENT, "accept")]),
        now(),
    )
    .await;
    assert_eq!(r.text, "success");
    // The templates are 粤省事's: 粤居码's push reports nothing about them.
    app.login("yjm", "dev:demo-chen").await;
    let r = push(
        &app,
        "yjm",
        &popup(CHEN_OPENID, now(), &[(TPL_ENDORSEMENT, "accept")]),
        now(),
    )
    .await;
    assert_eq!(r.text, "success");
    let other = event_xml(CHEN_OPENID, now(), "user_enter_tempsession", "Nothing", "");
    assert_eq!(push(&app, "yss", &other, now()).await.text, "success");
    assert_eq!(
        entity::subscription::Entity::find()
            .all(&app.app.db)
            .await
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn subscriptions_are_in_the_export_and_go_when_the_account_closes() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    record(
        &app,
        &chen.access,
        json!({TPL_ENDORSEMENT: "accept", TPL_EXPIRY: "accept"}),
    )
    .await;
    let export = app.get("/api/v1/me/export", Some(&chen.access)).await;
    let subs = export.body["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 2, "{}", export.text);
    assert!(
        subs.iter()
            .any(|s| s["template_id"] == TPL_ENDORSEMENT && s["credits"] == 1)
    );

    let r = app.close_account(&chen.access).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let deleted = r.body["deleted"].as_array().unwrap();
    assert!(
        deleted
            .iter()
            .any(|d| d["what"].as_str().unwrap().contains("订阅消息") && d["count"] == 2),
        "{}",
        r.text
    );
    assert!(
        entity::subscription::Entity::find()
            .all(&app.app.db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_popup_event_and_the_post_arriving_at_the_same_moment_still_count_once() {
    let app = spawn_app_with(&wechat_vars()).await;
    let chen = app.login_dev("demo-chen").await;
    for round in 0..5 {
        let event = popup(CHEN_OPENID, now() + round, &[(TPL_ENDORSEMENT, "accept")]);
        let (a, b) = tokio::join!(
            push(&app, "yss", &event, now()),
            record(&app, &chen.access, json!({TPL_ENDORSEMENT: "accept"}))
        );
        assert_eq!(a.text, "success");
        assert_eq!(b.status, 200, "{}", b.text);
        assert_eq!(
            credits(&app, &chen.access, TPL_ENDORSEMENT).await,
            round + 1
        );
    }
}

#[tokio::test]
async fn an_event_more_than_a_minute_after_the_post_is_another_choice() {
    let app = spawn_app_with(&wechat_vars()).await;
    let chen = app.login_dev("demo-chen").await;
    record(&app, &chen.access, json!({TPL_ENDORSEMENT: "accept"})).await;
    let aged = entity::subscription_choice::Entity::update_many()
        .col_expr(
            entity::subscription_choice::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(61)),
        )
        .exec(&app.app.db)
        .await
        .unwrap();
    assert_eq!(aged.rows_affected, 1);
    push(
        &app,
        "yss",
        &popup(CHEN_OPENID, now(), &[(TPL_ENDORSEMENT, "accept")]),
        now(),
    )
    .await;
    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 2);
}

/// The platform's published sample EncodingAESKey.
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// Pushes `inner` to 粤省事's message push in 安全模式, sealed for `appid`.
async fn push_encrypted(app: &TestApp, inner: &str, appid: &str) -> Reply {
    use service::identity::wechat::signature::{sign, sign_message};
    let key = service::identity::wechat::crypto::AesKey::from_encoding_key(AES_KEY).unwrap();
    let encrypt =
        service::identity::wechat::crypto::encrypt(&key, inner.as_bytes(), appid).unwrap();
    let ts = now().to_string();
    let nonce = "1320562132";
    let msg_signature = sign_message(WECHAT_TOKEN, &ts, nonce, &encrypt);
    let signature = sign(WECHAT_TOKEN, &ts, nonce);
    let r = app
        .client
        .post(app.url(&format!(
            "/api/v1/wechat/miniprogram/yss?signature={signature}&timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature={msg_signature}"
        )))
        .header("content-type", "text/xml")
        .body(format!(
            "<xml><ToUserName><![CDATA[gh_yss]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        ))
        .send()
        .await
        .unwrap();
    reply(r).await
}

#[tokio::test]
async fn in_safe_mode_an_encrypted_popup_event_is_opened_and_applied() {
    let app = spawn_app_with(&[
        ("YUEJU_WECHAT_TOKEN", WECHAT_TOKEN),
        ("YUEJU_YSS_AES_KEYS", AES_KEY),
    ])
    .await;
    let chen = app.login_dev("demo-chen").await;
    let event = popup(CHEN_OPENID, now(), &[(TPL_ENDORSEMENT, "accept")]);

    let r = push_encrypted(&app, &event, YSS_APPID).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "success");
    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 1);

    // Sealed for another account, or not encrypted at all: refused, nothing applied.
    let other = popup(CHEN_OPENID, now() + 1, &[(TPL_ENDORSEMENT, "accept")]);
    push_encrypted(&app, &other, OA_APPID)
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    push(&app, "yss", &other, now())
        .await
        .assert_error(401, "SIGNATURE_INVALID");
    assert_eq!(credits(&app, &chen.access, TPL_ENDORSEMENT).await, 1);
}
