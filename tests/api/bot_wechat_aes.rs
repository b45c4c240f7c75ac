//! The official account's message server in 安全模式: encrypted pushes, replies encrypted
//! under the key that opened them (the previous EncodingAESKey keeps working during a
//! change), refusals, the URL check, redelivery; and the settings behind it.

use bot::text;
use sea_orm::{EntityTrait, PaginatorTrait};
use secrecy::ExposeSecret as _;
use service::config::Settings;
use service::identity::wechat::crypto::{self, AesKey};
use service::identity::wechat::message_server::MessageServer;
use service::identity::wechat::signature::{sign, sign_message};
use service::identity::wechat::{Account, MiniApp};
use std::collections::HashMap;

use crate::helpers::*;

/// The platform's published sample key (its last character leaves non-zero trailing bits).
const CURRENT_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const PREVIOUS_KEY: &str = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut";
const UNKNOWN_KEY: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
const NONCE: &str = "1320562132";

fn key(encoding_key: &str) -> AesKey {
    AesKey::from_encoding_key(encoding_key).unwrap()
}

async fn aes_app() -> TestApp {
    let keys = format!("{CURRENT_KEY},{PREVIOUS_KEY}");
    spawn_app_with(&[
        ("YUEJU_WECHAT_TOKEN", WECHAT_TOKEN),
        ("YUEJU_WECHAT_AES_KEYS", &keys),
    ])
    .await
}

/// `inner` encrypted as the platform does, for `appid` under `encoding_key`.
fn seal(inner: &str, encoding_key: &str, appid: &str) -> String {
    crypto::encrypt(&key(encoding_key), inner.as_bytes(), appid).unwrap()
}

/// Pushes an `Encrypt` text in the 安全模式 envelope, with `msg_signature` (computed over
/// it when `None`) and the plain `signature` the platform sends beside it.
async fn push_encrypted(app: &TestApp, encrypt: &str, msg_signature: Option<&str>) -> Reply {
    let ts = now().to_string();
    let msg_signature = msg_signature
        .map(str::to_owned)
        .unwrap_or_else(|| sign_message(WECHAT_TOKEN, &ts, NONCE, encrypt));
    let signature = sign(WECHAT_TOKEN, &ts, NONCE);
    let body = format!(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    );
    let r = app
        .client
        .post(app.url(&format!(
            "/api/v1/bot/wechat?signature={signature}&timestamp={ts}&nonce={NONCE}&openid=o-aes&encrypt_type=aes&msg_signature={msg_signature}"
        )))
        .header("content-type", "text/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    reply(r).await
}

/// The encrypted passive reply, checked as the platform checks it (its `MsgSignature`, the
/// trailing appid), opened with `encoding_key` alone.
fn open_reply(r: &Reply, encoding_key: &str) -> String {
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        !r.text.contains("<ToUserName>"),
        "the reply must not go back in clear: {}",
        r.text
    );
    let fields = service::identity::wechat::xml::fields(r.text.as_bytes(), 1 << 20).unwrap();
    let encrypt = &fields["Encrypt"];
    assert_eq!(
        fields["MsgSignature"],
        sign_message(
            WECHAT_TOKEN,
            &fields["TimeStamp"],
            &fields["Nonce"],
            encrypt
        )
    );
    let stamp: i64 = fields["TimeStamp"].parse().unwrap();
    assert!((now() - stamp).abs() < 60);
    let (_, inner) = crypto::open(&[key(encoding_key)], encrypt, OA_APPID)
        .unwrap_or_else(|e| panic!("the reply does not open with that key: {e}"));
    String::from_utf8(inner).unwrap()
}

fn encrypt_of(r: &Reply) -> String {
    service::identity::wechat::xml::fields(r.text.as_bytes(), 1 << 20).unwrap()["Encrypt"].clone()
}

async fn handled(app: &TestApp) -> u64 {
    entity::inbound_message::Entity::find()
        .count(&app.app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_encrypted_message_gets_an_encrypted_reply_under_the_key_that_opened_it() {
    let app = aes_app().await;
    let sealed = seal(&wechat_text("o-aes", 1, "你好"), CURRENT_KEY, OA_APPID);
    let r = push_encrypted(&app, &sealed, None).await;
    let inner = open_reply(&r, CURRENT_KEY);
    assert!(inner.contains("<ToUserName>o-aes</ToUserName>"), "{inner}");
    assert!(inner.contains("<FromUserName>gh_test</FromUserName>"));
    assert!(inner.contains(text::GREETING), "{inner}");
    assert!(crypto::open(&[key(PREVIOUS_KEY)], &encrypt_of(&r), OA_APPID).is_err());

    // During a key change the platform may still seal with the previous key: the reply goes
    // back under that key, which is the one the platform holds for the message.
    let sealed = seal(&wechat_text("o-aes", 2, "帮助"), PREVIOUS_KEY, OA_APPID);
    let r = push_encrypted(&app, &sealed, None).await;
    let inner = open_reply(&r, PREVIOUS_KEY);
    assert!(inner.contains("<ToUserName>o-aes</ToUserName>"), "{inner}");
    assert!(crypto::open(&[key(CURRENT_KEY)], &encrypt_of(&r), OA_APPID).is_err());
    assert_eq!(handled(&app).await, 2);
}

#[tokio::test]
async fn a_wrong_msg_signature_is_refused_without_handling() {
    let app = aes_app().await;
    let sealed = seal(&wechat_text("o-aes", 1, "你好"), CURRENT_KEY, OA_APPID);
    push_encrypted(&app, &sealed, Some(&"0".repeat(40)))
        .await
        .assert_error(401, "SIGNATURE_INVALID");
    // A signature over another ciphertext does not carry over.
    let other = seal(&wechat_text("o-aes", 2, "你好"), CURRENT_KEY, OA_APPID);
    let ts = now().to_string();
    push_encrypted(
        &app,
        &sealed,
        Some(&sign_message(WECHAT_TOKEN, &ts, NONCE, &other)),
    )
    .await
    .assert_error(401, "SIGNATURE_INVALID");
    assert_eq!(handled(&app).await, 0);
}

#[tokio::test]
async fn a_message_for_another_appid_or_under_an_unknown_key_is_refused_as_malformed() {
    let app = aes_app().await;
    let inner = wechat_text("o-aes", 1, "你好");
    push_encrypted(&app, &seal(&inner, CURRENT_KEY, "wx-someone-else"), None)
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    push_encrypted(&app, &seal(&inner, UNKNOWN_KEY, OA_APPID), None)
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    push_encrypted(&app, "bm90IGNpcGhlcnRleHQ=", None)
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    push_encrypted(&app, "%%% not base64 %%%", None)
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    // The decrypted message goes through the same hardened reader as a plain one.
    let doctype = "<!DOCTYPE xml [<!ENTITY e \"x\">]><xml><Content>&e;</Content></xml>";
    push_encrypted(&app, &seal(doctype, CURRENT_KEY, OA_APPID), None)
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    assert_eq!(handled(&app).await, 0);
}

#[tokio::test]
async fn a_plain_push_is_refused_when_keys_are_set_but_the_url_check_stays_plain() {
    let app = aes_app().await;
    app.wechat_push(&wechat_text("o-plain", 1, "你好"), now())
        .await
        .assert_error(401, "SIGNATURE_INVALID");
    assert_eq!(handled(&app).await, 0);

    let ts = now().to_string();
    let echostr = "7162345671234567+/=";
    let r = app
        .client
        .get(app.url("/api/v1/bot/wechat"))
        .query(&[
            ("signature", sign(WECHAT_TOKEN, &ts, NONCE).as_str()),
            ("timestamp", ts.as_str()),
            ("nonce", NONCE),
            ("echostr", echostr),
        ])
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, echostr);
    app.get(
        &format!(
            "/api/v1/bot/wechat?signature={}&timestamp={ts}&nonce={NONCE}&echostr=e",
            sign("another-token", &ts, NONCE)
        ),
        None,
    )
    .await
    .assert_error(401, "SIGNATURE_INVALID");
}

#[tokio::test]
async fn a_redelivered_encrypted_message_is_handled_once_and_answered_alike() {
    let app = aes_app().await;
    let inner = wechat_text("o-again", 42, "帮助");
    let mut contents = Vec::new();
    for _ in 0..3 {
        // Each delivery is sealed afresh (new random bytes), the MsgId inside is the same.
        let r = push_encrypted(&app, &seal(&inner, CURRENT_KEY, OA_APPID), None).await;
        let reply = open_reply(&r, CURRENT_KEY);
        contents.push(reply.split("<Content>").nth(1).unwrap_or("").to_owned());
    }
    assert!(!contents[0].is_empty());
    assert_eq!(contents[0], contents[1]);
    assert_eq!(contents[0], contents[2]);
    assert_eq!(handled(&app).await, 1);
}

#[tokio::test]
async fn an_encrypted_event_without_a_reply_is_answered_success_in_clear() {
    let app = aes_app().await;
    let t = now();
    let r = push_encrypted(
        &app,
        &seal(&wechat_event("o-ev", "subscribe", t), CURRENT_KEY, OA_APPID),
        None,
    )
    .await;
    assert!(open_reply(&r, CURRENT_KEY).contains(text::SUBSCRIBED));
    let r = push_encrypted(
        &app,
        &seal(
            &wechat_event("o-ev", "unsubscribe", t + 1),
            CURRENT_KEY,
            OA_APPID,
        ),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "success");
}

#[tokio::test]
async fn without_keys_a_compatible_mode_push_is_read_in_clear_as_before() {
    let app = spawn_app_with(&wechat_vars()).await;
    // 兼容模式: the message in clear and encrypted, marked encrypt_type=aes.
    let clear = wechat_text("o-compat", 1, "你好");
    let sealed = seal(&clear, CURRENT_KEY, OA_APPID);
    let body = clear.replace(
        "</xml>",
        &format!("<Encrypt><![CDATA[{sealed}]]></Encrypt></xml>"),
    );
    let ts = now().to_string();
    let r = app
        .client
        .post(app.url(&format!(
            "/api/v1/bot/wechat?signature={}&timestamp={ts}&nonce={NONCE}&encrypt_type=aes&msg_signature={}",
            sign(WECHAT_TOKEN, &ts, NONCE),
            sign_message(WECHAT_TOKEN, &ts, NONCE, &sealed)
        )))
        .body(body)
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("<ToUserName>o-compat</ToUserName>"),
        "{}",
        r.text
    );
    assert!(r.text.contains(text::GREETING));
}

fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_lookup(|k| map.get(k).cloned()).map_err(|e| format!("{e:#}"))
}

fn server(s: &Settings, account: Account) -> Option<MessageServer> {
    s.message_server(account).cloned()
}

#[test]
fn aes_keys_are_checked_at_start_and_never_echoed() {
    let short = format!("{CURRENT_KEY},{}", &PREVIOUS_KEY[..40]);
    let err = settings(&[
        ("YUEJU_WECHAT_TOKEN", "t"),
        ("YUEJU_WECHAT_OA_APPID", "wx-oa"),
        ("YUEJU_WECHAT_AES_KEYS", &short),
    ])
    .unwrap_err();
    assert!(err.contains("YUEJU_WECHAT_AES_KEYS: key 2"), "{err}");
    assert!(err.contains("43 characters"), "{err}");
    assert!(!err.contains(&PREVIOUS_KEY[..40]), "{err}");
    let bad = format!("{}-", &CURRENT_KEY[..42]);
    let err = settings(&[("YUEJU_WECHAT_AES_KEYS", &bad)]).unwrap_err();
    assert!(err.contains("A-Z, a-z, 0-9, + and /"), "{err}");
    // Encrypted messages end with the official account's appid, so it must be known.
    let err = settings(&[
        ("YUEJU_WECHAT_TOKEN", "t"),
        ("YUEJU_WECHAT_AES_KEYS", CURRENT_KEY),
    ])
    .unwrap_err();
    assert!(err.contains("YUEJU_WECHAT_OA_APPID"), "{err}");
}

#[test]
fn each_message_server_takes_its_own_token_and_keys_or_the_official_accounts() {
    let keys = format!("{CURRENT_KEY}, {PREVIOUS_KEY}");
    let s = settings(&[
        ("YUEJU_WECHAT_TOKEN", "shared"),
        ("YUEJU_WECHAT_AES_KEYS", &keys),
        ("YUEJU_WECHAT_OA_APPID", "wx-oa"),
        ("YUEJU_YSS_APPID", "wx-yss"),
        ("YUEJU_YJM_APPID", "wx-yjm"),
        ("YUEJU_YJM_PUSH_TOKEN", "own"),
        ("YUEJU_YJM_AES_KEYS", UNKNOWN_KEY),
    ])
    .unwrap();
    let oa = server(&s, Account::OfficialAccount).unwrap();
    assert_eq!(
        (oa.token.expose_secret(), oa.appid.as_str()),
        ("shared", "wx-oa")
    );
    assert_eq!(oa.keys, vec![key(CURRENT_KEY), key(PREVIOUS_KEY)]);
    let yss = server(&s, Account::Mini(MiniApp::Yss)).unwrap();
    assert_eq!(
        (yss.token.expose_secret(), yss.appid.as_str()),
        ("shared", "wx-yss")
    );
    assert_eq!(yss.keys, oa.keys);
    let yjm = server(&s, Account::Mini(MiniApp::Yjm)).unwrap();
    assert_eq!(
        (yjm.token.expose_secret(), yjm.appid.as_str()),
        ("own", "wx-yjm")
    );
    assert_eq!(yjm.keys, vec![key(UNKNOWN_KEY)]);

    // `none`: one mini-program in plain mode while the others encrypt.
    let s = settings(&[
        ("YUEJU_WECHAT_TOKEN", "shared"),
        ("YUEJU_WECHAT_AES_KEYS", CURRENT_KEY),
        ("YUEJU_WECHAT_OA_APPID", "wx-oa"),
        ("YUEJU_YSS_APPID", "wx-yss"),
        ("YUEJU_YSS_AES_KEYS", "none"),
    ])
    .unwrap();
    assert!(
        server(&s, Account::Mini(MiniApp::Yss))
            .unwrap()
            .keys
            .is_empty()
    );
    // A mini-program without an appid has no push endpoint.
    assert!(server(&s, Account::Mini(MiniApp::Yjm)).is_none());

    // No token at all: every message server is off; without keys, plain mode.
    let s = settings(&[("YUEJU_YSS_APPID", "wx-yss")]).unwrap();
    assert!(server(&s, Account::OfficialAccount).is_none());
    assert!(server(&s, Account::Mini(MiniApp::Yss)).is_none());
    let s = settings(&[("YUEJU_WECHAT_TOKEN", "t")]).unwrap();
    assert!(
        server(&s, Account::OfficialAccount)
            .unwrap()
            .keys
            .is_empty()
    );
    let err = settings(&[("YUEJU_YJM_PUSH_TOKEN", "t")]).unwrap_err();
    assert!(err.contains("YUEJU_YJM_APPID"), "{err}");
}
