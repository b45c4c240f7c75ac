//! Staff accounts (police-station reviewers and administrators): argon2id password hashes,
//! a bootstrap account from the environment, and role checks.

use anyhow::{Context as _, anyhow};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use entity::staff_user;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use std::net::IpAddr;
use uuid::Uuid;

use crate::Context;
use crate::error::{Refusal, Result};
use crate::identity::lockout;
use crate::identity::tokens::Audience;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Registers agencies, loads government data, and everything a reviewer does.
    Admin,
    /// Reviews applications that need documents.
    Reviewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "reviewer" => Some(Role::Reviewer),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct StaffPrincipal {
    pub staff_id: Uuid,
    pub role: Role,
}

impl StaffPrincipal {
    /// Admins may do everything; a reviewer only what reviewers may.
    pub fn require(&self, role: Role) -> Result<()> {
        if self.role == Role::Admin || self.role == role {
            Ok(())
        } else {
            Err(Refusal::Forbidden.into())
        }
    }
}

#[derive(Debug, Clone)]
pub struct StaffToken {
    pub access_token: String,
    pub expires_in: u64,
}

/// Creates the account when no account has that username; an existing one is left as it is.
pub async fn ensure_account(
    ctx: &Context,
    username: &str,
    password: &str,
    role: Role,
) -> anyhow::Result<()> {
    let hash = hash_password(password.to_owned()).await?;
    staff_user::Entity::insert(staff_user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.to_owned()),
        password_hash: Set(hash),
        role: Set(role.as_str().into()),
        created_at: Set(ctx.clock.now()),
    })
    .on_conflict(
        OnConflict::column(staff_user::Column::Username)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&ctx.db)
    .await
    .context("inserting staff account")?;
    Ok(())
}

/// Logs a staff member in. A username (known or not) or a source address with too many wrong
/// passwords is refused with [`Refusal::TooManyAttempts`] before any hash is computed; a wrong
/// password counts against both, a right one clears the username's count.
pub async fn login(
    ctx: &Context,
    username: &str,
    password: &str,
    source: Option<IpAddr>,
) -> Result<StaffToken> {
    let rules = &ctx.settings.staff_lockout;
    let normalised = username.trim().to_lowercase();
    let mut keys = vec![lockout::Key::new(
        lockout::STAFF_USER,
        &normalised,
        rules.attempts,
    )];
    if let Some(ip) = source {
        keys.push(lockout::Key::new(
            lockout::STAFF_SOURCE,
            &ip.to_string(),
            rules.source_attempts,
        ));
    }
    lockout::check(&ctx.db, &keys, ctx.clock.now()).await?;
    let user = staff_user::Entity::find()
        .filter(staff_user::Column::Username.eq(username.trim()))
        .one(&ctx.db)
        .await?;
    // Verify against a hash even for unknown users, so timing does not tell them apart.
    let stored = match &user {
        Some(u) => u.password_hash.clone(),
        None => dummy_hash().await?,
    };
    let matches = verify_password(password.to_owned(), stored).await?;
    let Some(user) = user.filter(|_| matches) else {
        let locked = lockout::record_failure(&ctx.db, &keys, rules.secs, ctx.clock.now()).await?;
        tracing::info!(?locked, "staff login refused");
        return Err(Refusal::InvalidCredentials.into());
    };
    lockout::clear(&ctx.db, lockout::STAFF_USER, &normalised, ctx.clock.now()).await?;
    let role = Role::parse(&user.role).ok_or_else(|| anyhow!("staff user has unknown role"))?;
    let ttl = ctx.settings.access_token_ttl;
    let access_token = ctx.tokens.issue(
        Audience::Staff,
        user.id,
        None,
        Some(role.as_str().into()),
        ttl,
    )?;
    tracing::info!(staff_id = %user.id, role = role.as_str(), "staff logged in");
    Ok(StaffToken {
        access_token,
        expires_in: ttl.as_secs(),
    })
}

pub fn authenticate(ctx: &Context, bearer: &str) -> Result<StaffPrincipal> {
    let claims = ctx.tokens.verify(bearer, Audience::Staff)?;
    let role = claims
        .scope
        .as_deref()
        .and_then(Role::parse)
        .ok_or(Refusal::Unauthenticated)?;
    Ok(StaffPrincipal {
        staff_id: claims.sub,
        role,
    })
}

async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow!("hashing password: {e}"))
    })
    .await
    .context("password hashing task")?
}

async fn verify_password(password: String, stored: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed =
            PasswordHash::new(&stored).map_err(|e| anyhow!("stored hash unreadable: {e}"))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .context("password verification task")?
}

async fn dummy_hash() -> anyhow::Result<String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash_password("not a real password".into()))
        .await
        .cloned()
}
