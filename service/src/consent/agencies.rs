//! Agencies (用证部门): registered by staff with the scopes and permit fields they may use,
//! authenticated with OAuth client credentials. The client secret is shown once and stored as
//! its SHA-256 (it is 256 random bits, so a slow hash adds nothing); wrong secrets in a row
//! lock the client out for a while ([`crate::identity::lockout`], scope `agency_secret`),
//! which stops brute force across instances because the count lives in the database.

use chrono::Utc;
use entity::agency;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

use crate::Context;
use crate::domain::CreditCode;
use crate::error::{FieldProblem, Refusal, Result, invalid, on_unique};
use crate::identity::lockout;
use crate::identity::tokens::Audience;
use crate::keys::compare::same_secret;
use crate::keys::secrets::random_bytes;
use crate::permit::fields::PermitField;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Verify codes online and see the extra fields the registration allows.
    Verify,
    /// Ask holders for access and download annotated copies.
    Download,
    /// Ask holders for a residence proof (a signed yes or no) instead of the whole copy.
    ResidenceProof,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Verify, Scope::Download, Scope::ResidenceProof];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Verify => "permit:verify",
            Scope::Download => "permit:download",
            Scope::ResidenceProof => "residence:proof",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What staff send to register an agency.
pub struct Registration<'a> {
    pub name: &'a str,
    pub credit_code: &'a str,
    pub contact: &'a str,
    pub scopes: &'a [String],
    pub fields: &'a [String],
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AgencyRegistered)]
pub struct Registered {
    pub id: Uuid,
    pub client_id: String,
    /// Shown once; only its hash is kept.
    pub client_secret: String,
    pub name: String,
    pub credit_code: String,
    pub scopes: Vec<String>,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgencyView {
    pub id: Uuid,
    pub name: String,
    pub credit_code: String,
    pub contact: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub fields: Vec<String>,
    pub created_at: chrono::DateTime<Utc>,
}

/// An authenticated agency, from its access token.
#[derive(Debug, Clone)]
pub struct AgencyPrincipal {
    pub agency_id: Uuid,
    pub scopes: Vec<Scope>,
}

impl AgencyPrincipal {
    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(Refusal::ScopeNotAllowed(scope.as_str().into()).into())
        }
    }
}

#[derive(Debug, Clone)]
pub struct AgencyToken {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: String,
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, FieldProblem::Empty));
    }
    if value.chars().count() > max {
        return Err(invalid(field, FieldProblem::TooLong));
    }
    Ok(value.to_owned())
}

fn parse_scopes(scopes: &[String]) -> Result<Vec<Scope>> {
    let mut parsed = Vec::new();
    for s in scopes {
        let scope =
            Scope::parse(s.trim()).ok_or_else(|| invalid("scopes", FieldProblem::NotAllowed))?;
        if !parsed.contains(&scope) {
            parsed.push(scope);
        }
    }
    if parsed.is_empty() {
        return Err(invalid("scopes", FieldProblem::Empty));
    }
    Ok(parsed)
}

fn parse_fields(fields: &[String]) -> Result<Vec<PermitField>> {
    let mut parsed = Vec::new();
    for f in fields {
        let field = PermitField::parse(f.trim())
            .ok_or_else(|| invalid("fields", FieldProblem::NotAllowed))?;
        if !parsed.contains(&field) {
            parsed.push(field);
        }
    }
    Ok(parsed)
}

pub fn scopes_of(row: &agency::Model) -> Vec<Scope> {
    row.scopes.split(' ').filter_map(Scope::parse).collect()
}

pub fn fields_of(row: &agency::Model) -> Vec<PermitField> {
    crate::permit::fields::parse_list(&row.fields)
}

/// Registers an agency and answers its credentials; the secret is never shown again.
pub async fn register(ctx: &Context, staff_id: Uuid, reg: Registration<'_>) -> Result<Registered> {
    let name = text("name", reg.name, 100)?;
    // The name is printed in every annotated copy's annotation, which `verify-copy` reads back.
    if !render::unprintable_chars(&name).is_empty() {
        return Err(invalid("name", FieldProblem::Unprintable));
    }
    let contact = text("contact", reg.contact, 100)?;
    let credit_code = CreditCode::parse(reg.credit_code)
        .ok_or_else(|| invalid("credit_code", FieldProblem::BadFormat))?;
    let scopes = parse_scopes(reg.scopes)?;
    let fields = parse_fields(reg.fields)?;
    let client_id = format!("ag_{}", hex::encode(random_bytes::<8>()?));
    let client_secret = data_encoding::BASE64URL_NOPAD.encode(&random_bytes::<32>()?);
    let id = Uuid::new_v4();
    let scope_list: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    let field_list: Vec<String> = fields.iter().map(|f| f.as_str().to_owned()).collect();
    agency::Entity::insert(agency::ActiveModel {
        id: Set(id),
        name: Set(name.clone()),
        credit_code: Set(credit_code.to_string()),
        contact: Set(contact),
        scopes: Set(scope_list.join(" ")),
        fields: Set(field_list.join(",")),
        client_id: Set(client_id.clone()),
        secret_hash: Set(secret_hash(&client_secret)),
        created_by: Set(staff_id),
        created_at: Set(ctx.clock.now()),
    })
    .exec_without_returning(&ctx.db)
    .await
    .map_err(|e| on_unique(e, Refusal::AgencyExists))?;
    tracing::info!(agency_id = %id, "agency registered");
    Ok(Registered {
        id,
        client_id,
        client_secret,
        name,
        credit_code: credit_code.to_string(),
        scopes: scope_list,
        fields: field_list,
    })
}

/// Inserts an agency with known credentials (the dev demo agency); a no-op when it exists.
pub async fn ensure_demo_agency(
    ctx: &Context,
    client_id: &str,
    secret: &str,
) -> anyhow::Result<()> {
    let exists = agency::Entity::find()
        .filter(agency::Column::ClientId.eq(client_id))
        .one(&ctx.db)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    agency::Entity::insert(agency::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set("广州市天河区人力资源和社会保障局（演示）".into()),
        credit_code: Set("11440106MB2C92945E".into()),
        contact: Set("020-12345678".into()),
        scopes: Set("permit:verify permit:download".into()),
        fields: Set(PermitField::ALL.map(PermitField::as_str).join(",")),
        client_id: Set(client_id.to_owned()),
        secret_hash: Set(secret_hash(secret)),
        created_by: Set(Uuid::nil()),
        created_at: Set(ctx.clock.now()),
    })
    .exec_without_returning(&ctx.db)
    .await?;
    Ok(())
}

pub async fn list(ctx: &Context) -> Result<Vec<AgencyView>> {
    Ok(agency::Entity::find()
        .order_by_asc(agency::Column::CreatedAt)
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|a| AgencyView {
            scopes: scopes_of(&a)
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            fields: fields_of(&a)
                .iter()
                .map(|f| f.as_str().to_owned())
                .collect(),
            id: a.id,
            name: a.name,
            credit_code: a.credit_code,
            contact: a.contact,
            client_id: a.client_id,
            created_at: a.created_at,
        })
        .collect())
}

/// The client-credentials grant: checks the secret (with lock-out) and answers a token with
/// the requested scopes, which must be among the registered ones (all of them when none asked).
pub async fn token(
    ctx: &Context,
    client_id: &str,
    client_secret: &str,
    requested_scope: Option<&str>,
) -> Result<AgencyToken> {
    let rules = &ctx.settings.agencies;
    let Some(row) = agency::Entity::find()
        .filter(agency::Column::ClientId.eq(client_id.trim()))
        .one(&ctx.db)
        .await?
    else {
        return Err(Refusal::ClientCredentialsInvalid.into());
    };
    let key = lockout::Key::new(
        lockout::AGENCY_SECRET,
        &row.id.to_string(),
        rules.lockout_attempts,
    );
    let keys = std::slice::from_ref(&key);
    lockout::check(&ctx.db, keys, ctx.clock.now()).await?;
    if !same_secret(
        secret_hash(client_secret).as_bytes(),
        row.secret_hash.as_bytes(),
    ) {
        let locked =
            lockout::record_failure(&ctx.db, keys, rules.lockout_secs, ctx.clock.now()).await?;
        tracing::warn!(agency_id = %row.id, locked = !locked.is_empty(), "agency client secret refused");
        return Err(Refusal::ClientCredentialsInvalid.into());
    }
    lockout::clear(&ctx.db, key.scope, &key.key, ctx.clock.now()).await?;
    let registered = scopes_of(&row);
    let granted: Vec<Scope> = match requested_scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => registered,
        Some(asked) => {
            let mut granted = Vec::new();
            for s in asked.split_whitespace() {
                match Scope::parse(s) {
                    Some(scope) if registered.contains(&scope) => granted.push(scope),
                    _ => return Err(Refusal::ScopeNotAllowed(s.to_owned()).into()),
                }
            }
            granted
        }
    };
    let scope = granted
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let ttl = ctx.settings.access_token_ttl;
    let access_token =
        ctx.tokens
            .issue(Audience::Agency, row.id, None, Some(scope.clone()), ttl)?;
    tracing::info!(agency_id = %row.id, "agency token issued");
    Ok(AgencyToken {
        access_token,
        expires_in: ttl.as_secs(),
        scope,
    })
}

pub fn authenticate(ctx: &Context, bearer: &str) -> Result<AgencyPrincipal> {
    let claims = ctx.tokens.verify(bearer, Audience::Agency)?;
    let scopes = claims
        .scope
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter_map(Scope::parse)
        .collect();
    Ok(AgencyPrincipal {
        agency_id: claims.sub,
        scopes,
    })
}

/// The agency behind a principal (a token outliving its agency is refused).
pub async fn find(ctx: &Context, principal: &AgencyPrincipal) -> Result<agency::Model> {
    agency::Entity::find_by_id(principal.agency_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| Refusal::Unauthenticated.into())
}

/// The agency a request or grant names; it cannot be deleted while they exist.
pub(crate) async fn row<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<agency::Model> {
    agency::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("agency {id} vanished").into())
}

/// A holder's newest rows of `E` (requests or grants, at most 100), each with the agency it
/// names.
pub(crate) async fn newest_for_holder<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    (person, created): (E::Column, E::Column),
    person_id: Uuid,
    agency_of: impl Fn(&E::Model) -> Uuid,
) -> Result<Vec<(agency::Model, E::Model)>> {
    let rows = E::find()
        .filter(person.eq(person_id))
        .order_by_desc(created)
        .limit(100)
        .all(db)
        .await?;
    with_agencies(db, rows, agency_of).await
}

/// Each of `rows` with the agency it names, the agencies read in one query.
pub(crate) async fn with_agencies<C: ConnectionTrait, T>(
    db: &C,
    rows: Vec<T>,
    agency_of: impl Fn(&T) -> Uuid,
) -> Result<Vec<(agency::Model, T)>> {
    let mut ids: Vec<Uuid> = rows.iter().map(&agency_of).collect();
    ids.sort_unstable();
    ids.dedup();
    let agencies: HashMap<Uuid, agency::Model> = agency::Entity::find()
        .filter(agency::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    rows.into_iter()
        .map(|row| {
            let id = agency_of(&row);
            let agency = agencies
                .get(&id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("agency {id} vanished"))?;
            Ok((agency, row))
        })
        .collect()
}
