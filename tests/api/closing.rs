//! `DELETE /api/v1/me`: closing an account deletes what no law requires to keep, revokes
//! grants, keeps the permit record and the access log, and says so.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;

/// Li applies, uploads a document, a reviewer approves: Li holds a permit and a stored file.
/// Answers Li's tokens and the material file's path.
async fn li_with_reviewed_permit(app: &TestApp) -> (Tokens, std::path::PathBuf) {
    let li = app.login_dev("demo-li").await;
    let body = json!({"city": "佛山市", "district": "南海区", "address": "桂城街道南海大道北45号",
                      "residence_since": "2025-09-01", "basis": "employment", "email": "li.xy@example.com"});
    let r = app.apply(&li.access, &body, None).await;
    assert_eq!(r.body["status"], "needs_materials", "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .upload(&li.access, &id, "employment_proof", PDF, "contract.pdf")
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    let r = app
        .post(
            &format!("/api/v1/staff/applications/{id}/decision"),
            &json!({"approve": true, "reason": "劳动合同有效"}),
            Some(&reviewer),
        )
        .await;
    assert_eq!(r.body["status"], "issued", "{}", r.text);
    let material = entity::material::Entity::find()
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    let path = app.data_dir.path().join(&material.stored_path);
    assert!(path.exists());
    (li, path)
}

async fn ask(app: &TestApp, agency: &AgencyClient, holder: &str, purpose: &str) -> String {
    let code = app.code(holder).await;
    let r = app.ask_access(agency, &code, purpose, 30).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

fn item<'a>(list: &'a Value, what_contains: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|i| i["what"].as_str().unwrap().contains(what_contains))
        .unwrap_or_else(|| panic!("no item about {what_contains} in {list}"))
}

#[tokio::test]
async fn closing_deletes_logins_and_files_revokes_grants_keeps_the_permit_and_log_and_says_so() {
    let app = spawn_app().await;
    let (li, file) = li_with_reviewed_permit(&app).await;
    let agency = app
        .agency(
            41,
            "佛山市南海区人力资源和社会保障局",
            &["permit:verify", "permit:download"],
            &["name", "residence_address"],
        )
        .await;
    let granted = ask(&app, &agency, &li.access, "办理就业登记").await;
    let grant = app.decide(&li.access, &granted, "approve").await;
    assert_eq!(grant.status, 201, "{}", grant.text);
    let grant_id = grant.body["id"].as_str().unwrap().to_owned();
    ask(&app, &agency, &li.access, "办理人才补贴").await;

    let r = app.close_account(&li.access).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(r.body["closed"], true);
    assert_eq!(r.body["revoked_authorizations"], 1);
    // Both demo logins (粤省事 and 粤居码) were bound to Li.
    assert_eq!(item(&r.body["deleted"], "登录账号")["count"], 2);
    assert_eq!(item(&r.body["deleted"], "联系邮箱")["count"], 1);
    assert_eq!(item(&r.body["deleted"], "授权请求")["count"], 1);
    assert_eq!(item(&r.body["deleted"], "材料文件")["count"], 1);
    let permit = item(&r.body["kept"], "居住证签发记录");
    assert_eq!(permit["until"], Value::Null);
    assert!(permit["why"].as_str().unwrap().contains("居住证暂行条例"));
    let log = item(&r.body["kept"], "用证记录");
    assert_eq!(log["until"], days_ahead(1095));
    assert!(log["why"].as_str().unwrap().contains("三年"));

    // The old tokens are dead; the file is gone; the grant no longer downloads.
    app.get("/api/v1/me", Some(&li.access))
        .await
        .assert_error(401, "UNAUTHENTICATED");
    let refreshed = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": li.refresh}),
            None,
        )
        .await;
    assert_eq!(refreshed.status, 401, "{}", refreshed.text);
    assert!(!file.exists(), "the material file is still stored");
    app.get(
        &format!("/api/v1/agency/authorizations/{grant_id}/annotated-copy"),
        Some(&agency.token),
    )
    .await
    .assert_error(403, "AUTHORIZATION_REVOKED");

    // Li's logins are gone from the database, and nothing personal is there in clear.
    let logins = entity::account::Entity::find()
        .filter(entity::account::Column::Openid.eq("dev:demo-li"))
        .all(&app.app.db)
        .await
        .unwrap();
    assert!(logins.is_empty());
    let dump = app.raw_database_dump().await;
    for value in [
        LI_ID,
        "李秀英",
        "桂城街道南海大道北45号",
        "li.xy@example.com",
        "dev:demo-li",
    ] {
        assert!(!dump.contains(value), "{value} found in the database");
    }

    // The revocation is in the access log, whose chain is intact.
    let person_id = entity::permit::Entity::find()
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let entries = service::consent::access_log::list(&app.app.db, person_id, 0, 100)
        .await
        .unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last.action, "revoke");
    assert_eq!(last.detail["reason"], "account_closed");
    assert!(
        service::consent::access_log::check(&app.app.db, person_id)
            .await
            .unwrap()
            .intact
    );

    // The permit is Li's: binding the identity again from a new login finds it.
    let again = app.bound_resident("li-again", "李秀英", LI_ID).await;
    let p = app.get("/api/v1/me/permit", Some(&again.access)).await;
    assert_eq!(p.status, 200, "{}", p.text);
    let me = app.get("/api/v1/me", Some(&again.access)).await;
    assert_eq!(me.body["email"], Value::Null);
}

#[tokio::test]
async fn closing_an_unbound_login_deletes_it_and_keeps_nothing() {
    let app = spawn_app().await;
    let fresh = app.login_dev("closing-unbound").await;
    let r = app.close_account(&fresh.access).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(item(&r.body["deleted"], "登录账号")["count"], 1);
    assert_eq!(r.body["kept"], json!([]));
    app.get("/api/v1/me/export", Some(&fresh.access))
        .await
        .assert_error(401, "UNAUTHENTICATED");
    app.send_json(reqwest::Method::DELETE, "/api/v1/me", &json!({}), None)
        .await
        .assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn closing_without_a_permit_deletes_the_identity_and_the_unissued_application() {
    let app = spawn_app().await;
    let li = app.login_dev("demo-li").await;
    let body = json!({"city": "佛山市", "district": "南海区", "address": "桂城街道南海大道北45号",
                      "residence_since": "2025-09-01", "basis": "employment"});
    let r = app.apply(&li.access, &body, Some("closing-1")).await;
    assert_eq!(r.body["status"], "needs_materials", "{}", r.text);
    let r = app.close_account(&li.access).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(item(&r.body["deleted"], "实名认证信息")["count"], 1);
    assert_eq!(item(&r.body["deleted"], "未获签发的申请")["count"], 1);
    assert_eq!(item(&r.body["deleted"], "防重复提交")["count"], 1);
    assert_eq!(r.body["kept"], json!([]));
    let db = &app.app.db;
    assert!(
        entity::application::Entity::find()
            .all(db)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        entity::idempotency_key::Entity::find()
            .all(db)
            .await
            .unwrap()
            .is_empty()
    );
    let people = entity::person::Entity::find().all(db).await.unwrap();
    let blind = app
        .app
        .vault
        .blind_index(service::keys::privacy::Kind::IdNumber, LI_ID);
    assert!(people.iter().all(|p| p.id_number_blind != blind));
}
