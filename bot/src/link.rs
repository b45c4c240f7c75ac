//! Linking a chat user to a resident's login, so the bot acts with that login's rights and
//! nobody else's. Three ways: the platform's `unionid` (the same WeChat user behind the chat
//! and the mini-program), a one-time code shown in the logged-in mini-program, or in dev mode
//! `绑定 dev:<openid>`, which does exactly what the dev login code `dev:<openid>` does.
//! A name and an ID number alone never link anyone.

use chrono::{DateTime, Duration, Utc};
use entity::{account, bot_binding_code, bot_dialogue, bot_link};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use service::Context;
use service::error::{Refusal, Result};
use service::identity::sessions::ResidentPrincipal;
use service::identity::wechat::{MiniApp, PlatformUser};
use service::keys::privacy::Kind;
use uuid::Uuid;

use crate::ChatUser;

/// Digits in a binding code: 10^8 codes, a few live at a time, five tries per chat user
/// per quarter hour.
pub const CODE_LEN: usize = 8;
pub const CODE_TTL_MINUTES: i64 = 10;
pub const MAX_CODE_FAILURES: i32 = 5;
pub const CODE_LOCK_MINUTES: i64 = 15;

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
    let found = bot_link::Entity::find()
        .filter(bot_link::Column::Channel.eq(&user.channel))
        .filter(bot_link::Column::ChannelUser.eq(&user.id))
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
    bot_link::Entity::update_many()
        .col_expr(
            bot_link::Column::LastMessageAt,
            Expr::value(Some(Utc::now())),
        )
        .filter(bot_link::Column::Channel.eq(&user.channel))
        .filter(bot_link::Column::ChannelUser.eq(&user.id))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

async fn upsert_link<C: ConnectionTrait>(
    db: &C,
    user: &ChatUser,
    account_id: Uuid,
    method: &str,
) -> Result<()> {
    bot_link::Entity::insert(bot_link::ActiveModel {
        id: Set(Uuid::new_v4()),
        channel: Set(user.channel.clone()),
        channel_user: Set(user.id.clone()),
        account_id: Set(account_id),
        method: Set(method.into()),
        created_at: Set(Utc::now()),
        // A link is made by a message of the chat user, so they wrote just now.
        last_message_at: Set(Some(Utc::now())),
    })
    .on_conflict(
        OnConflict::columns([bot_link::Column::Channel, bot_link::Column::ChannelUser])
            .update_columns([
                bot_link::Column::Id,
                bot_link::Column::AccountId,
                bot_link::Column::Method,
                bot_link::Column::CreatedAt,
                bot_link::Column::LastMessageAt,
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
    upsert_link(&ctx.db, user, chosen.id, "unionid").await?;
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
    let now = Utc::now();
    let expires_at = now + Duration::minutes(CODE_TTL_MINUTES);
    for _ in 0..3 {
        let n = u64::from_le_bytes(service::keys::secrets::random_bytes::<8>()?) % 100_000_000;
        let code = format!("{n:08}");
        let txn = ctx.db.begin().await?;
        bot_binding_code::Entity::delete_many()
            .filter(bot_binding_code::Column::AccountId.eq(principal.account_id))
            .exec(&txn)
            .await?;
        // Expired and spent codes of everyone go too; nothing else cleans them.
        bot_binding_code::Entity::delete_many()
            .filter(bot_binding_code::Column::ExpiresAt.lt(now))
            .exec(&txn)
            .await?;
        let inserted = bot_binding_code::Entity::insert(bot_binding_code::ActiveModel {
            code_hash: Set(code_hash(ctx, &code)),
            account_id: Set(principal.account_id),
            expires_at: Set(expires_at),
            used_at: Set(None),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(bot_binding_code::Column::CodeHash)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if inserted == 1 {
            txn.commit().await?;
            tracing::info!(account_id = %principal.account_id, "bot binding code issued");
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

/// Redeems a code for a chat user: single use, before expiry, a few wrong tries at most.
pub async fn redeem(
    ctx: &Context,
    user: &ChatUser,
    dialogue: &bot_dialogue::Model,
    code: &str,
) -> Result<Redeemed> {
    let now = Utc::now();
    if let Some(until) = dialogue.codes_locked_until
        && until > now
    {
        return Ok(Redeemed::Locked {
            minutes: (until - now).num_minutes() + 1,
        });
    }
    let hash = code_hash(ctx, code);
    let txn = ctx.db.begin().await?;
    let spent = bot_binding_code::Entity::update_many()
        .col_expr(bot_binding_code::Column::UsedAt, Expr::value(now))
        .filter(bot_binding_code::Column::CodeHash.eq(&hash))
        .filter(bot_binding_code::Column::UsedAt.is_null())
        .filter(bot_binding_code::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let this_user = |q: sea_orm::UpdateMany<bot_dialogue::Entity>| {
        q.filter(bot_dialogue::Column::Channel.eq(&user.channel))
            .filter(bot_dialogue::Column::ChannelUser.eq(&user.id))
    };
    if !spent {
        let failures = dialogue.code_failures + 1;
        let locked = failures >= MAX_CODE_FAILURES;
        this_user(bot_dialogue::Entity::update_many())
            .col_expr(
                bot_dialogue::Column::CodeFailures,
                Expr::value(if locked { 0 } else { failures }),
            )
            .col_expr(
                bot_dialogue::Column::CodesLockedUntil,
                Expr::value(locked.then(|| now + Duration::minutes(CODE_LOCK_MINUTES))),
            )
            .exec(&txn)
            .await?;
        txn.commit().await?;
        tracing::warn!(channel = %user.channel, failures, "wrong bot binding code");
        return Ok(if locked {
            Redeemed::Locked {
                minutes: CODE_LOCK_MINUTES,
            }
        } else {
            Redeemed::Wrong {
                tries_left: (MAX_CODE_FAILURES - failures) as u32,
            }
        });
    }
    let row = bot_binding_code::Entity::find_by_id(hash)
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("binding code vanished after use"))?;
    upsert_link(&txn, user, row.account_id, "code").await?;
    this_user(bot_dialogue::Entity::update_many())
        .col_expr(bot_dialogue::Column::CodeFailures, Expr::value(0))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    tracing::info!(channel = %user.channel, account_id = %row.account_id, "chat user linked by code");
    let linked = find(ctx, user)
        .await?
        .ok_or_else(|| anyhow::anyhow!("link vanished after insert"))?;
    Ok(Redeemed::Linked(linked))
}

/// Dev mode only: links to the login `dev:<openid>`, creating it as that dev login code would.
pub async fn link_dev(ctx: &Context, user: &ChatUser, openid: &str) -> Result<Linked> {
    if !ctx.settings.is_dev() {
        return Err(Refusal::DevLoginRefused.into());
    }
    let valid = !openid.is_empty()
        && openid.len() <= 64
        && openid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(Refusal::LoginCodeInvalid.into());
    }
    let id = format!("dev:{openid}");
    let platform_user = PlatformUser {
        openid: id.clone(),
        unionid: Some(id),
    };
    let txn = ctx.db.begin().await?;
    let account =
        service::identity::sessions::upsert_account(&txn, MiniApp::Yss, &platform_user).await?;
    upsert_link(&txn, user, account.id, "dev").await?;
    txn.commit().await?;
    tracing::info!(channel = %user.channel, account_id = %account.id, "chat user linked (dev)");
    find(ctx, user)
        .await?
        .ok_or_else(|| anyhow::anyhow!("link vanished after insert").into())
}

pub async fn unlink(ctx: &Context, user: &ChatUser) -> Result<bool> {
    let removed = bot_link::Entity::delete_many()
        .filter(bot_link::Column::Channel.eq(&user.channel))
        .filter(bot_link::Column::ChannelUser.eq(&user.id))
        .exec(&ctx.db)
        .await?
        .rows_affected;
    if removed > 0 {
        tracing::info!(channel = %user.channel, "chat user unlinked");
    }
    Ok(removed > 0)
}
