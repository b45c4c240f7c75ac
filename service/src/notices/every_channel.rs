//! Notices that must reach the person on every channel they have, not only the first that
//! works (an ended residence registration, which suspends the permit unless acted on): one
//! outbox row per channel, each with the channel set ahead so that delivery tries that one
//! only, and each retried on its own.

use entity::person;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::Context;
use crate::error::Result;
use crate::identity::wechat::Account;
use crate::identity::wechat::oa::CHANNEL as OA_CHANNEL;
use crate::identity::wechat::subscribe::TemplateKind;
use crate::notices::delivery::{BY_CHAT, BY_EMAIL, BY_SUBSCRIBE, chat_users};
use crate::notices::outbox::{Notice, enqueue_by};
use crate::notices::subscriptions;

/// The channels that reach the person now, read in `db`: a subscribe message (the notice's
/// template accepted, with a credit or long-term), a customer message (a linked chat user who
/// wrote within the platform's window), e-mail (an address, and a mailer configured).
pub async fn channels<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: Uuid,
    notice: &Notice,
) -> Result<Vec<&'static str>> {
    let mut channels = Vec::new();
    let settings = &ctx.settings.subscribe;
    if let Some(template) = TemplateKind::of_notice(notice).and_then(|k| settings.template(k))
        && ctx.wechat.has_account(Account::Mini(settings.app))
        && subscriptions::sendable_in(ctx, db, person_id, template)
            .await?
            .is_some()
    {
        channels.push(BY_SUBSCRIBE);
    }
    if ctx.wechat.has_account(Account::OfficialAccount)
        && !chat_users(ctx, db, person_id, OA_CHANNEL).await?.is_empty()
    {
        channels.push(BY_CHAT);
    }
    let has_email = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .is_some_and(|p| p.email_enc.is_some());
    if has_email && ctx.mailer.is_some() {
        channels.push(BY_EMAIL);
    }
    Ok(channels)
}

/// Queues `notice` once per channel that reaches the person (keys `{key}:{channel}`); with
/// none, once under `key` for whichever channel can carry it when it is delivered. Answers
/// the rows queued now (a key already queued is skipped).
pub async fn enqueue_everywhere<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: Uuid,
    key: &str,
    notice: &Notice,
) -> Result<u64> {
    let channels = channels(ctx, db, person_id, notice).await?;
    if channels.is_empty() {
        return Ok(u64::from(
            enqueue_by(ctx, db, person_id, key, notice, None).await?,
        ));
    }
    let mut queued = 0;
    for channel in channels {
        let key = format!("{key}:{channel}");
        queued += u64::from(enqueue_by(ctx, db, person_id, &key, notice, Some(channel)).await?);
    }
    Ok(queued)
}
