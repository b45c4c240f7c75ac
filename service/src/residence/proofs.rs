//! Residence proofs: a statement signed by the issuing authority that the holder has, or has
//! not, lived continuously in a city for at least N years as of a date. It names the permit
//! and the holder's masked name so that the one who receives it can match it to the person in
//! front of them, and says nothing else of the history: not the periods, not the count.
//!
//! The signature covers `yueju-residence-proof-v1`, a newline and the canonical JSON of the
//! statement ([`crate::keys::signing::signed_message`]), so it checks with the published keys
//! alone. The QR carries the whole proof as one token, `YJRP1.` and the base64url of the
//! canonical JSON of `{statement, alg, kid, signature}`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Context;
use crate::consent::access_log::{self, Action, Actor};
use crate::consent::agencies::{self, AgencyPrincipal};
use crate::domain::divisions;
use crate::domain::residence_years;
use crate::error::{FieldProblem, Refusal, Result};
use crate::keys::privacy::mask_name;
use crate::keys::signing::{PublishedKey, canonical_json, verify_value_alg};
use crate::permit::permits;

use super::years;

pub const SIGNATURE_PURPOSE: &str = "yueju-residence-proof-v1";
pub const TOKEN_PREFIX: &str = "YJRP1.";
/// The most years a proof may ask about: a lifetime, not an overflow.
pub const MAX_YEARS: u32 = 100;

/// What the holder (or an agency, with consent) asks to have stated.
#[derive(Debug, Clone, Deserialize)]
pub struct ProofRequest {
    pub city: String,
    pub min_years: u32,
    /// Today when left out.
    pub as_of: Option<NaiveDate>,
}

/// What is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ResidenceStatement)]
pub struct Statement {
    pub proof_id: Uuid,
    pub holds: bool,
    pub city: String,
    pub min_years: u32,
    pub as_of: NaiveDate,
    pub permit_no: String,
    /// Masked, as the 粤居码 shows it: 陈*强.
    pub name: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A signed statement as handed out.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ResidenceProof)]
pub struct SignedProof {
    #[schema(value_type = Statement)]
    pub statement: Value,
    /// `EdDSA` or `SM2`: the algorithm of the key `kid`.
    #[schema(schema_with = crate::api_schema::signature_alg)]
    pub alg: String,
    pub kid: String,
    pub signature: String,
}

/// `POST /api/v1/me/residence-proofs`: the proof, its token and the token as a QR.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = IssuedResidenceProof)]
pub struct IssuedProof {
    #[serde(flatten)]
    pub proof: SignedProof,
    pub token: String,
    pub qr_svg: String,
}

/// Why a proof does not check. Codes are stable: `POST /verify/residence-proof` answers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = ResidenceProofReason)]
pub enum ProofReason {
    Malformed,
    UnknownKey,
    BadSignature,
    ProofExpired,
}

impl ProofReason {
    pub const ALL: [ProofReason; 4] = [
        ProofReason::Malformed,
        ProofReason::UnknownKey,
        ProofReason::BadSignature,
        ProofReason::ProofExpired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ProofReason::Malformed => "MALFORMED",
            ProofReason::UnknownKey => "UNKNOWN_KEY",
            ProofReason::BadSignature => "BAD_SIGNATURE",
            ProofReason::ProofExpired => "PROOF_EXPIRED",
        }
    }
}

/// A checked proof: the statement when the signature holds and it has not expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Valid(Statement),
    Invalid(ProofReason),
}

/// Makes and signs the statement for the person's current permit. Nothing is stored but the
/// access-log entry the caller writes when an agency asked.
pub async fn make(ctx: &Context, person_id: Uuid, request: &ProofRequest) -> Result<SignedProof> {
    let city = divisions::find_city(&request.city).ok_or(Refusal::UnknownCity)?;
    if request.min_years == 0 || request.min_years > MAX_YEARS {
        return Err(Refusal::InvalidField {
            field: "min_years",
            reason: FieldProblem::NotAllowed,
        }
        .into());
    }
    let as_of = years::as_of(ctx, request.as_of)?;
    let (permit, version) = permits::my_permit(ctx, person_id).await?;
    let document = permits::open_document(ctx, &version)?;
    let histories = years::histories(&ctx.db, person_id).await?;
    let issued_at = ctx.clock.now().trunc_subsecs(0);
    let statement = Statement {
        proof_id: Uuid::new_v4(),
        holds: residence_years::holds(&histories, city.name, request.min_years, as_of),
        city: city.name.to_owned(),
        min_years: request.min_years,
        as_of,
        permit_no: permit.permit_no,
        name: mask_name(&document.name),
        issued_at,
        expires_at: issued_at + Duration::days(i64::from(ctx.settings.permit.residence_proof_days)),
    };
    let statement = serde_json::to_value(&statement).map_err(anyhow::Error::from)?;
    let signed = ctx.keys.sign_value(SIGNATURE_PURPOSE, &statement).await?;
    tracing::info!(
        city = city.name,
        min_years = request.min_years,
        "residence proof made"
    );
    Ok(SignedProof {
        statement,
        alg: signed.alg.as_str().into(),
        kid: signed.kid.clone(),
        signature: signed.b64(),
    })
}

/// What the holder's access log records of a proof an agency made or checked: the statement
/// without the holder's name and permit, which the log is already about.
pub fn logged(statement: &Statement) -> Value {
    json!({
        "proof_id": statement.proof_id,
        "city": statement.city,
        "min_years": statement.min_years,
        "as_of": statement.as_of,
        "holds": statement.holds,
    })
}

/// The token the QR carries.
pub fn token(proof: &SignedProof) -> Result<String> {
    let value = serde_json::to_value(proof).map_err(anyhow::Error::from)?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(canonical_json(&value))
    ))
}

/// The proof a token carries, or `None` when it is not one.
pub fn from_token(token: &str) -> Option<SignedProof> {
    let body = token.trim().strip_prefix(TOKEN_PREFIX)?;
    let bytes = URL_SAFE_NO_PAD.decode(body).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The proof with its token and QR.
pub fn issued(proof: SignedProof) -> Result<IssuedProof> {
    let token = token(&proof)?;
    let qr_svg =
        render::qr_svg(&token).map_err(|e| anyhow::anyhow!("drawing the proof's QR: {e}"))?;
    Ok(IssuedProof {
        proof,
        token,
        qr_svg,
    })
}

/// Checks a proof with the published keys alone, as the offline verifier and
/// `POST /verify/residence-proof` do: the signature over the statement exactly as given, then
/// its expiry on `now`.
pub fn check(published: &[PublishedKey], proof: &SignedProof, now: DateTime<Utc>) -> Checked {
    let Ok(statement) = serde_json::from_value::<Statement>(proof.statement.clone()) else {
        return Checked::Invalid(ProofReason::Malformed);
    };
    if !published
        .iter()
        .any(|k| k.kid == proof.kid && k.alg == proof.alg)
    {
        return Checked::Invalid(ProofReason::UnknownKey);
    }
    if !verify_value_alg(
        published,
        &proof.alg,
        &proof.kid,
        SIGNATURE_PURPOSE,
        &proof.statement,
        &proof.signature,
    ) {
        return Checked::Invalid(ProofReason::BadSignature);
    }
    if now > statement.expires_at {
        return Checked::Invalid(ProofReason::ProofExpired);
    }
    Checked::Valid(statement)
}

/// `POST /api/v1/verify/residence-proof`: the verdict, and what the proof states when valid.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ResidenceProofCheck)]
pub struct ProofCheck {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ProofReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<Statement>,
}

/// The proof a request body carries: the proof as given (`statement`, `kid`, `signature`), or
/// its token.
pub fn from_body(body: &[u8]) -> Option<SignedProof> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    match object.get("token") {
        Some(Value::String(token)) => from_token(token),
        Some(_) => None,
        None => serde_json::from_value(value).ok(),
    }
}

/// Checks a proof for anyone. When an agency checks a genuine one, the check goes into the
/// holder's access log, like the verification of a code.
pub async fn check_online(
    ctx: &Context,
    body: &[u8],
    agency: Option<&AgencyPrincipal>,
) -> Result<ProofCheck> {
    let now = ctx.clock.now();
    let checked = match from_body(body) {
        Some(proof) => check(&ctx.keys.published(), &proof, now),
        None => Checked::Invalid(ProofReason::Malformed),
    };
    let statement = match checked {
        Checked::Valid(statement) => statement,
        Checked::Invalid(reason) => {
            return Ok(ProofCheck {
                valid: false,
                reason: Some(reason),
                statement: None,
            });
        }
    };
    if let Some(principal) = agency {
        record_check(ctx, principal, &statement).await?;
    }
    Ok(ProofCheck {
        valid: true,
        reason: None,
        statement: Some(statement),
    })
}

async fn record_check(
    ctx: &Context,
    principal: &AgencyPrincipal,
    statement: &Statement,
) -> Result<()> {
    let Some(permit) = entity::permit::Entity::find()
        .filter(entity::permit::Column::PermitNo.eq(&statement.permit_no))
        .one(&ctx.db)
        .await?
    else {
        // Signed by us for a permit since erased with its account: nobody's log to write.
        return Ok(());
    };
    let agency = agencies::find(ctx, principal).await?;
    let txn = ctx.db.begin().await?;
    access_log::record(
        &txn,
        access_log::Event {
            person_id: permit.person_id,
            at: ctx.clock.now(),
            actor: Actor::Agency {
                id: agency.id,
                name: agency.name.clone(),
            },
            action: Action::ProofCheck,
            purpose: None,
            detail: logged(statement),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
