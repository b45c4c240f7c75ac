//! Resident sessions, OAuth-style: a mini-program login code becomes a short-lived access
//! token and an opaque refresh token. Refresh tokens are stored as SHA-256 hashes, spent on
//! use and replaced; presenting a spent one revokes the whole session (its family), since
//! only a thief or a replay would do that.

use base64::Engine as _;
use chrono::{Duration as ChronoDuration, Utc};
use entity::{account, refresh_token, session};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Context;
use crate::error::{Refusal, Result};
use crate::identity::tokens::Audience;
use crate::identity::wechat::{MiniApp, PlatformUser};
use crate::keys::secrets::random_bytes;

const DEV_CODE_PREFIX: &str = "dev:";

#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

/// A resident's authenticated request: the login, its session and, once bound, the person.
#[derive(Debug, Clone, Copy)]
pub struct ResidentPrincipal {
    pub account_id: Uuid,
    pub session_id: Uuid,
    pub person_id: Option<Uuid>,
}

impl ResidentPrincipal {
    /// The verified person behind this login, or a refusal asking to bind first.
    pub fn person(&self) -> Result<Uuid> {
        self.person_id
            .ok_or_else(|| Refusal::IdentityRequired.into())
    }
}

pub async fn login(ctx: &Context, app: &str, code: &str) -> Result<TokenPair> {
    let app = MiniApp::parse(app).ok_or(Refusal::UnknownApp)?;
    let code = code.trim();
    let user = if let Some(openid) = code.strip_prefix(DEV_CODE_PREFIX) {
        if !ctx.settings.is_dev() {
            return Err(Refusal::DevLoginRefused.into());
        }
        dev_user(openid)?
    } else {
        if code.is_empty() || code.len() > 256 {
            return Err(Refusal::LoginCodeInvalid.into());
        }
        ctx.wechat.code_to_session(app, code).await?
    };
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    let account = upsert_account(&txn, app, &user, now).await?;
    let session_id = Uuid::new_v4();
    session::ActiveModel {
        id: Set(session_id),
        account_id: Set(account.id),
        created_at: Set(now),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let refresh_token = insert_refresh_token(ctx, &txn, session_id).await?;
    txn.commit().await?;
    tracing::info!(account_id = %account.id, app = app.as_str(), "resident logged in");
    token_pair(ctx, account.id, session_id, refresh_token)
}

/// In dev mode `dev:<openid>` logs in without the platform. The same dev openid on both
/// mini-programs shares a unionid, so the two logins link as real ones would.
pub(crate) fn dev_user(openid: &str) -> Result<PlatformUser> {
    let valid = !openid.is_empty()
        && openid.len() <= 64
        && openid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(Refusal::LoginCodeInvalid.into());
    }
    let id = format!("{DEV_CODE_PREFIX}{openid}");
    Ok(PlatformUser {
        openid: id.clone(),
        unionid: Some(id),
    })
}

/// Finds or creates the account of this platform user, keeping its unionid current and
/// linking it to the person already bound to another login with the same unionid. `now`
/// stamps the login.
pub async fn upsert_account(
    txn: &DatabaseTransaction,
    app: MiniApp,
    user: &PlatformUser,
    now: chrono::DateTime<Utc>,
) -> Result<account::Model> {
    // Write first: on SQLite a transaction that reads before it writes can fail to upgrade.
    account::Entity::insert(account::ActiveModel {
        id: Set(Uuid::new_v4()),
        app: Set(app.as_str().into()),
        openid: Set(user.openid.clone()),
        unionid: Set(user.unionid.clone()),
        person_id: Set(None),
        identity_assurance: Set(None),
        identity_bound_at: Set(None),
        created_at: Set(now),
        last_login_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([account::Column::App, account::Column::Openid])
            .update_column(account::Column::LastLoginAt)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let mut account = account::Entity::find()
        .filter(account::Column::App.eq(app.as_str()))
        .filter(account::Column::Openid.eq(&user.openid))
        .one(txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("account vanished after upsert"))?;
    let unionid = user.unionid.clone().or_else(|| account.unionid.clone());
    let sibling = match (account.person_id, &unionid) {
        (None, Some(u)) => bound_sibling(txn, account.id, u).await?,
        _ => None,
    };
    if unionid != account.unionid || sibling.is_some() {
        let mut active: account::ActiveModel = account.clone().into();
        active.unionid = Set(unionid);
        // The binding of the same WeChat user's other login, as strongly as it was proven.
        if let Some(sibling) = sibling {
            active.person_id = Set(sibling.person_id);
            active.identity_assurance = Set(sibling.identity_assurance);
            active.identity_bound_at = Set(sibling.identity_bound_at);
        }
        account = active.update(txn).await?;
    }
    Ok(account)
}

async fn bound_sibling<C: ConnectionTrait>(
    db: &C,
    account_id: Uuid,
    unionid: &str,
) -> Result<Option<account::Model>> {
    Ok(account::Entity::find()
        .filter(account::Column::Unionid.eq(unionid))
        .filter(account::Column::Id.ne(account_id))
        .filter(account::Column::PersonId.is_not_null())
        .one(db)
        .await?)
}

/// The columns of a table of one-time secrets stored by hash (refresh tokens, binding codes).
pub(crate) struct OneTime<C> {
    pub hash: C,
    pub spent_at: C,
    pub expires_at: C,
}

/// Marks the unspent, unexpired secret with this hash spent at `now`, in one conditional
/// UPDATE, so that of two concurrent spends exactly one succeeds. Answers whether this call
/// spent it.
pub(crate) async fn spend_once<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    columns: OneTime<E::Column>,
    hash: &str,
    now: chrono::DateTime<Utc>,
) -> Result<bool> {
    let spent = E::update_many()
        .col_expr(columns.spent_at, Expr::value(now))
        .filter(columns.hash.eq(hash))
        .filter(columns.spent_at.is_null())
        .filter(columns.expires_at.gt(now))
        .exec(db)
        .await?
        .rows_affected;
    Ok(spent == 1)
}

/// Spends a refresh token and returns a new pair in the same session.
pub async fn refresh(ctx: &Context, presented: &str) -> Result<TokenPair> {
    let presented = presented.trim();
    if presented.is_empty() || presented.len() > 256 {
        return Err(Refusal::RefreshTokenInvalid.into());
    }
    let hash = hash_token(presented);
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    let spent_now = spend_once::<refresh_token::Entity, _>(
        &txn,
        OneTime {
            hash: refresh_token::Column::TokenHash,
            spent_at: refresh_token::Column::SpentAt,
            expires_at: refresh_token::Column::ExpiresAt,
        },
        &hash,
        now,
    )
    .await?;
    let Some((token, Some(sess))) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(&hash))
        .find_also_related(session::Entity)
        .one(&txn)
        .await?
    else {
        return Err(Refusal::RefreshTokenInvalid.into());
    };
    if !spent_now {
        if token.spent_at.is_some() {
            revoke_session(&txn, sess.id, now).await?;
            txn.commit().await?;
            tracing::warn!(session_id = %sess.id, "spent refresh token presented again; session revoked");
            return Err(Refusal::RefreshTokenReused.into());
        }
        return Err(Refusal::RefreshTokenInvalid.into());
    }
    if sess.revoked_at.is_some() {
        return Err(Refusal::RefreshTokenInvalid.into());
    }
    let refresh_token = insert_refresh_token(ctx, &txn, sess.id).await?;
    txn.commit().await?;
    token_pair(ctx, sess.account_id, sess.id, refresh_token)
}

pub async fn logout(ctx: &Context, principal: &ResidentPrincipal) -> Result<()> {
    revoke_session(&ctx.db, principal.session_id, ctx.clock.now()).await?;
    tracing::info!(session_id = %principal.session_id, "resident logged out");
    Ok(())
}

async fn revoke_session<C: ConnectionTrait>(
    db: &C,
    session_id: Uuid,
    now: chrono::DateTime<Utc>,
) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Checks a resident access token and that its session is still open.
pub async fn authenticate(ctx: &Context, bearer: &str) -> Result<ResidentPrincipal> {
    let claims = ctx.tokens.verify(bearer, Audience::Resident)?;
    let session_id = claims.sid.ok_or(Refusal::Unauthenticated)?;
    let found = session::Entity::find_by_id(session_id)
        .filter(
            Condition::all()
                .add(session::Column::AccountId.eq(claims.sub))
                .add(session::Column::RevokedAt.is_null()),
        )
        .find_also_related(account::Entity)
        .one(&ctx.db)
        .await?;
    match found {
        Some((_, Some(account))) => Ok(ResidentPrincipal {
            account_id: account.id,
            session_id,
            person_id: account.person_id,
        }),
        _ => Err(Refusal::Unauthenticated.into()),
    }
}

async fn insert_refresh_token(
    ctx: &Context,
    txn: &DatabaseTransaction,
    session_id: Uuid,
) -> Result<String> {
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    let now = ctx.clock.now();
    let ttl = ChronoDuration::from_std(ctx.settings.refresh_token_ttl)
        .map_err(|e| anyhow::anyhow!("refresh token lifetime out of range: {e}"))?;
    refresh_token::ActiveModel {
        id: Set(Uuid::new_v4()),
        session_id: Set(session_id),
        token_hash: Set(hash_token(&token)),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        spent_at: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(token)
}

fn token_pair(
    ctx: &Context,
    account_id: Uuid,
    session_id: Uuid,
    refresh_token: String,
) -> Result<TokenPair> {
    let ttl = ctx.settings.access_token_ttl;
    let access_token =
        ctx.tokens
            .issue(Audience::Resident, account_id, Some(session_id), None, ttl)?;
    Ok(TokenPair {
        access_token,
        expires_in: ttl.as_secs(),
        refresh_token,
    })
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
