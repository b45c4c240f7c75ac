//! Identity bound by the platform's face verification 2.0 (人脸核身 2.0), in prod mode against
//! the fake platform: `POST /api/v1/me/identity/face-verification` opens a session
//! (`getverifyid`), `POST /api/v1/me/identity` with its verify_id binds when
//! `queryverifyinfo` says the face passed — once, for the login, name and number that
//! started it. Prod binds nothing without it; dev still binds on the government data alone.

use entity::face_verification;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::time::Duration;

use crate::helpers::*;

const START: &str = "/api/v1/me/identity/face-verification";
const GET_VERIFY_ID: &str = "/cityservice/face/identify/getverifyid";
const QUERY_VERIFY_INFO: &str = "/cityservice/face/identify/queryverifyinfo";

impl TestApp {
    /// Logs in through the platform (`jscode2session`) with a code of the fake's rules.
    async fn login_platform(&self, app: &str, code: &str) -> String {
        let r = self.login(app, code).await;
        assert_eq!(r.status, 200, "login: {}", r.text);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    async fn start_face(&self, token: &str, name: &str, id_number: &str) -> Reply {
        self.post(
            START,
            &json!({"name": name, "id_number": id_number}),
            Some(token),
        )
        .await
    }

    /// Starts a face verification that must open; its verify_id.
    async fn verify_id(&self, token: &str, name: &str, id_number: &str) -> String {
        let r = self.start_face(token, name, id_number).await;
        assert_eq!(r.status, 201, "start: {}", r.text);
        r.body["verify_id"].as_str().unwrap().to_owned()
    }

    async fn bind_face(&self, token: &str, name: &str, id_number: &str, verify_id: &str) -> Reply {
        self.post(
            "/api/v1/me/identity",
            &json!({"name": name, "id_number": id_number, "verify_id": verify_id}),
            Some(token),
        )
        .await
    }

    async fn me(&self, token: &str) -> Value {
        let r = self.get("/api/v1/me", Some(token)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    async fn assert_unbound(&self, token: &str) {
        let me = self.me(token).await;
        assert_eq!(me["identity_bound"], false, "{me}");
        assert_eq!(me["assurance"], Value::Null, "{me}");
    }

    async fn face_rows(&self) -> Vec<face_verification::Model> {
        face_verification::Entity::find()
            .all(&self.app.db)
            .await
            .unwrap()
    }
}

/// Validates `body` against the schema the served spec gives for this answer.
#[track_caller]
fn assert_schema(spec: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let schema = &spec["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    let root = json!({"$ref": schema["$ref"], "components": spec["components"]});
    let validator = jsonschema::draft202012::new(&root).expect("a valid schema");
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:?}\n{body}"
    );
}

#[tokio::test]
async fn the_whole_face_flow_binds_with_wx_face_assurance_and_me_shows_it() {
    let app = spawn_prod_app().await;
    let spec = app.get("/api/v1/openapi.json", None).await.body;
    let token = app.login_platform("yss", "ok:face-whole").await;
    app.assert_unbound(&token).await;

    let started = app.start_face(&token, WANG_NAME, WANG_ID).await;
    assert_eq!(started.status, 201, "{}", started.text);
    assert_eq!(started.body["expires_in"], 3600);
    assert_schema(&spec, "post", START, 201, &started.body);
    // What the platform was asked: a fresh 32-hex out_seq_no, the identity, the openid.
    let sent = app.platform.state().face.started.last().cloned().unwrap();
    let out_seq_no = sent["out_seq_no"].as_str().unwrap();
    assert_eq!(out_seq_no.len(), 32);
    assert!(out_seq_no.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        sent["cert_info"],
        json!({"cert_type": "IDENTITY_CARD", "cert_name": WANG_NAME, "cert_no": WANG_ID})
    );
    assert_eq!(sent["openid"], "face-whole");

    let verify_id = started.body["verify_id"].as_str().unwrap();
    let bound = app.bind_face(&token, WANG_NAME, WANG_ID, verify_id).await;
    assert_eq!(bound.status, 200, "{}", bound.text);
    assert_eq!(bound.body["assurance"], "wx_face");
    assert_eq!(bound.body["masked_id_number"], "4501**********1352");
    assert_schema(&spec, "post", "/api/v1/me/identity", 200, &bound.body);
    let me = app.me(&token).await;
    assert_eq!(me["identity_bound"], true);
    assert_eq!(me["assurance"], "wx_face");
    assert_schema(&spec, "get", "/api/v1/me", 200, &me);

    let rows = app.face_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome.as_deref(), Some("passed"));
    assert!(rows[0].used_at.is_some());
    assert_eq!(rows[0].out_seq_no, out_seq_no);
    assert_ne!(rows[0].verify_id_hash, verify_id, "only a digest is kept");
    let dump = app.raw_database_dump().await;
    assert!(
        !dump.contains(verify_id),
        "the verify_id is stored in clear"
    );
}

#[tokio::test]
async fn the_other_mini_program_login_of_the_same_user_shares_the_face_binding() {
    let app = spawn_prod_app().await;
    let yss = app.login_platform("yss", "union:face-yss:U-face").await;
    let verify_id = app.verify_id(&yss, ZHANG_NAME, ZHANG_ID).await;
    let r = app.bind_face(&yss, ZHANG_NAME, ZHANG_ID, &verify_id).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The 粤居码 login arrives later and finds the binding through the unionid.
    let yjm = app.login_platform("yjm", "union:face-yjm:U-face").await;
    let me = app.me(&yjm).await;
    assert_eq!(me["identity_bound"], true, "{me}");
    assert_eq!(me["assurance"], "wx_face", "{me}");
}

#[tokio::test]
async fn prod_refuses_a_binding_without_face_verification_and_tells_nothing_about_the_identity() {
    let app = spawn_prod_app().await;
    let token = app.login_platform("yss", "ok:face-none").await;
    let right = app.bind(&token, WANG_NAME, WANG_ID).await;
    right.assert_error(403, "FACE_VERIFICATION_REQUIRED");
    assert!(right.message().contains("粤省事"), "{}", right.text);
    // A wrong name gets the same answer: without a face the endpoint is no oracle.
    let wrong = app.bind(&token, "王五", WANG_ID).await;
    assert_eq!(wrong.body, right.body);
    app.assert_unbound(&token).await;
    assert_eq!(app.platform.calls_to(QUERY_VERIFY_INFO), 0);
}

#[tokio::test]
async fn a_cancelled_face_check_binds_nothing_and_spends_the_verify_id() {
    let app = spawn_prod_app().await;
    app.platform.state().face.set_result(WANG_NAME, 90002);
    let token = app.login_platform("yss", "ok:face-cancel").await;
    let verify_id = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    let r = app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id).await;
    r.assert_error(422, "FACE_VERIFICATION_FAILED");
    assert!(r.message().contains("粤省事"), "{}", r.text);
    app.assert_unbound(&token).await;
    let rows = app.face_rows().await;
    assert_eq!(rows[0].outcome.as_deref(), Some("not_passed"));
    assert_eq!(rows[0].verify_ret, Some(90002));

    // Even if the platform now said otherwise, the spent verify_id is not asked about again.
    app.platform.state().face.set_result(WANG_NAME, 10000);
    let queries = app.platform.calls_to(QUERY_VERIFY_INFO);
    app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id)
        .await
        .assert_error(422, "FACE_VERIFICATION_FAILED");
    assert_eq!(app.platform.calls_to(QUERY_VERIFY_INFO), queries);
    // A new face check binds.
    let again = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    let r = app.bind_face(&token, WANG_NAME, WANG_ID, &again).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_verify_id_binds_once() {
    let app = spawn_prod_app().await;
    let token = app.login_platform("yss", "ok:face-once").await;
    let verify_id = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    let first = app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id).await;
    assert_eq!(first.status, 200, "{}", first.text);
    app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id)
        .await
        .assert_error(422, "FACE_VERIFICATION_FAILED");
}

#[tokio::test]
async fn two_uses_of_one_verify_id_at_once_bind_once() {
    let app = spawn_prod_app().await;
    let a = app.login_platform("yss", "ok:face-race-a").await;
    let verify_id = app.verify_id(&a, WANG_NAME, WANG_ID).await;
    let (one, two) = tokio::join!(
        app.bind_face(&a, WANG_NAME, WANG_ID, &verify_id),
        app.bind_face(&a, WANG_NAME, WANG_ID, &verify_id),
    );
    let mut statuses = [one.status, two.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 422], "{} / {}", one.text, two.text);
    let rows = app.face_rows().await;
    assert_eq!(rows[0].outcome.as_deref(), Some("passed"));
}

#[tokio::test]
async fn another_logins_verify_id_is_refused_like_one_that_never_existed() {
    let app = spawn_prod_app().await;
    let owner = app.login_platform("yss", "ok:face-owner").await;
    let thief = app.login_platform("yss", "ok:face-thief").await;
    let verify_id = app.verify_id(&owner, WANG_NAME, WANG_ID).await;
    let stolen = app.bind_face(&thief, WANG_NAME, WANG_ID, &verify_id).await;
    stolen.assert_error(422, "FACE_VERIFICATION_FAILED");
    let unknown = app
        .bind_face(&thief, WANG_NAME, WANG_ID, "fv-never-issued")
        .await;
    assert_eq!(stolen.body, unknown.body);
    assert_eq!(app.platform.calls_to(QUERY_VERIFY_INFO), 0);
    app.assert_unbound(&thief).await;
    // The owner's verification is untouched by the attempt.
    let r = app.bind_face(&owner, WANG_NAME, WANG_ID, &verify_id).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_verify_id_started_for_another_name_or_number_is_refused() {
    let app = spawn_prod_app().await;
    let token = app.login_platform("yss", "ok:face-swap").await;
    let verify_id = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    for (name, number) in [
        (ZHANG_NAME, ZHANG_ID),
        (WANG_NAME, ZHANG_ID),
        (ZHANG_NAME, WANG_ID),
    ] {
        app.bind_face(&token, name, number, &verify_id)
            .await
            .assert_error(422, "FACE_VERIFICATION_FAILED");
    }
    app.assert_unbound(&token).await;
    assert_eq!(app.platform.calls_to(QUERY_VERIFY_INFO), 0);
    let r = app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn an_expired_verify_id_is_refused_whether_we_or_the_platform_notice() {
    let app = spawn_prod_app().await;
    let token = app.login_platform("yss", "ok:face-late").await;
    // Our own record says it expired: the platform is not even asked.
    let verify_id = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    face_verification::Entity::update_many()
        .col_expr(
            face_verification::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .exec(&app.app.db)
        .await
        .unwrap();
    app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id)
        .await
        .assert_error(422, "FACE_VERIFICATION_FAILED");
    assert_eq!(app.platform.calls_to(QUERY_VERIFY_INFO), 0);

    // The platform's session expired first: it answers an errcode, and nothing binds.
    let verify_id = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    app.platform.state().face.expire(&verify_id);
    app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id)
        .await
        .assert_error(422, "FACE_VERIFICATION_FAILED");
    assert_eq!(app.platform.calls_to(QUERY_VERIFY_INFO), 1);
    app.assert_unbound(&token).await;
}

#[tokio::test]
async fn a_platform_that_times_out_or_breaks_is_a_503_and_the_verify_id_stays_usable() {
    let app = spawn_prod_app_with(&[("YUEJU_HTTP_TIMEOUT_SECS", "1")]).await;
    let token = app.login_platform("yss", "ok:face-slow").await;

    app.platform
        .fail_next(GET_VERIFY_ID, Fault::Delay(Duration::from_secs(3)));
    app.start_face(&token, WANG_NAME, WANG_ID)
        .await
        .assert_error(503, "PLATFORM_UNAVAILABLE");
    assert!(app.face_rows().await.is_empty());

    let verify_id = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    app.platform
        .fail_next(QUERY_VERIFY_INFO, Fault::Delay(Duration::from_secs(3)));
    app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id)
        .await
        .assert_error(503, "PLATFORM_UNAVAILABLE");
    for fault in [Fault::Http(502), Fault::Garbage] {
        app.platform.fail_next(QUERY_VERIFY_INFO, fault);
        app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id)
            .await
            .assert_error(503, "PLATFORM_UNAVAILABLE");
    }
    // -1 is the platform's "system busy"; 48001 says our mini-program may not call the API:
    // neither is the resident's doing, and neither spends the face check.
    for code in [-1, 48001] {
        app.platform
            .fail_next(QUERY_VERIFY_INFO, Fault::Errcode(code));
        app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id)
            .await
            .assert_error(503, "PLATFORM_UNAVAILABLE");
    }
    app.assert_unbound(&token).await;
    assert_eq!(app.face_rows().await[0].used_at, None);

    // Once the platform answers again, the same face check binds.
    let r = app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["assurance"], "wx_face");
}

#[tokio::test]
async fn a_platform_error_code_binds_nothing() {
    let app = spawn_prod_app().await;
    let token = app.login_platform("yss", "ok:face-errcode").await;
    app.platform.fail_next(GET_VERIFY_ID, Fault::Errcode(40097));
    app.start_face(&token, WANG_NAME, WANG_ID)
        .await
        .assert_error(503, "PLATFORM_UNAVAILABLE");

    let verify_id = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    app.platform
        .fail_next(QUERY_VERIFY_INFO, Fault::Errcode(84001));
    app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id)
        .await
        .assert_error(422, "FACE_VERIFICATION_FAILED");
    app.assert_unbound(&token).await;
    let rows = app.face_rows().await;
    let row = rows.iter().find(|r| r.used_at.is_some()).unwrap();
    assert_eq!(row.outcome.as_deref(), Some("refused"));
    let log = captured_log();
    assert!(log.contains("84001"), "the errcode is logged");
}

#[tokio::test]
async fn starting_a_face_verification_checks_the_identity_first() {
    let app = spawn_prod_app().await;
    let token = app.login_platform("yss", "ok:face-check").await;
    app.start_face(&token, WANG_NAME, "450103199805121353")
        .await
        .assert_error(422, "ID_NUMBER_INVALID");
    let wrong_name = app.start_face(&token, "王五", WANG_ID).await;
    wrong_name.assert_error(422, "IDENTITY_MISMATCH");
    let unknown = app
        .start_face(&token, WANG_NAME, "11010519491231002X")
        .await;
    assert_eq!(wrong_name.body, unknown.body);
    assert_eq!(app.platform.calls_to(GET_VERIFY_ID), 0);

    // A login bound to one person cannot start a face check for another.
    let verify_id = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    let r = app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id).await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.start_face(&token, ZHANG_NAME, ZHANG_ID)
        .await
        .assert_error(409, "IDENTITY_ALREADY_BOUND");
}

#[tokio::test]
async fn dev_binds_on_government_data_alone_and_a_face_check_raises_the_assurance() {
    let app = spawn_app().await;
    let tokens = app.login_dev("face-dev").await;
    let r = app.bind(&tokens.access, WANG_NAME, WANG_ID).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["assurance"], "gov_data");
    assert_eq!(app.me(&tokens.access).await["assurance"], "gov_data");
    // Dev with a verify_id does the face check too.
    let verify_id = app.verify_id(&tokens.access, WANG_NAME, WANG_ID).await;
    let r = app
        .bind_face(&tokens.access, WANG_NAME, WANG_ID, &verify_id)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["assurance"], "wx_face");
    assert_eq!(app.me(&tokens.access).await["assurance"], "wx_face");
    // Demo people were bound in dev: on the government data.
    let chen = app.login_dev("demo-chen").await;
    assert_eq!(app.me(&chen.access).await["assurance"], "gov_data");
}

#[tokio::test]
async fn the_bot_in_prod_never_binds_and_sends_the_resident_to_the_mini_program() {
    let app = spawn_prod_app().await;
    let chat = app.chat();
    let token = app.login_platform("yss", "ok:face-bot").await;
    let code = app.binding_code(&token).await;
    let linked = app.say(&chat, "u-face-bot", &format!("绑定 {code}")).await;
    assert!(linked.contains(&bot::text::LINKED.to_owned()), "{linked:?}");

    let replies = app.say(&chat, "u-face-bot", "申请").await;
    assert_eq!(replies, vec![bot::text::BIND_IN_MINI_PROGRAM.to_owned()]);
    assert!(bot::text::BIND_IN_MINI_PROGRAM.contains("人脸核身"));
    assert_eq!(app.state_of("u-face-bot").await, bot::state::State::Idle);
    app.assert_unbound(&token).await;

    // Once bound in the mini-program by a face, the chat applies.
    let verify_id = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    let r = app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let replies = app.say(&chat, "u-face-bot", "申请").await;
    assert!(
        replies.contains(&bot::text::ASK_CITY.to_owned()),
        "{replies:?}"
    );
}

#[tokio::test]
async fn export_closure_and_retention_cover_face_verifications() {
    let app = spawn_prod_app().await;
    let token = app.login_platform("yss", "ok:face-data").await;
    let verify_id = app.verify_id(&token, WANG_NAME, WANG_ID).await;
    app.bind_face(&token, WANG_NAME, WANG_ID, &verify_id).await;
    let export = app.get("/api/v1/me/export", Some(&token)).await;
    assert_eq!(export.status, 200, "{}", export.text);
    let exported = &export.body["face_verifications"][0];
    assert_eq!(exported["name"], WANG_NAME, "{}", export.text);
    assert_eq!(exported["id_number"], WANG_ID);
    assert_eq!(exported["outcome"], "passed");
    assert_eq!(export.body["accounts"][0]["identity_assurance"], "wx_face");

    // Another login tried the same identity: closing removes that record of the person too.
    let other = app.login_platform("yss", "ok:face-data-other").await;
    app.verify_id(&other, WANG_NAME, WANG_ID).await;
    let closed = app.close_account(&token).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    assert!(closed.text.contains("人脸核身记录"), "{}", closed.text);
    assert_eq!(
        face_verification::Entity::find()
            .count(&app.app.db)
            .await
            .unwrap(),
        0
    );

    // Retention: sessions a day past their expiry go, younger ones stay.
    let t = app.login_platform("yss", "ok:face-old").await;
    app.verify_id(&t, ZHANG_NAME, ZHANG_ID).await;
    app.verify_id(&t, ZHANG_NAME, ZHANG_ID).await;
    let old = app.face_rows().await[0].id;
    face_verification::Entity::update_many()
        .col_expr(
            face_verification::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(25)),
        )
        .filter(face_verification::Column::Id.eq(old))
        .exec(&app.app.db)
        .await
        .unwrap();
    let admin = app.admin_token().await;
    let r = app
        .post("/api/v1/staff/retention/run", &json!({}), Some(&admin))
        .await;
    assert_eq!(r.body["face_verifications_deleted"], 1, "{}", r.text);
    let left = app.face_rows().await;
    assert_eq!(left.len(), 1);
    assert_ne!(left[0].id, old);
}
