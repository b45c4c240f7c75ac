//! The four parts of going live on the platform, together, in prod mode against the fake
//! platform: a resident logs in through `jscode2session`, binds by face, applies, accepts a
//! reminder in the mini-program (its push arriving in 安全模式), is reminded months later by
//! subscribe message, and chats with the official account in 安全模式, where the bot knows
//! them by unionid and never binds an identity itself.

use serde_json::json;
use service::identity::wechat::crypto::{self, AesKey};
use service::identity::wechat::signature::{sign, sign_message};

use crate::fake_platform::subscribe::Grant;
use crate::helpers::*;

const AES: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const OPENID: &str = "o-zhang-yss";
const UNIONID: &str = "u-zhang";

fn key() -> AesKey {
    AesKey::from_encoding_key(AES).unwrap()
}

/// Pushes `inner` sealed for `appid` to a message server in 安全模式; the answer's body.
async fn push_sealed(app: &TestApp, path: &str, inner: &str, appid: &str) -> Reply {
    let encrypt = crypto::encrypt(&key(), inner.as_bytes(), appid).unwrap();
    let (ts, nonce) = (now().to_string(), "n-prod");
    let msg_signature = sign_message(WECHAT_TOKEN, &ts, nonce, &encrypt);
    let signature = sign(WECHAT_TOKEN, &ts, nonce);
    let r = app
        .client
        .post(app.url(&format!(
            "{path}?signature={signature}&timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature={msg_signature}"
        )))
        .header("content-type", "text/xml")
        .body(format!(
            "<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        ))
        .send()
        .await
        .unwrap();
    reply(r).await
}

/// The content of an encrypted passive reply, after checking its signature.
fn open_reply(r: &Reply) -> String {
    assert_eq!(r.status, 200, "{}", r.text);
    let fields = service::identity::wechat::xml::fields(r.text.as_bytes(), 1 << 20).unwrap();
    assert_eq!(
        fields["MsgSignature"],
        sign_message(
            WECHAT_TOKEN,
            &fields["TimeStamp"],
            &fields["Nonce"],
            &fields["Encrypt"]
        )
    );
    let (_, inner) = crypto::open(&[key()], &fields["Encrypt"], OA_APPID).unwrap();
    let inner = service::identity::wechat::xml::fields(&inner, 1 << 20).unwrap();
    inner["Content"].clone()
}

#[tokio::test]
async fn in_prod_a_resident_binds_by_face_subscribes_is_reminded_and_chats_in_safe_mode() {
    let app = spawn_prod_app_with(&[
        ("YUEJU_WECHAT_TOKEN", WECHAT_TOKEN),
        ("YUEJU_WECHAT_AES_KEYS", AES),
    ])
    .await;
    let admin = app.admin_token().await;
    let records = json!({
        "residence_registrations": [{"id_number": ZHANG_ID, "city": "广州市", "district": "番禺区",
                                     "address": "外环西路230号", "since": "2023-09-01"}],
        "schooling": [{"id_number": ZHANG_ID, "school": "广州大学", "city": "广州市", "since": "2023-09-01"}],
    });
    let r = app
        .post("/api/v1/staff/gov-records", &records, Some(&admin))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Login through the platform, then the face check: knowing the name and number is not
    // enough in prod.
    let login = app.login("yss", &format!("union:{OPENID}:{UNIONID}")).await;
    assert_eq!(login.status, 200, "{}", login.text);
    let token = login.body["access_token"].as_str().unwrap().to_owned();
    app.bind(&token, ZHANG_NAME, ZHANG_ID)
        .await
        .assert_error(403, "FACE_VERIFICATION_REQUIRED");
    let started = app
        .post(
            "/api/v1/me/identity/face-verification",
            &json!({"name": ZHANG_NAME, "id_number": ZHANG_ID}),
            Some(&token),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let bound = app
        .post(
            "/api/v1/me/identity",
            &json!({"name": ZHANG_NAME, "id_number": ZHANG_ID,
                    "verify_id": started.body["verify_id"]}),
            Some(&token),
        )
        .await;
    assert_eq!(bound.status, 200, "{}", bound.text);
    assert_eq!(bound.body["assurance"], "wx_face");

    let applied = app
        .apply(
            &token,
            &json!({"city": "广州市", "district": "番禺区", "address": "外环西路230号",
                    "residence_since": "2023-09-01", "basis": "study"}),
            None,
        )
        .await;
    assert_eq!(applied.status, 201, "{}", applied.text);
    assert_eq!(applied.body["status"], "issued", "{}", applied.text);
    let permit_no = app.permit_no(&token).await;

    // The code verifies for anyone from the lists in memory, and its list is served signed
    // with the prod keys.
    let code = app.code(&token).await;
    let verdict = app.verify(&code, None).await;
    assert_eq!(verdict.body["valid"], true, "{}", verdict.text);
    assert_eq!(verdict.body["permit"]["permit_no"], permit_no.as_str());
    let list_uri = verdict.body["status_list"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys: Vec<service::keys::signing::PublishedKey> =
        serde_json::from_value(app.get("/api/v1/keys", None).await.body["keys"].clone()).unwrap();
    let list = app.get(&list_uri, None).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(service::verify::status_list::verify(&list.text, &keys, chrono::Utc::now()).is_ok());

    // The mini-program's subscribe popup, reported by the platform's push in 安全模式.
    let popup = format!(
        "<xml><ToUserName><![CDATA[gh_yss]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent><List><TemplateId><![CDATA[{TPL_ENDORSEMENT}]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent></xml>",
        now()
    );
    let r = push_sealed(&app, "/api/v1/wechat/miniprogram/yss", &popup, YSS_APPID).await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.platform
        .grant_subscription(OPENID, TPL_ENDORSEMENT, Grant::Credits(1));
    let subs = app.get("/api/v1/me/subscriptions", Some(&token)).await;
    let item = subs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["template_id"] == TPL_ENDORSEMENT)
        .cloned()
        .unwrap_or_default();
    assert_eq!(item["credits"], 1, "{}", subs.text);

    // Months later the endorsement window opens: the reminder goes by subscribe message.
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    let run = app
        .post(
            "/api/v1/staff/reminders/run",
            &json!({"deliver": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(run.body["sent"], 1, "{}", run.text);
    let sent = app.platform.subscribe_messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["touser"], OPENID);
    assert_eq!(sent[0]["template_id"], TPL_ENDORSEMENT);

    // The official account in 安全模式: the follower with the same unionid is known at once,
    // and the encrypted reply shows the permit.
    let text = |from: &str, id: u64, content: &str| {
        format!(
            "<xml><ToUserName><![CDATA[gh_oa]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{id}</MsgId></xml>",
            now()
        )
    };
    let r = push_sealed(
        &app,
        "/api/v1/bot/wechat",
        &text(&format!("with-union.{UNIONID}"), 1, "3"),
        OA_APPID,
    )
    .await;
    let answer = open_reply(&r);
    assert!(answer.contains(&permit_no), "{answer}");
    // A stranger's chat is sent to the mini-program to link (where binding needs a face),
    // and sees nothing of Zhang's.
    let r = push_sealed(
        &app,
        "/api/v1/bot/wechat",
        &text("o-stranger", 10, "申请"),
        OA_APPID,
    )
    .await;
    let answer = open_reply(&r);
    assert!(answer.contains("粤省事"), "{answer}");
    assert!(!answer.contains(&permit_no));
}
