//! The platform's access tokens with several instances, and platform calls under a deadline:
//! every instance takes its token from `stable_token` in normal mode (never the old
//! `cgi-bin/token`, never `force_refresh` on its own), so none cancels another's; a refused or
//! expired token is fetched again once; a platform that stalls or fails costs one attempt,
//! retried later.

use serde_json::json;
use std::time::{Duration, Instant};

use crate::helpers::*;

const CUSTOM_SEND: &str = "/cgi-bin/message/custom/send";

async fn oa_app(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = wechat_vars();
    vars.push(("YUEJU_WECHAT_REPLY_BUDGET_MS", "0"));
    vars.extend_from_slice(extra);
    spawn_app_with(&vars).await
}

async fn wait_for_messages(app: &TestApp, n: usize) -> usize {
    for _ in 0..200 {
        if app.platform.customer_messages().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    app.platform.customer_messages().len()
}

#[tokio::test]
async fn two_instances_on_one_database_share_the_platform_token_and_never_cancel_each_other() {
    let first = oa_app(&[]).await;
    let second = first.another_instance().await;
    // Each message is answered late, through a customer message that needs the token;
    // the two instances take turns.
    for i in 0..10u64 {
        let instance = if i % 2 == 0 { &first } else { &second };
        let r = instance
            .wechat_push(&wechat_text(&format!("o-{i}"), 100 + i, "帮助"), now())
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(wait_for_messages(&first, 10).await, 10);
    {
        let state = first.platform.state();
        let tokens = &state.tokens;
        assert_eq!(
            tokens.legacy_calls, 0,
            "the old cgi-bin/token is never called"
        );
        assert_eq!(tokens.force_refresh_calls, 0);
        assert_eq!(
            tokens.stable_calls, 2,
            "one stable_token call per instance, then the cached token"
        );
        assert_eq!(
            tokens.stable_tokens(),
            1,
            "both instances hold the same token"
        );
    }
    let sent = first.platform.customer_messages();
    assert!(sent.iter().all(|(token, _, _)| token == &sent[0].0));
}

#[tokio::test]
async fn an_expired_token_is_fetched_again_once_and_the_message_still_goes_out() {
    let app = oa_app(&[]).await;
    app.wechat_push(&wechat_text("o-exp", 1, "帮助"), now())
        .await;
    assert_eq!(wait_for_messages(&app, 1).await, 1);
    app.platform.state().tokens.expire_all(OA_APPID);
    app.wechat_push(&wechat_text("o-exp", 2, "帮助"), now())
        .await;
    assert_eq!(wait_for_messages(&app, 2).await, 2);
    let sent = app.platform.customer_messages();
    assert_ne!(sent[0].0, sent[1].0, "a new token after 42001");
    assert_eq!(app.platform.state().tokens.stable_calls, 2);
    // Each message takes a user/info and a customer message; one call met 42001 and was
    // repeated with the new token.
    let calls = app.platform.calls_to("/cgi-bin/user/info") + app.platform.calls_to(CUSTOM_SEND);
    assert_eq!(calls, 5, "four calls and one repeat");
}

/// Chen holds a permit, his follower is linked by unionid, and a reminder is due.
async fn chen_with_a_due_reminder(app: &TestApp) -> String {
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    app.wechat_push(&wechat_text("with-union.dev:demo-chen", 1, "你好"), now())
        .await;
    assert_eq!(wait_for_messages(app, 1).await, 1, "the greeting went out");
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    permit_no
}

async fn run_delivery(app: &TestApp) -> Reply {
    let admin = app.admin_token().await;
    app.post(
        "/api/v1/staff/reminders/run",
        &json!({"deliver": true}),
        Some(&admin),
    )
    .await
}

async fn pending_notice(app: &TestApp) -> entity::outbox::Model {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::outbox::Entity::find()
        .filter(entity::outbox::Column::Status.eq("pending"))
        .one(&app.app.db)
        .await
        .unwrap()
        .expect("a pending notice")
}

#[tokio::test]
async fn a_token_the_platform_refuses_twice_is_not_fetched_a_third_time_and_the_notice_waits() {
    let app = oa_app(&[]).await;
    chen_with_a_due_reminder(&app).await;
    let stable_before = app.platform.state().tokens.stable_calls;
    let sends_before = app.platform.calls_to(CUSTOM_SEND);
    app.platform.fail_always(CUSTOM_SEND, Fault::Errcode(40001));
    let r = run_delivery(&app).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["sent"], 0, "{}", r.text);
    assert_eq!(r.body["failed"], 1, "{}", r.text);
    assert_eq!(app.platform.calls_to(CUSTOM_SEND) - sends_before, 2);
    assert_eq!(app.platform.state().tokens.stable_calls - stable_before, 1);
    assert_eq!(app.platform.state().tokens.force_refresh_calls, 0);
    let notice = pending_notice(&app).await;
    assert!(notice.next_attempt_at > chrono::Utc::now());
    assert!(
        notice.last_error.as_deref().unwrap_or("").contains("40001"),
        "{:?}",
        notice.last_error
    );
}

#[tokio::test]
async fn a_platform_that_answers_after_a_minute_costs_one_attempt_within_the_deadline() {
    let app = oa_app(&[("YUEJU_HTTP_TIMEOUT_SECS", "1")]).await;
    chen_with_a_due_reminder(&app).await;
    app.platform
        .fail_always(CUSTOM_SEND, Fault::Delay(Duration::from_secs(60)));
    let started = Instant::now();
    let r = run_delivery(&app).await;
    let took = started.elapsed();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["failed"], 1, "{}", r.text);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let notice = pending_notice(&app).await;
    assert!(
        notice
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("timed out"),
        "{:?}",
        notice.last_error
    );
    // Once the platform answers again, the retry goes out.
    app.platform.heal(CUSTOM_SEND);
    crate::helpers::make_due(&app).await;
    let r = run_delivery(&app).await;
    assert_eq!(r.body["sent"], 1, "{}", r.text);
}

#[tokio::test]
async fn a_stable_token_call_that_fails_is_a_failed_attempt_not_a_crash() {
    let app = oa_app(&[]).await;
    chen_with_a_due_reminder(&app).await;
    // The cached token expires and the platform's token service is down.
    app.platform.state().tokens.expire_all(OA_APPID);
    app.platform
        .fail_always("/cgi-bin/stable_token", Fault::Http(502));
    let r = run_delivery(&app).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["failed"], 1, "{}", r.text);
    app.platform.heal("/cgi-bin/stable_token");
    app.platform
        .fail_next("/cgi-bin/stable_token", Fault::Errcode(40164));
    crate::helpers::make_due(&app).await;
    let r = run_delivery(&app).await;
    assert_eq!(
        r.body["failed"], 1,
        "an errcode from stable_token: {}",
        r.text
    );
    // An answer that is not the platform's JSON is a failed attempt too.
    app.platform.fail_next(CUSTOM_SEND, Fault::Garbage);
    crate::helpers::make_due(&app).await;
    let r = run_delivery(&app).await;
    assert_eq!(r.body["failed"], 1, "garbage from the platform: {}", r.text);
    crate::helpers::make_due(&app).await;
    let r = run_delivery(&app).await;
    assert_eq!(r.body["sent"], 1, "{}", r.text);
}
