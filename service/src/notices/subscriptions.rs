//! What residents accepted for the mini-program's subscribe messages (订阅消息), per person,
//! mini-program and template: one-time credits (each accept allows one message) or a
//! long-term subscription (on until turned off). Two sources report the same answers: the
//! mini-program posts what `wx.requestSubscribeMessage` answered, and the platform pushes a
//! popup event. A choice reported by both within [`SAME_CHOICE_SECS`] counts once, whichever
//! arrives first: each unmatched choice is kept for that long, and the other source's report
//! of it is then matched and spent instead of applied again.
//!
//! The subscriptions belong to the person, like the permit; each row keeps the openid of the
//! person's login in that mini-program, where the messages go.

use chrono::{DateTime, Duration, Utc};
use entity::{account, subscription, subscription_choice};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use crate::Context;
use crate::error::{FieldProblem, Result, invalid};
use crate::identity::sessions::ResidentPrincipal;
use crate::identity::wechat::MiniApp;
use crate::identity::wechat::subscribe::{Mode, Template};

/// How far apart the mini-program's post and the platform's popup event of one choice may
/// arrive.
pub const SAME_CHOICE_SECS: i64 = 60;
/// Templates one post may report (a popup asks for three at most).
const MAX_RESULTS: usize = 20;

pub const ACCEPT: &str = "accept";
pub const REJECT: &str = "reject";
pub const BAN: &str = "ban";

/// One answer of `wx.requestSubscribeMessage` for one template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Reject,
    /// The platform banned the template.
    Ban,
    /// The platform filtered the template out (title repeated): nothing was asked.
    Filter,
}

impl Answer {
    pub fn parse(s: &str) -> Option<Answer> {
        Some(match s {
            "accept" => Answer::Accept,
            "reject" => Answer::Reject,
            "ban" => Answer::Ban,
            "filter" => Answer::Filter,
            _ => return None,
        })
    }

    /// The status it leaves, `None` for a filtered template.
    pub(super) fn status(self) -> Option<&'static str> {
        match self {
            Answer::Accept => Some(ACCEPT),
            Answer::Reject => Some(REJECT),
            Answer::Ban => Some(BAN),
            Answer::Filter => None,
        }
    }
}

/// Who reported a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// The mini-program's `POST /api/v1/me/subscriptions`.
    App,
    /// The platform's `subscribe_msg_popup_event`.
    Event,
}

impl Source {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Source::App => "app",
            Source::Event => "event",
        }
    }
}

/// A subscription as the resident sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SubscriptionView {
    #[schema(schema_with = crate::api_schema::mini_app)]
    pub app: String,
    pub kind: String,
    pub template_id: String,
    #[schema(schema_with = crate::api_schema::subscription_mode)]
    pub mode: String,
    #[schema(minimum = 0)]
    pub credits: i32,
    #[schema(schema_with = crate::api_schema::subscription_status)]
    pub status: String,
    pub updated_at: DateTime<Utc>,
}

/// A configured template, so the mini-program knows what to ask for.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TemplateView {
    #[schema(schema_with = crate::api_schema::template_kind)]
    pub kind: &'static str,
    pub template_id: String,
    #[schema(schema_with = crate::api_schema::subscription_mode)]
    pub mode: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Subscriptions {
    pub items: Vec<SubscriptionView>,
    /// The mini-program whose templates these are.
    #[schema(schema_with = crate::api_schema::mini_app)]
    pub app: &'static str,
    pub templates: Vec<TemplateView>,
}

/// The mode of a template: as configured now, or as recorded for one no longer configured.
pub(super) fn mode_of(ctx: &Context, row: &subscription::Model) -> String {
    ctx.settings
        .subscribe
        .by_id(&row.template_id)
        .map(|t| t.mode.as_str().to_owned())
        .unwrap_or_else(|| row.mode.clone())
}

/// The person's subscriptions and the configured templates.
pub async fn list(ctx: &Context, principal: &ResidentPrincipal) -> Result<Subscriptions> {
    let person_id = principal.person()?;
    let rows = subscription::Entity::find()
        .filter(subscription::Column::PersonId.eq(person_id))
        .order_by_asc(subscription::Column::App)
        .order_by_asc(subscription::Column::Kind)
        .all(&ctx.db)
        .await?;
    let settings = &ctx.settings.subscribe;
    Ok(Subscriptions {
        items: rows
            .iter()
            .map(|r| SubscriptionView {
                app: r.app.clone(),
                kind: r.kind.clone(),
                template_id: r.template_id.clone(),
                mode: mode_of(ctx, r),
                credits: r.credits,
                status: r.status.clone(),
                updated_at: r.updated_at,
            })
            .collect(),
        app: settings.app.as_str(),
        templates: settings
            .templates
            .iter()
            .map(|t| TemplateView {
                kind: t.kind.as_str(),
                template_id: t.id.clone(),
                mode: t.mode.as_str(),
            })
            .collect(),
    })
}

/// Records what `wx.requestSubscribeMessage` answered in mini-program `app`, all in one
/// transaction; answers the subscriptions after it. `results` maps template ids to answers
/// (`errMsg`, which the mini-program's result object also carries, is skipped).
pub async fn record(
    ctx: &Context,
    principal: &ResidentPrincipal,
    app: &str,
    results: &[(String, String)],
) -> Result<Subscriptions> {
    let person_id = principal.person()?;
    let app = MiniApp::parse(app).ok_or(crate::Refusal::UnknownApp)?;
    let settings = &ctx.settings.subscribe;
    if app != settings.app {
        // The templates belong to one mini-program; another's answers name none of them.
        return Err(invalid("app", FieldProblem::NotAllowed));
    }
    let answers: Vec<(&String, &String)> = results
        .iter()
        .filter(|(id, _)| id != "errMsg")
        .map(|(id, answer)| (id, answer))
        .collect();
    if answers.len() > MAX_RESULTS {
        return Err(invalid("results", FieldProblem::TooLong));
    }
    let mut choices = Vec::with_capacity(answers.len());
    for (id, answer) in answers {
        let template = settings
            .by_id(id)
            .ok_or_else(|| invalid("results", FieldProblem::NotAllowed))?;
        let answer =
            Answer::parse(answer).ok_or_else(|| invalid("results", FieldProblem::BadFormat))?;
        choices.push((template, answer));
    }
    let openid = openid_in(ctx, principal, person_id, app).await?;
    let holder = Holder {
        person_id,
        app,
        openid: &openid,
    };
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    for (template, answer) in choices {
        if let Some(status) = answer.status() {
            let effect = Effect {
                status,
                add_credit: answer == Answer::Accept,
            };
            choose(&txn, now, &holder, template, effect, Some(Source::App)).await?;
        }
    }
    txn.commit().await?;
    tracing::info!(%person_id, app = app.as_str(), "subscribe answers recorded");
    list(ctx, principal).await
}

/// The openid of the person's login in `app`: the caller's own when it is that mini-program's,
/// else the person's most recent login there.
pub(super) async fn openid_in(
    ctx: &Context,
    principal: &ResidentPrincipal,
    person_id: Uuid,
    app: MiniApp,
) -> Result<String> {
    if let Some(own) = account::Entity::find_by_id(principal.account_id)
        .one(&ctx.db)
        .await?
        && own.app == app.as_str()
    {
        return Ok(own.openid);
    }
    account::Entity::find()
        .filter(account::Column::PersonId.eq(person_id))
        .filter(account::Column::App.eq(app.as_str()))
        .order_by_desc(account::Column::LastLoginAt)
        .one(&ctx.db)
        .await?
        .map(|a| a.openid)
        .ok_or_else(|| invalid("app", FieldProblem::NotAllowed))
}

/// Whose subscription a choice is about: the person, the mini-program, and the person's
/// openid there.
#[derive(Debug, Clone, Copy)]
pub(super) struct Holder<'a> {
    pub(super) person_id: Uuid,
    pub(super) app: MiniApp,
    pub(super) openid: &'a str,
}

/// What a choice does to the subscription.
#[derive(Debug, Clone, Copy)]
pub(super) struct Effect {
    pub(super) status: &'static str,
    /// A one-time template gains a credit (an accept in a popup).
    pub(super) add_credit: bool,
}

/// Applies one choice inside `txn`. With a `source`, a choice already reported by the other
/// source within [`SAME_CHOICE_SECS`] is matched instead of applied again. Answers whether
/// it was applied.
pub(super) async fn choose(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    holder: &Holder<'_>,
    template: &Template,
    effect: Effect,
    source: Option<Source>,
) -> Result<bool> {
    let Holder {
        person_id,
        app,
        openid,
    } = *holder;
    // Write first: it locks the row on PostgreSQL (a concurrent report of the same choice
    // waits here, then sees this one's choice) and takes SQLite's write lock.
    subscription::Entity::insert(subscription::ActiveModel {
        id: Set(Uuid::new_v4()),
        person_id: Set(person_id),
        app: Set(app.as_str().to_owned()),
        template_id: Set(template.id.clone()),
        kind: Set(template.kind.as_str().to_owned()),
        mode: Set(template.mode.as_str().to_owned()),
        credits: Set(0),
        status: Set(effect.status.to_owned()),
        openid: Set(openid.to_owned()),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            subscription::Column::PersonId,
            subscription::Column::App,
            subscription::Column::TemplateId,
        ])
        .update_columns([
            subscription::Column::Kind,
            subscription::Column::Mode,
            subscription::Column::Openid,
            subscription::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let this = |c: sea_orm::Condition| {
        c.add(subscription_choice::Column::PersonId.eq(person_id))
            .add(subscription_choice::Column::App.eq(app.as_str()))
            .add(subscription_choice::Column::TemplateId.eq(&template.id))
    };
    if let Some(source) = source {
        let window = now - Duration::seconds(SAME_CHOICE_SECS);
        subscription_choice::Entity::delete_many()
            .filter(this(sea_orm::Condition::all()))
            .filter(subscription_choice::Column::CreatedAt.lt(window))
            .exec(txn)
            .await?;
        let reported = subscription_choice::Entity::find()
            .filter(this(sea_orm::Condition::all()))
            .filter(subscription_choice::Column::Status.eq(effect.status))
            .filter(subscription_choice::Column::Source.ne(source.as_str()))
            .order_by_asc(subscription_choice::Column::CreatedAt)
            .one(txn)
            .await?;
        if let Some(earlier) = reported {
            subscription_choice::Entity::delete_by_id(earlier.id)
                .exec(txn)
                .await?;
            tracing::info!(
                source = source.as_str(),
                kind = template.kind.as_str(),
                "subscribe choice already reported by the other source"
            );
            return Ok(false);
        }
        subscription_choice::Entity::insert(subscription_choice::ActiveModel {
            id: Set(Uuid::new_v4()),
            person_id: Set(person_id),
            app: Set(app.as_str().to_owned()),
            template_id: Set(template.id.clone()),
            status: Set(effect.status.to_owned()),
            source: Set(source.as_str().to_owned()),
            created_at: Set(now),
        })
        .exec_without_returning(txn)
        .await?;
    }
    let mut update = subscription::Entity::update_many()
        .col_expr(subscription::Column::Status, Expr::value(effect.status))
        .filter(subscription::Column::PersonId.eq(person_id))
        .filter(subscription::Column::App.eq(app.as_str()))
        .filter(subscription::Column::TemplateId.eq(&template.id));
    if effect.add_credit && template.mode == Mode::OneTime {
        update = update.col_expr(
            subscription::Column::Credits,
            Expr::col(subscription::Column::Credits).add(1),
        );
    }
    update.exec(txn).await?;
    Ok(true)
}

/// The subscription a message for `template` can go by now: accepted, and long-term or with
/// a credit left.
pub async fn sendable(
    ctx: &Context,
    person_id: Uuid,
    template: &Template,
) -> Result<Option<subscription::Model>> {
    sendable_in(ctx, &ctx.db, person_id, template).await
}

/// [`sendable`], read in `db` (the caller's transaction).
pub async fn sendable_in<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: Uuid,
    template: &Template,
) -> Result<Option<subscription::Model>> {
    let mut query = subscription::Entity::find()
        .filter(subscription::Column::PersonId.eq(person_id))
        .filter(subscription::Column::App.eq(ctx.settings.subscribe.app.as_str()))
        .filter(subscription::Column::TemplateId.eq(&template.id))
        .filter(subscription::Column::Status.eq(ACCEPT));
    if template.mode == Mode::OneTime {
        query = query.filter(subscription::Column::Credits.gt(0));
    }
    Ok(query.one(db).await?)
}

/// Spends one credit of a one-time subscription at `now`; never below zero. Answers whether
/// one was left to spend.
pub async fn spend_credit<C: ConnectionTrait>(
    db: &C,
    subscription_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let spent = subscription::Entity::update_many()
        .col_expr(
            subscription::Column::Credits,
            Expr::col(subscription::Column::Credits).sub(1),
        )
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(subscription_id))
        .filter(subscription::Column::Credits.gt(0))
        .exec(db)
        .await?
        .rows_affected;
    Ok(spent == 1)
}

/// The platform refused a message (43101): the user has turned the template off or has no
/// subscription left. A one-time credit is spent all the same; a long-term subscription is
/// off until accepted again.
pub async fn refused<C: ConnectionTrait>(
    db: &C,
    template: &Template,
    row: &subscription::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    match template.mode {
        Mode::OneTime => {
            spend_credit(db, row.id, now).await?;
        }
        Mode::LongTerm => {
            subscription::Entity::update_many()
                .col_expr(subscription::Column::Status, Expr::value(REJECT))
                .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
                .filter(subscription::Column::Id.eq(row.id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// Deletes the person's subscriptions and pending choices (account closure). Answers how
/// many subscriptions went.
pub async fn delete_all<C: ConnectionTrait>(db: &C, person_id: Uuid) -> Result<u64> {
    subscription_choice::Entity::delete_many()
        .filter(subscription_choice::Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    Ok(subscription::Entity::delete_many()
        .filter(subscription::Column::PersonId.eq(person_id))
        .exec(db)
        .await?
        .rows_affected)
}
