//! Settings, read from the environment (and an optional `.env`), with defaults that let
//! `cargo run` start with none set. The names listed in API.md are fixed; the others are
//! explained in `.env.example`.

use anyhow::{Context as _, bail};
use std::path::PathBuf;
use std::time::Duration;

use crate::identity::wechat::crypto::AesKey;
use crate::identity::wechat::message_server::MessageServer;
use crate::identity::wechat::subscribe::{Mode, Template, TemplateKind};
use crate::identity::wechat::{Account, MiniApp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    Dev,
    Prod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Credentials of one mini-program on the WeChat platform.
#[derive(Clone)]
pub struct AppCredentials {
    pub appid: String,
    pub secret: String,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AppCredentials {{ appid: {}, secret: <hidden> }}",
            self.appid
        )
    }
}

#[derive(Debug, Clone)]
pub enum GovDataSettings {
    /// Tables in our own database, loaded through the staff API (and demo data in dev).
    Embedded,
    /// The government data exchange over HTTP.
    Http {
        base_url: String,
        token: Option<String>,
    },
}

#[derive(Clone)]
pub struct Settings {
    pub mode: RunMode,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub bind: String,
    pub workers: Option<usize>,
    pub log_format: LogFormat,
    pub staff_bootstrap: Option<(String, String)>,
    pub demo_data: bool,
    pub smtp_url: Option<String>,
    pub wechat_api_base: String,
    /// The official account behind the bot, for the customer-message API.
    pub wechat_oa: Option<AppCredentials>,
    /// The message servers (token, 安全模式 keys, appid, replay window): see
    /// [`Settings::message_server`].
    pub message_servers: MessageServers,
    /// How long the bot works on a pushed message before answering `success` and following
    /// up through the customer-message API, in milliseconds.
    pub wechat_reply_budget_ms: u64,
    /// Shared secret a web-chat gateway presents to `POST /api/v1/bot/messages`.
    pub bot_api_secret: Option<String>,
    pub rate_limits: RateLimitSettings,
    /// Minutes after which an unfinished bot dialogue ends (0: never); the daily retention
    /// run deletes dialogues unused for that long.
    pub bot_dialogue_timeout_mins: u32,
    pub yss: Option<AppCredentials>,
    pub yjm: Option<AppCredentials>,
    pub gov_data: GovDataSettings,
    /// `kid:base64key[,kid:base64key…]`; the first seals, all open.
    pub data_keys: Option<String>,
    /// base64 of the HMAC key behind the blind indexes.
    pub blind_index_key: Option<String>,
    /// `kid:base64secret[,…]`; the first signs access tokens, all verify.
    pub jwt_keys: Option<String>,
    /// PKCS#8 PEM files of the Ed25519 signing keys, comma separated; the first signs.
    pub signing_keys: Option<String>,
    /// SPKI PEM files of retired public keys that still verify, comma separated.
    pub retired_public_keys: Option<String>,
    pub permit: PermitRules,
    pub max_upload_bytes: usize,
    /// Lifetime of a 粤居码 in seconds.
    pub code_ttl_secs: u16,
    pub agencies: AgencyRules,
    /// Lock-out of staff logins after wrong passwords.
    pub staff_lockout: StaffLockout,
    pub reminders: ReminderRules,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub max_json_bytes: usize,
    pub max_bulk_bytes: usize,
    pub http_timeout: Duration,
    pub retention: RetentionRules,
    /// The mini-program's subscribe messages (订阅消息) for reminders and notices.
    pub subscribe: SubscribeSettings,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print keys, secrets or passwords.
        f.debug_struct("Settings")
            .field("mode", &self.mode)
            .field("data_dir", &self.data_dir)
            .field("bind", &self.bind)
            .field("demo_data", &self.demo_data)
            .field("gov_data", &self.gov_data)
            .finish_non_exhaustive()
    }
}

/// When reminders are swept and how the outbox is delivered.
#[derive(Debug, Clone)]
pub struct ReminderRules {
    /// Sender of e-mails, e.g. `广东省电子居住证 <no-reply@example.gov.cn>`.
    pub mail_from: String,
    /// Local time (Asia/Shanghai) of the daily sweep.
    pub sweep_at: chrono::NaiveTime,
    /// Days before expiry at which a reminder goes out, largest first.
    pub expiry_days: Vec<u32>,
    /// Seconds between delivery runs of the background worker.
    pub delivery_interval_secs: u64,
    /// Attempts before a notice is marked failed.
    pub max_attempts: u32,
    /// First retry delay in seconds; doubled after each failure.
    pub backoff_secs: u64,
    /// How long a claimed notice stays locked; a worker that dies mid-send leaves it to be
    /// claimed again after this. One attempt is cut off at two thirds of it, so a lease never
    /// runs out under a worker that is still sending.
    pub lease_secs: u64,
    /// Run the daily sweep and the delivery worker inside the server.
    pub background: bool,
    /// How long the staff trigger delivers before it answers, seconds; what is left is
    /// reported as unfinished and goes with the background worker's next run.
    pub staff_run_budget_secs: u64,
}

/// Requests per minute and source address on the costly routes without a credential
/// (0: no limit), and the header a load balancer puts the client's address in.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    pub login_per_minute: u32,
    pub oauth_per_minute: u32,
    pub bot_per_minute: u32,
    pub identity_per_minute: u32,
    pub client_ip_header: Option<String>,
}

/// Limits on agencies' access to permits.
#[derive(Debug, Clone)]
pub struct AgencyRules {
    /// Longest grant an agency may ask for, in days.
    pub max_grant_days: u32,
    /// Downloads of the annotated copy one grant allows.
    pub max_downloads: u32,
    /// How long a request waits for the holder's decision, in hours.
    pub request_ttl_hours: u32,
    /// How long verifiers may cache the signed status list, in seconds (also the `ttl` of
    /// each Status List Token, whose `exp` is `iat` plus this).
    pub status_list_ttl_secs: u32,
    /// How often each instance reads the status changes the others made, in milliseconds;
    /// 0 turns the follower off (tests that drive it themselves).
    pub status_sync_ms: u64,
    /// Entries of each status list opened from now on (lists keep the size they opened with).
    pub status_list_size: u32,
    /// Wrong client secrets in a row before the client is locked out.
    pub lockout_attempts: u32,
    pub lockout_secs: u32,
}

/// Wrong staff passwords before a lock-out, per username and per source address, and how
/// long it lasts (also how long a run of failures is remembered without a new one).
#[derive(Debug, Clone)]
pub struct StaffLockout {
    pub attempts: u32,
    pub source_attempts: u32,
    pub secs: u32,
}

/// How long personal data is kept, and when the daily retention job runs.
#[derive(Debug, Clone)]
pub struct RetentionRules {
    /// Days after the decision on an application before its uploaded materials are deleted.
    pub materials_days: u32,
    /// Days an access-log entry is kept (the law asks for three years).
    pub access_log_days: u32,
    /// Time of day (Asia/Shanghai) of the daily run; `None` when the schedule is off.
    pub daily_at: Option<chrono::NaiveTime>,
}

/// Subscribe messages (订阅消息): which mini-program sends them and the templates per kind.
#[derive(Debug, Clone)]
pub struct SubscribeSettings {
    /// The mini-program the templates belong to, which records the residents' answers and
    /// sends the messages (`YUEJU_SUBSCRIBE_APP`, default 粤省事).
    pub app: MiniApp,
    /// One template per kind (`YUEJU_SUBSCRIBE_TEMPLATES`, long-term ones named in
    /// `YUEJU_SUBSCRIBE_LONG_TERM`); none: no subscribe messages.
    pub templates: Vec<Template>,
    /// The page a message opens (`YUEJU_SUBSCRIBE_PAGE`); `?notice=<id>` is added.
    pub page: String,
    /// `formal`, `trial` or `developer` (`YUEJU_SUBSCRIBE_MINIPROGRAM_STATE`).
    pub miniprogram_state: String,
}

impl SubscribeSettings {
    pub fn template(&self, kind: TemplateKind) -> Option<&Template> {
        self.templates.iter().find(|t| t.kind == kind)
    }

    pub fn by_id(&self, template_id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == template_id)
    }

    fn from_vars(var: &impl Fn(&str) -> Option<String>) -> anyhow::Result<SubscribeSettings> {
        let app = match var("YUEJU_SUBSCRIBE_APP") {
            None => MiniApp::Yss,
            Some(v) => MiniApp::parse(&v).with_context(|| {
                format!("YUEJU_SUBSCRIBE_APP must be `yss` or `yjm`, not `{v}`")
            })?,
        };
        let mut long_term = Vec::new();
        for name in var("YUEJU_SUBSCRIBE_LONG_TERM")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            long_term.push(TemplateKind::parse(name).with_context(|| {
                format!(
                    "YUEJU_SUBSCRIBE_LONG_TERM: unknown kind `{name}` (known: {})",
                    known_kinds()
                )
            })?);
        }
        let mut templates: Vec<Template> = Vec::new();
        for entry in var("YUEJU_SUBSCRIBE_TEMPLATES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (kind, id) = entry.split_once(':').with_context(|| {
                format!("YUEJU_SUBSCRIBE_TEMPLATES: `{entry}` is not `kind:template_id`")
            })?;
            let (kind, id) = (kind.trim(), id.trim());
            let kind = TemplateKind::parse(kind).with_context(|| {
                format!(
                    "YUEJU_SUBSCRIBE_TEMPLATES: unknown kind `{kind}` (known: {})",
                    known_kinds()
                )
            })?;
            let valid_id = !id.is_empty()
                && id.len() <= 128
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid_id {
                bail!(
                    "YUEJU_SUBSCRIBE_TEMPLATES: the template id of {} is not a platform template id",
                    kind.as_str()
                );
            }
            if templates.iter().any(|t| t.kind == kind) {
                bail!("YUEJU_SUBSCRIBE_TEMPLATES names {} twice", kind.as_str());
            }
            if templates.iter().any(|t| t.id == id) {
                bail!(
                    "YUEJU_SUBSCRIBE_TEMPLATES gives the template id of {} to two kinds",
                    kind.as_str()
                );
            }
            templates.push(Template {
                kind,
                id: id.to_owned(),
                mode: if long_term.contains(&kind) {
                    Mode::LongTerm
                } else {
                    Mode::OneTime
                },
            });
        }
        if let Some(kind) = long_term
            .iter()
            .find(|k| !templates.iter().any(|t| t.kind == **k))
        {
            bail!(
                "YUEJU_SUBSCRIBE_LONG_TERM names {}, which has no template in YUEJU_SUBSCRIBE_TEMPLATES",
                kind.as_str()
            );
        }
        let miniprogram_state =
            var("YUEJU_SUBSCRIBE_MINIPROGRAM_STATE").unwrap_or_else(|| "formal".into());
        if !["formal", "trial", "developer"].contains(&miniprogram_state.as_str()) {
            bail!(
                "YUEJU_SUBSCRIBE_MINIPROGRAM_STATE must be `formal`, `trial` or `developer`, not `{miniprogram_state}`"
            );
        }
        let page = var("YUEJU_SUBSCRIBE_PAGE").unwrap_or_else(|| "pages/index/index".into());
        if page.contains(['?', '#']) || page.len() > 128 {
            bail!("YUEJU_SUBSCRIBE_PAGE must be a page path without a query, not `{page}`");
        }
        Ok(SubscribeSettings {
            app,
            templates,
            page,
            miniprogram_state,
        })
    }
}

fn known_kinds() -> String {
    TemplateKind::ALL.map(TemplateKind::as_str).join(", ")
}

/// Reminder kinds prod must be able to send by subscribe message: the yearly endorsement and
/// the expiry come months after the last visit, when no other channel reaches most residents.
const REQUIRED_SUBSCRIBE_KINDS: [TemplateKind; 2] =
    [TemplateKind::EndorsementDue, TemplateKind::Expiry];

/// The regulation's values, configurable.
#[derive(Debug, Clone)]
pub struct PermitRules {
    /// Validity of a permit, in years (Guangdong: at most three).
    pub validity_years: u32,
    /// How many days before each anniversary the yearly endorsement (签注) may be made.
    pub endorsement_window_days: u32,
    /// How many days before expiry the permit may be renewed.
    pub renewal_window_days: u32,
    /// Months of residence required before applying.
    pub residence_months: u32,
    /// Fee of a replacement physical card in fen (the first card is free).
    pub card_fee_cents: i64,
    /// Licence-type code and issuer code in the GB/T 36904 identifier.
    pub licence_type_code: String,
    pub issuer_credit_code: String,
}

impl PermitRules {
    /// The lengths the date rules read.
    pub fn periods(&self) -> crate::domain::permit_rules::Periods {
        crate::domain::permit_rules::Periods {
            validity_years: self.validity_years,
            endorsement_window_days: self.endorsement_window_days,
            renewal_window_days: self.renewal_window_days,
        }
    }
}

pub const DEFAULT_WECHAT_API_BASE: &str = "https://api.weixin.qq.com";

/// The message server of each account that receives the platform's pushes; `None` is off.
#[derive(Debug, Clone, Default)]
pub struct MessageServers {
    pub official_account: Option<MessageServer>,
    pub yss: Option<MessageServer>,
    pub yjm: Option<MessageServer>,
}

/// `YUEJU_…_AES_KEYS`: comma-separated EncodingAESKeys, current first.
fn parse_aes_keys(name: &str, value: &str) -> anyhow::Result<Vec<AesKey>> {
    let mut keys = Vec::new();
    for (i, part) in value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        // The error names the position, never the key.
        let key = AesKey::from_encoding_key(part)
            .map_err(|e| anyhow::anyhow!("{name}: key {} is not an EncodingAESKey: {e}", i + 1))?;
        keys.push(key);
    }
    Ok(keys)
}

/// The three message servers: the official account's under `YUEJU_WECHAT_TOKEN` and
/// `YUEJU_WECHAT_AES_KEYS`, each mini-program's under its own `_PUSH_TOKEN`/`_AES_KEYS`
/// or else the same two (`none` as a mini-program's keys: plain mode for it alone).
fn message_servers(
    var: &impl Fn(&str) -> Option<String>,
    replay_window_secs: u64,
) -> anyhow::Result<MessageServers> {
    let shared_token = var("YUEJU_WECHAT_TOKEN");
    let shared_keys = match var("YUEJU_WECHAT_AES_KEYS") {
        Some(v) => parse_aes_keys("YUEJU_WECHAT_AES_KEYS", &v)?,
        None => Vec::new(),
    };
    let official_account = match shared_token.clone() {
        None => None,
        Some(token) => {
            let appid = var("YUEJU_WECHAT_OA_APPID").unwrap_or_default();
            if !shared_keys.is_empty() && appid.is_empty() {
                bail!(
                    "YUEJU_WECHAT_AES_KEYS needs YUEJU_WECHAT_OA_APPID: every encrypted message \
                     ends with the official account's appid, which is checked"
                );
            }
            Some(MessageServer {
                token,
                keys: shared_keys.clone(),
                appid,
                replay_window_secs,
            })
        }
    };
    let mini = |prefix: &str| -> anyhow::Result<Option<MessageServer>> {
        let token_name = format!("{prefix}_PUSH_TOKEN");
        let keys_name = format!("{prefix}_AES_KEYS");
        let own_token = var(&token_name);
        let own_keys = var(&keys_name);
        let Some(appid) = var(&format!("{prefix}_APPID")) else {
            if own_token.is_some() || own_keys.is_some() {
                bail!("{token_name}/{keys_name} need {prefix}_APPID (the mini-program's appid)");
            }
            // The mini-program is not configured: its push is off.
            return Ok(None);
        };
        let Some(token) = own_token.or_else(|| shared_token.clone()) else {
            return Ok(None);
        };
        let keys = match own_keys.as_deref() {
            None => shared_keys.clone(),
            Some("none") => Vec::new(),
            Some(v) => parse_aes_keys(&keys_name, v)?,
        };
        Ok(Some(MessageServer {
            token,
            keys,
            appid,
            replay_window_secs,
        }))
    };
    Ok(MessageServers {
        official_account,
        yss: mini("YUEJU_YSS")?,
        yjm: mini("YUEJU_YJM")?,
    })
}

impl Settings {
    /// Reads the process environment, after loading `.env` when there is one.
    pub fn from_env() -> anyhow::Result<Settings> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds settings from any lookup, so tests can pass a map instead of the process
    /// environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
        let var = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mode = match var("YUEJU_ENV").as_deref() {
            None | Some("dev") => RunMode::Dev,
            Some("prod") => RunMode::Prod,
            Some(other) => bail!("YUEJU_ENV must be `dev` or `prod`, not `{other}`"),
        };
        let data_dir = PathBuf::from(var("YUEJU_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = match var("DATABASE_URL") {
            Some(url) => url,
            None => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("yueju.sqlite3").display()
            ),
        };
        let staff_bootstrap = match var("YUEJU_STAFF_BOOTSTRAP") {
            None => None,
            Some(pair) => {
                let (user, pass) = pair
                    .split_once(':')
                    .context("YUEJU_STAFF_BOOTSTRAP must be `username:password`")?;
                if user.is_empty() || pass.is_empty() {
                    bail!("YUEJU_STAFF_BOOTSTRAP must be `username:password`, both non-empty");
                }
                Some((user.to_owned(), pass.to_owned()))
            }
        };
        let demo_data = match var("YUEJU_DEMO_DATA") {
            None => mode == RunMode::Dev,
            Some(v) => parse_bool("YUEJU_DEMO_DATA", &v)?,
        };
        let app = |prefix: &str| -> Option<AppCredentials> {
            Some(AppCredentials {
                appid: var(&format!("{prefix}_APPID"))?,
                secret: var(&format!("{prefix}_SECRET"))?,
            })
        };
        let gov_data = match var("YUEJU_GOV_DATA").as_deref() {
            None | Some("embedded") => GovDataSettings::Embedded,
            Some("http") => GovDataSettings::Http {
                base_url: var("YUEJU_GOV_API_BASE")
                    .context("YUEJU_GOV_DATA=http needs YUEJU_GOV_API_BASE")?,
                token: var("YUEJU_GOV_API_TOKEN"),
            },
            Some(other) => bail!("YUEJU_GOV_DATA must be `embedded` or `http`, not `{other}`"),
        };
        let wechat_replay_window_secs =
            num_or(&var, "YUEJU_WECHAT_REPLAY_WINDOW_SECS", 300)? as u64;
        let message_servers = message_servers(&var, wechat_replay_window_secs)?;
        let log_format = match var("YUEJU_LOG_FORMAT").as_deref() {
            None if mode == RunMode::Prod => LogFormat::Json,
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("YUEJU_LOG_FORMAT must be `pretty` or `json`, not `{other}`"),
        };
        let settings = Settings {
            mode,
            database_url,
            bind: var("YUEJU_BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            workers: var("YUEJU_WORKERS")
                .map(|v| parse_num("YUEJU_WORKERS", &v))
                .transpose()?,
            log_format,
            staff_bootstrap,
            demo_data,
            smtp_url: var("YUEJU_SMTP_URL"),
            wechat_api_base: var("YUEJU_WECHAT_API_BASE")
                .unwrap_or_else(|| DEFAULT_WECHAT_API_BASE.into()),
            wechat_oa: app("YUEJU_WECHAT_OA"),
            message_servers,
            wechat_reply_budget_ms: num_or(&var, "YUEJU_WECHAT_REPLY_BUDGET_MS", 4000)? as u64,
            bot_api_secret: var("YUEJU_BOT_API_SECRET"),
            rate_limits: RateLimitSettings {
                login_per_minute: num_or(&var, "YUEJU_RATE_LIMIT_LOGIN_PER_MINUTE", 30)? as u32,
                oauth_per_minute: num_or(&var, "YUEJU_RATE_LIMIT_OAUTH_PER_MINUTE", 60)? as u32,
                bot_per_minute: num_or(&var, "YUEJU_RATE_LIMIT_BOT_PER_MINUTE", 300)? as u32,
                identity_per_minute: num_or(&var, "YUEJU_RATE_LIMIT_IDENTITY_PER_MINUTE", 10)?
                    as u32,
                client_ip_header: var("YUEJU_CLIENT_IP_HEADER"),
            },
            bot_dialogue_timeout_mins: num_or(&var, "YUEJU_BOT_DIALOGUE_TIMEOUT_MINUTES", 30)?
                as u32,
            yss: app("YUEJU_YSS"),
            yjm: app("YUEJU_YJM"),
            gov_data,
            data_keys: var("YUEJU_DATA_KEYS"),
            blind_index_key: var("YUEJU_BLIND_INDEX_KEY"),
            jwt_keys: var("YUEJU_JWT_KEYS"),
            signing_keys: var("YUEJU_SIGNING_KEYS"),
            retired_public_keys: var("YUEJU_RETIRED_PUBLIC_KEYS"),
            permit: PermitRules {
                validity_years: num_or(&var, "YUEJU_PERMIT_VALIDITY_YEARS", 3)? as u32,
                endorsement_window_days: num_or(&var, "YUEJU_ENDORSEMENT_WINDOW_DAYS", 30)? as u32,
                renewal_window_days: num_or(&var, "YUEJU_RENEWAL_WINDOW_DAYS", 30)? as u32,
                residence_months: num_or(&var, "YUEJU_RESIDENCE_MONTHS", 6)? as u32,
                card_fee_cents: num_or(&var, "YUEJU_CARD_FEE_CENTS", 2000)? as i64,
                licence_type_code: var("YUEJU_LICENCE_TYPE_CODE").unwrap_or_else(|| "JZZ44".into()),
                issuer_credit_code: var("YUEJU_ISSUER_CREDIT_CODE")
                    .unwrap_or_else(|| "11440000DEV0000000".into()),
            },
            max_upload_bytes: num_or(&var, "YUEJU_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)?,
            code_ttl_secs: u16::try_from(num_or(&var, "YUEJU_CODE_TTL_SECS", 120)?)
                .map_err(|_| anyhow::anyhow!("YUEJU_CODE_TTL_SECS must be at most 65535"))?,
            reminders: ReminderRules {
                mail_from: var("YUEJU_MAIL_FROM")
                    .unwrap_or_else(|| "广东省电子居住证 <no-reply@yueju.localhost>".into()),
                sweep_at: match var("YUEJU_REMINDER_AT") {
                    None => chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
                    Some(v) => {
                        chrono::NaiveTime::parse_from_str(v.trim(), "%H:%M").map_err(|_| {
                            anyhow::anyhow!(
                                "YUEJU_REMINDER_AT must be a time like 09:00, got {v:?}"
                            )
                        })?
                    }
                },
                expiry_days: parse_days_list(
                    var("YUEJU_EXPIRY_REMINDER_DAYS")
                        .as_deref()
                        .unwrap_or("30,7,1"),
                )?,
                delivery_interval_secs: num_or(&var, "YUEJU_DELIVERY_INTERVAL_SECS", 30)? as u64,
                max_attempts: num_or(&var, "YUEJU_DELIVERY_MAX_ATTEMPTS", 8)? as u32,
                backoff_secs: num_or(&var, "YUEJU_DELIVERY_BACKOFF_SECS", 60)? as u64,
                lease_secs: num_or(&var, "YUEJU_DELIVERY_LEASE_SECS", 60)?.max(1) as u64,
                staff_run_budget_secs: num_or(&var, "YUEJU_STAFF_RUN_BUDGET_SECS", 20)? as u64,
                background: match var("YUEJU_BACKGROUND_JOBS").as_deref() {
                    None | Some("true") | Some("1") => true,
                    Some("false") | Some("0") => false,
                    Some(v) => {
                        anyhow::bail!("YUEJU_BACKGROUND_JOBS must be true or false, got {v:?}")
                    }
                },
            },
            agencies: AgencyRules {
                max_grant_days: num_or(&var, "YUEJU_GRANT_MAX_DAYS", 90)? as u32,
                max_downloads: num_or(&var, "YUEJU_GRANT_MAX_DOWNLOADS", 3)? as u32,
                request_ttl_hours: num_or(&var, "YUEJU_REQUEST_TTL_HOURS", 24)? as u32,
                status_list_ttl_secs: num_or(&var, "YUEJU_STATUS_LIST_TTL_SECS", 300)? as u32,
                status_sync_ms: num_or(&var, "YUEJU_STATUS_SYNC_MS", 250)? as u64,
                status_list_size: u32::try_from(num_or(
                    &var,
                    "YUEJU_STATUS_LIST_SIZE",
                    crate::verify::status_list::DEFAULT_LIST_SIZE as usize,
                )?)
                .ok()
                .filter(|n| (8..=1 << 26).contains(n) && n % 8 == 0)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "YUEJU_STATUS_LIST_SIZE must be a multiple of 8 from 8 to 67108864"
                    )
                })?,
                lockout_attempts: num_or(&var, "YUEJU_AGENCY_LOCKOUT_ATTEMPTS", 5)? as u32,
                lockout_secs: num_or(&var, "YUEJU_AGENCY_LOCKOUT_SECS", 900)? as u32,
            },
            staff_lockout: StaffLockout {
                attempts: num_or(&var, "YUEJU_STAFF_LOCKOUT_ATTEMPTS", 5)? as u32,
                source_attempts: num_or(&var, "YUEJU_STAFF_SOURCE_LOCKOUT_ATTEMPTS", 20)? as u32,
                secs: num_or(&var, "YUEJU_STAFF_LOCKOUT_SECS", 900)? as u32,
            },
            access_token_ttl: Duration::from_secs(
                var("YUEJU_ACCESS_TOKEN_TTL_SECS")
                    .map(|v| parse_num("YUEJU_ACCESS_TOKEN_TTL_SECS", &v))
                    .transpose()?
                    .unwrap_or(900) as u64,
            ),
            refresh_token_ttl: Duration::from_secs(
                var("YUEJU_REFRESH_TOKEN_TTL_DAYS")
                    .map(|v| parse_num("YUEJU_REFRESH_TOKEN_TTL_DAYS", &v))
                    .transpose()?
                    .unwrap_or(30) as u64
                    * 86_400,
            ),
            max_json_bytes: var("YUEJU_MAX_JSON_BYTES")
                .map(|v| parse_num("YUEJU_MAX_JSON_BYTES", &v))
                .transpose()?
                .unwrap_or(64 * 1024),
            max_bulk_bytes: var("YUEJU_MAX_BULK_BYTES")
                .map(|v| parse_num("YUEJU_MAX_BULK_BYTES", &v))
                .transpose()?
                .unwrap_or(32 * 1024 * 1024),
            http_timeout: Duration::from_secs(
                var("YUEJU_HTTP_TIMEOUT_SECS")
                    .map(|v| parse_num("YUEJU_HTTP_TIMEOUT_SECS", &v))
                    .transpose()?
                    .unwrap_or(5) as u64,
            ),
            retention: RetentionRules {
                materials_days: num_or(&var, "YUEJU_MATERIALS_RETENTION_DAYS", 90)? as u32,
                access_log_days: num_or(&var, "YUEJU_ACCESS_LOG_RETENTION_DAYS", 1095)? as u32,
                daily_at: match var("YUEJU_RETENTION_AT").as_deref() {
                    Some("off") => None,
                    other => Some(
                        chrono::NaiveTime::parse_from_str(other.unwrap_or("03:30"), "%H:%M")
                            .context("YUEJU_RETENTION_AT must be `HH:MM` or `off`")?,
                    ),
                },
            },
            data_dir,
            subscribe: SubscribeSettings::from_vars(&var)?,
        };
        settings.check_mode()?;
        Ok(settings)
    }

    pub fn is_dev(&self) -> bool {
        self.mode == RunMode::Dev
    }

    /// The message server of `account` (token, 安全模式 keys, the appid its encrypted
    /// messages end with), or `None` when its pushes are off: no token, or a mini-program
    /// without an appid.
    pub fn message_server(&self, account: Account) -> Option<&MessageServer> {
        match account {
            Account::OfficialAccount => self.message_servers.official_account.as_ref(),
            Account::Mini(MiniApp::Yss) => self.message_servers.yss.as_ref(),
            Account::Mini(MiniApp::Yjm) => self.message_servers.yjm.as_ref(),
        }
    }

    /// Production refuses everything that only suits a developer's machine, naming each
    /// missing or unsafe setting.
    fn check_mode(&self) -> anyhow::Result<()> {
        if self.mode == RunMode::Dev {
            return Ok(());
        }
        let mut problems = Vec::new();
        for (name, value) in [
            ("YUEJU_DATA_KEYS", &self.data_keys),
            ("YUEJU_BLIND_INDEX_KEY", &self.blind_index_key),
            ("YUEJU_JWT_KEYS", &self.jwt_keys),
            ("YUEJU_SIGNING_KEYS", &self.signing_keys),
        ] {
            if value.is_none() {
                problems.push(format!(
                    "{name} is required (generated keys are for dev only)"
                ));
            }
        }
        if self.yss.is_none() && self.yjm.is_none() {
            problems.push(
                "YUEJU_YSS_APPID/YUEJU_YSS_SECRET or YUEJU_YJM_APPID/YUEJU_YJM_SECRET is required \
                 (dev login codes are refused in prod)"
                    .into(),
            );
        }
        if let Some(secret) = &self.bot_api_secret
            && secret.chars().count() < 24
        {
            problems.push("YUEJU_BOT_API_SECRET must have at least 24 characters".into());
        }
        if self.demo_data {
            problems.push("YUEJU_DEMO_DATA must be false in prod".into());
        }
        if let Some((_, password)) = &self.staff_bootstrap
            && password.chars().count() < 12
        {
            problems.push("YUEJU_STAFF_BOOTSTRAP password must have at least 12 characters".into());
        }
        if self.permit.issuer_credit_code.contains("DEV") {
            problems
                .push("YUEJU_ISSUER_CREDIT_CODE must be the issuing authority's real code".into());
        }
        let missing: Vec<&str> = REQUIRED_SUBSCRIBE_KINDS
            .into_iter()
            .filter(|k| self.subscribe.template(*k).is_none())
            .map(TemplateKind::as_str)
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "YUEJU_SUBSCRIBE_TEMPLATES needs a template for {} (reminders months later reach residents only by subscribe message)",
                missing.join(", ")
            ));
        }
        let sender = match self.subscribe.app {
            MiniApp::Yss => &self.yss,
            MiniApp::Yjm => &self.yjm,
        };
        if !self.subscribe.templates.is_empty() && sender.is_none() {
            problems.push(format!(
                "YUEJU_{app}_APPID/YUEJU_{app}_SECRET are required to send subscribe messages from YUEJU_SUBSCRIBE_APP={}",
                self.subscribe.app.as_str(),
                app = self.subscribe.app.as_str().to_uppercase()
            ));
        }
        if !problems.is_empty() {
            bail!(
                "YUEJU_ENV=prod refuses to start:\n  - {}",
                problems.join("\n  - ")
            );
        }
        Ok(())
    }
}

fn parse_bool(name: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => bail!("{name} must be `true` or `false`, not `{value}`"),
    }
}

/// `30,7,1` → `[30, 7, 1]`, largest first, without repeats.
fn parse_days_list(value: &str) -> anyhow::Result<Vec<u32>> {
    let mut days = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let d: u32 = part.parse().map_err(|_| {
            anyhow::anyhow!("YUEJU_EXPIRY_REMINDER_DAYS: {part:?} is not a number of days")
        })?;
        if d == 0 || d > 366 {
            anyhow::bail!("YUEJU_EXPIRY_REMINDER_DAYS: {d} is out of range 1..=366");
        }
        days.push(d);
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    Ok(days)
}

fn num_or(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: usize,
) -> anyhow::Result<usize> {
    var(name)
        .map(|v| parse_num(name, &v))
        .transpose()
        .map(|v| v.unwrap_or(default))
}

fn parse_num(name: &str, value: &str) -> anyhow::Result<usize> {
    value
        .parse()
        .with_context(|| format!("{name} must be a whole number, not `{value}`"))
}

/// The calendar date in China (Asia/Shanghai), which every date rule uses.
pub fn today_in_china() -> chrono::NaiveDate {
    day_in_china(chrono::Utc::now())
}

/// The calendar date in China at `at` (an offline verifier passes its own clock).
pub fn day_in_china(at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}
