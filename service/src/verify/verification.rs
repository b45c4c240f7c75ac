//! Verifying the 粤居码 online. (The holder's code is made in [`super::holder_code`]; the
//! lists that verifiers fetch and offline verification are in [`super::offline`].)
//!
//! Every path (anonymous, agency, an agency's access request, offline) takes the same steps
//! and stops at the first [`VerifyReason`]: the code (signature, key, time), then the permit's
//! status by [`permit_rules`]. An anonymous verifier is answered from the code alone and the
//! status lists this instance holds in memory: no database read. An agency's verification and
//! access request read the permit (through its current-version pointer) for their fields and
//! the access log.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, TransactionTrait};
use serde::{Serialize, Serializer};
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::Context;
use crate::config::day_in_china;
use crate::consent::access_log::{self, Action, Actor};
use crate::consent::agencies::{self, AgencyPrincipal, Scope};
use crate::domain::permit_rules::{self, ListEntry, PermitStatus};
use crate::error::Result;
use crate::keys::privacy::{Kind, mask_name};
use crate::permit::fields::PermitField;
use crate::permit::permits::{PermitDocument, WITH_CURRENT_VERSION};
use crate::verify::codes::{self, CodeClaims, CodeError};
use crate::verify::status_list::{Status as ListStatus, StatusListRef};

/// What a verifier learns about the permit behind a genuine code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifiedPermit {
    pub name: String,
    pub permit_no: String,
    pub valid_until: NaiveDate,
    pub status: PermitStatus,
    /// Fields an agency's registration and verify scope add.
    #[serde(flatten)]
    pub extra: BTreeMap<&'static str, String>,
}

/// Why a verification does not answer "valid". [`VerifyReason::code`] is the stable string
/// that `POST /verify`, the offline verifier and an agency's refused access request answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyReason {
    /// The code is not genuine or not in time.
    Code(CodeError),
    /// A genuine code for a permit number the database does not hold.
    PermitNotFound,
    PermitSuspended,
    PermitExpired,
    PermitRevoked,
    /// The code is genuine but the permit's status could not be read (no usable status list
    /// offline, the database failing online): never "revoked" by default.
    StatusUndetermined,
}

impl VerifyReason {
    /// Every reason, in the order the API contract lists them.
    pub const ALL: [VerifyReason; 10] = [
        VerifyReason::Code(CodeError::Malformed),
        VerifyReason::Code(CodeError::UnknownKey),
        VerifyReason::Code(CodeError::BadSignature),
        VerifyReason::Code(CodeError::Expired),
        VerifyReason::Code(CodeError::NotYetValid),
        VerifyReason::PermitNotFound,
        VerifyReason::PermitSuspended,
        VerifyReason::PermitExpired,
        VerifyReason::PermitRevoked,
        VerifyReason::StatusUndetermined,
    ];

    pub fn code(self) -> &'static str {
        match self {
            VerifyReason::Code(e) => e.code(),
            VerifyReason::PermitNotFound => "PERMIT_NOT_FOUND",
            VerifyReason::PermitSuspended => "PERMIT_SUSPENDED",
            VerifyReason::PermitExpired => "PERMIT_EXPIRED",
            VerifyReason::PermitRevoked => "PERMIT_REVOKED",
            VerifyReason::StatusUndetermined => "STATUS_UNDETERMINED",
        }
    }

    /// Why a permit with this status is not accepted; `None` when it is valid.
    pub fn of_status(status: PermitStatus) -> Option<VerifyReason> {
        match status {
            PermitStatus::Valid => None,
            PermitStatus::Suspended => Some(VerifyReason::PermitSuspended),
            PermitStatus::Expired => Some(VerifyReason::PermitExpired),
            PermitStatus::Revoked => Some(VerifyReason::PermitRevoked),
        }
    }
}

impl Serialize for VerifyReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// The status word a verdict shows when the status could not be read.
pub(crate) const UNDETERMINED: &str = "undetermined";

/// The answer of `POST /verify`. `reason` is a stable code whenever `valid` is false.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::api_schema::verify_reason)]
    pub reason: Option<VerifyReason>,
    /// `valid`, `suspended`, `expired`, `revoked`, or `undetermined` when the status could not
    /// be read; absent when the code itself is not genuine.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::api_schema::verdict_status)]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub permit: Option<VerifiedPermit>,
    /// Where the permit's status is listed, as the code says.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub status_list: Option<StatusListRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub code_expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub kid: Option<String>,
    pub checked_at: DateTime<Utc>,
}

impl Verdict {
    /// A genuine code whose permit's status could not be read: never "revoked" by default.
    fn undetermined(claims: &CodeClaims, now: DateTime<Utc>) -> Verdict {
        Verdict {
            valid: false,
            reason: Some(VerifyReason::StatusUndetermined),
            status: Some(UNDETERMINED),
            permit: None,
            status_list: Some(claims.status_list.reference()),
            code_expires_at: Some(claims.expires_at),
            kid: Some(claims.kid.clone()),
            checked_at: now,
        }
    }

    fn refused(reason: VerifyReason, now: DateTime<Utc>) -> Verdict {
        Verdict {
            valid: false,
            reason: Some(reason),
            status: None,
            permit: None,
            status_list: None,
            code_expires_at: None,
            kid: None,
            checked_at: now,
        }
    }
}

/// The first step of online verification: the code verifies with the server's keys and is
/// in time.
pub fn check_code(
    ctx: &Context,
    token: &str,
    now: DateTime<Utc>,
) -> Result<CodeClaims, VerifyReason> {
    codes::verify(&ctx.keys, token, now).map_err(VerifyReason::Code)
}

/// Online verification: signature, key, time, then the permit's status now. Never fails for
/// the caller's input; when the status cannot be read the verdict says `undetermined`.
pub async fn verify(ctx: &Context, token: &str, agency: Option<&AgencyPrincipal>) -> Verdict {
    let now = ctx.clock.now();
    let claims = match check_code(ctx, token, now) {
        Ok(claims) => claims,
        Err(reason) => return Verdict::refused(reason, now),
    };
    let verdict = match agency {
        None => Ok(verify_anonymous(ctx, &claims, now)),
        Some(principal) => verify_for_agency(ctx, &claims, principal, now).await,
    };
    match verdict {
        Ok(verdict) => verdict,
        Err(e) => {
            tracing::warn!(error = ?e, "permit status unreadable during verification");
            Verdict::undetermined(&claims, now)
        }
    }
}

/// What verification shows of a permit, as read from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermitFacts {
    pub permit_no: String,
    pub masked_name: String,
    pub revoked: bool,
    /// Suspended by an act (an ended residence registration not replaced in time).
    pub suspended: bool,
    pub valid_until: NaiveDate,
    pub endorsement_due: NaiveDate,
}

impl PermitFacts {
    /// The entry the status lists hold for these facts.
    pub fn entry(&self) -> ListEntry {
        ListEntry::of(self.revoked, self.suspended)
    }

    pub fn status(&self, today: NaiveDate) -> PermitStatus {
        permit_rules::status_from_entry(self.entry(), self.valid_until, self.endorsement_due, today)
    }
}

/// The permit behind a code, as verification reads it: one query for the permit and its
/// current version, the document opened for the name (and an agency's fields).
pub struct Found {
    pub permit_id: Uuid,
    pub person_id: Uuid,
    pub facts: PermitFacts,
    pub document: PermitDocument,
}

#[derive(FromQueryResult)]
struct FoundRow {
    permit_id: Uuid,
    person_id: Uuid,
    permit_no: String,
    revoked_at: Option<DateTime<Utc>>,
    suspended_at: Option<DateTime<Utc>>,
    valid_until: NaiveDate,
    endorsement_due: NaiveDate,
    payload_enc: Vec<u8>,
}

/// Reads the permit numbered `permit_no` and its current version in `db` (the pool, or the
/// caller's transaction).
async fn find_for_verification<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    permit_no: &str,
) -> Result<Option<Found>> {
    let sql = format!(
        "SELECT p.id AS permit_id, p.person_id AS person_id, p.permit_no AS permit_no, p.revoked_at AS revoked_at, \
                p.suspended_at AS suspended_at, v.valid_until AS valid_until, v.endorsement_due AS endorsement_due, v.payload_enc AS payload_enc \
         FROM {WITH_CURRENT_VERSION} \
         WHERE p.permit_no = $1"
    );
    let Some(row) = FoundRow::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [permit_no.into()],
    ))
    .one(db)
    .await?
    else {
        return Ok(None);
    };
    let document: PermitDocument =
        serde_json::from_slice(&ctx.vault.open(Kind::Permit, &row.payload_enc)?)
            .map_err(anyhow::Error::from)?;
    Ok(Some(Found {
        permit_id: row.permit_id,
        person_id: row.person_id,
        facts: PermitFacts {
            masked_name: mask_name(&document.name),
            permit_no: row.permit_no,
            revoked: row.revoked_at.is_some(),
            suspended: row.suspended_at.is_some(),
            valid_until: row.valid_until,
            endorsement_due: row.endorsement_due,
        },
        document,
    }))
}

/// What an anonymous verifier is shown of a permit, read from the database (one query).
pub async fn read_permit_facts(ctx: &Context, permit_no: &str) -> Result<Option<PermitFacts>> {
    Ok(find_for_verification(ctx, &ctx.db, permit_no)
        .await?
        .map(|found| found.facts))
}

/// The permit behind genuine claims and its status today, read in `db`; the reason it stops
/// when there is no such permit. Agencies' verification and their access requests take this
/// step; anonymous verification takes it through the status cache.
pub async fn find_with_status<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    claims: &CodeClaims,
) -> Result<std::result::Result<(Found, PermitStatus), VerifyReason>> {
    Ok(
        match find_for_verification(ctx, db, &claims.permit_no).await? {
            None => Err(VerifyReason::PermitNotFound),
            Some(found) => {
                let status = found.facts.status(ctx.clock.today());
                Ok((found, status))
            }
        },
    )
}

/// The permit behind a checked code, when it is in force: an agency's access request takes
/// the steps of `POST /verify` (after [`check_code`]) in the caller's transaction.
pub async fn permit_in_force<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    claims: &CodeClaims,
) -> Result<std::result::Result<Found, VerifyReason>> {
    Ok(match find_with_status(ctx, db, claims).await? {
        Err(reason) => Err(reason),
        Ok((found, status)) => match VerifyReason::of_status(status) {
            Some(reason) => Err(reason),
            None => Ok(found),
        },
    })
}

/// Anyone's verification, from the code and the status lists in memory: the name (masked),
/// number and dates come from the signed code, the entry from this instance's copy of the
/// lists, which follows every change within a second. Nothing is read or written.
fn verify_anonymous(ctx: &Context, claims: &CodeClaims, now: DateTime<Utc>) -> Verdict {
    let entry = ctx
        .status_lists
        .status(claims.status_list)
        .and_then(list_entry);
    let Some(entry) = entry else {
        // A list opened on another instance a moment ago (the follower learns of it within
        // its next poll), or a state this version does not know.
        return Verdict::undetermined(claims, now);
    };
    let status = permit_rules::status_from_entry(
        entry,
        claims.valid_until,
        claims.endorsement_due,
        day_in_china(now),
    );
    let facts = PermitFacts {
        permit_no: claims.permit_no.clone(),
        masked_name: claims.masked_name.clone(),
        revoked: entry == ListEntry::Revoked,
        suspended: entry == ListEntry::Suspended,
        valid_until: claims.valid_until,
        endorsement_due: claims.endorsement_due,
    };
    verdict_for(&facts, status, BTreeMap::new(), claims, now)
}

/// What a status list's entry means for the rules; `None` for a value the lists do not use.
pub(super) fn list_entry(status: ListStatus) -> Option<ListEntry> {
    match status {
        ListStatus::Valid => Some(ListEntry::InForce),
        ListStatus::Revoked => Some(ListEntry::Revoked),
        ListStatus::Suspended => Some(ListEntry::Suspended),
        ListStatus::Unknown(_) => None,
    }
}

/// An agency's verification reads the database (its fields come from the signed document)
/// and goes into the holder's access log.
async fn verify_for_agency(
    ctx: &Context,
    claims: &CodeClaims,
    principal: &AgencyPrincipal,
    now: DateTime<Utc>,
) -> Result<Verdict> {
    let (found, status) = match find_with_status(ctx, &ctx.db, claims).await? {
        Ok(found) => found,
        Err(reason) => return Ok(Verdict::refused(reason, now)),
    };
    let agency = agencies::find(ctx, principal).await?;
    let mut extra = BTreeMap::new();
    if principal.require(Scope::Verify).is_ok() {
        for field in agencies::fields_of(&agency) {
            if field.shown_at_verification() {
                extra.insert(field.as_str(), field_value(&found.document, field));
            }
        }
    }
    let txn = ctx.db.begin().await?;
    access_log::record(
        &txn,
        access_log::Event {
            person_id: found.person_id,
            at: now,
            actor: Actor::Agency {
                id: agency.id,
                name: agency.name.clone(),
            },
            action: Action::Verify,
            purpose: None,
            detail: json!({
                "permit_no": found.facts.permit_no,
                "status": status.as_str(),
                "fields": extra.keys().collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    txn.commit().await?;
    // The status the access log recorded is the one answered.
    Ok(verdict_for(&found.facts, status, extra, claims, now))
}

fn verdict_for(
    facts: &PermitFacts,
    status: PermitStatus,
    extra: BTreeMap<&'static str, String>,
    claims: &CodeClaims,
    now: DateTime<Utc>,
) -> Verdict {
    Verdict {
        valid: status == PermitStatus::Valid,
        reason: VerifyReason::of_status(status),
        status: Some(status.as_str()),
        permit: Some(VerifiedPermit {
            name: facts.masked_name.clone(),
            permit_no: facts.permit_no.clone(),
            valid_until: facts.valid_until,
            status,
            extra,
        }),
        status_list: Some(claims.status_list.reference()),
        code_expires_at: Some(claims.expires_at),
        kid: Some(claims.kid.clone()),
        checked_at: now,
    }
}

/// A field of the signed document as text (dates `YYYY-MM-DD`; the photo by its hash).
pub fn field_value(doc: &PermitDocument, field: PermitField) -> String {
    match field {
        PermitField::Name => doc.name.clone(),
        PermitField::Gender => doc.gender.clone(),
        PermitField::Ethnicity => doc.ethnicity.clone(),
        PermitField::IdNumber => doc.id_number.clone(),
        PermitField::Photo => doc.photo_sha256.clone().unwrap_or_default(),
        PermitField::HukouAddress => doc.hukou_address.clone(),
        PermitField::ResidenceAddress => doc.residence_address.clone(),
        PermitField::IssuingAuthority => doc.issuing_authority.clone(),
        PermitField::IssuedOn => doc.issued_on.to_string(),
        PermitField::ValidFrom => doc.valid_from.to_string(),
        PermitField::ValidUntil => doc.valid_until.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_answers_its_stable_code_once() {
        let codes: Vec<&str> = VerifyReason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(
            codes,
            [
                "MALFORMED",
                "UNKNOWN_KEY",
                "BAD_SIGNATURE",
                "CODE_EXPIRED",
                "CODE_NOT_YET_VALID",
                "PERMIT_NOT_FOUND",
                "PERMIT_SUSPENDED",
                "PERMIT_EXPIRED",
                "PERMIT_REVOKED",
                "STATUS_UNDETERMINED",
            ]
        );
        assert_eq!(
            serde_json::to_value(VerifyReason::PermitSuspended).unwrap(),
            "PERMIT_SUSPENDED"
        );
    }

    #[test]
    fn only_a_valid_status_has_no_reason() {
        for status in [
            PermitStatus::Valid,
            PermitStatus::Suspended,
            PermitStatus::Expired,
            PermitStatus::Revoked,
        ] {
            let reason = VerifyReason::of_status(status);
            assert_eq!(
                reason.is_none(),
                status == PermitStatus::Valid,
                "{status:?}"
            );
            if let Some(reason) = reason {
                assert!(reason.code().ends_with(&status.as_str().to_uppercase()));
            }
        }
    }
}
