//! The conversation engine: a resident applies, asks about status and manages reminders by
//! chatting in Chinese. Built on `service`, so the bot files exactly what the mini-program
//! would.
//!
//! A tour: [`Bot::handle`] takes one message of one chat user: it loads the dialogue
//! ([`store`]), finds the login the chat user is linked to (`service::identity::chat_links`,
//! which owns linking: identity decides who a chat user acts as), routes the message
//! ([`dialogue::schema`], over the states in [`state`], reading input with [`parse`] and whole
//! sentences with [`understand`]) and
//! stores the next state. Everything the bot says is in [`text`]; refusals read as
//! [`service::wording`] words them, the same sentence the API answers. Channels: [`wechat`] (the
//! official account's message server: XML, signature, redelivery, customer messages), the
//! JSON endpoint (in `api`), and [`terminal`] (`cargo run -- chat`). The bot owns its tables
//! (dialogues, answered inbound messages): [`store::expire`] deletes dialogues left unused,
//! run by the daily retention job, and [`SEALED`] lists their sealed columns for key rotation.

pub mod dialogue;
pub mod parse;
pub mod state;
pub mod store;
pub mod terminal;
pub mod text;
pub mod understand;
pub mod wechat;

use service::Context;
use service::config::Settings;
use service::error::{Error, Result};
use service::identity::chat_links;
use service::keys::privacy::Kind;
use service::rights::rotation::{KeyType, SealedTable};

use crate::dialogue::{Step, Turn};
use crate::state::State;

pub use service::identity::chat_links::ChatUser;

/// The sealed columns of the bot's tables, re-sealed by `yueju rotate-keys` after those of
/// `service` (see `service::rights::rotation::rotate_with`). The bot declares them because
/// they are its tables; the re-sealing itself is the one resumable run `service` implements.
pub const SEALED: &[SealedTable] = &[SealedTable {
    table: "bot_dialogues",
    key: &[("channel", KeyType::Text), ("channel_user", KeyType::Text)],
    columns: &[("state_enc", Kind::Dialogue)],
}];

/// The engine with what it needs besides the [`Context`].
pub struct Bot {}

impl Bot {
    pub fn new(_settings: &Settings) -> anyhow::Result<Bot> {
        Ok(Bot {})
    }

    /// Handles one message and answers the replies, in order. Internal failures leave the
    /// state as it was and answer an apology; they are logged, never shown.
    pub async fn handle(&self, ctx: &Context, user: &ChatUser, input: &str) -> Result<Vec<String>> {
        for _attempt in 0..2 {
            let loaded = store::load(ctx, user).await?;
            if loaded.expired {
                // The message was meant for a step that has ended: a bare "1" could otherwise
                // pick a menu item the resident never saw. Say so, show the menu, act on nothing.
                let saved = store::save(ctx, user, &State::Idle, loaded.version).await?;
                tracing::info!(channel = %user.channel, saved, "bot dialogue timed out");
                if saved {
                    return Ok(vec![
                        text::dialogue_expired(ctx.settings.bot_dialogue_timeout_mins),
                        text::MENU.to_owned(),
                    ]);
                }
                continue;
            }
            let mut notes = Vec::new();
            let mut linked = chat_links::find(ctx, user).await?;
            if linked.is_some() && user.channel == service::identity::wechat::oa::CHANNEL {
                chat_links::touch(ctx, user).await?;
            }
            if linked.is_none()
                && let Some(unionid) = &user.unionid
            {
                linked = chat_links::link_by_unionid(ctx, user, unionid).await?;
                if linked.is_some() {
                    notes.push(text::LINKED_BY_UNIONID.to_owned());
                }
            }
            let turn = Turn {
                ctx,
                user,
                link: linked,
                dialogue: &loaded.row,
            };
            let step = match dialogue::schema(&turn, loaded.state.clone(), input).await {
                Ok(step) => step,
                Err(Error::Refused(r)) => Step {
                    state: State::Idle,
                    replies: vec![service::wording::refusal_message(&r).into_owned()],
                    acted: false,
                },
                Err(Error::Internal(e)) => {
                    tracing::error!(error = ?e, channel = %user.channel, state = loaded.state.name(), "bot step failed");
                    return Ok(vec![text::BUSY.to_owned()]);
                }
            };
            let mut replies = Vec::new();
            if loaded.reset {
                replies.push(text::STATE_RESET.to_owned());
            }
            replies.extend(notes);
            replies.extend(step.replies);
            if loaded.reset && step.state == State::Idle && !replies.iter().any(|r| r == text::MENU)
            {
                replies.push(text::MENU.to_owned());
            }
            let saved = store::save(ctx, user, &step.state, loaded.version).await?;
            tracing::info!(
                channel = %user.channel,
                from = loaded.state.name(),
                to = step.state.name(),
                saved,
                "bot turn"
            );
            // A concurrent message moved the dialogue on: a step without side effects is
            // routed again from the newer state; one with effects keeps its replies.
            if saved || step.acted {
                return Ok(replies);
            }
        }
        Ok(vec![text::BUSY.to_owned()])
    }
}
