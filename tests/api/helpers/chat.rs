//! The bot's chat side and the WeChat message server.

use serde_json::json;

use super::*;

/// Settings that switch the message server on.
pub fn wechat_vars() -> Vec<(&'static str, &'static str)> {
    vec![("YUEJU_WECHAT_TOKEN", WECHAT_TOKEN)]
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A text message from `openid` as the platform pushes it.
pub fn wechat_text(openid: &str, msg_id: u64, content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>",
        now()
    )
}

/// An event (`subscribe`, `unsubscribe`) from `openid` at `time`.
pub fn wechat_event(openid: &str, event: &str, time: i64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{time}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>"
    )
}

impl TestApp {
    pub fn chat(&self) -> Chat {
        Chat {
            bot: bot::Bot::new(&self.app.settings).expect("bot"),
        }
    }

    /// One message of `user` through the routing function; the replies.
    pub async fn say(&self, chat: &Chat, user: &str, text: &str) -> Vec<String> {
        chat.bot
            .handle(&self.app, &bot::ChatUser::new("test", user), text)
            .await
            .expect("bot turn")
    }

    /// The stored state of `user`, by name.
    pub async fn state_of(&self, user: &str) -> bot::state::State {
        bot::store::load(&self.app, &bot::ChatUser::new("test", user))
            .await
            .expect("load state")
            .state
    }

    /// Moves the last change of `user`'s dialogue `minutes` into the past (and counts that many
    /// wrong binding codes for the chat user), as if the chat user had gone quiet (tests only).
    pub async fn age_dialogue(&self, user: &str, minutes: i64, code_failures: i32) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        use service::identity::{chat_links, lockout};
        let key = chat_links::code_failure_key(&bot::ChatUser::new("test", user));
        for _ in 0..code_failures {
            lockout::record_failure(
                &self.app.db,
                std::slice::from_ref(&key),
                chat_links::CODE_LOCK_SECS,
                self.app.clock.now(),
            )
            .await
            .unwrap();
        }
        let updated = entity::bot_dialogue::Entity::update_many()
            .col_expr(
                entity::bot_dialogue::Column::UpdatedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::minutes(minutes)),
            )
            .filter(entity::bot_dialogue::Column::Channel.eq("test"))
            .filter(entity::bot_dialogue::Column::ChannelUser.eq(user))
            .exec(&self.app.db)
            .await
            .unwrap();
        assert_eq!(updated.rows_affected, 1);
    }

    /// One message through `POST /api/v1/bot/messages`.
    pub async fn message(&self, user: &str, text: &str) -> Reply {
        self.post(
            "/api/v1/bot/messages",
            &json!({"user": user, "text": text}),
            None,
        )
        .await
    }

    /// A binding code from the mini-program for this resident.
    pub async fn binding_code(&self, token: &str) -> String {
        let r = self
            .post("/api/v1/me/bot-binding-code", &json!({}), Some(token))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["code"].as_str().expect("code").to_owned()
    }

    /// Pushes XML to the message server, signed with the test token at `timestamp`.
    pub async fn wechat_push(&self, body: &str, timestamp: i64) -> Reply {
        let ts = timestamp.to_string();
        let nonce = "n0nce";
        let signature = service::identity::wechat::signature::sign(WECHAT_TOKEN, &ts, nonce);
        let r = self
            .client
            .post(self.url(&format!(
                "/api/v1/bot/wechat?signature={signature}&timestamp={ts}&nonce={nonce}"
            )))
            .header("content-type", "text/xml")
            .body(body.to_owned())
            .send()
            .await
            .expect("request");
        reply(r).await
    }
}
