//! Date rules tested by moving the server's clock (`app.clock()`, `app.set_today`) instead
//! of rewriting the dates stored on rows: the endorsement window, the reminder days, expiry,
//! and what a moved clock does to logins.

use chrono::NaiveDate;
use serde_json::{Value, json};
use service::domain::permit_rules::{days_after, days_before, years_after};

use crate::fake_platform::subscribe::Grant;
use crate::helpers::*;

/// The openid of demo-chen's 粤省事 login (dev login codes keep the code as the openid).
const CHEN_OPENID: &str = "dev:demo-chen";

fn date(v: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(v.as_str().unwrap(), "%Y-%m-%d").unwrap()
}

async fn permit(app: &TestApp, token: &str) -> Value {
    let r = app.get("/api/v1/me/permit", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// Runs the reminder sweep and the delivery worker as of the server's today.
async fn run_reminders(app: &TestApp) -> Value {
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/staff/reminders/run",
            &json!({"deliver": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["as_of"], app.clock().today().to_string());
    r.body
}

/// The subscribe messages sent to Chen with `template`.
fn sent_to_chen(app: &TestApp, template: &str) -> Vec<Value> {
    app.platform
        .subscribe_messages()
        .into_iter()
        .filter(|m| m["touser"] == CHEN_OPENID && m["template_id"] == template)
        .collect()
}

async fn accept(app: &TestApp, token: &str, template: &str, grant: Grant) {
    let r = app
        .post(
            "/api/v1/me/subscriptions",
            &json!({"app": "yss", "results": {template: "accept"}}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.platform
        .grant_subscription(CHEN_OPENID, template, grant);
}

#[tokio::test]
async fn a_permit_becomes_endorsable_on_the_day_the_clock_reaches_its_window() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let p = permit(&app, &chen.access).await;
    let due = date(&p["next_endorsement_due"]);
    let opens = date(&p["endorsement_window_opens"]);
    assert!(
        opens > app.clock().today() + chrono::Duration::days(300),
        "{p}"
    );

    app.endorse(&chen.access)
        .await
        .assert_error(422, "ENDORSEMENT_NOT_DUE");
    app.set_today(days_before(opens, 1));
    let r = app.endorse(&chen.access).await;
    r.assert_error(422, "ENDORSEMENT_NOT_DUE");
    assert!(r.message().contains(&opens.to_string()), "{}", r.text);

    app.set_today(opens);
    let r = app.endorse(&chen.access).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["kind"], "endorsement");
    assert_eq!(r.body["permit"]["version"], 2);
    assert_eq!(r.body["permit"]["status"], "valid");
    assert_eq!(
        r.body["permit"]["next_endorsement_due"],
        years_after(due, 1).to_string()
    );
    assert_eq!(
        r.body["permit"]["continuous_since"], p["continuous_since"],
        "an endorsement in time keeps the count"
    );
}

#[tokio::test]
async fn the_endorsement_reminder_goes_out_only_once_the_clock_reaches_the_window() {
    let app = spawn_app_with(&wechat_vars()).await;
    let chen = app.chen_with_permit().await;
    accept(&app, &chen.access, TPL_ENDORSEMENT, Grant::Credits(2)).await;
    let p = permit(&app, &chen.access).await;
    let due = date(&p["next_endorsement_due"]);
    let opens = date(&p["endorsement_window_opens"]);

    for day in [app.clock().today(), days_before(opens, 1)] {
        app.set_today(day);
        run_reminders(&app).await;
        assert!(sent_to_chen(&app, TPL_ENDORSEMENT).is_empty(), "{day}");
    }

    app.set_today(opens);
    let r = run_reminders(&app).await;
    assert_eq!(r["sent"], 1, "{r}");
    let sent = sent_to_chen(&app, TPL_ENDORSEMENT);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0]["data"]["date3"]["value"],
        due.format("%Y年%m月%d日").to_string()
    );

    // Later days of the same window: no second reminder.
    app.set_today(days_after(opens, 10));
    let r = run_reminders(&app).await;
    assert_eq!(r["queued"], 0, "{r}");
    assert_eq!(sent_to_chen(&app, TPL_ENDORSEMENT).len(), 1);
}

#[tokio::test]
async fn the_expiry_reminder_goes_out_only_once_the_clock_reaches_its_threshold() {
    let app = spawn_app_with(&wechat_vars()).await;
    let chen = app.chen_with_permit().await;
    accept(&app, &chen.access, TPL_EXPIRY, Grant::LongTerm).await;
    let until = date(&permit(&app, &chen.access).await["valid_until"]);
    let first = *app.app.settings.reminders.expiry_days.iter().max().unwrap();

    app.set_today(days_before(until, first + 1));
    run_reminders(&app).await;
    assert!(sent_to_chen(&app, TPL_EXPIRY).is_empty());

    app.set_today(days_before(until, first));
    run_reminders(&app).await;
    let sent = sent_to_chen(&app, TPL_EXPIRY);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let text = sent[0]["data"].to_string();
    assert!(
        text.contains(&until.format("%Y年%m月%d日").to_string()),
        "{text}"
    );

    // The next day is still within the same threshold: nothing new.
    app.set_today(days_before(until, first - 1));
    run_reminders(&app).await;
    assert_eq!(sent_to_chen(&app, TPL_EXPIRY).len(), 1);
}

#[tokio::test]
async fn a_permit_reads_as_expired_once_the_clock_passes_its_last_valid_day() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    let until = date(&permit(&app, &chen.access).await["valid_until"]);

    // The last valid day: not expired (suspended, as no endorsement was made).
    app.set_today(until);
    assert_eq!(app.permit_status(&chen.access).await, "suspended");

    app.set_today(days_after(until, 1));
    assert_eq!(app.permit_status(&chen.access).await, "expired");
    app.endorse(&chen.access)
        .await
        .assert_error(422, "PERMIT_EXPIRED");
    // An expired permit no longer holds its holder back from applying again.
    let again = app.apply(&chen.access, &chen_application(), None).await;
    assert_eq!(again.body["status"], "issued", "{}", again.text);
    assert_ne!(again.body["permit_no"], permit_no.as_str());
    let renewed = permit(&app, &chen.access).await;
    assert_eq!(renewed["status"], "valid");
    assert_eq!(renewed["issued_on"], days_after(until, 1).to_string());
}

#[tokio::test]
async fn a_moved_clock_expires_refresh_tokens_but_not_access_tokens() {
    // Access tokens are JWTs whose expiry jsonwebtoken checks against the system time;
    // refresh tokens are rows whose expiry the server checks against its clock.
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let days = i64::try_from(app.app.settings.refresh_token_ttl.as_secs() / 86_400).unwrap();
    app.clock().advance(chrono::Duration::days(days + 1));

    assert_eq!(app.get("/api/v1/me", Some(&chen.access)).await.status, 200);
    app.post(
        "/api/v1/auth/refresh",
        &json!({"refresh_token": chen.refresh}),
        None,
    )
    .await
    .assert_error(401, "REFRESH_TOKEN_INVALID");
}
