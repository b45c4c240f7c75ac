//! One pushed message, from signature-checked XML to the answer: handled once per message
//! key (a redelivery gets the stored reply), answered passively when the engine is done
//! within the budget (the platform waits five seconds), otherwise answered `success` and
//! followed up through the customer-message API when the engine finishes.

use entity::inbound_message;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use service::Context;
use service::clock::system_now;
use service::error::Result;
use service::identity::wechat::Account;
use service::keys::privacy::Kind;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

use super::xml::{Inbound, text_reply};
use service::identity::chat_links;

use crate::{Bot, ChatUser, store, text};

pub const CHANNEL: &str = service::identity::wechat::oa::CHANNEL;
const PASSIVE: &str = "passive";
const CUSTOMER: &str = "customer";

/// What the message server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A passive reply (XML).
    Reply(String),
    /// `success`: nothing now (an event with no reply, or a reply that follows later).
    Success,
}

/// The key a message is handled once under: its MsgId, or for events sender and time.
fn message_key(m: &Inbound) -> String {
    match &m.msg_id {
        Some(id) => format!("wechat:msg:{id}"),
        None => format!(
            "wechat:event:{}:{}:{}",
            m.from,
            m.create_time,
            m.event.as_deref().unwrap_or("")
        ),
    }
}

/// What the engine is fed for this message, or a fixed answer.
enum Work {
    Text(String),
    Fixed(Vec<String>),
    Unsubscribed,
}

fn work(m: &Inbound) -> Work {
    match (m.msg_type.as_str(), m.event.as_deref()) {
        ("text", _) => Work::Text(m.content.clone().unwrap_or_default()),
        ("event", Some("subscribe")) => Work::Fixed(vec![
            text::SUBSCRIBED.to_owned(),
            text::GREETING.to_owned(),
            text::MENU.to_owned(),
        ]),
        ("event", Some("unsubscribe")) => Work::Unsubscribed,
        ("event", Some("CLICK")) => Work::Text(m.event_key.clone().unwrap_or_default()),
        ("event", _) => Work::Fixed(vec![]),
        _ => Work::Fixed(vec![text::ONLY_TEXT.to_owned(), text::MENU.to_owned()]),
    }
}

enum Slot {
    Waiting,
    Ready(String),
    Abandoned,
}

pub async fn receive(bot: Arc<Bot>, ctx: Arc<Context>, m: Inbound) -> Result<Answer> {
    let key = message_key(&m);
    let budget = Duration::from_millis(ctx.settings.wechat_reply_budget_ms);
    let inserted = inbound_message::Entity::insert(inbound_message::ActiveModel {
        message_key: Set(key.clone()),
        channel: Set(CHANNEL.into()),
        reply_enc: Set(None),
        delivered_by: Set(None),
        created_at: Set(ctx.clock.now()),
    })
    .on_conflict(
        OnConflict::column(inbound_message::Column::MessageKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&ctx.db)
    .await?;
    if inserted == 0 {
        tracing::info!(kind = %m.msg_type, "redelivered platform message");
        return redelivered(&ctx, &m, &key, budget).await;
    }
    // The platform redelivers within seconds; keys older than a day only take up room.
    inbound_message::Entity::delete_many()
        .filter(inbound_message::Column::CreatedAt.lt(ctx.clock.now() - chrono::Duration::days(1)))
        .exec(&ctx.db)
        .await?;
    let user = ChatUser::new(CHANNEL, &m.from);
    let input = match work(&m) {
        Work::Unsubscribed => {
            // Nothing can reach an unsubscribed user; what was collected goes, and so does
            // the link (the user links again after coming back).
            store::forget(&ctx, &user).await?;
            chat_links::unlink(&ctx, &user).await?;
            tracing::info!("official account unsubscribed");
            return Ok(Answer::Success);
        }
        Work::Fixed(replies) if replies.is_empty() => return Ok(Answer::Success),
        Work::Fixed(replies) => {
            let reply = replies.join("\n\n");
            store_reply(&ctx, &key, &reply, PASSIVE).await?;
            return Ok(Answer::Reply(text_reply(
                &m,
                &reply,
                system_now().timestamp(),
            )));
        }
        Work::Text(input) => input,
    };

    let slot = Arc::new((Mutex::new(Slot::Waiting), Notify::new()));
    let task_slot = slot.clone();
    let task_ctx = ctx.clone();
    let task_key = key.clone();
    let openid = m.from.clone();
    // Spawned, so the work finishes even when the answer has already gone out.
    tokio::spawn(async move {
        let ctx = task_ctx;
        let mut user = user;
        if ctx.wechat.has_account(Account::OfficialAccount)
            && matches!(chat_links::find(&ctx, &user).await, Ok(None))
        {
            match ctx.wechat.follower_unionid(&openid).await {
                Ok(unionid) => user.unionid = unionid,
                Err(e) => tracing::warn!(error = %e, "unionid lookup failed"),
            }
        }
        let reply = match bot.handle(&ctx, &user, &input).await {
            Ok(replies) => replies.join("\n\n"),
            Err(e) => {
                tracing::error!(error = ?e, "bot failed on a pushed message");
                text::BUSY.to_owned()
            }
        };
        if let Err(e) = store_reply(&ctx, &task_key, &reply, "").await {
            tracing::error!(error = ?e, "storing the bot reply failed");
        }
        let late = {
            let (lock, notify) = &*task_slot;
            match lock.lock() {
                Ok(mut slot) => match *slot {
                    Slot::Waiting => {
                        *slot = Slot::Ready(reply.clone());
                        notify.notify_one();
                        false
                    }
                    _ => true,
                },
                Err(_) => true,
            }
        };
        if late {
            follow_up(&ctx, &task_key, &openid, &reply).await;
        }
    });

    let _ = tokio::time::timeout(budget, slot.1.notified()).await;
    let ready = match slot.0.lock() {
        Ok(mut guard) => match std::mem::replace(&mut *guard, Slot::Abandoned) {
            Slot::Ready(reply) => Some(reply),
            _ => None,
        },
        Err(_) => None,
    };
    match ready {
        Some(reply) => {
            mark_delivered(&ctx, &key, PASSIVE).await?;
            Ok(Answer::Reply(text_reply(
                &m,
                &reply,
                system_now().timestamp(),
            )))
        }
        None => {
            tracing::info!("bot reply slower than the passive budget; following up");
            Ok(Answer::Success)
        }
    }
}

/// Sends a late reply through the customer-message API.
async fn follow_up(ctx: &Context, key: &str, openid: &str, reply: &str) {
    if !ctx.wechat.has_account(Account::OfficialAccount) {
        tracing::warn!("late bot reply dropped: official-account credentials not set");
        return;
    }
    match ctx.wechat.send_customer_text(openid, reply).await {
        Ok(()) => {
            if let Err(e) = mark_delivered(ctx, key, CUSTOMER).await {
                tracing::error!(error = ?e, "marking the follow-up failed");
            }
        }
        Err(e) => tracing::warn!(error = ?e, "customer message not sent"),
    }
}

async fn store_reply(ctx: &Context, key: &str, reply: &str, delivered_by: &str) -> Result<()> {
    let sealed = ctx.vault.seal_str(Kind::Dialogue, reply)?;
    let mut update = inbound_message::Entity::update_many()
        .col_expr(inbound_message::Column::ReplyEnc, Expr::value(sealed))
        .filter(inbound_message::Column::MessageKey.eq(key));
    if !delivered_by.is_empty() {
        update = update.col_expr(
            inbound_message::Column::DeliveredBy,
            Expr::value(delivered_by),
        );
    }
    update.exec(&ctx.db).await?;
    Ok(())
}

async fn mark_delivered(ctx: &Context, key: &str, by: &str) -> Result<()> {
    inbound_message::Entity::update_many()
        .col_expr(inbound_message::Column::DeliveredBy, Expr::value(by))
        .filter(inbound_message::Column::MessageKey.eq(key))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

/// A message seen before: the same reply once it exists, `success` if it went out as a
/// customer message or is not ready within the budget.
async fn redelivered(ctx: &Context, m: &Inbound, key: &str, budget: Duration) -> Result<Answer> {
    let deadline = tokio::time::Instant::now() + budget;
    loop {
        let row = inbound_message::Entity::find_by_id(key.to_owned())
            .one(&ctx.db)
            .await?;
        if let Some(row) = row
            && let Some(sealed) = &row.reply_enc
        {
            if row.delivered_by.as_deref() == Some(CUSTOMER) {
                return Ok(Answer::Success);
            }
            let reply = ctx.vault.open_string(Kind::Dialogue, sealed)?;
            return Ok(Answer::Reply(text_reply(
                m,
                &reply,
                system_now().timestamp(),
            )));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Answer::Success);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
