//! Dialogue storage keyed by channel and chat user: the state is sealed JSON with a version.
//! Every message loads the row (creating it idle when absent) and writes it back only if the
//! version is still the one it read, so a slower concurrent message cannot overwrite a newer
//! state. A state that no longer opens or deserialises is reported so the caller can reset,
//! and so is an unfinished dialogue left alone longer than `YUEJU_BOT_DIALOGUE_TIMEOUT_MINUTES`.
//! Dialogues unused for longer than that are deleted by [`expire`], run by the daily job.

use chrono::{DateTime, Duration, Utc};
use entity::bot_dialogue;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter};
use service::Context;
use service::error::Result;
use service::identity::chat_links;
use service::keys::privacy::Kind;

use crate::ChatUser;
use crate::state::State;

pub struct Loaded {
    pub state: State,
    pub version: i32,
    /// The stored state could not be read back and was replaced by [`State::Idle`].
    pub reset: bool,
    /// An unfinished dialogue was left alone too long and was replaced by [`State::Idle`].
    pub expired: bool,
    pub row: bot_dialogue::Model,
}

fn seal(ctx: &Context, state: &State) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(state).map_err(anyhow::Error::from)?;
    Ok(ctx.vault.seal(Kind::Dialogue, &json)?)
}

/// The state stored for this chat user, idle when there is none yet.
pub async fn load(ctx: &Context, user: &ChatUser) -> Result<Loaded> {
    let now = ctx.clock.now();
    bot_dialogue::Entity::insert(bot_dialogue::ActiveModel {
        channel: Set(user.channel.clone()),
        channel_user: Set(user.id.clone()),
        state_enc: Set(seal(ctx, &State::Idle)?),
        version: Set(0),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            bot_dialogue::Column::Channel,
            bot_dialogue::Column::ChannelUser,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&ctx.db)
    .await?;
    let row = bot_dialogue::Entity::find_by_id((user.channel.clone(), user.id.clone()))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("dialogue row vanished after upsert"))?;
    let opened = ctx
        .vault
        .open(Kind::Dialogue, &row.state_enc)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<State>(&bytes).ok());
    let (state, reset) = match opened {
        Some(state) => (state, false),
        None => {
            tracing::warn!(
                channel = %user.channel,
                version = row.version,
                "stored dialogue state unreadable; resetting"
            );
            (State::Idle, true)
        }
    };
    let expired = state != State::Idle && timed_out(ctx, &row, now);
    Ok(Loaded {
        state: if expired { State::Idle } else { state },
        version: row.version,
        reset,
        expired,
        row,
    })
}

/// Whether the dialogue was last moved on longer ago than the configured timeout.
fn timed_out(ctx: &Context, row: &bot_dialogue::Model, now: DateTime<Utc>) -> bool {
    let minutes = ctx.settings.bot_dialogue_timeout_mins;
    minutes > 0 && now - row.updated_at > Duration::minutes(i64::from(minutes))
}

/// Writes the state if the stored version is still `expected`; false when another message
/// moved it on meanwhile.
pub async fn save(ctx: &Context, user: &ChatUser, state: &State, expected: i32) -> Result<bool> {
    let updated = bot_dialogue::Entity::update_many()
        .col_expr(
            bot_dialogue::Column::StateEnc,
            Expr::value(seal(ctx, state)?),
        )
        .col_expr(bot_dialogue::Column::Version, Expr::value(expected + 1))
        .col_expr(
            bot_dialogue::Column::UpdatedAt,
            Expr::value(ctx.clock.now()),
        )
        .filter(bot_dialogue::Column::Channel.eq(&user.channel))
        .filter(bot_dialogue::Column::ChannelUser.eq(&user.id))
        .filter(bot_dialogue::Column::Version.eq(expected))
        .exec(&ctx.db)
        .await?
        .rows_affected;
    Ok(updated == 1)
}

/// Forgets the dialogue of a chat user (unsubscribed).
pub async fn forget(ctx: &Context, user: &ChatUser) -> Result<()> {
    bot_dialogue::Entity::delete_many()
        .filter(bot_dialogue::Column::Channel.eq(&user.channel))
        .filter(bot_dialogue::Column::ChannelUser.eq(&user.id))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

/// Deletes the dialogues nobody has written to for the bot's timeout, in one statement (the
/// rows are small and each is deleted whole; a chat user who writes again starts idle, as
/// after a timeout). A chat user counting wrong binding codes keeps theirs until that count is
/// forgotten, so the dialogue and the lock-out it explains go together. Answers the count.
pub async fn expire(ctx: &Context) -> Result<u64> {
    let minutes = ctx.settings.bot_dialogue_timeout_mins;
    if minutes == 0 {
        return Ok(0);
    }
    let unused_since = ctx.clock.now() - Duration::minutes(i64::from(minutes));
    let guessing = chat_links::users_counting_code_failures(ctx).await?;
    let spared = guessing
        .iter()
        .fold(Condition::all(), |kept, (channel, id)| {
            kept.add(
                Condition::any()
                    .add(bot_dialogue::Column::Channel.ne(channel.as_str()))
                    .add(bot_dialogue::Column::ChannelUser.ne(id.as_str())),
            )
        });
    let deleted = bot_dialogue::Entity::delete_many()
        .filter(bot_dialogue::Column::UpdatedAt.lt(unused_since))
        .filter(spared)
        .exec(&ctx.db)
        .await?
        .rows_affected;
    if deleted > 0 {
        tracing::info!(deleted, "unused bot dialogues deleted");
    }
    Ok(deleted)
}
