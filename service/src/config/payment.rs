//! The card fee's collector: the province's non-tax payment platform over HTTP
//! (`YUEJU_PAYMENT_API_BASE`), or, in dev when no platform is named, the embedded dev
//! collector, which issues notices locally so that `cargo run` needs no platform. Prod refuses
//! the dev collector and the dev callback secret.

use secrecy::{ExposeSecret as _, SecretString};

use super::vars::Vars;

/// The key of the paid callbacks' signatures when `YUEJU_PAYMENT_NOTIFY_SECRET` is unset (dev
/// only), so a developer can sign a callback by hand (see `.env.example`).
pub const DEV_NOTIFY_SECRET: &str = "dev-payment-notify-secret";

const MIN_SECRET_CHARS: usize = 24;

#[derive(Debug, Clone)]
pub enum FeeCollectorSettings {
    /// Notices issued in-process (dev only); paid by a hand-signed callback.
    Dev,
    /// The province's non-tax payment platform.
    Http {
        base_url: String,
        /// Sent as `Authorization: Bearer …` when set.
        token: Option<SecretString>,
    },
}

#[derive(Debug, Clone)]
pub struct PaymentSettings {
    pub collector: FeeCollectorSettings,
    /// Key of the lower-hex HMAC-SHA-256 over the raw body of each paid callback.
    pub notify_secret: SecretString,
    /// Whether `notify_secret` is [`DEV_NOTIFY_SECRET`] because none was given.
    notify_secret_is_default: bool,
}

impl PaymentSettings {
    pub(super) fn from_vars(vars: &Vars) -> PaymentSettings {
        let collector = match &vars.payment_api_base {
            Some(base_url) => FeeCollectorSettings::Http {
                base_url: base_url.clone(),
                token: vars.payment_api_token.clone(),
            },
            None => FeeCollectorSettings::Dev,
        };
        let (notify_secret, notify_secret_is_default) = match &vars.payment_notify_secret {
            Some(secret) => (secret.clone(), false),
            None => (SecretString::from(DEV_NOTIFY_SECRET), true),
        };
        PaymentSettings {
            collector,
            notify_secret,
            notify_secret_is_default,
        }
    }

    /// What prod refuses: the dev collector and a missing or short callback secret.
    pub(super) fn prod_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if matches!(self.collector, FeeCollectorSettings::Dev) {
            problems.push(
                "YUEJU_PAYMENT_API_BASE is required (the embedded dev fee collector issues notices nobody can pay)"
                    .into(),
            );
        }
        if self.notify_secret_is_default {
            problems
                .push("YUEJU_PAYMENT_NOTIFY_SECRET is required (the dev secret is public)".into());
        } else if self.notify_secret.expose_secret().chars().count() < MIN_SECRET_CHARS {
            problems.push(format!(
                "YUEJU_PAYMENT_NOTIFY_SECRET must have at least {MIN_SECRET_CHARS} characters"
            ));
        }
        problems
    }
}
