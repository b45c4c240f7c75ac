//! The chat port of the notifier: the bot's channels (the official account's customer
//! messages) implement it, so the outbox worker can reach a holder in the chat they linked,
//! and fall back to e-mail when the platform refuses (unsubscribed, 48-hour window closed).

use async_trait::async_trait;

#[derive(Debug)]
pub enum ChatFailure {
    /// The platform will not deliver to this user now; try another channel.
    Refused(String),
    /// A transient failure (network, platform busy); retry later.
    Failed(anyhow::Error),
}

#[async_trait]
pub trait ChatChannel: Send + Sync {
    /// The channel name stored with chat links (e.g. `wechat`).
    fn channel(&self) -> &'static str;
    async fn send_text(&self, channel_user: &str, text: &str) -> Result<(), ChatFailure>;
}
