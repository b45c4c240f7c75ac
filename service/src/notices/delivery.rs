//! The outbox worker: claims due notices with a lease (row lock with SKIP LOCKED on
//! PostgreSQL; on SQLite the single writer makes the claiming UPDATE atomic), delivers each,
//! and marks it sent, or schedules a retry with exponential backoff, or marks it failed with
//! the error after the last attempt. A worker that dies mid-send leaves its rows locked only
//! until the lease runs out; they are then claimed again, so no row is ever lost (delivery
//! is at least once; a crash between sending and marking may send twice).
//!
//! Each notice goes by the first channel that can reach the person: a subscribe message of
//! the mini-program when a credit or a long-term subscription for the notice's template
//! exists, else a customer message of the official account when a linked chat user wrote in
//! the last 48 hours, else e-mail. A refusal for this user falls through to the next channel;
//! a transient failure (timeout, busy, 5xx) retries the notice later. A one-time credit is
//! spent in the transaction that marks the notice sent, or when the platform answers 43101.
//! A notice queued for one channel ([`super::every_channel`]) goes by that one only.

use chrono::{DateTime, Duration, Utc};
use entity::statuses::OutboxStatus;
use entity::{outbox, person};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;

use crate::Context;
use crate::error::Result;
use crate::identity::wechat::Account;
use crate::identity::wechat::oa::{CHANNEL as OA_CHANNEL, CustomerFailure};
use crate::identity::wechat::subscribe::{
    Mode, SubscribeFailure, SubscribeMessage, TemplateKind, template_data,
};
use crate::keys::privacy::Kind;
use crate::metrics::{self, Channel, Delivery};
use crate::notices::notice_text;
use crate::notices::outbox::{Notice, open_notice};
use crate::notices::subscriptions;

/// The channels a notice goes by, as recorded in `outbox.channel`.
pub const BY_SUBSCRIBE: &str = "subscribe";
/// Customer messages of the official account (the bot's chat).
pub const BY_CHAT: &str = OA_CHANNEL;
pub const BY_EMAIL: &str = "email";
/// Customer messages reach a chat user this long after their last message.
const CHAT_WINDOW_HOURS: i64 = 48;

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u64,
    /// Failed this time: retried later, or given up after the last attempt.
    pub failed: u64,
    /// Nobody to deliver to.
    pub undeliverable: u64,
    /// Still due when a run with a budget stopped claiming.
    pub unfinished: u64,
}

fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(outbox::Column::Status.eq(OutboxStatus::Pending))
        .add(outbox::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(outbox::Column::LockedUntil.is_null())
                .add(outbox::Column::LockedUntil.lt(now)),
        )
}

/// Claims up to `limit` due notices for this worker. On PostgreSQL the ids are picked and
/// locked (SKIP LOCKED) in one transaction with the UPDATE that leases them: PostgreSQL may
/// evaluate a LIMIT subquery inside an UPDATE more than once, so one statement could lease
/// more rows than asked. SQLite has a single writer, and a transaction there would only make
/// two workers deadlock upgrading their read locks; the UPDATE's own check keeps a row from
/// being won twice.
pub async fn claim(ctx: &Context, limit: u64, now: DateTime<Utc>) -> Result<Vec<outbox::Model>> {
    if ctx.db.get_database_backend() == DatabaseBackend::Postgres {
        let txn = ctx.db.begin().await?;
        let claimed = pick_and_lease(ctx, &txn, limit, now, true).await?;
        txn.commit().await?;
        Ok(claimed)
    } else {
        pick_and_lease(ctx, &ctx.db, limit, now, false).await
    }
}

async fn pick_and_lease<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    limit: u64,
    now: DateTime<Utc>,
    skip_locked: bool,
) -> Result<Vec<outbox::Model>> {
    let lease = Duration::seconds(ctx.settings.reminders.lease_secs as i64);
    let mut pick = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(claimable(now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(limit);
    if skip_locked {
        pick = pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let ids: Vec<uuid::Uuid> = pick.into_tuple().all(db).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(outbox::Entity::update_many()
        .col_expr(outbox::Column::LockedUntil, Expr::value(Some(now + lease)))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .filter(outbox::Column::Id.is_in(ids))
        // Checked again by the UPDATE itself, so two workers never both win a row.
        .filter(claimable(now))
        .exec_with_returning(db)
        .await?)
}

/// Notices delivered at once, and claimed at a time: a slow peer (a stalled SMTP server, a
/// platform answering late) holds one slot for at most its deadline, not the whole run.
pub const CONCURRENCY: usize = 8;

/// Delivers everything due when the run starts, a few notices at a time; a notice that fails
/// is retried by a later run, not this one. Answers what happened.
pub async fn run_once(ctx: &Context) -> Result<DeliveryReport> {
    run_within(ctx, None).await
}

/// As [`run_once`], but claims nothing new once `budget` has passed (a notice under way still
/// finishes within its call deadline); what is still due then is counted as `unfinished`, for
/// the background worker's next run.
pub async fn run_within(
    ctx: &Context,
    budget: Option<std::time::Duration>,
) -> Result<DeliveryReport> {
    use futures_util::stream::{self, StreamExt as _};
    let mut report = DeliveryReport::default();
    let started = ctx.clock.now();
    let stop_at = budget.map(|b| std::time::Instant::now() + b);
    loop {
        if stop_at.is_some_and(|t| std::time::Instant::now() >= t) {
            report.unfinished = outbox::Entity::find()
                .filter(claimable(started))
                .count(&ctx.db)
                .await?;
            return Ok(report);
        }
        let batch = claim(ctx, CONCURRENCY as u64, started).await?;
        if batch.is_empty() {
            return Ok(report);
        }
        let tallies: Vec<Result<Tally>> = stream::iter(batch)
            .map(|row| deliver(ctx, row))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for tally in tallies {
            match tally? {
                Tally::Sent => report.sent += 1,
                Tally::Failed => report.failed += 1,
                Tally::Undeliverable => report.undeliverable += 1,
            }
        }
    }
}

/// What one notice's attempt counts as in the report.
enum Tally {
    Sent,
    Failed,
    Undeliverable,
}

enum Outcome {
    /// Carried by `channel`; `spend` names the one-time subscription whose credit it used.
    Sent {
        channel: &'static str,
        spend: Option<uuid::Uuid>,
    },
    Undeliverable(&'static str),
    Failed(String),
}

#[tracing::instrument(name = "yueju_deliveries", skip_all, fields(notice_id = %row.id, channel = tracing::field::Empty, outcome = tracing::field::Empty))]
async fn deliver(ctx: &Context, row: outbox::Model) -> Result<Tally> {
    // Each call has its own deadline; this one bounds the sum, so the row is marked while the
    // lease still holds and no other worker claims it under a sender that is still at it.
    let cutoff = std::time::Duration::from_millis(ctx.settings.reminders.lease_secs * 2000 / 3);
    let outcome = match tokio::time::timeout(cutoff, attempt(ctx, &row)).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => Outcome::Failed(format!("{e:#}")),
        Err(_) => Outcome::Failed(format!(
            "attempt cut off after {} ms, before its lease ran out",
            cutoff.as_millis()
        )),
    };
    let now = ctx.clock.now();
    let update = outbox::Entity::update_many()
        .filter(outbox::Column::Id.eq(row.id))
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        );
    let tally;
    let update = match &outcome {
        Outcome::Sent { channel, .. } => {
            tally = Tally::Sent;
            update
                .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Sent))
                .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
                .col_expr(outbox::Column::LastError, Expr::value(None::<String>))
                .col_expr(outbox::Column::Channel, Expr::value(Some(*channel)))
        }
        Outcome::Undeliverable(why) => {
            tally = Tally::Undeliverable;
            update
                .col_expr(
                    outbox::Column::Status,
                    Expr::value(OutboxStatus::Undeliverable),
                )
                .col_expr(outbox::Column::LastError, Expr::value(Some(*why)))
        }
        Outcome::Failed(error) => {
            tally = Tally::Failed;
            let rules = &ctx.settings.reminders;
            // The error text names the SMTP or network failure, never the recipient.
            let error: String = error.chars().take(500).collect();
            tracing::warn!(notice_id = %row.id, attempts = row.attempts, error = %error, "notice delivery failed");
            if row.attempts >= rules.max_attempts as i32 {
                update
                    .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Failed))
                    .col_expr(outbox::Column::LastError, Expr::value(Some(error)))
            } else {
                let exponent = Ord::min(Ord::max(row.attempts, 1) - 1, 16) as u32;
                let delay = rules.backoff_secs.saturating_mul(2u64.pow(exponent));
                update
                    .col_expr(
                        outbox::Column::NextAttemptAt,
                        Expr::value(now + Duration::seconds(delay as i64)),
                    )
                    .col_expr(outbox::Column::LastError, Expr::value(Some(error)))
            }
        }
    };
    if let Outcome::Sent {
        spend: Some(subscription_id),
        ..
    } = outcome
    {
        // The platform took the message: the credit goes with the mark, in one step.
        let txn = ctx.db.begin().await?;
        update.exec(&txn).await?;
        if !subscriptions::spend_credit(&txn, subscription_id, now).await? {
            tracing::warn!(notice_id = %row.id, "subscribe message sent with no credit left on record");
        }
        txn.commit().await?;
    } else {
        update.exec(&ctx.db).await?;
    }
    Ok(tally)
}

/// The chat users linked to any login of this person on the given channel who wrote within
/// the customer-message window, read in `db`.
pub(super) async fn chat_users<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: uuid::Uuid,
    channel: &str,
) -> anyhow::Result<Vec<String>> {
    use entity::account;
    let accounts: Vec<uuid::Uuid> = account::Entity::find()
        .filter(account::Column::PersonId.eq(person_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    let since = ctx.clock.now() - Duration::hours(CHAT_WINDOW_HOURS);
    crate::identity::chat_links::writing_since(db, &accounts, channel, since)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))
}

async fn attempt(ctx: &Context, row: &outbox::Model) -> anyhow::Result<Outcome> {
    let notice = open_notice(ctx, row).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let Some(person_id) = row.person_id else {
        return Ok(Outcome::Undeliverable("no recipient"));
    };
    let Some(person) = person::Entity::find_by_id(person_id).one(&ctx.db).await? else {
        return Ok(Outcome::Undeliverable("account closed"));
    };
    if notice.is_reminder() && !person.reminders_enabled {
        return Ok(Outcome::Undeliverable("reminders turned off"));
    }
    // A notice queued for one channel (one row per channel, see `every_channel`) goes by that
    // channel or not at all.
    let only = row.channel.as_deref();
    let may = |channel: &str| only.is_none_or(|c| c == channel);
    if may(BY_SUBSCRIBE)
        && let Some(outcome) = by_subscribe(ctx, row, &notice, person.id).await?
    {
        return Ok(outcome);
    }
    let text = notice_text::render(&notice);
    // Chat next, where the holder linked one and wrote lately: it is where they talk to us. A
    // refusal (not following any more, window closed) falls through to e-mail; a transient
    // failure retries.
    if may(BY_CHAT) && ctx.wechat.has_account(Account::OfficialAccount) {
        for user in chat_users(ctx, &ctx.db, person.id, OA_CHANNEL).await? {
            match ctx
                .wechat
                .send_customer_text(&user, &format!("{}\n{}", text.subject, text.body))
                .await
            {
                Ok(()) => {
                    metrics::delivery(Channel::Customer, Delivery::Sent);
                    tracing::info!(notice_id = %row.id, kind = notice.kind(), "notice sent by chat");
                    return Ok(Outcome::Sent {
                        channel: BY_CHAT,
                        spend: None,
                    });
                }
                Err(CustomerFailure::Refused(why)) => {
                    metrics::delivery(Channel::Customer, Delivery::Refused);
                    tracing::info!(notice_id = %row.id, why = %why, "chat refused; trying e-mail");
                }
                Err(CustomerFailure::Failed(e)) => {
                    metrics::delivery(Channel::Customer, Delivery::Failed);
                    return Err(anyhow::Error::new(e).context("chat delivery"));
                }
            }
        }
    }
    if !may(BY_EMAIL) {
        return Ok(Outcome::Undeliverable(
            "its channel cannot reach the person now",
        ));
    }
    let email = person
        .email_enc
        .as_ref()
        .map(|sealed| ctx.vault.open_string(Kind::Email, sealed))
        .transpose()?;
    let (Some(email), Some(mailer)) = (email, ctx.mailer.as_ref()) else {
        return Ok(Outcome::Undeliverable("no channel"));
    };
    mailer
        .send(&email, &text, &format!("notice-{}", row.id))
        .await
        .inspect_err(|_| metrics::delivery(Channel::Email, Delivery::Failed))?;
    metrics::delivery(Channel::Email, Delivery::Sent);
    tracing::info!(notice_id = %row.id, kind = notice.kind(), "notice sent by e-mail");
    Ok(Outcome::Sent {
        channel: BY_EMAIL,
        spend: None,
    })
}

/// The subscribe message, when the person accepted the notice's template: `None` when there
/// is none to use or the platform would not deliver it (the next channel is tried), an error
/// when the platform should be asked again later.
async fn by_subscribe(
    ctx: &Context,
    row: &outbox::Model,
    notice: &Notice,
    person_id: uuid::Uuid,
) -> anyhow::Result<Option<Outcome>> {
    let settings = &ctx.settings.subscribe;
    let Some(template) = TemplateKind::of_notice(notice).and_then(|k| settings.template(k)) else {
        return Ok(None);
    };
    if !ctx.wechat.has_account(Account::Mini(settings.app)) {
        return Ok(None);
    }
    let Some(subscription) = subscriptions::sendable(ctx, person_id, template).await? else {
        return Ok(None);
    };
    let Some((_, data)) = template_data(notice, row.created_at) else {
        return Ok(None);
    };
    let message = SubscribeMessage {
        app: settings.app,
        openid: &subscription.openid,
        template_id: &template.id,
        // The notice's id lets the page, and anyone looking at a duplicate, know which it is.
        page: format!("{}?notice={}", settings.page, row.id),
        data,
        miniprogram_state: &settings.miniprogram_state,
    };
    let kind = template.kind.as_str();
    match ctx.wechat.send_subscribe(&message).await {
        Ok(msgid) => {
            metrics::delivery(Channel::Subscribe, Delivery::Sent);
            tracing::info!(notice_id = %row.id, kind, msgid = msgid.as_deref().unwrap_or(""), "notice sent by subscribe message");
            Ok(Some(Outcome::Sent {
                channel: BY_SUBSCRIBE,
                spend: (template.mode == Mode::OneTime).then_some(subscription.id),
            }))
        }
        Err(SubscribeFailure::Refused(_)) => {
            metrics::delivery(Channel::Subscribe, Delivery::Refused);
            subscriptions::refused(&ctx.db, template, &subscription, ctx.clock.now()).await?;
            tracing::info!(notice_id = %row.id, kind, "subscribe message refused (43101); credit spent, trying the next channel");
            Ok(None)
        }
        Err(SubscribeFailure::Undeliverable(e)) => {
            metrics::delivery(Channel::Subscribe, Delivery::Refused);
            tracing::warn!(notice_id = %row.id, kind, errcode = e.errcode(), "subscribe message undeliverable to this user; trying the next channel");
            Ok(None)
        }
        Err(SubscribeFailure::Misconfigured(e)) => {
            metrics::delivery(Channel::Subscribe, Delivery::Refused);
            tracing::error!(notice_id = %row.id, kind, template_id = %template.id, error = %e, "subscribe template or page does not match the platform (YUEJU_SUBSCRIBE_TEMPLATES/YUEJU_SUBSCRIBE_PAGE); trying the next channel");
            Ok(None)
        }
        Err(SubscribeFailure::Transient(e)) => {
            metrics::delivery(Channel::Subscribe, Delivery::Failed);
            Err(anyhow::Error::new(e).context("subscribe message"))
        }
    }
}
