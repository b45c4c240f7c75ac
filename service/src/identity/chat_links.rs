//! Chat links: a chat user (a follower of the official account, a user of the web chat) linked
//! to a resident's login, so the bot acts with that login's rights and nobody else's. Three
//! ways to link: the platform's `unionid` (the same WeChat user behind the chat and the
//! mini-program), a one-time binding code shown in the logged-in mini-program, or in dev mode
//! `dev:<openid>`, which does exactly what the dev login code does. A name and an ID number
//! alone never link anyone.
//!
//! Wrong binding codes are counted per chat user by [`lockout`] (scope
//! [`lockout::BINDING_CODE`]), so the limit holds across instances and outlives the dialogue.
//! A link also records when its chat user last wrote: customer messages reach them for 48
//! hours after. The person's links are part of their data export and go when the account is
//! closed ([`links_of`], [`delete_for_accounts`]).

use chrono::{DateTime, Duration, Utc};
use entity::{account, chat_binding_code, chat_link};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use crate::Context;
use crate::error::{Error, Refusal, Result};
use crate::identity::lockout;
use crate::identity::sessions::{self, OneTime, ResidentPrincipal, spend_once};
use crate::identity::wechat::MiniApp;
use crate::keys::privacy::Kind;

/// Digits in a binding code: 10^8 codes, a few live at a time, five tries per chat user
/// per quarter hour.
pub const CODE_LEN: usize = 8;
pub const CODE_TTL_MINUTES: i64 = 10;
pub const MAX_CODE_FAILURES: u32 = 5;
pub const CODE_LOCK_MINUTES: i64 = 15;
/// The same lock-out in seconds, as [`lockout`] counts it.
pub const CODE_LOCK_SECS: u32 = (CODE_LOCK_MINUTES * 60) as u32;

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

/// A chat user's link: the login it acts as and the person that login is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linked {
    pub link_id: Uuid,
    pub account_id: Uuid,
    pub person_id: Option<Uuid>,
}

impl Linked {
    /// The resident principal the bot acts as. The link stands in for the session: a link
    /// is removed (unlinked, account closed) exactly when its rights end.
    pub fn principal(&self) -> ResidentPrincipal {
        ResidentPrincipal {
            account_id: self.account_id,
            session_id: self.link_id,
            person_id: self.person_id,
        }
    }
}

pub async fn find(ctx: &Context, user: &ChatUser) -> Result<Option<Linked>> {
    let found = chat_link::Entity::find()
        .filter(chat_link::Column::Channel.eq(&user.channel))
        .filter(chat_link::Column::ChannelUser.eq(&user.id))
        .find_also_related(account::Entity)
        .one(&ctx.db)
        .await?;
    Ok(found.and_then(|(link, account)| {
        account.map(|a| Linked {
            link_id: link.id,
            account_id: a.id,
            person_id: a.person_id,
        })
    }))
}

/// Records that the chat user wrote now: the official account's customer messages reach a
/// user for 48 hours after their last message, and delivery picks the channel by it. Nothing
/// happens for a chat user that is not linked.
pub async fn touch(ctx: &Context, user: &ChatUser) -> Result<()> {
    chat_link::Entity::update_many()
        .col_expr(
            chat_link::Column::LastMessageAt,
            Expr::value(Some(ctx.clock.now())),
        )
        .filter(chat_link::Column::Channel.eq(&user.channel))
        .filter(chat_link::Column::ChannelUser.eq(&user.id))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

async fn upsert_link<C: ConnectionTrait>(
    db: &C,
    user: &ChatUser,
    account_id: Uuid,
    method: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    chat_link::Entity::insert(chat_link::ActiveModel {
        id: Set(Uuid::new_v4()),
        channel: Set(user.channel.clone()),
        channel_user: Set(user.id.clone()),
        account_id: Set(account_id),
        method: Set(method.into()),
        created_at: Set(now),
        // A link is made by a message of the chat user, so they wrote just now.
        last_message_at: Set(Some(now)),
    })
    .on_conflict(
        OnConflict::columns([chat_link::Column::Channel, chat_link::Column::ChannelUser])
            .update_columns([
                chat_link::Column::Id,
                chat_link::Column::AccountId,
                chat_link::Column::Method,
                chat_link::Column::CreatedAt,
                chat_link::Column::LastMessageAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Links by the platform's unionid to a login of the same WeChat user, preferring one that
/// is bound to a person. Nothing happens when no login has that unionid.
pub async fn link_by_unionid(
    ctx: &Context,
    user: &ChatUser,
    unionid: &str,
) -> Result<Option<Linked>> {
    let accounts = account::Entity::find()
        .filter(account::Column::Unionid.eq(unionid))
        .order_by_asc(account::Column::CreatedAt)
        .all(&ctx.db)
        .await?;
    let Some(chosen) = accounts
        .iter()
        .find(|a| a.person_id.is_some())
        .or(accounts.first())
    else {
        return Ok(None);
    };
    upsert_link(&ctx.db, user, chosen.id, "unionid", ctx.clock.now()).await?;
    tracing::info!(channel = %user.channel, account_id = %chosen.id, "chat user linked by unionid");
    find(ctx, user).await
}

/// A freshly issued binding code.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

fn code_hash(ctx: &Context, code: &str) -> String {
    ctx.vault.blind_index(Kind::BindingCode, code)
}

/// Issues a one-time code for this login, replacing any unused one.
pub async fn issue_code(ctx: &Context, principal: &ResidentPrincipal) -> Result<IssuedCode> {
    let now = ctx.clock.now();
    let expires_at = now + Duration::minutes(CODE_TTL_MINUTES);
    for _ in 0..3 {
        let n = u64::from_le_bytes(crate::keys::secrets::random_bytes::<8>()?) % 100_000_000;
        let code = format!("{n:08}");
        let txn = ctx.db.begin().await?;
        chat_binding_code::Entity::delete_many()
            .filter(chat_binding_code::Column::AccountId.eq(principal.account_id))
            .exec(&txn)
            .await?;
        // Expired and spent codes of everyone go too; nothing else cleans them.
        chat_binding_code::Entity::delete_many()
            .filter(chat_binding_code::Column::ExpiresAt.lt(now))
            .exec(&txn)
            .await?;
        let inserted = chat_binding_code::Entity::insert(chat_binding_code::ActiveModel {
            code_hash: Set(code_hash(ctx, &code)),
            account_id: Set(principal.account_id),
            expires_at: Set(expires_at),
            used_at: Set(None),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(chat_binding_code::Column::CodeHash)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if inserted == 1 {
            txn.commit().await?;
            tracing::info!(account_id = %principal.account_id, "chat binding code issued");
            return Ok(IssuedCode { code, expires_at });
        }
    }
    Err(Refusal::Conflict.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    Linked(Linked),
    Wrong { tries_left: u32 },
    Locked { minutes: i64 },
}

/// The lock-out key counting this chat user's wrong binding codes.
pub fn code_failure_key(user: &ChatUser) -> lockout::Key {
    lockout::Key::new(
        lockout::BINDING_CODE,
        &format!("{}:{}", user.channel, user.id),
        MAX_CODE_FAILURES,
    )
}

/// Redeems a code for a chat user: single use, before expiry, a few wrong tries at most.
pub async fn redeem(ctx: &Context, user: &ChatUser, code: &str) -> Result<Redeemed> {
    let key = code_failure_key(user);
    let now = ctx.clock.now();
    match lockout::check(&ctx.db, std::slice::from_ref(&key), now).await {
        Ok(()) => {}
        Err(Error::Refused(Refusal::TooManyAttempts { retry_after_secs })) => {
            let secs = i64::try_from(retry_after_secs).unwrap_or(i64::MAX);
            return Ok(Redeemed::Locked {
                minutes: secs / 60 + 1,
            });
        }
        Err(e) => return Err(e),
    }
    let hash = code_hash(ctx, code);
    let txn = ctx.db.begin().await?;
    let columns = OneTime {
        hash: chat_binding_code::Column::CodeHash,
        spent_at: chat_binding_code::Column::UsedAt,
        expires_at: chat_binding_code::Column::ExpiresAt,
    };
    let spent = spend_once::<chat_binding_code::Entity, _>(&txn, columns, &hash, now).await?;
    if !spent {
        txn.commit().await?;
        let counted =
            lockout::count_failure(&ctx.db, std::slice::from_ref(&key), CODE_LOCK_SECS, now)
                .await?
                .pop()
                .ok_or_else(|| anyhow::anyhow!("binding code failure not counted"))?;
        tracing::warn!(channel = %user.channel, failures = counted.failures, "wrong chat binding code");
        return Ok(if counted.locked {
            Redeemed::Locked {
                minutes: CODE_LOCK_MINUTES,
            }
        } else {
            Redeemed::Wrong {
                tries_left: MAX_CODE_FAILURES.saturating_sub(counted.failures),
            }
        });
    }
    let row = chat_binding_code::Entity::find_by_id(hash)
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("binding code vanished after use"))?;
    upsert_link(&txn, user, row.account_id, "code", now).await?;
    lockout::clear(&txn, key.scope, &key.key, now).await?;
    txn.commit().await?;
    tracing::info!(channel = %user.channel, account_id = %row.account_id, "chat user linked by code");
    let linked = find(ctx, user)
        .await?
        .ok_or_else(|| anyhow::anyhow!("link vanished after insert"))?;
    Ok(Redeemed::Linked(linked))
}

/// The chat users (channel and id) counting wrong binding codes now.
pub async fn users_counting_code_failures(ctx: &Context) -> Result<Vec<(String, String)>> {
    let keys = lockout::counting_keys(&ctx.db, lockout::BINDING_CODE, ctx.clock.now()).await?;
    Ok(keys
        .into_iter()
        .filter_map(|k| {
            k.split_once(':')
                .map(|(channel, id)| (channel.to_owned(), id.to_owned()))
        })
        .collect())
}

/// Dev mode only: links to the login `dev:<openid>`, creating it as that dev login code would.
pub async fn link_dev(ctx: &Context, user: &ChatUser, openid: &str) -> Result<Linked> {
    if !ctx.settings.is_dev() {
        return Err(Refusal::DevLoginRefused.into());
    }
    let platform_user = sessions::dev_user(openid)?;
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    let account = sessions::upsert_account(&txn, MiniApp::Yss, &platform_user, now).await?;
    upsert_link(&txn, user, account.id, "dev", now).await?;
    txn.commit().await?;
    tracing::info!(channel = %user.channel, account_id = %account.id, "chat user linked (dev)");
    find(ctx, user)
        .await?
        .ok_or_else(|| anyhow::anyhow!("link vanished after insert").into())
}

pub async fn unlink(ctx: &Context, user: &ChatUser) -> Result<bool> {
    let removed = chat_link::Entity::delete_many()
        .filter(chat_link::Column::Channel.eq(&user.channel))
        .filter(chat_link::Column::ChannelUser.eq(&user.id))
        .exec(&ctx.db)
        .await?
        .rows_affected;
    if removed > 0 {
        tracing::info!(channel = %user.channel, "chat user unlinked");
    }
    Ok(removed > 0)
}

/// The chat users of `channel` linked to any of these logins who wrote since `since`.
pub async fn writing_since<C: ConnectionTrait>(
    db: &C,
    accounts: &[Uuid],
    channel: &str,
    since: DateTime<Utc>,
) -> Result<Vec<String>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    Ok(chat_link::Entity::find()
        .filter(chat_link::Column::AccountId.is_in(accounts.iter().copied()))
        .filter(chat_link::Column::Channel.eq(channel))
        .filter(chat_link::Column::LastMessageAt.gte(since))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.channel_user)
        .collect())
}

/// A chat link as the person sees it in their export and closing report: which channel,
/// which chat user (masked: the platform id is a handle to them elsewhere), how, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChatLinkView {
    pub channel: String,
    pub chat_user: String,
    /// `unionid`, `code` or `dev`.
    pub method: String,
    pub linked_at: DateTime<Utc>,
    pub last_message_at: Option<DateTime<Utc>>,
}

/// `oAbCdEfGh123456789` → `oAbC…89`; short ids are masked whole.
pub fn mask_chat_user(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len().max(1));
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

/// The chat links of these logins, oldest first.
pub async fn links_of<C: ConnectionTrait>(db: &C, accounts: &[Uuid]) -> Result<Vec<ChatLinkView>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    Ok(chat_link::Entity::find()
        .filter(chat_link::Column::AccountId.is_in(accounts.iter().copied()))
        .order_by_asc(chat_link::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|l| ChatLinkView {
            chat_user: mask_chat_user(&l.channel_user),
            channel: l.channel,
            method: l.method,
            linked_at: l.created_at,
            last_message_at: l.last_message_at,
        })
        .collect())
}

/// Deletes the chat links and binding codes of these logins (closing the account): answers
/// the links deleted. The database would cascade them with the logins; deleting them here
/// makes the closing report say so.
pub async fn delete_for_accounts<C: ConnectionTrait>(db: &C, accounts: &[Uuid]) -> Result<u64> {
    if accounts.is_empty() {
        return Ok(0);
    }
    chat_binding_code::Entity::delete_many()
        .filter(chat_binding_code::Column::AccountId.is_in(accounts.iter().copied()))
        .exec(db)
        .await?;
    let removed = chat_link::Entity::delete_many()
        .filter(chat_link::Column::AccountId.is_in(accounts.iter().copied()))
        .exec(db)
        .await?
        .rows_affected;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_user_ids_are_masked_to_a_recognisable_hint() {
        assert_eq!(mask_chat_user("oAbCdEfGh123456789"), "oAbC…89");
        assert_eq!(mask_chat_user("u-1"), "***");
        assert_eq!(mask_chat_user(""), "*");
    }
}
