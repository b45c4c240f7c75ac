//! Reminders and notices: the sweep writes each due reminder to the outbox once, the worker
//! delivers it by real SMTP exactly once, across failures and concurrent runs.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::smtp::SmtpSink;

const CHEN_EMAIL: &str = "chen.zhiqiang@example.com";

async fn app_with_smtp(sink: &SmtpSink, extra: &[(&str, &str)]) -> TestApp {
    let url = sink.url();
    let mut vars = vec![("YUEJU_SMTP_URL", url.as_str())];
    vars.extend_from_slice(extra);
    spawn_app_with(&vars).await
}

async fn run(app: &TestApp, body: Value) -> Reply {
    let admin = app.admin_token().await;
    let r = app
        .post("/api/v1/staff/reminders/run", &body, Some(&admin))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

/// Chen holds a permit and gave his e-mail.
async fn chen_reachable(app: &TestApp) -> (Tokens, String) {
    let chen = app.chen_with_permit().await;
    let r = app.set_email(&chen.access, CHEN_EMAIL).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let permit_no = app.permit_no(&chen.access).await;
    (chen, permit_no)
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn an_open_endorsement_window_sends_one_chinese_email_however_often_the_sweep_runs() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, &[]).await;
    let (_chen, permit_no) = chen_reachable(&app).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;

    let r = run(&app, json!({"deliver": true})).await;
    assert_eq!(r.body["queued"], 1, "{}", r.text);
    assert_eq!(r.body["sent"], 1, "{}", r.text);
    let again = run(&app, json!({"deliver": true})).await;
    assert_eq!(again.body["queued"], 0);
    assert_eq!(again.body["sent"], 0);

    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail["rcpt_tos"], json!([CHEN_EMAIL]));
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.starts_with("【广东省电子居住证】请在"), "{subject}");
    assert!(subject.contains("签注"), "{subject}");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(&permit_no), "{text}");
    assert!(mail["html"].as_str().unwrap().contains("签注"));
    // Encoded words in the header, not raw UTF-8.
    assert!(
        mail["raw_headers"]
            .as_str()
            .unwrap()
            .contains("Subject: =?utf-8?")
    );
    for secret in [CHEN_ID, CHEN_NAME] {
        assert!(!mail.to_string().contains(secret), "{secret} in the e-mail");
    }
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn a_mail_sent_again_after_a_lost_acknowledgement_carries_the_same_message_id() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, &[]).await;
    let (_chen, permit_no) = chen_reachable(&app).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    let r = run(&app, json!({"deliver": true})).await;
    assert_eq!(r.body["sent"], 1, "{}", r.text);
    // The worker's "sent" never reached the database: the notice is delivered again.
    let notice = entity_outbox(&app).await.remove(0);
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        entity::outbox::Entity::update_many()
            .col_expr(entity::outbox::Column::Status, Expr::value("pending"))
            .filter(entity::outbox::Column::Id.eq(notice.id))
            .exec(&app.app.db)
            .await
            .unwrap();
    }
    make_due(&app).await;
    let r = run(&app, json!({"deliver": true})).await;
    assert_eq!(r.body["sent"], 1, "{}", r.text);
    let mails = sink.messages();
    assert_eq!(mails.len(), 2);
    let expected = format!("<notice-{}@yueju.localhost>", notice.id);
    assert_eq!(mails[0]["message_id"], expected.as_str());
    assert_eq!(mails[1]["message_id"], expected.as_str());
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn expiry_reminders_go_out_once_per_threshold() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, &[]).await;
    let (_chen, permit_no) = chen_reachable(&app).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(40)), Some(days_ahead(40)))
        .await;
    let today = app.clock().today();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();

    // 40 days left: nothing; 30: the 30-day reminder; 29: nothing new; 7 and 1: one each.
    let mut queued = Vec::new();
    for offset in [0, 10, 11, 33, 34, 39, 39] {
        let r = run(&app, json!({"as_of": day(offset), "deliver": true})).await;
        queued.push(r.body["queued"].as_u64().unwrap());
    }
    assert_eq!(queued, [0, 1, 0, 1, 0, 1, 0]);
    let subjects: Vec<String> = sink
        .messages()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects.len(), 3);
    assert!(subjects.iter().all(|s| s.contains("到期")), "{subjects:?}");
    assert!(
        sink.messages()[0]["text"]
            .as_str()
            .unwrap()
            .contains("还有30天")
    );
    assert!(
        sink.messages()[2]["text"]
            .as_str()
            .unwrap()
            .contains("还有1天")
    );
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn a_holder_who_turned_reminders_off_gets_none() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, &[]).await;
    let (chen, permit_no) = chen_reachable(&app).await;
    app.send_json(
        reqwest::Method::PATCH,
        "/api/v1/me",
        &json!({"reminders_enabled": false}),
        Some(&chen.access),
    )
    .await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    let r = run(&app, json!({"deliver": true})).await;
    assert_eq!(r.body["queued"], 0);
    assert!(sink.messages().is_empty());
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn a_notice_sent_while_the_smtp_server_is_down_is_delivered_later_exactly_once() {
    let mut sink = SmtpSink::start();
    let app = app_with_smtp(&sink, &[("YUEJU_DELIVERY_BACKOFF_SECS", "0")]).await;
    let (_chen, permit_no) = chen_reachable(&app).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;

    sink.stop();
    let r = run(&app, json!({"deliver": true})).await;
    assert_eq!(r.body["queued"], 1);
    assert_eq!(r.body["sent"], 0);
    assert_eq!(r.body["failed"], 1);
    let rows = entity_outbox(&app).await;
    assert_eq!(rows[0].status, entity::statuses::OutboxStatus::Pending);
    assert!(
        rows[0].last_error.as_deref().unwrap().contains("SMTP"),
        "{:?}",
        rows[0].last_error
    );

    sink.resume();
    let r = run(&app, json!({"deliver": true})).await;
    assert_eq!(r.body["sent"], 1, "{}", r.text);
    let r = run(&app, json!({"deliver": true})).await;
    assert_eq!(r.body["sent"], 0);
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(
        entity_outbox(&app).await[0].status,
        entity::statuses::OutboxStatus::Sent
    );
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn the_last_failed_attempt_marks_the_notice_failed_with_the_error() {
    let mut sink = SmtpSink::start();
    let app = app_with_smtp(
        &sink,
        &[
            ("YUEJU_DELIVERY_BACKOFF_SECS", "0"),
            ("YUEJU_DELIVERY_MAX_ATTEMPTS", "2"),
        ],
    )
    .await;
    let (_chen, permit_no) = chen_reachable(&app).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    sink.stop();
    run(&app, json!({"deliver": true})).await;
    let r = run(&app, json!({"deliver": true})).await;
    assert_eq!(r.body["failed"], 1);
    let row = &entity_outbox(&app).await[0];
    assert_eq!(row.status, entity::statuses::OutboxStatus::Failed);
    assert_eq!(row.attempts, 2);
    assert!(row.last_error.is_some());
    sink.resume();
    assert_eq!(run(&app, json!({"deliver": true})).await.body["sent"], 0);
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn two_sweeps_and_two_workers_at_once_send_each_reminder_once() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, &[]).await;
    let (_chen, permit_no) = chen_reachable(&app).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    // Two more holders due at the same time.
    for (i, (id, name, gender)) in [
        (WANG_ID, WANG_NAME, "male"),
        (ZHANG_ID, ZHANG_NAME, "female"),
    ]
    .into_iter()
    .enumerate()
    {
        let t = app
            .newcomer(&format!("many-{i}"), id, name, gender, "2024-01-01", true)
            .await;
        let r = app
            .apply(
                &t.access,
                &json!({"city": "广州市", "district": "白云区", "address": "某路2号", "residence_since": "2024-01-01", "basis": "employment", "email": format!("holder{i}@example.com")}),
                None,
            )
            .await;
        assert_eq!(r.body["status"], "issued", "{}", r.text);
        let no = r.body["permit_no"].as_str().unwrap().to_owned();
        app.set_permit_dates(&no, Some(days_ahead(10)), None).await;
    }
    let today = app.clock().today();
    let ctx = app.app.clone();
    let (a, b) = tokio::join!(
        service::notices::reminders::sweep(&ctx, today),
        service::notices::reminders::sweep(&ctx, today)
    );
    assert_eq!(a.unwrap().queued + b.unwrap().queued, 3);
    let (a, b) = tokio::join!(
        service::notices::delivery::run_once(&ctx),
        service::notices::delivery::run_once(&ctx)
    );
    assert_eq!(a.unwrap().sent + b.unwrap().sent, 3);
    let mails = sink.messages();
    assert_eq!(mails.len(), 3);
    let mut to: Vec<String> = mails
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 3);
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn a_resident_reaching_six_months_without_a_permit_is_told_once() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, &[]).await;
    let today = app.clock().today();
    let six_months_ago = today
        .checked_sub_months(chrono::Months::new(6))
        .unwrap()
        .to_string();
    let t = app
        .newcomer("nudge", WANG_ID, WANG_NAME, "male", &six_months_ago, true)
        .await;
    app.set_email(&t.access, "wang@example.com").await;
    assert_eq!(run(&app, json!({"deliver": true})).await.body["sent"], 1);
    let next_day = (today + chrono::Duration::days(1)).to_string();
    assert_eq!(
        run(&app, json!({"as_of": next_day, "deliver": true}))
            .await
            .body["queued"],
        0
    );
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0]["subject"]
            .as_str()
            .unwrap()
            .contains("可以申领居住证")
    );
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn an_agencys_request_reaches_the_holder_by_email_through_the_same_outbox() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, &[]).await;
    let (chen, _) = chen_reachable(&app).await;
    let agency = app
        .agency(31, "广州市天河区人社局", &["permit:download"], &["name"])
        .await;
    let code = app.code(&chen.access).await;
    let r = app.ask_access(&agency, &code, "办理社保卡", 3).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(run(&app, json!({"deliver": true})).await.body["sent"], 1);
    let mails = sink.messages();
    assert!(
        mails[0]["text"]
            .as_str()
            .unwrap()
            .contains("广州市天河区人社局请求获取")
    );
}

#[tokio::test]
async fn the_run_endpoint_is_for_admins_and_checks_its_input() {
    let app = spawn_app().await;
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    app.post("/api/v1/staff/reminders/run", &json!({}), Some(&reviewer))
        .await
        .assert_error(403, "FORBIDDEN");
    let admin = app.admin_token().await;
    app.post(
        "/api/v1/staff/reminders/run",
        &json!({"as_of": "2026-13-01"}),
        Some(&admin),
    )
    .await
    .assert_error(400, "INVALID_JSON");
    // Without e-mail configured, notices wait as undeliverable rather than vanish silently.
    let r = app
        .post(
            "/api/v1/staff/reminders/run",
            &json!({"deliver": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn entity_outbox(app: &TestApp) -> Vec<entity::outbox::Model> {
    use sea_orm::EntityTrait;
    entity::outbox::Entity::find()
        .all(&app.app.db)
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn a_holder_linked_in_wechat_is_reminded_there_and_by_email_once_the_chat_window_closes() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let mut vars = wechat_vars();
    vars.push(("YUEJU_SMTP_URL", url.as_str()));
    let app = spawn_app_with(&vars).await;
    let (_chen, permit_no) = chen_reachable(&app).await;
    // The follower shares demo-chen's unionid, so the bot links it on the first message.
    let openid = "with-union.dev:demo-chen";
    app.wechat_push(&wechat_text(openid, 1, "你好"), now())
        .await;

    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    let r = run(&app, json!({"deliver": true})).await;
    assert_eq!(r.body["sent"], 1, "{}", r.text);
    let chats = app.platform.customer_messages();
    assert_eq!(chats.len(), 1, "{chats:?}");
    assert_eq!(chats[0].1, openid);
    assert!(chats[0].2.contains("签注"), "{}", chats[0].2);
    assert!(sink.messages().is_empty());

    app.platform
        .state()
        .oa
        .window_closed
        .push(openid.to_owned());
    app.set_permit_dates(&permit_no, Some(days_ahead(40)), Some(days_ahead(5)))
        .await;
    let r = run(&app, json!({"deliver": true})).await;
    assert_eq!(r.body["sent"], 1, "{}", r.text);
    assert_eq!(app.platform.customer_messages().len(), 1);
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert!(mails[0]["subject"].as_str().unwrap().contains("到期"));
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn a_notice_claimed_by_a_worker_that_died_is_delivered_once_its_lease_ends() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, &[("YUEJU_DELIVERY_LEASE_SECS", "1")]).await;
    let (_chen, permit_no) = chen_reachable(&app).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    assert_eq!(run(&app, json!({})).await.body["queued"], 1);

    // A worker claims the notice and dies before sending: nothing marks it.
    let claimed = service::notices::delivery::claim(&app.app, 10, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // While its lease holds, no other worker takes it.
    assert_eq!(run(&app, json!({"deliver": true})).await.body["sent"], 0);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(run(&app, json!({"deliver": true})).await.body["sent"], 1);
    assert_eq!(run(&app, json!({"deliver": true})).await.body["sent"], 0);
    assert_eq!(sink.messages().len(), 1);
}
