//! Where settings come from: every variable is a field of [`Vars`], deserialised by figment
//! from a lookup (the process environment after `.env`, or a test's map), with the defaults
//! that let `cargo run` start with none set. A value of the wrong type stops start-up with a
//! message naming its variable, e.g. ``invalid type: found string "ninety", expected u32 for
//! key "YUEJU_MATERIALS_RETENTION_DAYS" in the environment``.

use std::cell::Cell;

use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::{self, Visitor};

use super::{LogFormat, RunMode};

/// Variables named without the `YUEJU_` prefix (a convention shared with other tools).
const UNPREFIXED: [&str; 1] = ["DATABASE_URL"];

/// The environment variable behind a field of [`Vars`].
fn variable(field: &str) -> String {
    if UNPREFIXED.contains(&field) {
        field.to_owned()
    } else {
        format!("YUEJU_{field}")
    }
}

/// Where government records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum GovDataKind {
    Embedded,
    Http,
}

/// Every variable, as read; the structured settings are built from these in
/// [`super::Settings::from_lookup`]. Secrets are `SecretString` from the moment they are read.
#[derive(Deserialize)]
#[serde(default, rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct Vars {
    pub env: RunMode,
    pub data_dir: String,
    pub database_url: Option<SecretString>,
    pub bind: String,
    pub metrics_bind: Option<String>,
    pub otlp_endpoint: Option<String>,
    pub public_url: Option<String>,
    pub pdf_fallback_font: Option<String>,
    pub workers: Option<usize>,
    pub log_format: Option<LogFormat>,
    pub staff_bootstrap: Option<SecretString>,
    pub demo_data: Option<bool>,
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,

    pub wechat_api_base: String,
    pub wechat_token: Option<SecretString>,
    pub wechat_aes_keys: Option<SecretString>,
    pub wechat_oa_appid: Option<String>,
    pub wechat_oa_secret: Option<SecretString>,
    pub wechat_replay_window_secs: u64,
    pub wechat_reply_budget_ms: u64,
    pub yss_appid: Option<String>,
    pub yss_secret: Option<SecretString>,
    pub yss_push_token: Option<SecretString>,
    pub yss_aes_keys: Option<SecretString>,
    pub yjm_appid: Option<String>,
    pub yjm_secret: Option<SecretString>,
    pub yjm_push_token: Option<SecretString>,
    pub yjm_aes_keys: Option<SecretString>,
    pub bot_api_secret: Option<SecretString>,
    pub bot_dialogue_timeout_minutes: u32,

    pub subscribe_app: Option<String>,
    pub subscribe_templates: String,
    pub subscribe_long_term: String,
    pub subscribe_miniprogram_state: String,
    pub subscribe_page: String,

    pub gov_data: GovDataKind,
    pub gov_api_base: Option<String>,
    pub gov_api_token: Option<SecretString>,

    pub payment_api_base: Option<String>,
    pub payment_api_token: Option<SecretString>,
    pub payment_notify_secret: Option<SecretString>,

    pub data_keys: Option<SecretString>,
    pub blind_index_key: Option<SecretString>,
    pub jwt_keys: Option<SecretString>,
    pub signing_keys: Option<String>,
    pub retired_public_keys: Option<String>,
    pub signing_alg: crate::keys::signing::Alg,
    pub signer_url: Option<String>,
    pub signer_keys: Option<String>,
    pub signer_token: Option<SecretString>,
    pub signer_timeout_ms: u64,

    pub rate_limit_login_per_minute: u32,
    pub rate_limit_oauth_per_minute: u32,
    pub rate_limit_bot_per_minute: u32,
    pub rate_limit_identity_per_minute: u32,
    pub client_ip_header: Option<String>,

    pub permit_validity_years: u32,
    pub endorsement_window_days: u32,
    pub renewal_window_days: u32,
    pub residence_months: u32,
    pub card_fee_cents: u32,
    pub residence_proof_days: u32,
    pub reregister_days: u32,
    pub licence_type_code: String,
    pub issuer_credit_code: String,
    pub max_upload_bytes: usize,
    pub code_ttl_secs: u16,

    pub reminder_at: String,
    pub expiry_reminder_days: String,
    pub delivery_interval_secs: u64,
    pub delivery_max_attempts: u32,
    pub delivery_backoff_secs: u64,
    pub delivery_lease_secs: u64,
    pub staff_run_budget_secs: u64,
    pub background_jobs: bool,

    pub grant_max_days: u32,
    pub grant_max_downloads: u32,
    pub request_ttl_hours: u32,
    pub status_list_ttl_secs: u32,
    pub status_sync_ms: u64,
    pub status_list_size: u32,
    pub agency_lockout_attempts: u32,
    pub agency_lockout_secs: u32,
    pub staff_lockout_attempts: u32,
    pub staff_source_lockout_attempts: u32,
    pub staff_lockout_secs: u32,

    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    pub max_json_bytes: usize,
    pub max_bulk_bytes: usize,
    pub http_timeout_secs: u64,

    pub materials_retention_days: u32,
    pub access_log_retention_days: u32,
    pub retention_at: String,
}

impl Default for Vars {
    /// What `cargo run` gets with nothing set (a dev service on SQLite under `./data`).
    fn default() -> Self {
        Vars {
            env: RunMode::Dev,
            data_dir: "./data".into(),
            database_url: None,
            bind: "127.0.0.1:8080".into(),
            metrics_bind: None,
            otlp_endpoint: None,
            public_url: None,
            pdf_fallback_font: None,
            workers: None,
            log_format: None,
            staff_bootstrap: None,
            demo_data: None,
            smtp_url: None,
            mail_from: "广东省电子居住证 <no-reply@yueju.localhost>".into(),
            wechat_api_base: super::DEFAULT_WECHAT_API_BASE.into(),
            wechat_token: None,
            wechat_aes_keys: None,
            wechat_oa_appid: None,
            wechat_oa_secret: None,
            wechat_replay_window_secs: 300,
            wechat_reply_budget_ms: 4000,
            yss_appid: None,
            yss_secret: None,
            yss_push_token: None,
            yss_aes_keys: None,
            yjm_appid: None,
            yjm_secret: None,
            yjm_push_token: None,
            yjm_aes_keys: None,
            bot_api_secret: None,
            bot_dialogue_timeout_minutes: 30,
            subscribe_app: None,
            subscribe_templates: String::new(),
            subscribe_long_term: String::new(),
            subscribe_miniprogram_state: "formal".into(),
            subscribe_page: "pages/index/index".into(),
            gov_data: GovDataKind::Embedded,
            gov_api_base: None,
            gov_api_token: None,
            payment_api_base: None,
            payment_api_token: None,
            payment_notify_secret: None,
            data_keys: None,
            blind_index_key: None,
            jwt_keys: None,
            signing_keys: None,
            retired_public_keys: None,
            signing_alg: crate::keys::signing::Alg::EdDsa,
            signer_url: None,
            signer_keys: None,
            signer_token: None,
            signer_timeout_ms: 2000,
            rate_limit_login_per_minute: 30,
            rate_limit_oauth_per_minute: 60,
            rate_limit_bot_per_minute: 300,
            rate_limit_identity_per_minute: 10,
            client_ip_header: None,
            permit_validity_years: 3,
            endorsement_window_days: 30,
            renewal_window_days: 30,
            residence_months: 6,
            card_fee_cents: 2000,
            residence_proof_days: 30,
            reregister_days: 30,
            licence_type_code: "JZZ44".into(),
            issuer_credit_code: "11440000DEV0000000".into(),
            max_upload_bytes: 5 * 1024 * 1024,
            code_ttl_secs: 120,
            reminder_at: "09:00".into(),
            expiry_reminder_days: "30,7,1".into(),
            delivery_interval_secs: 30,
            delivery_max_attempts: 8,
            delivery_backoff_secs: 60,
            delivery_lease_secs: 60,
            staff_run_budget_secs: 20,
            background_jobs: true,
            grant_max_days: 90,
            grant_max_downloads: 3,
            request_ttl_hours: 24,
            status_list_ttl_secs: 300,
            status_sync_ms: 250,
            status_list_size: crate::verify::status_list::DEFAULT_LIST_SIZE,
            agency_lockout_attempts: 5,
            agency_lockout_secs: 900,
            staff_lockout_attempts: 5,
            staff_source_lockout_attempts: 20,
            staff_lockout_secs: 900,
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            max_json_bytes: 64 * 1024,
            max_bulk_bytes: 32 * 1024 * 1024,
            http_timeout_secs: 5,
            materials_retention_days: 90,
            access_log_retention_days: 1095,
            retention_at: "03:30".into(),
        }
    }
}

impl Vars {
    /// Looks up each variable once (blank values count as unset) and deserialises them;
    /// numbers and booleans are read from their text (figment's lossy extraction).
    pub(super) fn read(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Vars> {
        let mut values = Dict::new();
        for field in field_names::<Vars>() {
            let value = get(&variable(field))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
            if let Some(value) = value {
                values.insert((*field).to_owned(), Value::from(value));
            }
        }
        Ok(Figment::from(Lookup(values)).extract_lossy()?)
    }
}

/// The looked-up values as a figment provider, whose errors name the variable.
struct Lookup(Dict);

impl Provider for Lookup {
    fn metadata(&self) -> Metadata {
        Metadata::named("the environment").interpolater(|_: &Profile, path: &[&str]| {
            path.iter()
                .map(|field| variable(field))
                .collect::<Vec<_>>()
                .join(".")
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}

/// The field names of a struct deriving `Deserialize`: serde's derive passes them to
/// `deserialize_struct`, which this deserializer records and then declines.
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Names(Cell<&'static [&'static str]>);

    impl<'de> de::Deserializer<'de> for &Names {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only the field names are read"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.set(fields);
            Err(de::Error::custom("only the field names are read"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let names = Names(Cell::new(&[]));
    let _declined = T::deserialize(&names);
    names.0.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_read_from_its_variable() {
        let names = field_names::<Vars>();
        assert!(names.len() > 80, "{names:?}");
        assert!(names.contains(&"DATABASE_URL"));
        assert_eq!(variable("DATABASE_URL"), "DATABASE_URL");
        assert_eq!(variable("JWT_KEYS"), "YUEJU_JWT_KEYS");
    }

    #[test]
    fn a_wrong_type_names_the_variable_and_blank_values_are_unset() {
        let err = Vars::read(|k| (k == "YUEJU_WORKERS").then(|| "many".into()))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("YUEJU_WORKERS"), "{err}");
        let vars = Vars::read(|k| (k == "YUEJU_BIND").then(|| "  ".into())).unwrap();
        assert_eq!(vars.bind, "127.0.0.1:8080");
    }
}
