//! Settings can be logged: `Debug` shows what is configured and none of the secrets.

use service::config::Settings;
use std::collections::HashMap;

#[test]
fn debug_of_settings_with_every_secret_set_shows_none_of_them() {
    let aes_key = "Secret0AesKey1Abcdefghijklmnopqrstuvwxyz012";
    let other_aes_key = "Secret9AesKey8Abcdefghijklmnopqrstuvwxyz012";
    let vars: HashMap<&str, String> = [
        (
            "DATABASE_URL",
            "postgres://yueju:db-pass-s3cret@db:5432/yueju",
        ),
        ("YUEJU_STAFF_BOOTSTRAP", "admin:bootstrap-pass-s3cret"),
        (
            "YUEJU_SMTP_URL",
            "smtps://mailer:smtp-pass-s3cret@smtp.example.com",
        ),
        ("YUEJU_WECHAT_TOKEN", "wechat-token-s3cret"),
        ("YUEJU_WECHAT_AES_KEYS", aes_key),
        ("YUEJU_WECHAT_OA_APPID", "wx-oa-appid"),
        ("YUEJU_WECHAT_OA_SECRET", "oa-app-secret-s3cret"),
        ("YUEJU_YSS_APPID", "wx-yss-appid"),
        ("YUEJU_YSS_SECRET", "yss-app-secret-s3cret"),
        ("YUEJU_YSS_PUSH_TOKEN", "yss-push-token-s3cret"),
        ("YUEJU_YSS_AES_KEYS", other_aes_key),
        ("YUEJU_YJM_APPID", "wx-yjm-appid"),
        ("YUEJU_YJM_SECRET", "yjm-app-secret-s3cret"),
        ("YUEJU_YJM_PUSH_TOKEN", "yjm-push-token-s3cret"),
        ("YUEJU_BOT_API_SECRET", "bot-api-secret-s3cret-long-enough"),
        ("YUEJU_GOV_DATA", "http"),
        ("YUEJU_GOV_API_BASE", "https://gov.example.com"),
        ("YUEJU_GOV_API_TOKEN", "gov-api-token-s3cret"),
        (
            "YUEJU_DATA_KEYS",
            "k1:ZGF0YS1rZXktczNjcmV0LWRhdGEta2V5LXMzY3JldCE=",
        ),
        (
            "YUEJU_BLIND_INDEX_KEY",
            "YmxpbmQta2V5LXMzY3JldC1ibGluZC1rZXktczNjcmV0IQ==",
        ),
        (
            "YUEJU_JWT_KEYS",
            "j1:and0LWtleS1zM2NyZXQtand0LWtleS1zM2NyZXQhIQ==",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect();
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("settings");
    let debug = format!("{settings:?}");
    let pretty = format!("{settings:#?}");

    for (name, value) in &vars {
        let secret = match *name {
            "DATABASE_URL" => "db-pass-s3cret",
            "YUEJU_STAFF_BOOTSTRAP" => "bootstrap-pass-s3cret",
            "YUEJU_SMTP_URL" => "smtp-pass-s3cret",
            _ if value.contains("s3cret") || name.ends_with("_KEYS") || name.ends_with("_KEY") => {
                value.as_str()
            }
            _ => continue,
        };
        assert!(!debug.contains(secret), "{name} shows in {debug}");
        assert!(!pretty.contains(secret), "{name} shows in {pretty}");
        // Nor the key part after a `kid:`.
        if let Some((_, key)) = secret.split_once(':') {
            assert!(!debug.contains(key), "{name} shows in {debug}");
        }
    }
    // What is not secret is still there to read.
    for shown in [
        "wx-yss-appid",
        "https://gov.example.com",
        "admin",
        "127.0.0.1:8080",
    ] {
        assert!(debug.contains(shown), "{shown} missing from {debug}");
    }
}
