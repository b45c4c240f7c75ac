use secrecy::ExposeSecret as _;
use service::config::{RunMode, Settings};
use std::collections::HashMap;

fn settings(vars: &[(&str, &str)]) -> anyhow_like::Result<Settings> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_lookup(|k| map.get(k).cloned()).map_err(|e| format!("{e:#}"))
}

mod anyhow_like {
    pub type Result<T> = std::result::Result<T, String>;
}

#[test]
fn no_settings_at_all_give_a_dev_service_on_sqlite_under_data() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.mode, RunMode::Dev);
    assert_eq!(s.bind, "127.0.0.1:8080");
    assert_eq!(s.data_dir, std::path::PathBuf::from("./data"));
    assert!(
        s.database_url
            .expose_secret()
            .starts_with("sqlite://./data/"),
        "{}",
        s.database_url.expose_secret()
    );
    assert!(s.demo_data);
}

#[test]
fn prod_mode_names_every_missing_setting() {
    let err = settings(&[("YUEJU_ENV", "prod")]).expect_err("prod without settings must fail");
    for name in [
        "YUEJU_DATA_KEYS",
        "YUEJU_BLIND_INDEX_KEY",
        "YUEJU_JWT_KEYS",
        "YUEJU_YSS_APPID",
        "YUEJU_PUBLIC_URL",
    ] {
        assert!(err.contains(name), "missing {name} in: {err}");
    }
}

#[test]
fn prod_mode_refuses_demo_data_and_a_weak_bootstrap_password() {
    let key = "k:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let base = [
        ("YUEJU_ENV", "prod"),
        ("YUEJU_PUBLIC_URL", "https://yueju.example.gov.cn/"),
        ("YUEJU_DATA_KEYS", key),
        (
            "YUEJU_BLIND_INDEX_KEY",
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        ),
        ("YUEJU_JWT_KEYS", key),
        ("YUEJU_YSS_APPID", "wx1"),
        ("YUEJU_YSS_SECRET", "s1"),
        ("YUEJU_SIGNING_KEYS", "/etc/yueju/signing.pem"),
        ("YUEJU_ISSUER_CREDIT_CODE", "11440000000000000X"),
        ("YUEJU_SUBSCRIBE_TEMPLATES", "endorsement_due:T1,expiry:T2"),
        ("YUEJU_PAYMENT_API_BASE", "https://fees.example.gov.cn/api"),
        (
            "YUEJU_PAYMENT_NOTIFY_SECRET",
            "a-long-enough-callback-secret-0123",
        ),
    ];
    let mut ok = base.to_vec();
    ok.push(("YUEJU_DEMO_DATA", "false"));
    assert!(settings(&ok).is_ok());
    let mut demo = ok.clone();
    demo.retain(|(k, _)| *k != "YUEJU_DEMO_DATA");
    demo.push(("YUEJU_DEMO_DATA", "true"));
    assert!(settings(&demo).err().unwrap().contains("YUEJU_DEMO_DATA"));
    // The dev fee collector, the dev callback secret and a short one are refused, each named.
    let mut no_platform = ok.clone();
    no_platform.retain(|(k, _)| !k.starts_with("YUEJU_PAYMENT_"));
    let err = settings(&no_platform).expect_err("prod without a payment platform");
    assert!(err.contains("YUEJU_PAYMENT_API_BASE"), "{err}");
    assert!(err.contains("YUEJU_PAYMENT_NOTIFY_SECRET"), "{err}");
    let mut short = ok.clone();
    short.retain(|(k, _)| *k != "YUEJU_PAYMENT_NOTIFY_SECRET");
    short.push(("YUEJU_PAYMENT_NOTIFY_SECRET", "short"));
    let err = settings(&short).expect_err("a short callback secret");
    assert!(
        err.contains("YUEJU_PAYMENT_NOTIFY_SECRET must have at least"),
        "{err}"
    );
    let mut weak = ok.clone();
    weak.push(("YUEJU_STAFF_BOOTSTRAP", "admin:short"));
    assert!(
        settings(&weak)
            .err()
            .unwrap()
            .contains("YUEJU_STAFF_BOOTSTRAP")
    );
}

#[test]
fn malformed_settings_are_named() {
    assert!(
        settings(&[("YUEJU_ENV", "staging")])
            .err()
            .unwrap()
            .contains("YUEJU_ENV")
    );
    assert!(
        settings(&[("YUEJU_DEMO_DATA", "maybe")])
            .err()
            .unwrap()
            .contains("YUEJU_DEMO_DATA")
    );
    assert!(
        settings(&[("YUEJU_STAFF_BOOTSTRAP", "nopassword")])
            .err()
            .unwrap()
            .contains("YUEJU_STAFF_BOOTSTRAP")
    );
    assert!(
        settings(&[("YUEJU_GOV_DATA", "http")])
            .err()
            .unwrap()
            .contains("YUEJU_GOV_API_BASE")
    );
}

#[test]
fn retention_defaults_to_ninety_days_three_years_and_half_past_three() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.retention.materials_days, 90);
    assert_eq!(s.retention.access_log_days, 1095);
    assert_eq!(
        s.retention.daily_at,
        chrono::NaiveTime::from_hms_opt(3, 30, 0)
    );
    let off = settings(&[("YUEJU_RETENTION_AT", "off")]).unwrap();
    assert_eq!(off.retention.daily_at, None);
    let err = settings(&[("YUEJU_RETENTION_AT", "25:00")]).expect_err("not a time");
    assert!(err.contains("YUEJU_RETENTION_AT"), "{err}");
    let err = settings(&[("YUEJU_MATERIALS_RETENTION_DAYS", "ninety")]).expect_err("not a number");
    assert!(err.contains("YUEJU_MATERIALS_RETENTION_DAYS"), "{err}");
}

#[test]
fn subscribe_templates_name_unknown_kinds_and_prod_names_the_missing_ones() {
    let s = settings(&[
        (
            "YUEJU_SUBSCRIBE_TEMPLATES",
            "endorsement_due:T-1, expiry:T-2,decision:T-3",
        ),
        ("YUEJU_SUBSCRIBE_LONG_TERM", "expiry"),
    ])
    .unwrap();
    let sub = &s.subscribe;
    assert_eq!(sub.app, service::identity::wechat::MiniApp::Yss);
    assert_eq!(sub.templates.len(), 3);
    let expiry = sub.by_id("T-2").unwrap();
    assert_eq!(
        expiry.mode,
        service::identity::wechat::subscribe::Mode::LongTerm
    );
    assert_eq!(
        sub.by_id("T-1").unwrap().mode,
        service::identity::wechat::subscribe::Mode::OneTime
    );
    assert!(settings(&[]).unwrap().subscribe.templates.is_empty());

    let err = settings(&[(
        "YUEJU_SUBSCRIBE_TEMPLATES",
        "endorsement_due:T-1,renewal:T-9",
    )])
    .expect_err("unknown kind");
    assert!(
        err.contains("renewal") && err.contains("YUEJU_SUBSCRIBE_TEMPLATES"),
        "{err}"
    );
    let err = settings(&[
        ("YUEJU_SUBSCRIBE_TEMPLATES", "endorsement_due:T-1"),
        ("YUEJU_SUBSCRIBE_LONG_TERM", "forever"),
    ])
    .expect_err("unknown long-term kind");
    assert!(
        err.contains("forever") && err.contains("YUEJU_SUBSCRIBE_LONG_TERM"),
        "{err}"
    );
    let err = settings(&[("YUEJU_SUBSCRIBE_TEMPLATES", "endorsement_due")]).expect_err("no id");
    assert!(err.contains("kind:template_id"), "{err}");
    let err = settings(&[("YUEJU_SUBSCRIBE_APP", "wx")]).expect_err("unknown app");
    assert!(err.contains("YUEJU_SUBSCRIBE_APP"), "{err}");

    let err = settings(&[
        ("YUEJU_ENV", "prod"),
        ("YUEJU_SUBSCRIBE_TEMPLATES", "decision:T-3"),
    ])
    .expect_err("prod without reminder templates");
    assert!(
        err.contains("YUEJU_SUBSCRIBE_TEMPLATES needs a template for endorsement_due, expiry"),
        "{err}"
    );
}

#[test]
fn the_public_url_is_kept_without_its_trailing_slash_and_a_bad_one_is_refused_by_name() {
    let s = settings(&[("YUEJU_PUBLIC_URL", "https://yueju.gd.gov.cn/")]).unwrap();
    assert_eq!(s.public_url.as_deref(), Some("https://yueju.gd.gov.cn"));
    let s = settings(&[("YUEJU_PUBLIC_URL", "https://gd.gov.cn/yueju/")]).unwrap();
    assert_eq!(s.public_url.as_deref(), Some("https://gd.gov.cn/yueju"));
    assert_eq!(
        settings(&[("YUEJU_PUBLIC_URL", " ")]).unwrap().public_url,
        None
    );
    for bad in [
        "yueju.gd.gov.cn",
        "ftp://yueju.gd.gov.cn",
        "https://x.cn/?a=1",
        "https://",
    ] {
        let err = settings(&[("YUEJU_PUBLIC_URL", bad)]).expect_err(bad);
        assert!(err.contains("YUEJU_PUBLIC_URL"), "{bad}: {err}");
    }
}
