//! The official account's APIs: customer messages (the platform accepts them within 48
//! hours of the user's last message to the account) and a follower's unionid.

use serde_json::{Value, json};

use super::{Account, PlatformError, WechatClient};

/// The channel name chat links of the official account are stored under.
pub const CHANNEL: &str = "wechat";

/// errcodes of a customer message that another channel may get past: 45015 (the 48-hour
/// window closed), 45047 (too many messages in the window), 43004 (not following), 40003
/// (unknown openid), 48001 (API not authorised).
const REFUSED_FOR_THIS_USER: [i64; 5] = [45015, 45047, 43004, 40003, 48001];

/// How a customer message failed.
#[derive(Debug)]
pub enum CustomerFailure {
    /// The platform will not deliver to this user now; try another channel.
    Refused(PlatformError),
    /// The platform was slow, away or busy; try again later.
    Failed(PlatformError),
}

impl WechatClient {
    /// Sends a text customer message to the follower `openid`.
    pub async fn send_customer_text(
        &self,
        openid: &str,
        content: &str,
    ) -> Result<(), CustomerFailure> {
        let body = json!({"touser": openid, "msgtype": "text", "text": {"content": content}});
        match self
            .post_json(
                Account::OfficialAccount,
                "message/custom/send",
                "/cgi-bin/message/custom/send",
                &body,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.errcode()
                    .is_some_and(|c| REFUSED_FOR_THIS_USER.contains(&c)) =>
            {
                Err(CustomerFailure::Refused(e))
            }
            Err(e) => Err(CustomerFailure::Failed(e)),
        }
    }

    /// The unionid of a follower, when the official account is tied to an open platform.
    pub async fn follower_unionid(&self, openid: &str) -> Result<Option<String>, PlatformError> {
        let answer = self
            .get_json(
                Account::OfficialAccount,
                "user/info",
                "/cgi-bin/user/info",
                &[("openid", openid), ("lang", "zh_CN")],
            )
            .await?;
        Ok(answer
            .get("unionid")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .map(str::to_owned))
    }
}
