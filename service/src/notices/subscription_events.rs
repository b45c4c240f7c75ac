//! The platform's subscribe events (the popup's choices, a change in the settings page), pushed
//! to the mini-program's message server: applied once per event, in one transaction, through
//! the same choice rules as the mini-program's own report ([`super::subscriptions`]).

use chrono::Duration;
use entity::{account, inbound_message};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use crate::Context;
use crate::error::Result;
use crate::identity::wechat::MiniApp;
use crate::identity::wechat::push::{EventKind, PushEvent};
use crate::identity::wechat::subscribe::Mode;

use super::subscriptions::*;

/// What became of a pushed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// Applied (templates not configured are skipped).
    Applied,
    /// The same event was applied before (the platform delivers again when unsure).
    Redelivered,
    /// From an openid with no bound login, or not a subscribe event.
    Ignored,
}

/// Keeps the records in step with a subscribe event of mini-program `app`: once per event
/// (sender, time and event name), in one transaction.
pub async fn apply_event(ctx: &Context, app: MiniApp, event: &PushEvent) -> Result<EventOutcome> {
    // Only the mini-program the templates belong to reports choices about them.
    if matches!(event.kind, EventKind::Other(_)) || app != ctx.settings.subscribe.app {
        return Ok(EventOutcome::Ignored);
    }
    let person_id = account::Entity::find()
        .filter(account::Column::App.eq(app.as_str()))
        .filter(account::Column::Openid.eq(&event.from))
        .one(&ctx.db)
        .await?
        .and_then(|a| a.person_id);
    let Some(person_id) = person_id else {
        tracing::info!(app = app.as_str(), event = %event.event, "subscribe event from a user with no bound login; ignored");
        return Ok(EventOutcome::Ignored);
    };
    let holder = Holder {
        person_id,
        app,
        openid: &event.from,
    };
    let channel = format!("mini:{}", app.as_str());
    let key = format!(
        "{channel}:event:{}:{}:{}",
        event.from, event.create_time, event.event
    );
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    let inserted = inbound_message::Entity::insert(inbound_message::ActiveModel {
        message_key: Set(key),
        channel: Set(channel.clone()),
        reply_enc: Set(None),
        delivered_by: Set(Some("applied".into())),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(inbound_message::Column::MessageKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        txn.commit().await?;
        tracing::info!(app = app.as_str(), event = %event.event, "redelivered subscribe event");
        return Ok(EventOutcome::Redelivered);
    }
    // The platform redelivers within seconds; keys older than a day only take up room.
    inbound_message::Entity::delete_many()
        .filter(inbound_message::Column::Channel.eq(&channel))
        .filter(inbound_message::Column::CreatedAt.lt(now - Duration::days(1)))
        .exec(&txn)
        .await?;
    let settings = &ctx.settings.subscribe;
    for item in &event.items {
        let Some(template) = settings.by_id(&item.template_id) else {
            continue;
        };
        match event.kind {
            EventKind::Popup => {
                let Some(answer) = item.status.as_deref().and_then(Answer::parse) else {
                    continue;
                };
                if let Some(status) = answer.status() {
                    let effect = Effect {
                        status,
                        add_credit: answer == Answer::Accept,
                    };
                    choose(&txn, now, &holder, template, effect, Some(Source::Event)).await?;
                }
            }
            EventKind::Change => {
                // Turned on or off in the settings: no popup, so no credit.
                let status = match item.status.as_deref() {
                    Some("accept") => ACCEPT,
                    Some("reject") => REJECT,
                    _ => continue,
                };
                let effect = Effect {
                    status,
                    add_credit: false,
                };
                choose(&txn, now, &holder, template, effect, None).await?;
                tracing::info!(
                    kind = template.kind.as_str(),
                    status,
                    "subscription changed in the settings"
                );
            }
            EventKind::Sent => {
                tracing::info!(
                    kind = template.kind.as_str(),
                    msg_id = item.msg_id.as_deref().unwrap_or(""),
                    error_code = item.error_code,
                    error_status = item.error_status.as_deref().unwrap_or(""),
                    "subscribe message delivery reported"
                );
                // The user refused it: a long-term subscription is off until accepted again.
                if item.error_code == Some(43101) && template.mode == Mode::LongTerm {
                    let effect = Effect {
                        status: REJECT,
                        add_credit: false,
                    };
                    choose(&txn, now, &holder, template, effect, None).await?;
                }
            }
            EventKind::Other(_) => {}
        }
    }
    txn.commit().await?;
    Ok(EventOutcome::Applied)
}
