//! Starting the real server for a test: `spawn_app()` over a fresh database, another instance
//! on the same database, a restart with other settings, and a server in prod mode.

use api::startup::Application;
use base64::Engine as _;
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use service::config::Settings;
use std::collections::HashMap;
use std::sync::Arc;

use super::*;

pub struct TestApp {
    pub address: String,
    /// `http://…` of `GET /metrics`, when started with `YUEJU_METRICS_BIND`.
    pub metrics_address: Option<String>,
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

async fn start(
    vars: HashMap<String, String>,
    db: TestDb,
    data_dir: Arc<tempfile::TempDir>,
    platform: FakePlatform,
) -> TestApp {
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings");
    let application = Application::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let metrics_address = application.metrics_address().map(|a| format!("http://{a}"));
    let app = application.context();
    tokio::spawn(application.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        address,
        metrics_address,
        client,
        app,
        platform,
        vars,
        db,
        data_dir,
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

/// The payment platform of the prod servers that never order a paid card: nothing listens.
pub const PROD_PAYMENT_API_BASE: &str = "http://127.0.0.1:9";
/// The public address a prod app prints in QR codes.
pub const PROD_PUBLIC_URL: &str = "https://yueju.example.gov.cn";

pub async fn spawn_prod_app() -> ProdApp {
    spawn_prod_app_with(&[]).await
}

pub async fn spawn_prod_app_with(extra: &[(&str, &str)]) -> ProdApp {
    let keys = tempfile::tempdir().unwrap();
    let pem = write_signing_key(keys.path(), 9);
    let key = "k:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let mut vars = vec![
        ("YUEJU_ENV", "prod"),
        ("YUEJU_PUBLIC_URL", PROD_PUBLIC_URL),
        ("YUEJU_SIGNING_KEYS", pem.as_str()),
        ("YUEJU_ISSUER_CREDIT_CODE", "11440000000000000X"),
        ("YUEJU_DEMO_DATA", "false"),
        ("YUEJU_DATA_KEYS", key),
        (
            "YUEJU_BLIND_INDEX_KEY",
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        ),
        ("YUEJU_PAYMENT_API_BASE", PROD_PAYMENT_API_BASE),
        (
            "YUEJU_PAYMENT_NOTIFY_SECRET",
            crate::fake_payment::NOTIFY_SECRET,
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

    /// The clock the server reads for every date rule: move it (`advance`, `set`) to test a
    /// rule on another day instead of rewriting rows.
    pub fn clock(&self) -> Arc<service::clock::Clock> {
        self.app.clock.clone()
    }

    /// Moves the server's clock to noon in China on `day` (04:00 UTC: China keeps UTC+8 all
    /// year), away from midnight so the day cannot turn during the test.
    pub fn set_today(&self, day: chrono::NaiveDate) {
        let noon = day.and_hms_opt(4, 0, 0).expect("a time of day").and_utc();
        self.app.clock.set(noon);
        assert_eq!(self.app.clock.today(), day);
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
