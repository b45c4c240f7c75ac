//! The staff dashboard (`GET /api/v1/staff/dashboard`): per day in China, applications by the
//! outcome at filing, reviewers' decisions, notices by channel and agency verifications, and
//! the review queue now; counts only, for staff only.

use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};

use crate::fake_platform::subscribe::Grant;
use crate::helpers::*;

async fn dashboard(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/staff/dashboard{query}"), Some(token))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// The entry of the last day of the window (today in China).
fn today(board: &Value) -> &Value {
    let days = board["days"].as_array().unwrap();
    let last = days.last().unwrap();
    assert_eq!(last["date"], board["to"]);
    last
}

async fn li_in_the_queue(app: &TestApp) -> String {
    let li = app.login_dev("demo-li").await;
    let body = json!({"city": "佛山市", "district": "南海区", "address": "桂城街道南海大道北45号",
                      "residence_since": "2025-09-01", "basis": "employment", "email": "li@example.com"});
    let r = app.apply(&li.access, &body, None).await;
    assert_eq!(r.body["status"], "needs_materials", "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .upload(&li.access, &id, "employment_proof", PDF, "contract.pdf")
        .await;
    assert_eq!(r.body["status"], "pending_review", "{}", r.text);
    id
}

#[tokio::test]
async fn a_day_of_filings_decisions_notices_and_verifications_adds_up_on_the_dashboard() {
    let app = spawn_app_with(&wechat_vars()).await;
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;

    // Issued at once: Chen, with a reminder that goes out by subscribe message.
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    let r = app
        .post(
            "/api/v1/me/subscriptions",
            &json!({"app": "yss", "results": {TPL_ENDORSEMENT: "accept"}}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.platform
        .grant_subscription("dev:demo-chen", TPL_ENDORSEMENT, Grant::Credits(1));
    // Rejected at filing: under six months in the city.
    let newcomer = app
        .newcomer(
            "new-arrival",
            "110105199001010010",
            "周杰",
            "male",
            &days_ago(40),
            true,
        )
        .await;
    let body = json!({"city": "广州市", "district": "白云区", "address": "某路2号",
                      "residence_since": days_ago(40), "basis": "employment"});
    assert_eq!(
        app.apply(&newcomer.access, &body, None).await.body["status"],
        "rejected"
    );
    // Needs materials, then waits for a reviewer.
    let li = li_in_the_queue(&app).await;

    // Two agency verifications and one anonymous one, which is not an agency's.
    let agency = app
        .agency(1, "某区人社局", &["permit:verify"], &["name"])
        .await;
    for _ in 0..2 {
        let code = app.code(&chen.access).await;
        let r = app.verify(&code, Some(&agency.token)).await;
        assert_eq!(r.body["valid"], true, "{}", r.text);
    }
    let code = app.code(&chen.access).await;
    assert_eq!(app.verify(&code, None).await.body["valid"], true);

    let board = dashboard(&app, &reviewer, "").await;
    let day = today(&board);
    assert_eq!(board["days"].as_array().unwrap().len(), 30, "{board}");
    assert_eq!(
        day["applications"],
        json!({"issued_at_once": 1, "needs_materials": 1, "rejected": 1}),
        "{board}"
    );
    let share = day["issued_at_once_share"].as_f64().unwrap();
    assert!((share - 1.0 / 3.0).abs() < 1e-9, "{share}");
    assert_eq!(day["agency_verifications"], 2, "{board}");
    assert_eq!(day["decisions"], json!({"approved": 0, "rejected": 0}));
    let queue = &board["review_queue"];
    assert_eq!(queue["length"], 1, "{board}");
    assert_eq!(queue["awaiting_materials"], 0, "{board}");
    assert!(
        queue["oldest_age_seconds"].as_i64().unwrap() < 300,
        "{board}"
    );
    assert_eq!(queue["by_age"][0], json!({"days": "0", "count": 1}));
    assert_eq!(board["totals"]["applications"], day["applications"]);
    // Nothing about a person: no names, ID numbers or permit numbers anywhere.
    let text = board.to_string();
    for personal in ["陈", "李", "周杰", permit_no.as_str(), "440", "demo-"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }

    // The reviewer approves Li; the reminder and the decision notice go out.
    let r = app
        .post(
            &format!("/api/v1/staff/applications/{li}/decision"),
            &json!({"approve": true}),
            Some(&reviewer),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let admin = app.admin_token().await;
    let run = app
        .post(
            "/api/v1/staff/reminders/run",
            &json!({"deliver": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
    let rows = entity::outbox::Entity::find()
        .all(&app.app.db)
        .await
        .unwrap();
    let by = |channel: &str| {
        rows.iter()
            .filter(|r| {
                r.status == entity::statuses::OutboxStatus::Sent
                    && r.channel.as_deref() == Some(channel)
            })
            .count()
    };
    assert!(by("subscribe") >= 1, "{rows:?}");
    let not_delivered = rows
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                entity::statuses::OutboxStatus::Failed
                    | entity::statuses::OutboxStatus::Undeliverable
            )
        })
        .count();

    let board = dashboard(&app, &admin, "?days=7").await;
    let day = today(&board);
    assert_eq!(board["days"].as_array().unwrap().len(), 7);
    assert_eq!(day["decisions"], json!({"approved": 1, "rejected": 0}));
    // The application still counts under its outcome at filing.
    assert_eq!(day["applications"]["needs_materials"], 1);
    assert_eq!(
        day["notices"],
        json!({"subscribe": by("subscribe"), "wechat": by("wechat"), "email": by("email"),
               "not_delivered": not_delivered}),
        "{rows:?}"
    );
    assert_eq!(
        run.body["sent"].as_u64().unwrap() as usize,
        by("subscribe") + by("wechat") + by("email")
    );
    assert_eq!(board["review_queue"]["length"], 0);
    assert_eq!(board["review_queue"]["oldest_since"], Value::Null);
}

use sea_orm::EntityTrait as _;

#[tokio::test]
async fn the_day_is_china_s_day_not_utc_s() {
    let app = spawn_app().await;
    // 16:30 UTC is 00:30 the next day in China.
    let utc_day = Utc::now().date_naive();
    let at = Utc.from_utc_datetime(&utc_day.and_hms_opt(16, 30, 0).unwrap());
    app.clock().set(at);
    let china_day = (utc_day + Duration::days(1)).to_string();
    app.chen_with_permit().await;
    let admin = app.admin_token().await;
    let board = dashboard(&app, &admin, "?days=2").await;
    assert_eq!(board["to"], china_day.as_str(), "{board}");
    assert_eq!(
        board["days"],
        json!([
            {"date": utc_day.to_string(), "applications": {"issued_at_once": 0, "needs_materials": 0, "rejected": 0},
             "issued_at_once_share": null, "decisions": {"approved": 0, "rejected": 0},
             "notices": {"subscribe": 0, "wechat": 0, "email": 0, "not_delivered": 0}, "agency_verifications": 0},
            {"date": china_day, "applications": {"issued_at_once": 1, "needs_materials": 0, "rejected": 0},
             "issued_at_once_share": 1.0, "decisions": {"approved": 0, "rejected": 0},
             "notices": {"subscribe": 0, "wechat": 0, "email": 0, "not_delivered": 0}, "agency_verifications": 0},
        ]),
        "{board}"
    );
    // Half an hour earlier it was still the day before in China too.
    app.clock().set(at - Duration::hours(1));
    let board = dashboard(&app, &admin, "?days=1").await;
    assert_eq!(board["to"], utc_day.to_string().as_str());
    assert_eq!(board["days"][0]["applications"]["issued_at_once"], 0);
}

#[tokio::test]
async fn the_window_is_bounded_and_only_staff_may_read_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    assert_eq!(
        dashboard(&app, &admin, "?days=0").await["days"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        dashboard(&app, &admin, "?days=100000").await["days"]
            .as_array()
            .unwrap()
            .len(),
        366
    );
    app.get("/api/v1/staff/dashboard?days=abc", Some(&admin))
        .await
        .assert_error(400, "INVALID_REQUEST");
    app.get("/api/v1/staff/dashboard", None)
        .await
        .assert_error(401, "UNAUTHENTICATED");
    let resident = app.login_dev("demo-chen").await;
    let r = app
        .get("/api/v1/staff/dashboard", Some(&resident.access))
        .await;
    assert!(r.status == 401 || r.status == 403, "{}", r.text);
}
