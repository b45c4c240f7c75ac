//! Real-name binding: a login becomes the person whose household-registration record matches
//! the name and ID number given, and the resident's own view and contact settings.
//!
//! Outside dev mode the platform's face verification must stand behind the binding
//! ([`crate::identity::face_verification`]); in dev mode the government-data match alone is accepted.
//! Each binding records how it was proven ([`Assurance`]).

use chrono::{NaiveDate, Utc};
use entity::{account, person};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, EntityTrait,
    QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use crate::Context;
use crate::domain::IdNumber;
use crate::error::{FieldProblem, Refusal, Result, invalid};
use crate::identity::face_verification;
use crate::identity::sessions::ResidentPrincipal;
use crate::keys::privacy::{Kind, mask_id_number, mask_name};

const MAX_NAME_CHARS: usize = 50;
const MAX_EMAIL_CHARS: usize = 254;

/// How strongly a binding was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assurance {
    /// The platform's face verification 2.0 matched the holder's face to the identity.
    WxFace,
    /// Only the name and number matched the government data (dev mode).
    GovData,
}

impl Assurance {
    pub fn as_str(self) -> &'static str {
        match self {
            Assurance::WxFace => "wx_face",
            Assurance::GovData => "gov_data",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Bound {
    pub person_id: Uuid,
    pub masked_id_number: String,
    pub assurance: Assurance,
}

/// Binds the login to the person named. With `verify_id`, the platform's face verification
/// of that session must have passed for this login, name and number; without it, only dev
/// mode binds (on the government-data match alone).
pub async fn bind(
    ctx: &Context,
    principal: &ResidentPrincipal,
    name: &str,
    id_number: &str,
    verify_id: Option<&str>,
) -> Result<Bound> {
    // Before anything is looked up: in prod the endpoint must not tell, without a face,
    // whether a name and a number belong together.
    if verify_id.is_none() && !ctx.settings.is_dev() {
        return Err(Refusal::FaceVerificationRequired.into());
    }
    let (name, id) = parse_claim(name, id_number, ctx.clock.today())?;
    let (person_id, assurance) = match verify_id {
        Some(verify_id) => (
            face_verification::bind(ctx, principal, &name, &id, verify_id).await?,
            Assurance::WxFace,
        ),
        None => {
            let household = match_household(ctx, &name, &id).await?;
            let txn = ctx.db.begin().await?;
            let person_id = bind_verified(
                ctx,
                &txn,
                principal.account_id,
                &id,
                &household,
                Assurance::GovData,
            )
            .await?;
            txn.commit().await?;
            (person_id, Assurance::GovData)
        }
    };
    tracing::info!(
        account_id = %principal.account_id,
        %person_id,
        assurance = assurance.as_str(),
        "identity bound"
    );
    Ok(Bound {
        person_id,
        masked_id_number: id.masked(),
        assurance,
    })
}

/// A name and number as the resident typed them, checked for shape (a birth date after
/// `today` is refused).
pub(crate) fn parse_claim(
    name: &str,
    id_number: &str,
    today: NaiveDate,
) -> Result<(String, IdNumber)> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("name", FieldProblem::Empty));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid("name", FieldProblem::TooLong));
    }
    Ok((name.to_owned(), IdNumber::parse_at(id_number, today)?))
}

/// The household record's name, when the name given is the one recorded for the number.
pub(crate) async fn match_household(ctx: &Context, name: &str, id: &IdNumber) -> Result<String> {
    // Whether the number is unknown or the name differs, the answer is the same, so the
    // endpoint cannot be used to learn whose numbers exist.
    let household = ctx
        .gov
        .household(id)
        .await?
        .ok_or(Refusal::IdentityMismatch)?;
    if household.name != name {
        return Err(Refusal::IdentityMismatch.into());
    }
    Ok(household.name)
}

/// Links the account (and the logins sharing its unionid) to the person with this ID number,
/// creating the person when first seen, and records how the binding was proven. Refuses when
/// the account is bound to someone else; a face verification of the person already bound
/// raises the binding's assurance.
pub async fn bind_verified(
    ctx: &Context,
    txn: &DatabaseTransaction,
    account_id: Uuid,
    id: &IdNumber,
    name: &str,
    assurance: Assurance,
) -> Result<Uuid> {
    let now = ctx.clock.now();
    let blind = ctx.vault.blind_index(Kind::IdNumber, id.as_str());
    person::Entity::insert(person::ActiveModel {
        id: Set(Uuid::new_v4()),
        id_number_blind: Set(blind.clone()),
        id_number_enc: Set(ctx.vault.seal_str(Kind::IdNumber, id.as_str())?),
        name_enc: Set(ctx.vault.seal_str(Kind::Name, name)?),
        email_enc: Set(None),
        reminders_enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(person::Column::IdNumberBlind)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let person = person::Entity::find()
        .filter(person::Column::IdNumberBlind.eq(&blind))
        .one(txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("person vanished after insert"))?;
    let account = account::Entity::find_by_id(account_id)
        .one(txn)
        .await?
        .ok_or(Refusal::Unauthenticated)?;
    let mut same_login = Condition::any().add(account::Column::Id.eq(account_id));
    if let Some(unionid) = &account.unionid {
        same_login = same_login.add(account::Column::Unionid.eq(unionid.as_str()));
    }
    match account.person_id {
        Some(existing) if existing == person.id => {
            if assurance == Assurance::WxFace {
                account::Entity::update_many()
                    .col_expr(
                        account::Column::IdentityAssurance,
                        Expr::value(assurance.as_str()),
                    )
                    .filter(same_login)
                    .filter(account::Column::PersonId.eq(person.id))
                    .exec(txn)
                    .await?;
            }
            return Ok(person.id);
        }
        Some(_) => return Err(Refusal::IdentityAlreadyBound.into()),
        None => {}
    }
    account::Entity::update_many()
        .col_expr(account::Column::PersonId, Expr::value(person.id))
        .col_expr(
            account::Column::IdentityAssurance,
            Expr::value(assurance.as_str()),
        )
        .col_expr(account::Column::IdentityBoundAt, Expr::value(now))
        .filter(same_login)
        .filter(account::Column::PersonId.is_null())
        .exec(txn)
        .await?;
    Ok(person.id)
}

/// What `GET /api/v1/me` shows: the login, the binding (masked) and contact settings.
#[derive(Debug, Clone)]
pub struct Me {
    pub account_id: Uuid,
    pub app: String,
    pub created_at: chrono::DateTime<Utc>,
    pub identity: Option<IdentityView>,
    /// How the binding was proven; none while unbound.
    pub assurance: Option<String>,
    pub email: Option<String>,
    pub reminders_enabled: bool,
}

#[derive(Debug, Clone)]
pub struct IdentityView {
    pub masked_id_number: String,
    pub masked_name: String,
}

pub async fn me(ctx: &Context, principal: &ResidentPrincipal) -> Result<Me> {
    let (account, person) = account::Entity::find_by_id(principal.account_id)
        .find_also_related(person::Entity)
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::Unauthenticated)?;
    let mut me = Me {
        account_id: account.id,
        app: account.app,
        created_at: account.created_at,
        identity: None,
        assurance: None,
        email: None,
        reminders_enabled: false,
    };
    if let Some(p) = person {
        me.assurance = account.identity_assurance;
        me.identity = Some(IdentityView {
            masked_id_number: mask_id_number(
                &ctx.vault.open_string(Kind::IdNumber, &p.id_number_enc)?,
            ),
            masked_name: mask_name(&ctx.vault.open_string(Kind::Name, &p.name_enc)?),
        });
        me.email = p
            .email_enc
            .map(|e| ctx.vault.open_string(Kind::Email, &e))
            .transpose()?;
        me.reminders_enabled = p.reminders_enabled;
    }
    Ok(me)
}

/// A change to contact settings; `email: Some(None)` clears the address.
#[derive(Debug, Default, Clone)]
pub struct ContactChange {
    pub email: Option<Option<String>>,
    pub reminders_enabled: Option<bool>,
}

pub async fn update_contact(
    ctx: &Context,
    principal: &ResidentPrincipal,
    change: ContactChange,
) -> Result<Me> {
    let person_id = principal.person()?;
    let email = match change.email {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(Some(validate_email(&raw)?)),
    };
    let Some(person) = person::Entity::find_by_id(person_id).one(&ctx.db).await? else {
        return Err(Refusal::IdentityRequired.into());
    };
    let mut active: person::ActiveModel = person.into();
    if let Some(email) = email {
        active.email_enc = Set(email
            .map(|e| ctx.vault.seal_str(Kind::Email, &e))
            .transpose()?);
    }
    if let Some(enabled) = change.reminders_enabled {
        active.reminders_enabled = Set(enabled);
    }
    active.updated_at = Set(ctx.clock.now());
    active.update(&ctx.db).await?;
    me(ctx, principal).await
}

/// An e-mail address the mailer can send to (lettre's [`Address`](lettre::Address) parses
/// it), on a dotted domain: a bare host such as `a@b` is no resident's mailbox.
pub fn validate_email(raw: &str) -> Result<String> {
    let email = raw.trim();
    if email.is_empty() {
        return Err(invalid("email", FieldProblem::Empty));
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(invalid("email", FieldProblem::TooLong));
    }
    let deliverable = email
        .parse::<lettre::Address>()
        .is_ok_and(|address| address.domain().contains('.'));
    if !deliverable {
        return Err(invalid("email", FieldProblem::BadFormat));
    }
    Ok(email.to_owned())
}
