//! Retention with a clock: `POST /api/v1/staff/retention/run {"as_of"}` deletes materials only
//! after the configured days and access-log entries only after the cut-off, and the chain
//! stays checkable from its anchor while any other removal still shows.

use chrono::{Duration, SubsecRound, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

async fn run(app: &TestApp, as_of: &str) -> Reply {
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/staff/retention/run",
            &json!({"as_of": as_of}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

#[tokio::test]
async fn materials_are_deleted_only_once_the_configured_days_after_the_decision_have_passed() {
    let app = spawn_app_with(&[
        ("YUEJU_MATERIALS_RETENTION_DAYS", "30"),
        ("YUEJU_RETENTION_AT", "off"),
    ])
    .await;
    let li = app.login_dev("demo-li").await;
    let body = json!({"city": "佛山市", "district": "南海区", "address": "桂城街道南海大道北45号",
                      "residence_since": "2025-09-01", "basis": "employment"});
    let id = app.apply(&li.access, &body, None).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.upload(&li.access, &id, "employment_proof", PDF, "contract.pdf")
        .await;
    let material = entity::material::Entity::find()
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    let file = app.data_dir.path().join(&material.stored_path);

    // Undecided: kept, however late.
    assert_eq!(
        run(&app, &days_ahead(400)).await.body["materials_purged"],
        0
    );
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    let decided = app
        .post(
            &format!("/api/v1/staff/applications/{id}/decision"),
            &json!({"approve": false, "reason": "合同已过期"}),
            Some(&reviewer),
        )
        .await;
    assert_eq!(decided.body["status"], "rejected", "{}", decided.text);

    assert_eq!(run(&app, &days_ahead(30)).await.body["materials_purged"], 0);
    assert!(file.exists());
    let r = run(&app, &days_ahead(31)).await;
    assert_eq!(r.body["materials_purged"], 1, "{}", r.text);
    assert!(!file.exists());
    assert_eq!(run(&app, &days_ahead(32)).await.body["materials_purged"], 0);

    let mine = app
        .get(&format!("/api/v1/applications/{id}"), Some(&li.access))
        .await;
    assert_ne!(
        mine.body["materials"][0]["purged_at"],
        serde_json::Value::Null
    );
    assert_eq!(mine.body["materials"][0]["kind"], "employment_proof");
    app.get(
        &format!("/api/v1/staff/applications/{id}/materials/{}", material.id),
        Some(&reviewer),
    )
    .await
    .assert_error(404, "MATERIAL_NOT_FOUND");
}

#[tokio::test]
async fn only_admins_run_retention_and_a_bad_date_is_refused() {
    let app = spawn_app().await;
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    app.post("/api/v1/staff/retention/run", &json!({}), Some(&reviewer))
        .await
        .assert_error(403, "FORBIDDEN");
    let admin = app.admin_token().await;
    app.post(
        "/api/v1/staff/retention/run",
        &json!({"as_of": "2026-13-01"}),
        Some(&admin),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    let r = app
        .client
        .post(app.url("/api/v1/staff/retention/run"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["as_of"], days_ahead(0));
}

/// Writes entries at the head of a person's chain as if logged `days_ago` days ago, linked
/// and hashed as `access_log::record` does, and moves the person's counter past them.
async fn backdated_entries(app: &TestApp, person_id: Uuid, days_ago: &[i64]) {
    let db = &app.app.db;
    let mut prev = service::consent::access_log::GENESIS.to_owned();
    for (i, days) in days_ago.iter().enumerate() {
        let mut row = entity::access_log_entry::Model {
            id: Uuid::new_v4(),
            person_id,
            seq: i as i64 + 1,
            at: (Utc::now() - Duration::days(*days)).trunc_subsecs(0),
            actor_kind: "agency".into(),
            actor_id: Some(Uuid::new_v4()),
            actor_name: "广州市公安局天河区分局".into(),
            action: "verify".into(),
            purpose: None,
            detail: "{}".into(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        row.hash = service::consent::access_log::entry_hash(&prev, &row);
        prev = row.hash.clone();
        let active: entity::access_log_entry::ActiveModel = row.into();
        entity::access_log_entry::Entity::insert(active)
            .exec(db)
            .await
            .unwrap();
        service::permit::counters::next(db, &format!("access_log:{person_id}"))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn access_log_entries_go_after_the_cut_off_and_the_chain_stays_intact_from_its_anchor() {
    let app = spawn_app_with(&[("YUEJU_RETENTION_AT", "off")]).await;
    let chen = app.chen_with_permit().await;
    let db = &app.app.db;
    let person_id = entity::account::Entity::find()
        .filter(entity::account::Column::Openid.eq("dev:demo-chen"))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .person_id
        .unwrap();
    backdated_entries(&app, person_id, &[1200, 1100]).await;
    // Two real entries follow: an agency asks, Chen approves.
    let agency = app
        .agency(
            51,
            "广州市天河区社会保险基金管理局",
            &["permit:verify", "permit:download"],
            &["name"],
        )
        .await;
    let code = app.code(&chen.access).await;
    let r = app.ask_access(&agency, &code, "办理社保卡", 30).await;
    let request_id = r.body["id"].as_str().unwrap().to_owned();
    let grant = app.decide(&chen.access, &request_id, "approve").await;
    assert_eq!(grant.status, 201, "{}", grant.text);
    let check = || async {
        app.get("/api/v1/me/access-log/check", Some(&chen.access))
            .await
    };
    assert_eq!(check().await.body["entries"], 4);
    assert_eq!(check().await.body["intact"], true);

    // 200 days ago, even the oldest entry was within its three years.
    let r = run(&app, &days_ahead(-200)).await;
    assert_eq!(r.body["access_log_deleted"], 0, "{}", r.text);
    // 100 days ago, the entry from 1200 days ago had had its three years.
    let r = run(&app, &days_ahead(-100)).await;
    assert_eq!(r.body["access_log_deleted"], 1, "{}", r.text);
    assert_eq!(r.body["chains_anchored"], 1);
    let c = check().await;
    assert_eq!(c.body["intact"], true, "{}", c.text);
    assert_eq!(c.body["entries"], 3);
    // Today, the one from 1100 days ago goes too; the real entries stay.
    let r = run(&app, &days_ahead(0)).await;
    assert_eq!(r.body["access_log_deleted"], 1, "{}", r.text);
    assert_eq!(
        run(&app, &days_ahead(0)).await.body["access_log_deleted"],
        0
    );
    let c = check().await;
    assert_eq!(c.body["intact"], true, "{}", c.text);
    assert_eq!(c.body["entries"], 2);
    let log = app.get("/api/v1/me/access-log", Some(&chen.access)).await;
    let seqs: Vec<i64> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [3, 4]);
    let anchor = entity::access_log_anchor::Entity::find_by_id(person_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((anchor.seq, anchor.removed), (3, 2));

    // The chain goes on from the retained tail.
    let revoked = app
        .send_json(
            reqwest::Method::DELETE,
            &format!(
                "/api/v1/me/authorizations/{}",
                grant.body["id"].as_str().unwrap()
            ),
            &json!({}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert_eq!(check().await.body["intact"], true);

    // A removal that is not retention's is detected.
    entity::access_log_entry::Entity::delete_many()
        .filter(entity::access_log_entry::Column::PersonId.eq(person_id))
        .filter(entity::access_log_entry::Column::Seq.eq(3))
        .exec(db)
        .await
        .unwrap();
    let c = check().await;
    assert_eq!(c.body["intact"], false, "{}", c.text);
    assert_eq!(c.body["broken_at"], 4);
}

#[tokio::test]
async fn a_chain_retention_emptied_continues_from_its_anchor() {
    let app = spawn_app_with(&[("YUEJU_ACCESS_LOG_RETENTION_DAYS", "0")]).await;
    let chen = app.chen_with_permit().await;
    let agency = app
        .agency(
            52,
            "广州市天河区人民法院",
            &["permit:verify", "permit:download"],
            &["name"],
        )
        .await;
    let ask = || async {
        let code = app.code(&chen.access).await;
        app.ask_access(&agency, &code, "送达文书", 1).await
    };
    assert_eq!(ask().await.status, 201);
    let r = run(&app, &days_ahead(1)).await;
    assert_eq!(r.body["access_log_deleted"], 1, "{}", r.text);
    let c = app
        .get("/api/v1/me/access-log/check", Some(&chen.access))
        .await;
    assert_eq!(
        (c.body["intact"].clone(), c.body["entries"].clone()),
        (json!(true), json!(0))
    );
    // The next entry links to the removed one's hash, through the anchor.
    assert_eq!(ask().await.status, 201);
    let c = app
        .get("/api/v1/me/access-log/check", Some(&chen.access))
        .await;
    assert_eq!(c.body["intact"], true, "{}", c.text);
    assert_eq!(c.body["entries"], 1);
}

#[tokio::test]
async fn consent_records_go_with_the_access_log_once_the_grant_has_ended() {
    let app = spawn_app_with(&[("YUEJU_RETENTION_AT", "off")]).await;
    let chen = app.chen_with_permit().await;
    let agency = app
        .agency(
            53,
            "广州市住房公积金管理中心",
            &["permit:verify", "permit:download"],
            &["name"],
        )
        .await;
    let code = app.code(&chen.access).await;
    let r = app.ask_access(&agency, &code, "提取公积金", 30).await;
    let id = r.body["id"].as_str().unwrap();
    let g = app.decide(&chen.access, id, "approve").await;
    assert_eq!(g.status, 201, "{}", g.text);
    // The grant ends in 30 days; its record is kept 1095 days after that.
    let r = run(&app, &days_ahead(30 + 1095)).await;
    assert_eq!(r.body["consent_records_deleted"], 0, "{}", r.text);
    let mine = app
        .get("/api/v1/me/authorizations", Some(&chen.access))
        .await;
    assert_eq!(
        mine.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        mine.text
    );
    let r = run(&app, &days_ahead(30 + 1096)).await;
    assert_eq!(r.body["consent_records_deleted"], 2, "{}", r.text);
    let mine = app
        .get("/api/v1/me/authorizations", Some(&chen.access))
        .await;
    assert_eq!(mine.body["items"], json!([]), "{}", mine.text);
}

#[tokio::test]
async fn dialogues_unused_past_the_bot_timeout_are_deleted_but_not_those_counting_wrong_codes() {
    let app = spawn_app_with(&[("YUEJU_RETENTION_AT", "off")]).await;
    let chat = app.chat();
    for user in ["quiet", "guesser", "recent"] {
        app.say(&chat, user, "我能办居住证吗").await;
    }
    app.age_dialogue("quiet", 31, 0).await;
    app.age_dialogue("guesser", 31, 2).await;
    app.age_dialogue("recent", 5, 0).await;

    let r = run(&app, &Utc::now().date_naive().to_string()).await;
    assert_eq!(r.body["dialogues_deleted"], 1, "{}", r.text);
    let left: Vec<String> = entity::bot_dialogue::Entity::find()
        .all(&app.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.channel_user)
        .collect();
    assert!(!left.contains(&"quiet".to_owned()), "{left:?}");
    assert!(left.contains(&"guesser".to_owned()), "{left:?}");
    assert!(left.contains(&"recent".to_owned()), "{left:?}");
}
