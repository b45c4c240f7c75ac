//! Chat links belong to identity: the person's export lists them, closing the account reports
//! and removes them, and wrong binding codes and wrong agency secrets are counted by the one
//! lock-out helper (`login_failures`), so their limits hold across instances.

use entity::{chat_link, login_failure};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Statement, TransactionTrait};
use serde_json::json;

use crate::agencies::oauth_form;
use crate::helpers::*;

/// A chat user id long enough to be masked, not shown whole anywhere.
const FOLLOWER: &str = "web-follower-7c1f9a";

async fn link_by_code(app: &TestApp, access: &str, chat_user: &str) {
    let code = app.binding_code(access).await;
    let r = app.message(chat_user, &format!("绑定 {code}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["replies"][0], bot::text::LINKED, "{}", r.text);
}

#[tokio::test]
async fn the_export_lists_the_persons_chat_links_with_the_chat_user_masked() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    link_by_code(&app, &chen.access, FOLLOWER).await;

    let e = app.get("/api/v1/me/export", Some(&chen.access)).await;
    assert_eq!(e.status, 200, "{}", e.text);
    let links = e.body["chat_links"].as_array().expect("chat_links listed");
    assert_eq!(links.len(), 1, "{}", e.text);
    assert_eq!(links[0]["channel"], "web");
    assert_eq!(links[0]["method"], "code");
    assert_eq!(links[0]["chat_user"], "web-…9a");
    assert!(links[0]["linked_at"].is_string(), "{}", e.text);
    assert!(links[0]["last_message_at"].is_string(), "{}", e.text);
    assert!(!e.text.contains(FOLLOWER), "the chat user id is masked");
    assert!(links[0].get("code_hash").is_none() && links[0].get("id").is_none());
}

#[tokio::test]
async fn closing_the_account_reports_its_chat_links_and_removes_them() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    link_by_code(&app, &chen.access, FOLLOWER).await;
    // An unused code goes too.
    app.binding_code(&chen.access).await;

    let r = app
        .send_json(
            reqwest::Method::DELETE,
            "/api/v1/me",
            &json!({}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["chat_links"][0]["channel"], "web", "{}", r.text);
    assert_eq!(r.body["chat_links"][0]["chat_user"], "web-…9a");
    let reported = r.body["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["what"].as_str().unwrap().contains("聊天机器人绑定"))
        .unwrap_or_else(|| panic!("chat links among the deleted: {}", r.text));
    assert_eq!(reported["count"], 1);

    let db = &app.app.db;
    assert_eq!(chat_link::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(
        entity::chat_binding_code::Entity::find()
            .count(db)
            .await
            .unwrap(),
        0
    );
    let after = app.message(FOLLOWER, "3").await;
    assert_eq!(
        after.body["replies"][0],
        bot::text::NEED_LINK,
        "{}",
        after.text
    );
}

#[tokio::test]
async fn wrong_binding_codes_lock_the_chat_user_out_on_every_instance() {
    let app = spawn_app().await;
    let other = app.another_instance().await;
    let chen = app.login_dev("demo-chen").await;
    for attempt in 0..4 {
        let on = if attempt % 2 == 0 { &app } else { &other };
        let r = on.message("web-guesser", "00000000").await;
        assert_eq!(
            r.body["replies"][0],
            bot::text::code_invalid(4 - attempt),
            "{}",
            r.text
        );
    }
    let fifth = other.message("web-guesser", "00000000").await;
    assert_eq!(
        fifth.body["replies"][0],
        bot::text::code_locked(15),
        "{}",
        fifth.text
    );
    // A valid code is refused on the first instance too, with the same answer as before.
    let code = app.binding_code(&chen.access).await;
    let refused = app.message("web-guesser", &code).await;
    let reply = refused.body["replies"][0].as_str().unwrap();
    assert!(reply.contains("错误次数过多"), "{reply}");

    let row = login_failure::Entity::find_by_id((
        "binding_code".to_owned(),
        "web:web-guesser".to_owned(),
    ))
    .one(&app.app.db)
    .await
    .unwrap()
    .expect("counted by the lock-out helper");
    assert!(row.locked_until.is_some_and(|u| u > chrono::Utc::now()));
    assert_eq!(
        chat_link::Entity::find().count(&app.app.db).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn wrong_agency_secrets_lock_the_client_out_on_every_instance() {
    let app = spawn_app().await;
    let other = app.another_instance().await;
    let agency = app
        .agency(7, "汕头市公安局", &["permit:verify"], &["name"])
        .await;
    let with_secret = |secret: &str| {
        [
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", agency.client_id.clone()),
            ("client_secret", secret.to_owned()),
        ]
    };
    let instances = [&app, &other];
    for attempt in 0..5 {
        let form = with_secret(&format!("guess-{attempt}"));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = oauth_form(instances[attempt % 2], &form).await;
        assert_eq!(r.status, 401, "attempt {attempt}: {}", r.text);
    }
    // Both instances refuse even the right secret now, as one instance did before.
    let right = with_secret(&agency.secret);
    let right: Vec<(&str, &str)> = right.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for on in instances {
        let r = oauth_form(on, &right).await;
        assert_eq!(r.status, 429, "{}", r.text);
        let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((800..=900).contains(&retry), "{retry}");
        let description = r.body["error_description"].as_str().unwrap_or_default();
        assert!(description.contains("分钟"), "{}", r.text);
    }

    let rows = login_failure::Entity::find()
        .all(&app.app.db)
        .await
        .unwrap();
    assert!(
        rows.iter()
            .any(|f| f.scope == "agency_secret" && f.locked_until.is_some()),
        "{rows:?}"
    );
}

#[tokio::test]
async fn the_chat_link_migration_rolls_back_to_the_bot_tables_keeping_the_links() {
    let app = spawn_app().await;
    let chen = app.login_dev("demo-chen").await;
    link_by_code(&app, &chen.access, FOLLOWER).await;
    let db = &app.app.db;
    let backend = db.get_database_backend();
    let count =
        |table: &str| Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}"));

    // One connection throughout: another SQLite connection of the pool may hold the schema
    // from before the down.
    let txn = db.begin().await.unwrap();
    // Back to before the chat links' migration (and those after it).
    let all = Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == "m20261201_000003_chat_links")
        .expect("the chat links' migration is listed");
    Migrator::down(&txn, Some((all.len() - at) as u32))
        .await
        .expect("down runs");
    let links: i64 = txn
        .query_one_raw(count("bot_links"))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_eq!(links, 1);
    txn.query_one_raw(count("bot_binding_codes")).await.unwrap();
    txn.query_one_raw(count("bot_inbound_messages"))
        .await
        .unwrap();
    txn.execute_raw(Statement::from_string(
        backend,
        "SELECT code_failures, codes_locked_until FROM bot_dialogues",
    ))
    .await
    .expect("the dialogue counts its wrong codes again");
    txn.execute_raw(Statement::from_string(
        backend,
        "SELECT failed_attempts, locked_until FROM agencies",
    ))
    .await
    .expect("agencies count their wrong secrets again");
    Migrator::up(&txn, None).await.expect("up runs again");
    txn.commit().await.unwrap();

    assert_eq!(chat_link::Entity::find().count(db).await.unwrap(), 1);
    let r = app.message(FOLLOWER, "提醒").await;
    assert_ne!(r.body["replies"][0], bot::text::NEED_LINK, "{}", r.text);
}
