//! The person's own data, all of it, as one JSON document (PIPL art. 45): the logins linked to
//! the identity and their sessions, the identity binding, contact settings, applications with
//! material metadata and review notes, permits with every signed version, card orders,
//! authorization requests with the consent text shown, grants, notices, subscribe-message
//! subscriptions, the face verifications started by the logins or for the person's number,
//! and the access log.
//! It is the holder's own copy, so nothing is masked.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use entity::statuses::{CardOrderStatus, OutboxStatus};
use entity::{
    account, application, authorization, authorization_request, card_order, card_payment,
    face_verification, outbox, permit, permit_version, person, session,
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use crate::Context;
use crate::applying::applications::{self, ApplicationView};
use crate::consent::access_log::{self, ChainCheck, EntryView};
use crate::consent::agencies;
use crate::consent::consents::{self, RequestView};
use crate::consent::grants::{self, GrantView};
use crate::error::{Refusal, Result};
use crate::identity::chat_links::{self, ChatLinkView};
use crate::identity::sessions::ResidentPrincipal;
use crate::keys::privacy::Kind;
use crate::notices::outbox::{Notice, open_notice};
use crate::notices::subscriptions::SubscriptionView;
use crate::permit::fees::PaymentView;
use crate::permit::permits::{self, SignedDocument};

pub const FORMAT: &str = "yueju-export-v1";

#[derive(Debug, Serialize)]
pub struct Export {
    pub format: &'static str,
    pub exported_at: DateTime<Utc>,
    pub accounts: Vec<AccountExport>,
    pub identity: Option<IdentityExport>,
    pub contact: Option<ContactExport>,
    pub applications: Vec<ApplicationExport>,
    pub permits: Vec<PermitExport>,
    pub card_orders: Vec<CardOrderExport>,
    pub authorization_requests: Vec<RequestView>,
    pub authorizations: Vec<GrantExport>,
    pub notices: Vec<NoticeExport>,
    /// What was accepted for the mini-program's subscribe messages.
    pub subscriptions: Vec<SubscriptionView>,
    pub face_verifications: Vec<FaceVerificationExport>,
    /// Chat users of the bot linked to the logins (masked ids, no codes).
    pub chat_links: Vec<ChatLinkView>,
    pub access_log: AccessLogExport,
}

#[derive(Debug, Serialize)]
pub struct AccountExport {
    pub id: Uuid,
    pub app: String,
    pub openid: String,
    pub unionid: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: DateTime<Utc>,
    /// How the binding of this login was proven (`wx_face`, `gov_data`), and when.
    pub identity_assurance: Option<String>,
    pub identity_bound_at: Option<DateTime<Utc>>,
    pub sessions: Vec<SessionExport>,
}

#[derive(Debug, Serialize)]
pub struct SessionExport {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct IdentityExport {
    pub name: String,
    pub id_number: String,
    pub bound_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct ContactExport {
    pub email: Option<String>,
    pub reminders_enabled: bool,
}

#[derive(Debug, Serialize)]
pub struct ApplicationExport {
    #[serde(flatten)]
    pub application: ApplicationView,
    pub review_note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PermitExport {
    pub permit_no: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    pub photo: Option<PhotoExport>,
    /// Every signed version, oldest first, verifiable with `GET /api/v1/keys`.
    pub versions: Vec<VersionExport>,
}

#[derive(Debug, Serialize)]
pub struct PhotoExport {
    pub mime: String,
    pub base64: String,
}

#[derive(Debug, Serialize)]
pub struct VersionExport {
    pub created_at: DateTime<Utc>,
    #[serde(flatten)]
    pub signed: SignedDocument,
}

#[derive(Debug, Serialize)]
pub struct CardOrderExport {
    pub id: Uuid,
    pub permit_no: Option<String>,
    pub pickup_station: String,
    pub fee_cents: i64,
    pub status: CardOrderStatus,
    /// The payment notice of a fee, and when it was paid.
    pub payment: Option<PaymentView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct GrantExport {
    #[serde(flatten)]
    pub grant: GrantView,
    /// SHA-256 of the exact consent text agreed to.
    pub consent_sha256: String,
}

#[derive(Debug, Serialize)]
pub struct NoticeExport {
    pub kind: String,
    pub status: OutboxStatus,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// What carried it: `subscribe`, `wechat` or `email`.
    pub channel: Option<String>,
    pub notice: Notice,
}

/// A face verification (人脸核身) started with the platform.
#[derive(Debug, Serialize)]
pub struct FaceVerificationExport {
    /// The login that started it, when it is one of the person's own.
    pub account_id: Option<Uuid>,
    pub app: String,
    pub name: String,
    pub id_number: String,
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub verify_ret: Option<i32>,
}

#[derive(Debug, Serialize)]
pub struct AccessLogExport {
    pub entries: Vec<EntryView>,
    pub check: ChainCheck,
}

/// Everything held about the person behind this login (or, before binding, about the login).
pub async fn export(ctx: &Context, principal: &ResidentPrincipal) -> Result<Export> {
    let db = &ctx.db;
    let now = ctx.clock.now();
    let accounts = match principal.person_id {
        Some(person_id) => {
            account::Entity::find()
                .filter(
                    Condition::any()
                        .add(account::Column::PersonId.eq(person_id))
                        .add(account::Column::Id.eq(principal.account_id)),
                )
                .order_by_asc(account::Column::CreatedAt)
                .all(db)
                .await?
        }
        None => account::Entity::find_by_id(principal.account_id)
            .one(db)
            .await?
            .into_iter()
            .collect(),
    };
    let mut account_exports = Vec::with_capacity(accounts.len());
    for a in accounts {
        let sessions = session::Entity::find()
            .filter(session::Column::AccountId.eq(a.id))
            .order_by_asc(session::Column::CreatedAt)
            .all(db)
            .await?
            .into_iter()
            .map(|s| SessionExport {
                id: s.id,
                created_at: s.created_at,
                revoked_at: s.revoked_at,
            })
            .collect();
        account_exports.push(AccountExport {
            id: a.id,
            app: a.app,
            openid: a.openid,
            unionid: a.unionid,
            created_at: a.created_at,
            last_login_at: a.last_login_at,
            identity_assurance: a.identity_assurance,
            identity_bound_at: a.identity_bound_at,
            sessions,
        });
    }
    let account_ids: Vec<Uuid> = account_exports.iter().map(|a| a.id).collect();
    let mut out = Export {
        format: FORMAT,
        exported_at: now,
        accounts: account_exports,
        identity: None,
        contact: None,
        applications: vec![],
        permits: vec![],
        card_orders: vec![],
        authorization_requests: vec![],
        authorizations: vec![],
        notices: vec![],
        subscriptions: vec![],
        face_verifications: vec![],
        chat_links: chat_links::links_of(db, &account_ids).await?,
        access_log: AccessLogExport {
            entries: vec![],
            check: access_log::check_rows(&[], &access_log::Anchor::default()),
        },
    };
    let Some(person_id) = principal.person_id else {
        out.face_verifications = face_verifications(ctx, &account_ids, None).await?;
        return Ok(out);
    };
    let person = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .ok_or(Refusal::Unauthenticated)?;
    out.face_verifications =
        face_verifications(ctx, &account_ids, Some(&person.id_number_blind)).await?;
    out.identity = Some(IdentityExport {
        name: ctx.vault.open_string(Kind::Name, &person.name_enc)?,
        id_number: ctx
            .vault
            .open_string(Kind::IdNumber, &person.id_number_enc)?,
        bound_at: person.created_at,
    });
    out.contact = Some(ContactExport {
        email: person
            .email_enc
            .as_ref()
            .map(|e| ctx.vault.open_string(Kind::Email, e))
            .transpose()?,
        reminders_enabled: person.reminders_enabled,
    });

    for row in application::Entity::find()
        .filter(application::Column::PersonId.eq(person_id))
        .order_by_asc(application::Column::CreatedAt)
        .all(db)
        .await?
    {
        out.applications.push(ApplicationExport {
            review_note: row
                .review_note_enc
                .as_ref()
                .map(|n| ctx.vault.open_string(Kind::Note, n))
                .transpose()?,
            application: applications::view_of(ctx, db, &row).await?,
        });
    }

    let permits = permit::Entity::find()
        .filter(permit::Column::PersonId.eq(person_id))
        .order_by_asc(permit::Column::CreatedAt)
        .all(db)
        .await?;
    for p in &permits {
        let mut versions = Vec::new();
        for v in permit_version::Entity::find()
            .filter(permit_version::Column::PermitId.eq(p.id))
            .order_by_asc(permit_version::Column::Version)
            .all(db)
            .await?
        {
            versions.push(VersionExport {
                created_at: v.created_at,
                signed: permits::signed_document(ctx, &v)?,
            });
        }
        let photo = match (&p.photo_enc, &p.photo_mime) {
            (Some(sealed), Some(mime)) => Some(PhotoExport {
                mime: mime.clone(),
                base64: base64::engine::general_purpose::STANDARD
                    .encode(ctx.vault.open(Kind::Photo, sealed)?),
            }),
            _ => None,
        };
        out.permits.push(PermitExport {
            permit_no: p.permit_no.clone(),
            created_at: p.created_at,
            revoked_at: p.revoked_at,
            revoke_reason: p
                .revoke_reason_enc
                .as_ref()
                .map(|r| ctx.vault.open_string(Kind::Note, r))
                .transpose()?,
            photo,
            versions,
        });
    }
    let permit_no = |id: Uuid| {
        permits
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.permit_no.clone())
    };
    let orders = card_order::Entity::find()
        .filter(card_order::Column::PersonId.eq(person_id))
        .order_by_asc(card_order::Column::CreatedAt)
        .all(db)
        .await?;
    let mut payments = card_payment::Entity::find()
        .filter(card_payment::Column::OrderId.is_in(orders.iter().map(|o| o.id)))
        .all(db)
        .await?;
    out.card_orders = orders
        .into_iter()
        .map(|o| CardOrderExport {
            id: o.id,
            permit_no: permit_no(o.permit_id),
            pickup_station: o.pickup_station,
            fee_cents: o.fee_cents,
            status: o.status,
            payment: payments
                .iter()
                .position(|p| p.order_id == o.id)
                .map(|i| PaymentView::from(payments.swap_remove(i))),
            created_at: o.created_at,
            updated_at: o.updated_at,
        })
        .collect();

    let requests = authorization_request::Entity::find()
        .filter(authorization_request::Column::PersonId.eq(person_id))
        .order_by_asc(authorization_request::Column::CreatedAt)
        .all(db)
        .await?;
    out.authorization_requests = agencies::with_agencies(db, requests, |r| r.agency_id)
        .await?
        .iter()
        .map(|(agency, r)| consents::request_view(agency, r, now))
        .collect();
    let grants = authorization::Entity::find()
        .filter(authorization::Column::PersonId.eq(person_id))
        .order_by_asc(authorization::Column::CreatedAt)
        .all(db)
        .await?;
    out.authorizations = agencies::with_agencies(db, grants, |g| g.agency_id)
        .await?
        .into_iter()
        .map(|(agency, g)| GrantExport {
            grant: grants::grant_view(&agency, &g, now),
            consent_sha256: g.consent_sha256,
        })
        .collect();

    for n in outbox::Entity::find()
        .filter(outbox::Column::PersonId.eq(person_id))
        .order_by_asc(outbox::Column::CreatedAt)
        .all(db)
        .await?
    {
        out.notices.push(NoticeExport {
            notice: open_notice(ctx, &n)?,
            kind: n.kind,
            status: n.status,
            created_at: n.created_at,
            sent_at: n.sent_at,
            channel: n.channel,
        });
    }
    out.subscriptions = crate::notices::subscriptions::list(ctx, principal)
        .await?
        .items;

    let mut after = 0;
    loop {
        let page = access_log::list(db, person_id, after, 500).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        out.access_log.entries.extend(page);
    }
    out.access_log.check = access_log::check(db, person_id).await?;
    tracing::info!(
        %person_id,
        account_id = %principal.account_id,
        applications = out.applications.len(),
        permits = out.permits.len(),
        access_log = out.access_log.entries.len(),
        "personal data exported to its holder"
    );
    Ok(out)
}

/// The face verifications the person's logins started, and those any login started for the
/// person's ID number (without saying which other login that was).
async fn face_verifications(
    ctx: &Context,
    account_ids: &[Uuid],
    id_number_blind: Option<&str>,
) -> Result<Vec<FaceVerificationExport>> {
    let mut whose = Condition::any()
        .add(face_verification::Column::AccountId.is_in(account_ids.iter().copied()));
    if let Some(blind) = id_number_blind {
        whose = whose.add(face_verification::Column::IdNumberBlind.eq(blind));
    }
    let rows = face_verification::Entity::find()
        .filter(whose)
        .order_by_asc(face_verification::Column::CreatedAt)
        .all(&ctx.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(FaceVerificationExport {
            account_id: account_ids
                .contains(&row.account_id)
                .then_some(row.account_id),
            app: row.app,
            name: ctx.vault.open_string(Kind::Name, &row.name_enc)?,
            id_number: ctx.vault.open_string(Kind::IdNumber, &row.id_number_enc)?,
            started_at: row.created_at,
            expires_at: row.expires_at,
            used_at: row.used_at,
            outcome: row.outcome,
            verify_ret: row.verify_ret,
        });
    }
    Ok(out)
}
