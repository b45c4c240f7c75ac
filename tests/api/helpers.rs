//! `spawn_app()`: the real server on a random port over a fresh database (SQLite in a temp
//! dir, or a new PostgreSQL database when `TEST_DATABASE_URL` is set), with a local fake of
//! the WeChat platform, and typed helpers for the requests tests make.

use api::startup::Application;
use base64::Engine as _;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use service::config::Settings;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use crate::fake_platform::{FakePlatform, Fault};

/// The JWT key the test apps sign with, so tests can forge tokens with it.
pub const JWT_KID: &str = "test-k1";
pub const JWT_SECRET: [u8; 32] = [1u8; 32];
pub const YSS_APPID: &str = "wx-test-yss";
pub const YSS_SECRET: &str = "yss-test-secret";
pub const YJM_APPID: &str = "wx-test-yjm";
pub const YJM_SECRET: &str = "yjm-test-secret";
pub const STAFF_ADMIN: (&str, &str) = ("root", "root-password-123");
pub const OA_APPID: &str = "wx-test-oa";
pub const OA_SECRET: &str = "oa-test-secret";
/// The message-server token of the test official account (set with [`wechat_vars`]).
pub const WECHAT_TOKEN: &str = "test-wechat-token";
/// The fake platform's session_key, which must never reach a client.
pub const FAKE_SESSION_KEY: &str = "fake-session-key-Zm9vYmFy";

/// The subscribe-message templates of the test mini-program (粤省事), per kind.
pub const TPL_ENDORSEMENT: &str = "tpl-endorsement-due";
pub const TPL_EXPIRY: &str = "tpl-expiry";
pub const TPL_DECISION: &str = "tpl-decision";
pub const TPL_REQUEST: &str = "tpl-authorization-request";
pub const SUBSCRIBE_TEMPLATES: &str = "endorsement_due:tpl-endorsement-due,expiry:tpl-expiry,decision:tpl-decision,authorization_request:tpl-authorization-request,eligible_now:tpl-eligible-now,registration_ended:tpl-registration-ended";

/// Demo people (see service::demo).
pub const CHEN_ID: &str = "440511199003071234";
pub const CHEN_NAME: &str = "陈志强";
pub const WANG_ID: &str = "450103199805121352";
pub const WANG_NAME: &str = "王伟";
pub const ZHANG_ID: &str = "360102200309152480";
pub const ZHANG_NAME: &str = "张敏";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub app: actix_web::web::Data<service::Context>,
    pub platform: FakePlatform,
    pub vars: HashMap<String, String>,
    // Dropped last: the database and the data directory outlive the server handles above.
    pub db: TestDb,
    pub data_dir: Arc<tempfile::TempDir>,
}

pub fn jwt_keys_var(entries: &[(&str, [u8; 32])]) -> String {
    entries
        .iter()
        .map(|(kid, key)| {
            format!(
                "{kid}:{}",
                base64::engine::general_purpose::STANDARD.encode(key)
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts an app with extra settings (an empty value removes a default).
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    capture_logs();
    let data_dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let db = TestDb::create(data_dir.path()).await;
    let platform = FakePlatform::start().await;
    let mut vars: HashMap<String, String> = [
        ("YUEJU_ENV", "dev".to_owned()),
        ("YUEJU_DATA_DIR", data_dir.path().display().to_string()),
        ("DATABASE_URL", db.url.clone()),
        ("YUEJU_BIND", "127.0.0.1:0".into()),
        ("YUEJU_WORKERS", "1".into()),
        // Tests drive the sweep and the delivery worker themselves.
        ("YUEJU_BACKGROUND_JOBS", "false".into()),
        ("YUEJU_DEMO_DATA", "true".into()),
        ("YUEJU_WECHAT_API_BASE", platform.base.clone()),
        ("YUEJU_YSS_APPID", YSS_APPID.into()),
        ("YUEJU_YSS_SECRET", YSS_SECRET.into()),
        ("YUEJU_YJM_APPID", YJM_APPID.into()),
        ("YUEJU_YJM_SECRET", YJM_SECRET.into()),
        ("YUEJU_WECHAT_OA_APPID", OA_APPID.into()),
        ("YUEJU_WECHAT_OA_SECRET", OA_SECRET.into()),
        ("YUEJU_SUBSCRIBE_TEMPLATES", SUBSCRIBE_TEMPLATES.into()),
        // The expiry template is long-term (government-services category), the others one-time.
        ("YUEJU_SUBSCRIBE_LONG_TERM", "expiry".into()),
        ("YUEJU_JWT_KEYS", jwt_keys_var(&[(JWT_KID, JWT_SECRET)])),
        // Tests log in and bind far more often than a person; tests/api/rate_limits.rs
        // checks the limits themselves.
        ("YUEJU_RATE_LIMIT_LOGIN_PER_MINUTE", "6000".into()),
        ("YUEJU_RATE_LIMIT_IDENTITY_PER_MINUTE", "6000".into()),
        ("YUEJU_RATE_LIMIT_OAUTH_PER_MINUTE", "6000".into()),
        ("YUEJU_RATE_LIMIT_BOT_PER_MINUTE", "60000".into()),
        (
            "YUEJU_STAFF_BOOTSTRAP",
            format!("{}:{}", STAFF_ADMIN.0, STAFF_ADMIN.1),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in overrides {
        if v.is_empty() {
            vars.remove(*k);
        } else {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
    }
    start(vars, db, data_dir, platform).await
}

impl TestApp {
    /// Another instance of the service beside this one: the same database, data directory
    /// and settings, and the same fake platform (several instances behind a load balancer).
    pub async fn another_instance(&self) -> TestApp {
        let db = TestDb {
            url: self.db.url.clone(),
            drop_name: None,
        };
        start(
            self.vars.clone(),
            db,
            self.data_dir.clone(),
            self.platform.clone(),
        )
        .await
    }

    /// A second server over the same database and data directory (e.g. after a key rotation).
    pub async fn restart_with(&self, overrides: &[(&str, &str)]) -> TestApp {
        let mut vars = self.vars.clone();
        for (k, v) in overrides {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let db = TestDb {
            url: self.db.url.clone(),
            drop_name: None,
        };
        let platform = FakePlatform::start().await;
        vars.insert("YUEJU_WECHAT_API_BASE".into(), platform.base.clone());
        start(vars, db, self.data_dir.clone(), platform).await
    }
}

async fn start(
    vars: HashMap<String, String>,
    db: TestDb,
    data_dir: Arc<tempfile::TempDir>,
    platform: FakePlatform,
) -> TestApp {
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings");
    let application = Application::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let app = application.context();
    tokio::spawn(application.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        address,
        client,
        app,
        platform,
        vars,
        db,
        data_dir,
    }
}

/// A parsed response: status, headers and JSON body (Null when not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    /// Asserts the API.md error shape, the status and the code, and a Chinese message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status for {}: {}", code, self.text);
        assert_eq!(self.code(), code, "code: {}", self.text);
        assert!(
            self.message()
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "message should be in Chinese: {}",
            self.text
        );
    }
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        text,
        body,
    }
}

pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        reply(req.send().await.expect("request")).await
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        reply(req.send().await.expect("request")).await
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Reply {
        self.send_json(reqwest::Method::POST, path, body, token)
            .await
    }

    pub async fn login(&self, app: &str, code: &str) -> Reply {
        self.post(
            "/api/v1/auth/miniprogram/login",
            &json!({"app": app, "code": code}),
            None,
        )
        .await
    }

    /// Logs in with a dev code and returns the token pair.
    pub async fn login_dev(&self, openid: &str) -> Tokens {
        let r = self.login("yss", &format!("dev:{openid}")).await;
        assert_eq!(r.status, 200, "login: {}", r.text);
        Tokens {
            access: r.body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh: r.body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        }
    }

    pub async fn bind(&self, token: &str, name: &str, id_number: &str) -> Reply {
        self.post(
            "/api/v1/me/identity",
            &json!({"name": name, "id_number": id_number}),
            Some(token),
        )
        .await
    }

    /// A fresh dev login bound to the given demo person.
    pub async fn bound_resident(&self, openid: &str, name: &str, id_number: &str) -> Tokens {
        let tokens = self.login_dev(openid).await;
        let r = self.bind(&tokens.access, name, id_number).await;
        assert_eq!(r.status, 200, "bind: {}", r.text);
        tokens
    }

    pub async fn staff_token(&self, username: &str, password: &str) -> String {
        let r = self
            .post(
                "/api/v1/staff/login",
                &json!({"username": username, "password": password}),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "staff login: {}", r.text);
        r.body["access_token"]
            .as_str()
            .expect("staff token")
            .to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.staff_token(STAFF_ADMIN.0, STAFF_ADMIN.1).await
    }

    /// Everything stored in the database as text, to look for clear personal data.
    pub async fn raw_database_dump(&self) -> String {
        if self.db.url.starts_with("sqlite:") {
            let path = self.data_dir.path().join("test.sqlite3");
            let mut bytes = std::fs::read(&path).unwrap_or_default();
            bytes.extend(std::fs::read(path.with_extension("sqlite3-wal")).unwrap_or_default());
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            let db = &self.app.db;
            let tables = db
                .query_all_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                ))
                .await
                .expect("tables");
            let mut dump = String::new();
            for row in tables {
                let table: String = row.try_get("", "tablename").expect("name");
                let rows = db
                    .query_all_raw(sea_orm::Statement::from_string(
                        db.get_database_backend(),
                        format!("SELECT row_to_json(t)::text AS j FROM \"{table}\" t"),
                    ))
                    .await
                    .expect("rows");
                for r in rows {
                    let j: String = r.try_get("", "j").expect("json");
                    dump.push_str(&j);
                    dump.push('\n');
                }
            }
            dump
        }
    }
}

/// A fresh database: a SQLite file in the test's data dir, or a new PostgreSQL database
/// (dropped afterwards) when `TEST_DATABASE_URL` is set.
pub struct TestDb {
    pub url: String,
    drop_name: Option<(String, String)>,
}

impl TestDb {
    async fn create(dir: &std::path::Path) -> TestDb {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
        {
            None => TestDb {
                url: format!("sqlite://{}?mode=rwc", dir.join("test.sqlite3").display()),
                drop_name: None,
            },
            Some(base) => {
                let name = format!("yueju_t_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&base)
                    .await
                    .expect("connect TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let (prefix, _) = base
                    .split('?')
                    .next()
                    .unwrap_or(&base)
                    .rsplit_once('/')
                    .expect("database URL has a path");
                TestDb {
                    url: format!("{prefix}/{name}"),
                    drop_name: Some((base, name)),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, name)) = self.drop_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime; use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&base).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Every log line of every server in this test process, as JSON lines.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut log) = LOG.lock() {
            log.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) a subscriber like production's, at debug level for our crates, that writes
/// into [`LOG`]; tests search it for what must never be logged.
fn capture_logs() {
    use tracing_subscriber::prelude::*;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::new("info,api=debug,service=debug,yueju=debug");
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_writer(|| LogWriter);
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(layer)
            .try_init();
    });
}

pub fn captured_log() -> String {
    String::from_utf8_lossy(&LOG.lock().map(|l| l.clone()).unwrap_or_default()).into_owned()
}

pub const LI_ID: &str = "430405199508212464";
pub const LIU_ID: &str = "440106199211031576";
/// The smallest PDF that parses with one page: catalog, page tree, one page, and an xref
/// whose offsets are exact.
pub const PDF: &[u8] = b"%PDF-1.4
1 0 obj
<< /Type /Catalog /Pages 2 0 R >>
endobj
2 0 obj
<< /Type /Pages /Kids [3 0 R] /Count 1 >>
endobj
3 0 obj
<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>
endobj
xref
0 4
0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \ntrailer
<< /Size 4 /Root 1 0 R >>
startxref
186
%%EOF
";

/// A small real PNG, a gradient so the encoder has something to compress.
pub fn png_image(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    gradient(width, height)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode png");
    out
}

/// A small real JPEG.
pub fn jpeg_image(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    gradient(width, height)
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .expect("encode jpeg");
    out
}

fn gradient(width: u32, height: u32) -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, 128])
    }))
}

pub fn chen_application() -> Value {
    json!({"city": "广州市", "district": "天河区", "address": "天河路385号501房", "residence_since": "2024-01-15", "basis": "employment"})
}

pub fn days_ago(days: i64) -> String {
    (service::config::today_in_china() - chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

impl TestApp {
    pub async fn apply(&self, token: &str, body: &Value, idempotency_key: Option<&str>) -> Reply {
        let mut req = self
            .client
            .post(self.url("/api/v1/applications"))
            .bearer_auth(token)
            .json(body);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        reply(req.send().await.expect("request")).await
    }

    pub async fn upload(
        &self,
        token: &str,
        application_id: &str,
        kind: &str,
        bytes: &[u8],
        file_name: &str,
    ) -> Reply {
        let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(file_name.to_owned());
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_owned())
            .part("file", part);
        let r = self
            .client
            .post(self.url(&format!("/api/v1/applications/{application_id}/materials")))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("request");
        reply(r).await
    }

    /// Chen (demo) applies and holds a permit; returns his token.
    pub async fn chen_with_permit(&self) -> Tokens {
        let tokens = self.login_dev("demo-chen").await;
        let r = self.apply(&tokens.access, &chen_application(), None).await;
        assert_eq!(r.body["status"], "issued", "{}", r.text);
        tokens
    }

    /// Zhang (imported, employed in 白云区 since 2024-03-01) logs in as `openid`, applies and
    /// holds a permit; returns her token.
    pub async fn zhang_with_permit(&self, openid: &str) -> Tokens {
        let tokens = self
            .newcomer(openid, ZHANG_ID, ZHANG_NAME, "female", "2024-03-01", true)
            .await;
        let body = json!({"city": "广州市", "district": "白云区", "address": "白云大道北1688号", "residence_since": "2024-03-01", "basis": "employment"});
        let r = self.apply(&tokens.access, &body, None).await;
        assert_eq!(r.body["status"], "issued", "{}", r.text);
        tokens
    }

    /// Imports a person living in `city`/`district` since `since`, with an employment record
    /// when `employed`, and returns a login bound to them.
    pub async fn newcomer(
        &self,
        openid: &str,
        id_number: &str,
        name: &str,
        gender: &str,
        since: &str,
        employed: bool,
    ) -> Tokens {
        let admin = self.admin_token().await;
        let mut batch = json!({
            "people": [{"id_number": id_number, "name": name, "gender": gender, "ethnicity": "汉族", "hukou_address": "湖北省武汉市某路1号"}],
            "residence_registrations": [{"id_number": id_number, "city": "广州市", "district": "白云区", "address": "广州市白云区某路2号", "since": since}]
        });
        if employed {
            batch["employment"] = json!([{"id_number": id_number, "employer": "某公司", "city": "广州市", "since": since}]);
        }
        let r = self
            .post("/api/v1/staff/gov-records", &batch, Some(&admin))
            .await;
        assert_eq!(r.body["errors"], json!([]), "{}", r.text);
        self.bound_resident(openid, name, id_number).await
    }

    /// Moves a permit's dates, as if time had passed (tests only).
    pub async fn set_permit_dates(
        &self,
        permit_no: &str,
        endorsement_due: Option<String>,
        valid_until: Option<String>,
    ) {
        use sea_orm::{ActiveModelTrait, Set};
        let db = &self.app.db;
        let permit = self.permit_row(permit_no).await;
        let version = service::permit::permits::current_version(db, &permit)
            .await
            .unwrap();
        let mut active: entity::permit_version::ActiveModel = version.into();
        let parse = |s: String| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").unwrap();
        if let Some(d) = endorsement_due {
            active.endorsement_due = Set(parse(d));
        }
        if let Some(d) = valid_until {
            active.valid_until = Set(parse(d));
        }
        active.update(db).await.unwrap();
    }

    pub async fn outbox_kinds(&self) -> Vec<String> {
        use sea_orm::EntityTrait;
        entity::outbox::Entity::find()
            .all(&self.app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect()
    }
}

pub fn days_ahead(days: i64) -> String {
    (service::config::today_in_china() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// Writes a PKCS#8 PEM Ed25519 key made from `seed` and returns its path.
pub fn write_signing_key(dir: &std::path::Path, seed: u8) -> String {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    let path = dir.join(format!("signing-{seed}.pem"));
    std::fs::write(&path, pem.as_bytes()).unwrap();
    path.display().to_string()
}

/// A valid unified social credit code made from `n` (GB 32100 check character).
pub fn credit_code(n: u32) -> String {
    let first17 = format!("9144010{n:010}");
    let check = service::domain::credit_code::check_char(first17.as_bytes()).unwrap();
    format!("{first17}{check}")
}

pub struct AgencyClient {
    pub client_id: String,
    pub secret: String,
    pub token: String,
}

impl TestApp {
    /// Staff register an agency with these scopes and fields; it then takes a token.
    pub async fn agency(
        &self,
        n: u32,
        name: &str,
        scopes: &[&str],
        fields: &[&str],
    ) -> AgencyClient {
        let admin = self.admin_token().await;
        let r = self
            .post(
                "/api/v1/staff/agencies",
                &json!({"name": name, "credit_code": credit_code(n), "contact": "020-87654321",
                        "scopes": scopes, "fields": fields}),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let client_id = r.body["client_id"].as_str().unwrap().to_owned();
        let secret = r.body["client_secret"].as_str().unwrap().to_owned();
        let token = self.agency_token(&client_id, &secret).await;
        AgencyClient {
            client_id,
            secret,
            token,
        }
    }

    pub async fn agency_token(&self, client_id: &str, secret: &str) -> String {
        let r = reply(
            self.client
                .post(self.url("/oauth/token"))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    /// The holder's current 粤居码 token.
    pub async fn code(&self, resident: &str) -> String {
        let r = self.get("/api/v1/me/code", Some(resident)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn verify(&self, token: &str, agency: Option<&str>) -> Reply {
        self.post("/api/v1/verify", &json!({"token": token}), agency)
            .await
    }

    pub async fn permit_no(&self, resident: &str) -> String {
        let p = self.get("/api/v1/me/permit", Some(resident)).await;
        p.body["permit_no"].as_str().unwrap().to_owned()
    }
}

/// All fields an agency may be registered for.
pub const ALL_FIELDS: [&str; 11] = [
    "name",
    "gender",
    "ethnicity",
    "id_number",
    "photo",
    "hukou_address",
    "residence_address",
    "issuing_authority",
    "issued_on",
    "valid_from",
    "valid_until",
];

/// The chat side of the bot, for dialogue tests: the engine built as the server builds it,
/// fed directly over the test app's database.
pub struct Chat {
    pub bot: bot::Bot,
}

impl TestApp {
    pub fn chat(&self) -> Chat {
        Chat {
            bot: bot::Bot::new(&self.app.settings).expect("bot"),
        }
    }

    /// One message of `user` through the routing function; the replies.
    pub async fn say(&self, chat: &Chat, user: &str, text: &str) -> Vec<String> {
        chat.bot
            .handle(&self.app, &bot::ChatUser::new("test", user), text)
            .await
            .expect("bot turn")
    }

    /// The stored state of `user`, by name.
    pub async fn state_of(&self, user: &str) -> bot::state::State {
        bot::store::load(&self.app, &bot::ChatUser::new("test", user))
            .await
            .expect("load state")
            .state
    }

    /// Moves the last change of `user`'s dialogue `minutes` into the past (and sets its count
    /// of wrong binding codes), as if the chat user had gone quiet (tests only).
    pub async fn age_dialogue(&self, user: &str, minutes: i64, code_failures: i32) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let updated = entity::bot_dialogue::Entity::update_many()
            .col_expr(
                entity::bot_dialogue::Column::UpdatedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::minutes(minutes)),
            )
            .col_expr(
                entity::bot_dialogue::Column::CodeFailures,
                Expr::value(code_failures),
            )
            .filter(entity::bot_dialogue::Column::Channel.eq("test"))
            .filter(entity::bot_dialogue::Column::ChannelUser.eq(user))
            .exec(&self.app.db)
            .await
            .unwrap();
        assert_eq!(updated.rows_affected, 1);
    }

    /// One message through `POST /api/v1/bot/messages`.
    pub async fn message(&self, user: &str, text: &str) -> Reply {
        self.post(
            "/api/v1/bot/messages",
            &json!({"user": user, "text": text}),
            None,
        )
        .await
    }

    /// A binding code from the mini-program for this resident.
    pub async fn binding_code(&self, token: &str) -> String {
        let r = self
            .post("/api/v1/me/bot-binding-code", &json!({}), Some(token))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["code"].as_str().expect("code").to_owned()
    }

    /// Pushes XML to the message server, signed with the test token at `timestamp`.
    pub async fn wechat_push(&self, body: &str, timestamp: i64) -> Reply {
        let ts = timestamp.to_string();
        let nonce = "n0nce";
        let signature = service::identity::wechat::signature::sign(WECHAT_TOKEN, &ts, nonce);
        let r = self
            .client
            .post(self.url(&format!(
                "/api/v1/bot/wechat?signature={signature}&timestamp={ts}&nonce={nonce}"
            )))
            .header("content-type", "text/xml")
            .body(body.to_owned())
            .send()
            .await
            .expect("request");
        reply(r).await
    }
}

/// Settings that switch the message server on.
pub fn wechat_vars() -> Vec<(&'static str, &'static str)> {
    vec![("YUEJU_WECHAT_TOKEN", WECHAT_TOKEN)]
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A text message from `openid` as the platform pushes it.
pub fn wechat_text(openid: &str, msg_id: u64, content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>",
        now()
    )
}

/// An event (`subscribe`, `unsubscribe`) from `openid` at `time`.
pub fn wechat_event(openid: &str, event: &str, time: i64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{time}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>"
    )
}

/// Makes every pending notice due now, as if its backoff had passed (tests only).
pub async fn make_due(app: &TestApp) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    entity::outbox::Entity::update_many()
        .col_expr(
            entity::outbox::Column::NextAttemptAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(entity::outbox::Column::Status.eq("pending"))
        .exec(&app.app.db)
        .await
        .unwrap();
}

/// A server in prod mode (real keys, no demo data, no dev logins) with the government
/// records of 王伟 and 张敏. The key directory lives as long as the app.
pub struct ProdApp {
    pub inner: TestApp,
    _keys: tempfile::TempDir,
}

impl std::ops::Deref for ProdApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.inner
    }
}

pub async fn spawn_prod_app() -> ProdApp {
    spawn_prod_app_with(&[]).await
}

pub async fn spawn_prod_app_with(extra: &[(&str, &str)]) -> ProdApp {
    let keys = tempfile::tempdir().unwrap();
    let pem = write_signing_key(keys.path(), 9);
    let key = "k:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let mut vars = vec![
        ("YUEJU_ENV", "prod"),
        ("YUEJU_SIGNING_KEYS", pem.as_str()),
        ("YUEJU_ISSUER_CREDIT_CODE", "11440000000000000X"),
        ("YUEJU_DEMO_DATA", "false"),
        ("YUEJU_DATA_KEYS", key),
        (
            "YUEJU_BLIND_INDEX_KEY",
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        ),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(&vars).await;
    let admin = app.admin_token().await;
    let people = json!({"people": [
        {"id_number": WANG_ID, "name": WANG_NAME, "gender": "male", "ethnicity": "汉族", "hukou_address": "广西壮族自治区南宁市兴宁区某路1号"},
        {"id_number": ZHANG_ID, "name": ZHANG_NAME, "gender": "female", "ethnicity": "汉族", "hukou_address": "江西省南昌市东湖区某路2号"},
    ]});
    let r = app
        .post("/api/v1/staff/gov-records", &people, Some(&admin))
        .await;
    assert_eq!(r.body["upserted"], 2, "{}", r.text);
    ProdApp {
        inner: app,
        _keys: keys,
    }
}

impl TestApp {
    /// Resident number `n` (1 to 999: imported with a household in 武汉, living and employed
    /// in 白云区 since 2024-03-01) logs in as `resident-{n}`, applies and holds a permit;
    /// returns the login and the permit number.
    pub async fn resident_with_permit(&self, n: u32) -> (Tokens, String) {
        let first17 = format!("42010219900101{n:03}");
        let check = service::domain::check_char(first17.as_bytes()) as char;
        let id_number = format!("{first17}{check}");
        let gender = if n % 2 == 1 { "male" } else { "female" };
        // Names are Chinese characters only: 居民 and the number spelt in digits 〇 to 九.
        let digits: String = n
            .to_string()
            .chars()
            .map(|c| {
                "〇一二三四五六七八九"
                    .chars()
                    .nth(c as usize - '0' as usize)
                    .unwrap()
            })
            .collect();
        let name = format!("居民{digits}");
        let tokens = self
            .newcomer(
                &format!("resident-{n}"),
                &id_number,
                &name,
                gender,
                "2024-03-01",
                true,
            )
            .await;
        let body = json!({"city": "广州市", "district": "白云区", "address": "白云大道北1688号", "residence_since": "2024-03-01", "basis": "employment"});
        let r = self.apply(&tokens.access, &body, None).await;
        assert_eq!(r.body["status"], "issued", "{}", r.text);
        let permit_no = r.body["permit_no"].as_str().expect("permit_no").to_owned();
        (tokens, permit_no)
    }

    /// The permit row numbered `permit_no`.
    pub async fn permit_row(&self, permit_no: &str) -> entity::permit::Model {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::permit::Entity::find()
            .filter(entity::permit::Column::PermitNo.eq(permit_no))
            .one(&self.app.db)
            .await
            .unwrap()
            .expect("permit")
    }

    /// Moves the dates of one version of a permit, current or not (tests only): an older
    /// version given dates that would not be in force shows whether anything still reads it.
    pub async fn set_version_dates(
        &self,
        permit_no: &str,
        version: i32,
        endorsement_due: String,
        valid_until: String,
    ) {
        use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
        let db = &self.app.db;
        let permit = self.permit_row(permit_no).await;
        let row = entity::permit_version::Entity::find()
            .filter(entity::permit_version::Column::PermitId.eq(permit.id))
            .filter(entity::permit_version::Column::Version.eq(version))
            .one(db)
            .await
            .unwrap()
            .expect("version");
        let parse = |s: String| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").unwrap();
        let mut active: entity::permit_version::ActiveModel = row.into();
        active.endorsement_due = Set(parse(endorsement_due));
        active.valid_until = Set(parse(valid_until));
        active.update(db).await.unwrap();
    }

    /// Staff revoke a permit.
    pub async fn revoke_permit(&self, permit_no: &str) {
        let admin = self.admin_token().await;
        let r = self
            .post(
                &format!("/api/v1/staff/permits/{permit_no}/revoke"),
                &json!({"reason": "以欺骗手段取得"}),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
    }

    /// A code for the permit numbered `permit_no` as the server would sign it at `at`, with
    /// these keys (tests of forged, early and late codes).
    pub async fn code_signed_at(
        &self,
        keys: &service::keys::signing::KeyRing,
        permit_no: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let permit = self.permit_row(permit_no).await;
        let version = service::permit::permits::current_version(&self.app.db, &permit)
            .await
            .unwrap();
        let document = service::permit::permits::open_document(&self.app, &version).unwrap();
        let place = service::verify::status_list::place_of(&self.app.db, permit.id)
            .await
            .unwrap()
            .expect("a place in the status lists");
        let subject = service::verify::codes::CodeSubject {
            permit_no,
            name: &document.name,
            valid_until: version.valid_until,
            endorsement_due: version.endorsement_due,
            place,
        };
        service::verify::codes::issue_at(keys, &subject, 120, at)
            .unwrap()
            .0
    }

    /// Chen, with a permit and an e-mail address, and `n` distinct notices queued for him;
    /// answers his person id.
    pub async fn chen_with_notices(&self, n: usize) -> uuid::Uuid {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let chen = self.chen_with_permit().await;
        let r = self
            .send_json(
                reqwest::Method::PATCH,
                "/api/v1/me",
                &json!({"email": "chen@example.com"}),
                Some(&chen.access),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let me = self.get("/api/v1/me", Some(&chen.access)).await;
        let account_id: uuid::Uuid = me.body["account_id"].as_str().unwrap().parse().unwrap();
        let person_id = entity::account::Entity::find()
            .filter(entity::account::Column::Id.eq(account_id))
            .one(&self.app.db)
            .await
            .unwrap()
            .and_then(|a| a.person_id)
            .unwrap();
        let notices: Vec<(String, service::notices::outbox::Notice)> = (0..n)
            .map(|i| {
                let city = format!("城市{i}");
                (
                    format!("t-{i}"),
                    service::notices::outbox::Notice::EligibleNow { city },
                )
            })
            .collect();
        let rows: Vec<(uuid::Uuid, &str, &service::notices::outbox::Notice)> = notices
            .iter()
            .map(|(key, notice)| (person_id, key.as_str(), notice))
            .collect();
        let queued = service::notices::outbox::enqueue_many(&self.app, &self.app.db, &rows)
            .await
            .unwrap();
        assert_eq!(queued as usize, n);
        person_id
    }
}
