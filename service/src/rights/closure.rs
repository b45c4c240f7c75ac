//! Closing an account (PIPL art. 47): in one transaction, everything no law requires us to
//! keep is deleted, active grants are revoked (and logged), and what must be kept stays:
//! the issued permit as a public-security record, and the access log and consent records for
//! their retention period. The answer lists both, as facts; the API words them in Chinese.
//!
//! The person row (sealed name and ID number) stays only while a permit is kept, since the
//! permit record is theirs; binding the identity again from a new login finds it again.
//! The chat links of the deleted logins go with them, and the answer lists them (masked).

use chrono::{Days, NaiveDate, Utc};
use entity::statuses::RequestStatus;
use entity::{
    access_log_entry, account, application, authorization, authorization_request, card_order,
    face_verification, idempotency_key, material, outbox, permit, permit_version, person,
    refresh_token, session,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};
use std::collections::BTreeSet;
use uuid::Uuid;

use crate::Context;
use crate::applying::materials;
use crate::consent::grants;
use crate::error::Result;
use crate::identity::chat_links::{self, ChatLinkView};
use crate::identity::sessions::ResidentPrincipal;

/// What closing deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased {
    /// The logins (mini-program accounts) bound to the identity or sharing its unionid.
    Logins,
    /// Their sessions and refresh tokens.
    Sessions,
    ContactEmail,
    PendingRequests,
    MaterialFiles,
    /// Applications that did not lead to a permit (open or rejected).
    Applications,
    Notices,
    /// What the person accepted for the mini-program's subscribe messages.
    Subscriptions,
    /// Saved answers for `Idempotency-Key` replays.
    SavedAnswers,
    /// The identity binding itself (name and ID number), when no permit is kept.
    Identity,
    /// Face verifications started by the logins or for the person's ID number.
    FaceVerifications,
    /// Chat users (of the bot) linked to the logins, with their unused binding codes.
    ChatLinks,
}

/// What closing kept, and why, as a kind the API explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retained {
    /// The permit, its signed versions, the identity and the application it was issued on.
    Permit,
    CardOrders,
    /// Decided authorization requests and grants (now revoked).
    ConsentRecords,
    AccessLog,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count<T> {
    pub what: T,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub what: Retained,
    pub count: u64,
    /// The last day it is kept; `None` when kept as a public-security record without a
    /// date set by us.
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub deleted: Vec<Count<Erased>>,
    pub kept: Vec<Kept>,
    pub revoked_authorizations: u64,
    /// How many days access-log entries are kept (for the explanation).
    pub access_log_days: u32,
    /// The chat links deleted with the logins.
    pub chat_links: Vec<ChatLinkView>,
}

/// Closes the account of this login and the identity behind it.
pub async fn close(ctx: &Context, principal: &ResidentPrincipal) -> Result<Closure> {
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    // Write first: on SQLite a transaction that reads before it writes can fail to upgrade.
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(session::Column::Id.eq(principal.session_id))
        .exec(&txn)
        .await?;
    let mut deleted = Vec::new();
    let mut note = |what: Erased, count: u64| {
        if count > 0 {
            deleted.push(Count { what, count });
        }
    };
    let logins = delete_logins(&txn, principal).await?;
    let chat_links = logins.chat_links;
    note(Erased::Logins, logins.accounts);
    note(Erased::Sessions, logins.sessions);
    note(Erased::ChatLinks, chat_links.len() as u64);
    let verifications = logins.verifications;
    let logins = logins.accounts;
    let Some(person_id) = principal.person_id else {
        note(Erased::FaceVerifications, verifications);
        txn.commit().await?;
        tracing::info!(account_id = %principal.account_id, "unbound account closed");
        return Ok(Closure {
            deleted,
            kept: vec![],
            revoked_authorizations: 0,
            access_log_days: ctx.settings.retention.access_log_days,
            chat_links,
        });
    };

    let email = person::Entity::update_many()
        .col_expr(
            person::Column::EmailEnc,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .filter(person::Column::Id.eq(person_id))
        .filter(person::Column::EmailEnc.is_not_null())
        .exec(&txn)
        .await?
        .rows_affected;
    note(Erased::ContactEmail, email);
    person::Entity::update_many()
        .col_expr(person::Column::RemindersEnabled, Expr::value(false))
        .col_expr(person::Column::UpdatedAt, Expr::value(now))
        .filter(person::Column::Id.eq(person_id))
        .exec(&txn)
        .await?;

    let revoked = revoke_grants(&txn, person_id, now).await?;
    let pending = authorization_request::Entity::delete_many()
        .filter(authorization_request::Column::PersonId.eq(person_id))
        .filter(authorization_request::Column::Status.eq(RequestStatus::Pending))
        .exec(&txn)
        .await?
        .rows_affected;
    note(Erased::PendingRequests, pending);
    let notices = outbox::Entity::delete_many()
        .filter(outbox::Column::PersonId.eq(person_id))
        .exec(&txn)
        .await?
        .rows_affected;
    note(Erased::Notices, notices);
    let subscriptions = crate::notices::subscriptions::delete_all(&txn, person_id).await?;
    note(Erased::Subscriptions, subscriptions);
    let saved = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Scope.starts_with(format!("person:{person_id}:")))
        .exec(&txn)
        .await?
        .rows_affected;
    note(Erased::SavedAnswers, saved);
    // Sessions other logins started for this person's number hold the person's name too.
    let blind: Option<String> = person::Entity::find_by_id(person_id)
        .select_only()
        .column(person::Column::IdNumberBlind)
        .into_tuple()
        .one(&txn)
        .await?;
    let others = match blind {
        Some(blind) => {
            face_verification::Entity::delete_many()
                .filter(face_verification::Column::IdNumberBlind.eq(blind))
                .exec(&txn)
                .await?
                .rows_affected
        }
        None => 0,
    };
    note(Erased::FaceVerifications, verifications + others);

    let apps = application::Entity::find()
        .filter(application::Column::PersonId.eq(person_id))
        .all(&txn)
        .await?;
    let app_ids: Vec<Uuid> = apps.iter().map(|a| a.id).collect();
    let materials = material::Entity::find()
        .filter(material::Column::ApplicationId.is_in(app_ids))
        .all(&txn)
        .await?;
    note(
        Erased::MaterialFiles,
        materials::purge_material_files(ctx, &txn, &materials).await?,
    );
    let unissued: Vec<Uuid> = apps
        .iter()
        .filter(|a| a.permit_id.is_none())
        .map(|a| a.id)
        .collect();
    material::Entity::delete_many()
        .filter(material::Column::ApplicationId.is_in(unissued.clone()))
        .exec(&txn)
        .await?;
    let removed_apps = application::Entity::delete_many()
        .filter(application::Column::Id.is_in(unissued))
        .exec(&txn)
        .await?
        .rows_affected;
    note(Erased::Applications, removed_apps);

    let log_until = ctx
        .clock
        .today()
        .checked_add_days(Days::new(u64::from(ctx.settings.retention.access_log_days)))
        .unwrap_or(NaiveDate::MAX);
    let mut kept = Vec::new();
    let permits: Vec<Uuid> = permit::Entity::find()
        .select_only()
        .column(permit::Column::Id)
        .filter(permit::Column::PersonId.eq(person_id))
        .into_tuple()
        .all(&txn)
        .await?;
    if permits.is_empty() {
        // Nothing refers to the identity any more: it goes too.
        let gone = person::Entity::delete_by_id(person_id)
            .exec(&txn)
            .await?
            .rows_affected;
        note(Erased::Identity, gone);
    } else {
        let versions = permit_version::Entity::find()
            .filter(permit_version::Column::PermitId.is_in(permits.clone()))
            .count(&txn)
            .await?;
        kept.push(Kept {
            what: Retained::Permit,
            count: versions,
            until: None,
        });
        let orders = card_order::Entity::find()
            .filter(card_order::Column::PersonId.eq(person_id))
            .count(&txn)
            .await?;
        if orders > 0 {
            kept.push(Kept {
                what: Retained::CardOrders,
                count: orders,
                until: None,
            });
        }
    }
    let consent_records = authorization_request::Entity::find()
        .filter(authorization_request::Column::PersonId.eq(person_id))
        .count(&txn)
        .await?
        + authorization::Entity::find()
            .filter(authorization::Column::PersonId.eq(person_id))
            .count(&txn)
            .await?;
    if consent_records > 0 {
        kept.push(Kept {
            what: Retained::ConsentRecords,
            count: consent_records,
            until: Some(log_until),
        });
    }
    let entries = access_log_entry::Entity::find()
        .filter(access_log_entry::Column::PersonId.eq(person_id))
        .count(&txn)
        .await?;
    if entries > 0 {
        kept.push(Kept {
            what: Retained::AccessLog,
            count: entries,
            until: Some(log_until),
        });
    }
    txn.commit().await?;
    tracing::info!(
        %person_id,
        logins,
        revoked,
        kept = kept.len(),
        "account closed"
    );
    Ok(Closure {
        deleted,
        kept,
        revoked_authorizations: revoked,
        access_log_days: ctx.settings.retention.access_log_days,
        chat_links,
    })
}

/// What deleting the logins deleted.
struct DeletedLogins {
    accounts: u64,
    sessions: u64,
    verifications: u64,
    chat_links: Vec<ChatLinkView>,
}

/// Deletes this login, every login bound to the same person and every login sharing a
/// unionid with them, with their sessions, refresh tokens, face verifications and chat links.
async fn delete_logins(
    txn: &DatabaseTransaction,
    principal: &ResidentPrincipal,
) -> Result<DeletedLogins> {
    let mut bound = Condition::any().add(account::Column::Id.eq(principal.account_id));
    if let Some(person_id) = principal.person_id {
        bound = bound.add(account::Column::PersonId.eq(person_id));
    }
    let accounts = account::Entity::find().filter(bound).all(txn).await?;
    let unionids: BTreeSet<String> = accounts.iter().filter_map(|a| a.unionid.clone()).collect();
    let mut ids: BTreeSet<Uuid> = accounts.iter().map(|a| a.id).collect();
    if !unionids.is_empty() {
        let siblings: Vec<Uuid> = account::Entity::find()
            .select_only()
            .column(account::Column::Id)
            .filter(account::Column::Unionid.is_in(unionids))
            .filter(
                Condition::any()
                    .add(account::Column::PersonId.is_null())
                    .add(account::Column::PersonId.eq(principal.person_id)),
            )
            .into_tuple()
            .all(txn)
            .await?;
        ids.extend(siblings);
    }
    let sessions: Vec<Uuid> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::AccountId.is_in(ids.clone()))
        .into_tuple()
        .all(txn)
        .await?;
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::SessionId.is_in(sessions.clone()))
        .exec(txn)
        .await?;
    let removed_sessions = session::Entity::delete_many()
        .filter(session::Column::Id.is_in(sessions))
        .exec(txn)
        .await?
        .rows_affected;
    let removed_verifications = face_verification::Entity::delete_many()
        .filter(face_verification::Column::AccountId.is_in(ids.clone()))
        .exec(txn)
        .await?
        .rows_affected;
    let ids: Vec<Uuid> = ids.into_iter().collect();
    let chat_links = chat_links::links_of(txn, &ids).await?;
    chat_links::delete_for_accounts(txn, &ids).await?;
    let removed_accounts = account::Entity::delete_many()
        .filter(account::Column::Id.is_in(ids))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(DeletedLogins {
        accounts: removed_accounts,
        sessions: removed_sessions,
        verifications: removed_verifications,
        chat_links,
    })
}

/// Revokes every grant still in force, each revocation in the access log.
async fn revoke_grants(
    txn: &DatabaseTransaction,
    person_id: Uuid,
    now: chrono::DateTime<Utc>,
) -> Result<u64> {
    let active = authorization::Entity::find()
        .filter(authorization::Column::PersonId.eq(person_id))
        .filter(authorization::Column::RevokedAt.is_null())
        .filter(authorization::Column::ExpiresAt.gt(now))
        .all(txn)
        .await?;
    for grant in &active {
        grants::withdraw(txn, person_id, grant, now, Some("account_closed")).await?;
    }
    Ok(active.len() as u64)
}
