//! The conversation engine: a resident applies, asks about status and manages reminders by
//! chatting in Chinese. Built on `service`, so the bot files exactly what the mini-program
//! would.
//!
//! A tour: [`Bot::handle`] takes one message of one chat user: it loads the dialogue
//! ([`store`]), finds the login the chat user is linked to ([`link`]), routes the message
//! ([`dialogue::schema`], over the states in [`state`], reading input with [`parse`]) and
//! stores the next state. Everything the bot says is in [`text`]; refusals read as
//! [`service::wording`] words them, the same sentence the API answers. Channels: [`wechat`] (the
//! official account's message server: XML, signature, redelivery, customer messages), the
//! JSON endpoint (in `api`), and [`terminal`] (`cargo run -- chat`).

pub mod dialogue;
pub mod link;
pub mod parse;
pub mod state;
pub mod store;
pub mod terminal;
pub mod text;
pub mod wechat;

use service::Context;
use service::config::Settings;
use service::error::{Error, Result};

use crate::dialogue::{Step, Turn};
use crate::state::State;

/// One chat user on one channel (`wechat`, `web`, `terminal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatUser {
    pub channel: String,
    pub id: String,
    /// The platform's unionid, when the channel knows it: links the chat user to a login
    /// of the same WeChat user.
    pub unionid: Option<String>,
}

impl ChatUser {
    pub fn new(channel: &str, id: &str) -> ChatUser {
        ChatUser {
            channel: channel.to_owned(),
            id: id.to_owned(),
            unionid: None,
        }
    }
}

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
            let mut linked = link::find(ctx, user).await?;
            if linked.is_some() && user.channel == service::identity::wechat::oa::CHANNEL {
                link::touch(ctx, user).await?;
            }
            if linked.is_none()
                && let Some(unionid) = &user.unionid
            {
                linked = link::link_by_unionid(ctx, user, unionid).await?;
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
