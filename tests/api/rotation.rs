//! Data-key rotation: with the new key first, `yueju rotate-keys` re-seals everything, after
//! which the old key can go; an interrupted rotation resumes where it is.

use base64::Engine as _;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use service::rights::rotation::{self, Options};
use std::collections::BTreeSet;

use crate::helpers::*;

fn key(kid: &str, byte: u8) -> String {
    format!(
        "{kid}:{}",
        base64::engine::general_purpose::STANDARD.encode([byte; 32])
    )
}

/// Data in every kind of sealed place: persons, permits and versions, applications, an
/// uploaded file, notices, a saved idempotent answer; government data is sealed at start.
async fn populate(app: &TestApp) -> (Tokens, Tokens, String) {
    let chen = app.chen_with_permit().await;
    app.set_email(&chen.access, "chen.zq@example.com").await;
    let li = app.login_dev("demo-li").await;
    let body = json!({"city": "佛山市", "district": "南海区", "address": "桂城街道南海大道北45号",
                      "residence_since": "2025-09-01", "basis": "employment"});
    let r = app.apply(&li.access, &body, Some("rotation-1")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .upload(&li.access, &id, "employment_proof", PDF, "contract.pdf")
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (chen, li, id)
}

async fn everything_opens(app: &TestApp, chen: &str, li: &str, application_id: &str) {
    let e = app.get("/api/v1/me/export", Some(chen)).await;
    assert_eq!(e.status, 200, "{}", e.text);
    assert_eq!(e.body["identity"]["id_number"], CHEN_ID);
    assert_eq!(e.body["contact"]["email"], "chen.zq@example.com");
    assert_eq!(
        e.body["permits"][0]["versions"][0]["document"]["name"],
        CHEN_NAME
    );
    let e = app.get("/api/v1/me/export", Some(li)).await;
    assert_eq!(e.status, 200, "{}", e.text);
    assert_eq!(
        e.body["applications"][0]["address"],
        "桂城街道南海大道北45号"
    );
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    let detail = app
        .get(
            &format!("/api/v1/staff/applications/{application_id}"),
            Some(&reviewer),
        )
        .await;
    let material_id = detail.body["materials"][0]["id"].as_str().unwrap();
    let file = app
        .client
        .get(app.url(&format!(
            "/api/v1/staff/applications/{application_id}/materials/{material_id}"
        )))
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), PDF);
}

/// A rotation over an app whose vault knows only the current key fails on any value sealed
/// under another; a clean run re-sealing nothing proves everything is under the current key.
async fn all_under_current_key(app: &TestApp) {
    let report = rotation::rotate(
        &app.app.db,
        &app.app.vault,
        app.data_dir.path(),
        Options::default(),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(report.complete);
    assert_eq!((report.resealed, report.files_resealed), (0, 0));
}

#[tokio::test]
async fn after_rotate_keys_the_old_key_can_go_and_everything_still_opens() {
    let app = spawn_app_with(&[("YUEJU_DATA_KEYS", &key("key-a", 11))]).await;
    let (chen, li, id) = populate(&app).await;
    let both = format!("{},{}", key("key-b", 12), key("key-a", 11));
    let rotated = app.restart_with(&[("YUEJU_DATA_KEYS", &both)]).await;

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yueju"))
        .arg("rotate-keys")
        .args(["--batch", "2"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &rotated.db.url)
        .env("YUEJU_DATA_DIR", rotated.data_dir.path())
        .env("YUEJU_DATA_KEYS", &both)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("re-sealing under data key `key-b`"),
        "{stdout}"
    );
    assert!(stdout.contains("persons"), "{stdout}");
    assert!(stdout.contains("done:"), "{stdout}");
    assert!(stdout.contains("and 1 files re-sealed"), "{stdout}");

    let only_b = rotated
        .restart_with(&[("YUEJU_DATA_KEYS", &key("key-b", 12))])
        .await;
    everything_opens(&only_b, &chen.access, &li.access, &id).await;
    all_under_current_key(&only_b).await;
    // The saved idempotent answer opens too: the same request answers the same application.
    let body = json!({"city": "佛山市", "district": "南海区", "address": "桂城街道南海大道北45号",
                      "residence_since": "2025-09-01", "basis": "employment"});
    let replay = only_b.apply(&li.access, &body, Some("rotation-1")).await;
    assert_eq!(replay.body["id"], id.as_str(), "{}", replay.text);
}

#[tokio::test]
async fn an_interrupted_rotation_resumes_and_skips_what_is_done() {
    let app = spawn_app_with(&[("YUEJU_DATA_KEYS", &key("key-a", 21))]).await;
    let (chen, li, id) = populate(&app).await;
    let both = format!("{},{}", key("key-b", 22), key("key-a", 21));
    let rotated = app.restart_with(&[("YUEJU_DATA_KEYS", &both)]).await;
    let ctx = &rotated.app;
    let one_at_a_time = |max| Options {
        batch: 1,
        max_batches: max,
    };

    let mut seen = Vec::new();
    let partial = rotation::rotate(
        &ctx.db,
        &ctx.vault,
        rotated.data_dir.path(),
        one_at_a_time(Some(3)),
        &mut |p| seen.push(p.table),
    )
    .await
    .unwrap();
    assert!(!partial.complete);
    assert_eq!(seen.len(), 3);
    assert!(partial.resealed > 0);

    let rest = rotation::rotate(
        &ctx.db,
        &ctx.vault,
        rotated.data_dir.path(),
        one_at_a_time(None),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(rest.complete);
    assert!(rest.resealed > 0);
    assert_eq!(rest.files_resealed, 1);

    let again = rotation::rotate(
        &ctx.db,
        &ctx.vault,
        rotated.data_dir.path(),
        one_at_a_time(None),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!((again.resealed, again.files_resealed), (0, 0));

    let only_b = rotated
        .restart_with(&[("YUEJU_DATA_KEYS", &key("key-b", 22))])
        .await;
    everything_opens(&only_b, &chen.access, &li.access, &id).await;
    all_under_current_key(&only_b).await;
}

#[tokio::test]
async fn every_sealed_column_of_the_schema_is_rotated() {
    let app = spawn_app().await;
    let db = &app.app.db;
    let sql = if app.db.url.starts_with("sqlite:") {
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.name LIKE '%\\_enc' ESCAPE '\\'"
    } else {
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_name LIKE '%\\_enc' ESCAPE '\\'"
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let in_schema: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.try_get("", "t").unwrap(), r.try_get("", "c").unwrap()))
        .collect();
    let rotated: BTreeSet<(String, String)> = rotation::SEALED
        .iter()
        .chain(bot::SEALED)
        .flat_map(|t| {
            t.columns
                .iter()
                .map(|(c, _)| (t.table.to_owned(), (*c).to_owned()))
        })
        .collect();
    assert!(in_schema.len() >= 10, "{in_schema:?}");
    assert_eq!(in_schema, rotated);
}
