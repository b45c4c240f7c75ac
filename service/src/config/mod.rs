//! Settings, read from the environment (and an optional `.env`), with defaults that let
//! `cargo run` start with none set. The names listed in API.md are fixed; the others are
//! explained in `.env.example`.
//!
//! A tour: [`vars`] reads every variable through figment into one flat struct (defaults,
//! types, and errors that name the variable); [`Settings::from_lookup`] builds the structured
//! settings from it, with the parts in [`wechat`], [`delivery`] and [`limits`], and refuses in
//! production what only suits a developer's machine. Every secret is a `SecretString` from the
//! moment it is read, so `Debug` of the settings never shows one; code that needs the value
//! calls `expose_secret()` where it uses it.

mod delivery;
mod limits;
mod payment;
mod vars;
mod wechat;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

pub use delivery::{ReminderRules, RetentionRules};
pub use limits::{AgencyRules, PermitRules, RateLimitSettings, StaffLockout};
pub use payment::{DEV_NOTIFY_SECRET, FeeCollectorSettings, PaymentSettings};
pub use wechat::{AppCredentials, DEFAULT_WECHAT_API_BASE, MessageServers, SubscribeSettings};

use crate::identity::wechat::message_server::MessageServer;
use crate::identity::wechat::subscribe::TemplateKind;
use crate::identity::wechat::{Account, MiniApp};
use vars::{GovDataKind, Vars};
use wechat::REQUIRED_SUBSCRIBE_KINDS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    Dev,
    Prod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub enum GovDataSettings {
    /// Tables in our own database, loaded through the staff API (and demo data in dev).
    Embedded,
    /// The government data exchange over HTTP.
    Http {
        base_url: String,
        token: Option<SecretString>,
    },
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: RunMode,
    pub data_dir: PathBuf,
    /// May carry the database password, hence a secret.
    pub database_url: SecretString,
    pub bind: String,
    /// `YUEJU_METRICS_BIND`: the second listener, serving only `GET /metrics`.
    pub metrics_bind: Option<String>,
    /// `YUEJU_OTLP_ENDPOINT`: where spans are exported (OTLP over HTTP/protobuf).
    pub otlp_endpoint: Option<String>,
    /// `YUEJU_PUBLIC_URL`: scheme and host under which the public reaches the service
    /// (`https://yueju.gd.gov.cn`), without a trailing slash; what printed QR codes lead to.
    /// Required in prod; in dev, a request's own host stands in.
    pub public_url: Option<String>,
    /// `YUEJU_PDF_FALLBACK_FONT`: a font file for the characters the PDF copy's built-in font
    /// lacks (CJK Extension B in names, such as 𠮷): HanaMinB.ttf of Debian's fonts-hanazono.
    /// Without it such a character prints as an empty box.
    pub pdf_fallback_font: Option<PathBuf>,
    pub workers: Option<usize>,
    pub log_format: LogFormat,
    /// `YUEJU_STAFF_BOOTSTRAP`: the first administrator's username and password.
    pub staff_bootstrap: Option<(String, SecretString)>,
    pub demo_data: bool,
    /// `smtp://user:password@host`, hence a secret.
    pub smtp_url: Option<SecretString>,
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
    pub bot_api_secret: Option<SecretString>,
    pub rate_limits: RateLimitSettings,
    /// Minutes after which an unfinished bot dialogue ends (0: never); the daily retention
    /// run deletes dialogues unused for that long.
    pub bot_dialogue_timeout_mins: u32,
    pub yss: Option<AppCredentials>,
    pub yjm: Option<AppCredentials>,
    pub gov_data: GovDataSettings,
    /// The card fee's collector and the key of its paid callbacks.
    pub payment: PaymentSettings,
    /// `kid:base64key[,kid:base64key…]`; the first seals, all open.
    pub data_keys: Option<SecretString>,
    /// base64 of the HMAC key behind the blind indexes.
    pub blind_index_key: Option<SecretString>,
    /// `kid:base64secret[,…]`; the first signs access tokens, all verify.
    pub jwt_keys: Option<SecretString>,
    /// PKCS#8 PEM files of the signing keys (Ed25519 or SM2), comma separated; the first of
    /// `signing_alg` signs. (The paths are not secret; the files are.)
    pub signing_keys: Option<String>,
    /// SPKI PEM files of retired public keys that still verify, comma separated.
    pub retired_public_keys: Option<String>,
    /// What new signatures use (`YUEJU_SIGNING_ALG`); keys of the other algorithm verify.
    pub signing_alg: crate::keys::signing::Alg,
    /// A seal server or HSM front that signs (`YUEJU_SIGNER_URL`); none: the keys are in
    /// the process.
    pub signer_url: Option<String>,
    /// SPKI PEM files of the keys the signing service holds, comma separated.
    pub signer_keys: Option<String>,
    pub signer_token: Option<SecretString>,
    /// Deadline of one call to the signing service.
    pub signer_deadline: Duration,
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

impl Settings {
    /// Reads the process environment, after loading `.env` when there is one.
    pub fn from_env() -> anyhow::Result<Settings> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds settings from any lookup, so tests can pass a map instead of the process
    /// environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
        let vars = Vars::read(get)?;
        let mode = vars.env;
        let data_dir = PathBuf::from(&vars.data_dir);
        let database_url = match &vars.database_url {
            Some(url) => url.clone(),
            None => SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("yueju.sqlite3").display()
            )),
        };
        let staff_bootstrap = match &vars.staff_bootstrap {
            None => None,
            Some(pair) => {
                let (user, pass) = pair
                    .expose_secret()
                    .split_once(':')
                    .context("YUEJU_STAFF_BOOTSTRAP must be `username:password`")?;
                if user.is_empty() || pass.is_empty() {
                    bail!("YUEJU_STAFF_BOOTSTRAP must be `username:password`, both non-empty");
                }
                Some((user.to_owned(), SecretString::from(pass)))
            }
        };
        let gov_data = match vars.gov_data {
            GovDataKind::Embedded => GovDataSettings::Embedded,
            GovDataKind::Http => GovDataSettings::Http {
                base_url: vars
                    .gov_api_base
                    .clone()
                    .context("YUEJU_GOV_DATA=http needs YUEJU_GOV_API_BASE")?,
                token: vars.gov_api_token.clone(),
            },
        };
        let settings = Settings {
            mode,
            database_url,
            bind: vars.bind.clone(),
            metrics_bind: vars.metrics_bind.clone().filter(|b| !b.trim().is_empty()),
            otlp_endpoint: vars.otlp_endpoint.clone().filter(|e| !e.trim().is_empty()),
            public_url: public_url(vars.public_url.as_deref())?,
            pdf_fallback_font: vars
                .pdf_fallback_font
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            workers: vars.workers,
            log_format: vars.log_format.unwrap_or(match mode {
                RunMode::Prod => LogFormat::Json,
                RunMode::Dev => LogFormat::Pretty,
            }),
            staff_bootstrap,
            demo_data: vars.demo_data.unwrap_or(mode == RunMode::Dev),
            smtp_url: vars.smtp_url.clone(),
            wechat_api_base: vars.wechat_api_base.clone(),
            wechat_oa: AppCredentials::from_pair(&vars.wechat_oa_appid, &vars.wechat_oa_secret),
            message_servers: MessageServers::from_vars(&vars)?,
            wechat_reply_budget_ms: vars.wechat_reply_budget_ms,
            bot_api_secret: vars.bot_api_secret.clone(),
            rate_limits: RateLimitSettings::from_vars(&vars),
            bot_dialogue_timeout_mins: vars.bot_dialogue_timeout_minutes,
            yss: AppCredentials::from_pair(&vars.yss_appid, &vars.yss_secret),
            yjm: AppCredentials::from_pair(&vars.yjm_appid, &vars.yjm_secret),
            gov_data,
            payment: PaymentSettings::from_vars(&vars),
            data_keys: vars.data_keys.clone(),
            blind_index_key: vars.blind_index_key.clone(),
            jwt_keys: vars.jwt_keys.clone(),
            signing_keys: vars.signing_keys.clone(),
            retired_public_keys: vars.retired_public_keys.clone(),
            signing_alg: vars.signing_alg,
            signer_url: vars.signer_url.clone().filter(|u| !u.trim().is_empty()),
            signer_keys: vars.signer_keys.clone(),
            signer_token: vars.signer_token.clone(),
            signer_deadline: Duration::from_millis(vars.signer_timeout_ms),
            permit: PermitRules::from_vars(&vars),
            max_upload_bytes: vars.max_upload_bytes,
            code_ttl_secs: vars.code_ttl_secs,
            reminders: ReminderRules::from_vars(&vars)?,
            agencies: AgencyRules::from_vars(&vars)?,
            staff_lockout: StaffLockout::from_vars(&vars),
            access_token_ttl: Duration::from_secs(vars.access_token_ttl_secs),
            refresh_token_ttl: Duration::from_secs(
                vars.refresh_token_ttl_days.saturating_mul(86_400),
            ),
            max_json_bytes: vars.max_json_bytes,
            max_bulk_bytes: vars.max_bulk_bytes,
            http_timeout: Duration::from_secs(vars.http_timeout_secs),
            retention: RetentionRules::from_vars(&vars)?,
            data_dir,
            subscribe: SubscribeSettings::from_vars(&vars)?,
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
        for (name, given) in [
            ("YUEJU_DATA_KEYS", self.data_keys.is_some()),
            ("YUEJU_BLIND_INDEX_KEY", self.blind_index_key.is_some()),
            ("YUEJU_JWT_KEYS", self.jwt_keys.is_some()),
            (
                "YUEJU_SIGNING_KEYS",
                self.signing_keys.is_some() || self.signer_url.is_some(),
            ),
        ] {
            if !given {
                problems.push(format!(
                    "{name} is required (generated keys are for dev only)"
                ));
            }
        }
        if self.public_url.is_none() {
            problems.push(
                "YUEJU_PUBLIC_URL is required (printed QR codes must lead to the service's public address, not to whatever host a request named)"
                    .into(),
            );
        }
        if self.yss.is_none() && self.yjm.is_none() {
            problems.push(
                "YUEJU_YSS_APPID/YUEJU_YSS_SECRET or YUEJU_YJM_APPID/YUEJU_YJM_SECRET is required \
                 (dev login codes are refused in prod)"
                    .into(),
            );
        }
        if let Some(secret) = &self.bot_api_secret
            && secret.expose_secret().chars().count() < 24
        {
            problems.push("YUEJU_BOT_API_SECRET must have at least 24 characters".into());
        }
        problems.extend(self.payment.prod_problems());
        if self.demo_data {
            problems.push("YUEJU_DEMO_DATA must be false in prod".into());
        }
        if let Some((_, password)) = &self.staff_bootstrap
            && password.expose_secret().chars().count() < 12
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

/// The calendar date in China (Asia/Shanghai) at `at`, which every date rule uses: today is
/// `ctx.clock.today()` (an offline verifier passes its own clock).
pub fn day_in_china(at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

/// `YUEJU_PUBLIC_URL`, checked: an absolute http(s) URL with a host and no query, kept
/// without its trailing slash so that paths can be appended.
fn public_url(given: Option<&str>) -> anyhow::Result<Option<String>> {
    let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) else {
        return Ok(None);
    };
    let url = reqwest::Url::parse(given)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .filter(|u| u.host_str().is_some() && u.query().is_none() && u.fragment().is_none())
        .with_context(|| {
            format!(
                "YUEJU_PUBLIC_URL {given:?} must be an http(s) URL such as https://yueju.gd.gov.cn"
            )
        })?;
    Ok(Some(url.as_str().trim_end_matches('/').to_owned()))
}
