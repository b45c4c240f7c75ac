//! Staff login lock-out: per username (known or not) and per source address, counted in the
//! database so every instance sees it, answered 429 with `Retry-After`.

use entity::login_failure;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use service::identity::staff::{Role, ensure_account};

use crate::helpers::*;

const REVIEWER: (&str, &str) = ("reviewer-li", "reviewer-password-456");

async fn login_from(app: &TestApp, ip: Option<&str>, username: &str, password: &str) -> Reply {
    let mut req = app
        .client
        .post(app.url("/api/v1/staff/login"))
        .json(&json!({"username": username, "password": password}));
    if let Some(ip) = ip {
        req = req.header("X-Real-IP", ip);
    }
    reply(req.send().await.unwrap()).await
}

async fn login(app: &TestApp, username: &str, password: &str) -> Reply {
    login_from(app, None, username, password).await
}

async fn fail_times(app: &TestApp, ip: Option<&str>, username: &str, times: usize) {
    for attempt in 0..times {
        let r = login_from(app, ip, username, &format!("guess-{attempt}")).await;
        r.assert_error(401, "INVALID_CREDENTIALS");
    }
}

#[track_caller]
fn assert_locked_out(r: &Reply) {
    r.assert_error(429, "TOO_MANY_ATTEMPTS");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 800 && retry <= 900, "Retry-After {retry}");
    assert!(r.message().contains("分钟"), "{}", r.text);
}

/// Moves every lock-out into the past, as if its time had passed.
async fn let_lock_outs_pass(app: &TestApp) {
    login_failure::Entity::update_many()
        .col_expr(
            login_failure::Column::LockedUntil,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(login_failure::Column::LockedUntil.is_not_null())
        .exec(&app.app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_even_against_the_right_one() {
    let app = spawn_app().await;
    fail_times(&app, None, STAFF_ADMIN.0, 5).await;
    let r = login(&app, STAFF_ADMIN.0, STAFF_ADMIN.1).await;
    assert_locked_out(&r);
    // The username is matched however it is spelt.
    let r = login(&app, " ROOT ", STAFF_ADMIN.1).await;
    assert_locked_out(&r);
}

#[tokio::test]
async fn another_account_from_the_same_source_is_not_locked_by_it() {
    let app = spawn_app().await;
    ensure_account(&app.app, REVIEWER.0, REVIEWER.1, Role::Reviewer)
        .await
        .unwrap();
    fail_times(&app, None, STAFF_ADMIN.0, 5).await;
    assert_locked_out(&login(&app, STAFF_ADMIN.0, STAFF_ADMIN.1).await);
    let r = login(&app, REVIEWER.0, REVIEWER.1).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn after_the_lock_out_passes_the_right_password_works_and_clears_the_count() {
    let app = spawn_app().await;
    fail_times(&app, None, STAFF_ADMIN.0, 5).await;
    assert_locked_out(&login(&app, STAFF_ADMIN.0, STAFF_ADMIN.1).await);
    let_lock_outs_pass(&app).await;
    fail_times(&app, None, STAFF_ADMIN.0, 2).await;
    let r = login(&app, STAFF_ADMIN.0, STAFF_ADMIN.1).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let row = login_failure::Entity::find()
        .filter(login_failure::Column::Scope.eq("staff_user"))
        .filter(login_failure::Column::Key.eq(STAFF_ADMIN.0))
        .one(&app.app.db)
        .await
        .unwrap();
    assert!(row.is_none(), "count cleared: {row:?}");
    // Four more wrong passwords do not lock: the count started again.
    fail_times(&app, None, STAFF_ADMIN.0, 4).await;
    let r = login(&app, STAFF_ADMIN.0, STAFF_ADMIN.1).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn an_unknown_username_locks_the_same_way_as_a_known_one() {
    let app = spawn_app().await;
    fail_times(&app, None, "nobody-here", 5).await;
    let unknown = login(&app, "nobody-here", "whatever").await;
    assert_locked_out(&unknown);
    fail_times(&app, None, STAFF_ADMIN.0, 5).await;
    let known = login(&app, STAFF_ADMIN.0, "whatever").await;
    assert_locked_out(&known);
    assert_eq!(unknown.body, known.body);
}

#[tokio::test]
async fn the_source_limit_locks_every_username_from_one_address_but_not_another() {
    let app = spawn_app_with(&[
        ("YUEJU_CLIENT_IP_HEADER", "X-Real-IP"),
        ("YUEJU_STAFF_SOURCE_LOCKOUT_ATTEMPTS", "6"),
    ])
    .await;
    for name in ["alpha", "beta", "gamma"] {
        fail_times(&app, Some("10.2.0.1"), name, 2).await;
    }
    let r = login_from(&app, Some("10.2.0.1"), STAFF_ADMIN.0, STAFF_ADMIN.1).await;
    assert_locked_out(&r);
    let r = login_from(&app, Some("10.2.0.2"), STAFF_ADMIN.0, STAFF_ADMIN.1).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_second_instance_over_the_same_database_sees_the_lock_out() {
    let app = spawn_app().await;
    let other = app.another_instance().await;
    fail_times(&app, None, STAFF_ADMIN.0, 3).await;
    fail_times(&other, None, STAFF_ADMIN.0, 2).await;
    assert_locked_out(&login(&other, STAFF_ADMIN.0, STAFF_ADMIN.1).await);
    assert_locked_out(&login(&app, STAFF_ADMIN.0, STAFF_ADMIN.1).await);
}

#[tokio::test]
async fn the_daily_retention_run_forgets_old_counts_but_not_current_lock_outs() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    fail_times(&app, None, "old-guess", 1).await;
    fail_times(&app, None, "locked-guess", 5).await;
    let two_days_ago = chrono::Utc::now() - chrono::Duration::days(2);
    login_failure::Entity::update_many()
        .col_expr(login_failure::Column::UpdatedAt, Expr::value(two_days_ago))
        .exec(&app.app.db)
        .await
        .unwrap();
    let r = app
        .post("/api/v1/staff/retention/run", &json!({}), Some(&admin))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The old count of "old-guess" and the source's count go; the lock-out stays.
    assert_eq!(r.body["login_failures_deleted"], 2, "{}", r.text);
    assert_locked_out(&login(&app, "locked-guess", "whatever").await);
}

#[tokio::test]
async fn concurrent_failures_on_two_instances_are_all_counted() {
    let app = spawn_app_with(&[("YUEJU_STAFF_LOCKOUT_ATTEMPTS", "8")]).await;
    let other = app.another_instance().await;
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..8 {
        let target = if i % 2 == 0 { &app } else { &other };
        let req = target
            .client
            .post(target.url("/api/v1/staff/login"))
            .json(&json!({"username": STAFF_ADMIN.0, "password": "wrong"}));
        attempts.spawn(async move { reply(req.send().await.unwrap()).await });
    }
    while let Some(r) = attempts.join_next().await {
        r.unwrap().assert_error(401, "INVALID_CREDENTIALS");
    }
    assert_locked_out(&login(&app, STAFF_ADMIN.0, STAFF_ADMIN.1).await);
}

#[tokio::test]
async fn failures_older_than_the_lock_out_are_forgotten() {
    let app = spawn_app().await;
    fail_times(&app, None, STAFF_ADMIN.0, 4).await;
    let twenty_minutes_ago = chrono::Utc::now() - chrono::Duration::minutes(20);
    login_failure::Entity::update_many()
        .col_expr(
            login_failure::Column::UpdatedAt,
            Expr::value(twenty_minutes_ago),
        )
        .exec(&app.app.db)
        .await
        .unwrap();
    // A fifth failure would lock; after a quiet lock-out's length it counts as the first.
    fail_times(&app, None, STAFF_ADMIN.0, 1).await;
    let r = login(&app, STAFF_ADMIN.0, STAFF_ADMIN.1).await;
    assert_eq!(r.status, 200, "{}", r.text);
}
