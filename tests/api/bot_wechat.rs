//! The official account's message server: signature, replay window, redelivery, events,
//! hostile XML, and the follow-up through the customer-message API.

use bot::text;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::*;

async fn wechat_app() -> TestApp {
    spawn_app_with(&wechat_vars()).await
}

async fn wechat_app_with(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = wechat_vars();
    vars.extend_from_slice(extra);
    spawn_app_with(&vars).await
}

fn signed_check(ts: i64, token: &str, echostr: &str) -> String {
    let ts = ts.to_string();
    let signature = service::identity::wechat::signature::sign(token, &ts, "abc");
    format!("/api/v1/bot/wechat?signature={signature}&timestamp={ts}&nonce=abc&echostr={echostr}")
}

#[tokio::test]
async fn the_url_check_echoes_only_with_the_right_signature_and_a_fresh_timestamp() {
    let app = wechat_app().await;
    let ok = app
        .get(&signed_check(now(), WECHAT_TOKEN, "echo-123"), None)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.text, "echo-123");
    app.get(&signed_check(now(), "another-token", "e"), None)
        .await
        .assert_error(401, "SIGNATURE_INVALID");
    app.get("/api/v1/bot/wechat?timestamp=1&nonce=abc&echostr=e", None)
        .await
        .assert_error(401, "SIGNATURE_INVALID");
    app.get(&signed_check(now() - 3600, WECHAT_TOKEN, "e"), None)
        .await
        .assert_error(401, "TIMESTAMP_OUT_OF_WINDOW");

    // Without a token the message server is off.
    let off = spawn_app().await;
    assert_eq!(
        off.get(&signed_check(now(), WECHAT_TOKEN, "e"), None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_pushed_message_needs_the_signature_and_a_fresh_timestamp() {
    let app = wechat_app().await;
    let body = wechat_text("o-sig", 1, "你好");
    let unsigned = reply(
        app.client
            .post(app.url("/api/v1/bot/wechat"))
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    unsigned.assert_error(401, "SIGNATURE_INVALID");
    let wrong = reply(
        app.client
            .post(app.url(&format!(
                "/api/v1/bot/wechat?signature={}&timestamp={}&nonce=n0nce",
                "0".repeat(40),
                now()
            )))
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    wrong.assert_error(401, "SIGNATURE_INVALID");
    app.wechat_push(&body, now() - 600)
        .await
        .assert_error(401, "TIMESTAMP_OUT_OF_WINDOW");
    // Nothing was handled for the refused calls.
    let seen = entity::inbound_message::Entity::find()
        .count(&app.app.db)
        .await
        .unwrap();
    assert_eq!(seen, 0);

    let ok = app.wechat_push(&body, now()).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.text.starts_with("<xml>"), "{}", ok.text);
    assert!(
        ok.text.contains("<ToUserName>o-sig</ToUserName>"),
        "{}",
        ok.text
    );
    assert!(ok.text.contains("<FromUserName>gh_test</FromUserName>"));
    assert!(ok.text.contains(text::GREETING), "{}", ok.text);
}

#[tokio::test]
async fn a_confirmation_delivered_three_times_files_one_application_and_answers_the_same() {
    let app = wechat_app().await;
    let openid = "o-redeliver";
    let inputs = [
        "绑定 dev:demo-chen",
        "申请",
        "广州天河",
        "天河路385号501房",
        "2024年1月15日",
        "1",
    ];
    for (i, input) in inputs.iter().enumerate() {
        let r = app
            .wechat_push(&wechat_text(openid, 100 + i as u64, input), now())
            .await;
        assert_eq!(r.status, 200, "{input}: {}", r.text);
    }
    let confirm = wechat_text(openid, 999, "确认");
    let mut answers = Vec::new();
    for _ in 0..3 {
        let r = app.wechat_push(&confirm, now()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        answers.push(r.text);
    }
    assert!(answers[0].contains("居住证已当场签发"), "{}", answers[0]);
    // The same content each time (only CreateTime may differ).
    let content = |xml: &str| xml.split("<Content>").nth(1).unwrap_or("").to_owned();
    assert_eq!(content(&answers[0]), content(&answers[1]));
    assert_eq!(content(&answers[0]), content(&answers[2]));
    let applications = entity::application::Entity::find()
        .count(&app.app.db)
        .await
        .unwrap();
    assert_eq!(applications, 1);
}

#[tokio::test]
async fn subscribe_greets_and_unsubscribe_forgets_the_dialogue_and_the_link() {
    let app = wechat_app().await;
    let t = now();
    let hello = app
        .wechat_push(&wechat_event("o-sub", "subscribe", t), t)
        .await;
    assert_eq!(hello.status, 200);
    assert!(
        hello.text.contains(text::SUBSCRIBED) && hello.text.contains("1 申领居住证"),
        "{}",
        hello.text
    );
    // The same event redelivered gets the same answer, handled once.
    let again = app
        .wechat_push(&wechat_event("o-sub", "subscribe", t), t)
        .await;
    assert!(again.text.contains(text::SUBSCRIBED));

    app.wechat_push(&wechat_text("o-sub", 7, "绑定 dev:sub-user"), now())
        .await;
    app.wechat_push(&wechat_text("o-sub", 8, "2"), now()).await;
    let links = entity::chat_link::Entity::find()
        .count(&app.app.db)
        .await
        .unwrap();
    assert_eq!(links, 1);
    let bye = app
        .wechat_push(&wechat_event("o-sub", "unsubscribe", t + 1), t + 1)
        .await;
    assert_eq!(bye.status, 200);
    assert_eq!(bye.text, "success");
    assert_eq!(
        entity::chat_link::Entity::find()
            .count(&app.app.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        entity::bot_dialogue::Entity::find()
            .count(&app.app.db)
            .await
            .unwrap(),
        0
    );

    // Other message types get a polite pointer to text.
    let image = format!(
        "<xml><ToUserName>gh_test</ToUserName><FromUserName>o-sub</FromUserName><CreateTime>{}</CreateTime><MsgType>image</MsgType><PicUrl>http://x/y.jpg</PicUrl><MsgId>77</MsgId></xml>",
        now()
    );
    let r = app.wechat_push(&image, now()).await;
    assert!(r.text.contains(text::ONLY_TEXT), "{}", r.text);
}

#[tokio::test]
async fn oversized_malformed_and_doctype_xml_is_refused_without_handling() {
    let app = wechat_app().await;
    let big = wechat_text("o-big", 1, &"长".repeat(20_000));
    app.wechat_push(&big, now())
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    app.wechat_push("<xml><ToUserName>gh</ToUserName>", now())
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    app.wechat_push("{\"json\": true}", now())
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    let doctype = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><xml><ToUserName>gh</ToUserName><FromUserName>o-x</FromUserName><CreateTime>{}</CreateTime><MsgType>text</MsgType><Content>&lol2;</Content><MsgId>5</MsgId></xml>",
        now()
    );
    app.wechat_push(&doctype, now())
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    let missing_fields = "<xml><Content>hi</Content></xml>";
    app.wechat_push(missing_fields, now())
        .await
        .assert_error(400, "MESSAGE_MALFORMED");
    let seen = entity::inbound_message::Entity::find()
        .count(&app.app.db)
        .await
        .unwrap();
    assert_eq!(seen, 0);
}

async fn wait_for_customer_messages(app: &TestApp, n: usize) -> Vec<(String, String, String)> {
    for _ in 0..100 {
        let sent = app.platform.customer_messages();
        if sent.len() >= n {
            return sent;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.platform.customer_messages()
}

#[tokio::test]
async fn a_reply_slower_than_the_budget_answers_success_and_follows_up_as_a_customer_message() {
    let app = wechat_app_with(&[("YUEJU_WECHAT_REPLY_BUDGET_MS", "0")]).await;
    let first = app
        .wechat_push(&wechat_text("o-slow", 1, "你好"), now())
        .await;
    assert_eq!(first.text, "success");
    let second = app
        .wechat_push(&wechat_text("o-slow", 2, "帮助"), now())
        .await;
    assert_eq!(second.text, "success");
    let sent = wait_for_customer_messages(&app, 2).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent.iter().all(|(_, to, _)| to == "o-slow"));
    assert!(sent.iter().any(|(_, _, c)| c.contains(text::GREETING)));
    // The access token was fetched once, from stable_token, and cached.
    assert_eq!(app.platform.state().tokens.stable_calls, 1);
    assert_eq!(app.platform.state().tokens.legacy_calls, 0);
    // A redelivery of a message already followed up is not answered twice.
    let redelivered = app
        .wechat_push(&wechat_text("o-slow", 1, "你好"), now())
        .await;
    assert_eq!(redelivered.text, "success");
}

#[tokio::test]
async fn a_refused_access_token_is_refreshed_once_and_the_message_still_goes_out() {
    let app = wechat_app_with(&[("YUEJU_WECHAT_REPLY_BUDGET_MS", "0")]).await;
    // The first token is cancelled on the platform after it was handed out (as a force
    // refresh elsewhere would do): the message gets 40001, the token is fetched again once.
    app.wechat_push(&wechat_text("o-refresh", 1, "帮助"), now())
        .await;
    let first = wait_for_customer_messages(&app, 1).await;
    assert_eq!(first.len(), 1);
    let stale = first[0].0.clone();
    app.platform.state().tokens.cancel(&stale);
    app.platform.state().tokens.current.clear();
    app.wechat_push(&wechat_text("o-refresh", 2, "你好"), now())
        .await;
    let sent = wait_for_customer_messages(&app, 2).await;
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[1].0, stale);
    let tokens = &app.platform.state().tokens;
    assert_eq!(tokens.stable_calls, 2);
    assert_eq!(
        tokens.force_refresh_calls, 0,
        "never force_refresh on its own"
    );
}

#[tokio::test]
async fn a_follower_with_a_unionid_is_linked_to_the_mini_program_login_of_the_same_user() {
    let app = wechat_app().await;
    let chen = app.chen_with_permit().await;
    // demo-chen's logins carry the unionid `dev:demo-chen`.
    let openid = "with-union.dev:demo-chen";
    let r = app.wechat_push(&wechat_text(openid, 1, "3"), now()).await;
    assert!(r.text.contains(text::LINKED_BY_UNIONID), "{}", r.text);
    let permit_no = app.permit_no(&chen.access).await;
    assert!(r.text.contains(&permit_no), "{}", r.text);
    // Without a unionid nobody is linked.
    let other = app
        .wechat_push(&wechat_text("o-plain", 2, "3"), now())
        .await;
    assert!(other.text.contains("需要先确认您的身份"), "{}", other.text);
}
