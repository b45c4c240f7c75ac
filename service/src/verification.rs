//! Showing and verifying the 粤居码: the holder's current code, online verification with the
//! permit's live status, the signed status list for verifiers that work offline, and the
//! offline verification itself (published keys and, when it has one, a status list).
//!
//! Every path (anonymous, agency, an agency's access request, offline) takes the same steps
//! and stops at the first [`VerifyReason`]: the code (signature, key, time), the permit behind
//! it (its current version, through the pointer), and its status by [`permit_rules`].

use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, TransactionTrait};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

use crate::Context;
use crate::access_log::{self, Action, Actor};
use crate::agencies::{self, AgencyPrincipal, Scope};
use crate::codes::{self, CodeClaims, CodeError};
use crate::config::{day_in_china, today_in_china};
use crate::domain::permit_rules::{self, PermitStatus, StatusFacts};
use crate::error::{Missing, Refusal, Result};
use crate::fields::PermitField;
use crate::permits::{PermitDocument, WITH_CURRENT_VERSION};
use crate::privacy::{Kind, mask_name};
use crate::signing::{PublishedKey, encode_signature, verify_value};
use crate::status_cache::{BuiltList, PermitFacts};

pub const STATUS_LIST_PURPOSE: &str = "yueju-status-list-v1";
pub const STATUS_LIST_TYPE: &str = "gd-residence-permit-status-list";

/// The holder's current code.
#[derive(Debug, Clone, Serialize)]
pub struct CodeView {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub permit_no: String,
}

/// Signs a fresh code for the holder's permit. A code is issued whatever the status: the
/// verifier, not the phone, says whether the permit is in force.
pub async fn current_code(ctx: &Context, person_id: Uuid) -> Result<CodeView> {
    let (permit_no, valid_until) = code_facts(ctx, person_id).await?;
    let (token, expires_at) = codes::issue(
        &ctx.keys,
        &permit_no,
        valid_until,
        ctx.settings.code_ttl_secs,
    )?;
    Ok(CodeView {
        token,
        expires_at,
        permit_no,
    })
}

#[derive(FromQueryResult)]
struct CodeFactsRow {
    permit_no: String,
    valid_until: NaiveDate,
}

/// The number and last valid day of the person's current permit (as
/// [`crate::permits::current`] chooses it), in one query that reads neither the sealed
/// document nor the photo: a phone refreshes its code every two minutes.
async fn code_facts(ctx: &Context, person_id: Uuid) -> Result<(String, NaiveDate)> {
    let sql = format!(
        "SELECT p.permit_no AS permit_no, v.valid_until AS valid_until \
         FROM {WITH_CURRENT_VERSION} \
         WHERE p.person_id = $1 ORDER BY p.created_at DESC LIMIT 1"
    );
    let row = CodeFactsRow::find_by_statement(Statement::from_sql_and_values(
        ctx.db.get_database_backend(),
        sql,
        [person_id.into()],
    ))
    .one(&ctx.db)
    .await?
    .ok_or(Refusal::NotFound(Missing::Permit))?;
    Ok((row.permit_no, row.valid_until))
}

/// What a verifier learns about the permit behind a genuine code.
#[derive(Debug, Clone, Serialize)]
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
const UNDETERMINED: &str = "undetermined";

/// The answer of `POST /verify`. `reason` is a stable code whenever `valid` is false.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<VerifyReason>,
    /// `valid`, `suspended`, `expired`, `revoked`, or `undetermined` when the status could not
    /// be read; absent when the code itself is not genuine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permit: Option<VerifiedPermit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    pub checked_at: DateTime<Utc>,
}

impl Verdict {
    fn refused(reason: VerifyReason, now: DateTime<Utc>) -> Verdict {
        Verdict {
            valid: false,
            reason: Some(reason),
            status: None,
            permit: None,
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
    let now = Utc::now();
    let claims = match check_code(ctx, token, now) {
        Ok(claims) => claims,
        Err(reason) => return Verdict::refused(reason, now),
    };
    let verdict = match agency {
        None => verify_anonymous(ctx, &claims, now).await,
        Some(principal) => verify_for_agency(ctx, &claims, principal, now).await,
    };
    match verdict {
        Ok(verdict) => verdict,
        Err(e) => {
            tracing::warn!(error = ?e, "permit status unreadable during verification");
            Verdict {
                valid: false,
                reason: Some(VerifyReason::StatusUndetermined),
                status: Some(UNDETERMINED),
                permit: None,
                code_expires_at: Some(claims.expires_at),
                kid: Some(claims.kid),
                checked_at: now,
            }
        }
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
                v.valid_until AS valid_until, v.endorsement_due AS endorsement_due, v.payload_enc AS payload_enc \
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
                let status = found.facts.status(today_in_china());
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

/// Anyone's verification: the facts this instance remembers, else one read, remembered.
/// Nothing is written, so a verifier scanning all day costs no database writes.
async fn verify_anonymous(
    ctx: &Context,
    claims: &CodeClaims,
    now: DateTime<Utc>,
) -> Result<Verdict> {
    let facts = match ctx.status_cache.facts(&claims.permit_no) {
        Some(facts) => facts,
        None => {
            let epoch = ctx.status_cache.epoch();
            let Some(facts) = read_permit_facts(ctx, &claims.permit_no).await? else {
                return Ok(Verdict::refused(VerifyReason::PermitNotFound, now));
            };
            let facts = Arc::new(facts);
            ctx.status_cache.remember(epoch, facts.clone());
            facts
        }
    };
    let status = facts.status(today_in_china());
    Ok(verdict_for(&facts, status, BTreeMap::new(), claims, now))
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

// ---------------------------------------------------------------------------
// The status list
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEntry {
    pub permit_no: String,
    /// `suspended` or `revoked`.
    pub status: String,
}

impl StatusEntry {
    /// The status the entry gives; anything but `revoked` reads as suspended (not in force).
    pub fn listed_status(&self) -> PermitStatus {
        if self.status == PermitStatus::Revoked.as_str() {
            PermitStatus::Revoked
        } else {
            PermitStatus::Suspended
        }
    }
}

/// Permits whose status is suspended or revoked ([`permit_rules::listed`]); everything else
/// is valid until the `valid_until` a code carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusList {
    #[serde(rename = "type")]
    pub list_type: String,
    pub issued_at: DateTime<Utc>,
    /// Verifiers fetch a new list after this; an older one leaves the status undetermined.
    pub next_update: DateTime<Utc>,
    pub entries: Vec<StatusEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedStatusList {
    pub list: StatusList,
    pub alg: String,
    pub kid: String,
    pub signature: String,
}

/// Permits read per statement while building the list: the list grows with the permits not
/// in force, the memory of one build does not.
const STATUS_LIST_PAGE: u64 = 5_000;

/// The signed status list as served (`{"list", "alg", "kid", "signature"}`), remembered for a
/// short while: at a million permits one build reads every current version.
pub async fn status_list_json(ctx: &Context) -> Result<BuiltList> {
    ctx.status_cache
        .list_or_build(|| build_status_list(ctx, STATUS_LIST_PAGE))
        .await
}

/// Builds and signs the current list. The canonical JSON that is signed is written directly
/// (keys in sorted order, entries page by page), without a `serde_json::Value` of the whole
/// list; it is byte for byte what [`crate::signing::canonical_json`] makes of it. Rows are
/// read `rows_per_read` at a time, in permit-number order.
pub async fn build_status_list(ctx: &Context, rows_per_read: u64) -> Result<BuiltList> {
    let rows_per_read = rows_per_read.max(1);
    // The list speaks for the database as of the start of its reads.
    let now = Utc::now();
    let today = today_in_china();
    let backend = ctx.db.get_database_backend();
    // The current version of each permit decides, by the rules. The condition only narrows
    // the rows read: a permit can be listed only when revoked, or when its due date has
    // passed within its validity (suspended).
    let sql = format!(
        "SELECT p.permit_no AS permit_no, p.revoked_at AS revoked_at, \
                v.valid_until AS valid_until, v.endorsement_due AS endorsement_due \
         FROM {WITH_CURRENT_VERSION} \
         WHERE (p.revoked_at IS NOT NULL OR (v.endorsement_due < $1 AND v.valid_until >= $1)) \
           AND p.permit_no > $2 \
         ORDER BY p.permit_no LIMIT {rows_per_read}"
    );
    let mut message = Vec::with_capacity(64 * 1024);
    message.extend_from_slice(STATUS_LIST_PURPOSE.as_bytes());
    message.push(b'\n');
    let list_start = message.len();
    message.extend_from_slice(b"{\"entries\":[");
    let mut after = String::new();
    let mut first = true;
    loop {
        let rows = ctx
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                &sql,
                [today.into(), after.clone().into()],
            ))
            .await?;
        let page_len = rows.len() as u64;
        for row in rows {
            let permit_no: String = row.try_get("", "permit_no")?;
            let facts = StatusFacts {
                revoked: row
                    .try_get::<Option<DateTime<Utc>>>("", "revoked_at")?
                    .is_some(),
                valid_until: row.try_get("", "valid_until")?,
                endorsement_due: row.try_get("", "endorsement_due")?,
            };
            let status = permit_rules::status(&facts, today);
            if permit_rules::listed(status) {
                if !first {
                    message.push(b',');
                }
                first = false;
                let entry = StatusEntry {
                    permit_no: permit_no.clone(),
                    status: status.as_str().to_owned(),
                };
                serde_json::to_writer(&mut message, &entry).map_err(anyhow::Error::from)?;
            }
            after = permit_no;
        }
        if page_len < rows_per_read {
            break;
        }
    }
    let next_update =
        now + Duration::seconds(i64::from(ctx.settings.agencies.status_list_ttl_secs));
    message.extend_from_slice(b"],\"issued_at\":");
    serde_json::to_writer(&mut message, &now).map_err(anyhow::Error::from)?;
    message.extend_from_slice(b",\"next_update\":");
    serde_json::to_writer(&mut message, &next_update).map_err(anyhow::Error::from)?;
    message.extend_from_slice(b",\"type\":");
    serde_json::to_writer(&mut message, STATUS_LIST_TYPE).map_err(anyhow::Error::from)?;
    message.push(b'}');
    let signature = encode_signature(&ctx.keys.sign(&message));
    let list = &message[list_start..];
    let mut body = Vec::with_capacity(list.len() + 200);
    body.extend_from_slice(b"{\"list\":");
    body.extend_from_slice(list);
    body.extend_from_slice(b",\"alg\":\"EdDSA\",\"kid\":");
    serde_json::to_writer(&mut body, ctx.keys.signing_kid()).map_err(anyhow::Error::from)?;
    body.extend_from_slice(b",\"signature\":");
    serde_json::to_writer(&mut body, &signature).map_err(anyhow::Error::from)?;
    body.push(b'}');
    Ok(BuiltList {
        body: Bytes::from(body),
        next_update,
    })
}

// ---------------------------------------------------------------------------
// Offline verification
// ---------------------------------------------------------------------------

/// What an offline verifier can say. `valid` is `None` when the code is genuine but the
/// permit's status is not known (no status list, a stale one, or one that does not verify):
/// "undetermined", never "revoked". `reason` is a [`VerifyReason::code`].
#[derive(Debug, Clone, Serialize)]
pub struct OfflineVerdict {
    pub valid: Option<bool>,
    pub genuine: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<CodeClaims>,
}

/// Whether a signed status list is genuine (published keys) and still current.
pub fn status_list_usable(
    published: &[PublishedKey],
    list: &SignedStatusList,
    now: DateTime<Utc>,
) -> bool {
    let Ok(value) = serde_json::to_value(&list.list) else {
        return false;
    };
    now <= list.list.next_update
        && verify_value(
            published,
            &list.kid,
            STATUS_LIST_PURPOSE,
            &value,
            &list.signature,
        )
}

/// Offline verification: the code with the published keys, then the permit's status by the
/// rules from the code's last valid day and the status list's entry. Without a usable list
/// only expiry can be seen; anything else is undetermined.
pub fn verify_offline(
    published: &[PublishedKey],
    token: &str,
    status_list: Option<&SignedStatusList>,
    now: DateTime<Utc>,
) -> OfflineVerdict {
    let claims = match codes::verify_offline(published, token, now) {
        Ok(claims) => claims,
        Err(e) => {
            return OfflineVerdict {
                valid: Some(false),
                genuine: false,
                reason: Some(VerifyReason::Code(e).code()),
                status: "unknown",
                claims: None,
            };
        }
    };
    let today = day_in_china(now);
    let status = match status_list.filter(|l| status_list_usable(published, l, now)) {
        Some(list) => {
            let entry = list
                .list
                .entries
                .iter()
                .find(|e| e.permit_no == claims.permit_no)
                .map(StatusEntry::listed_status);
            Some(permit_rules::offline_status(
                entry,
                claims.valid_until,
                today,
            ))
        }
        // Expiry needs no list: the code carries the last valid day.
        None => {
            permit_rules::is_expired(claims.valid_until, today).then_some(PermitStatus::Expired)
        }
    };
    let (valid, reason, status) = match status {
        Some(status) => (
            Some(status == PermitStatus::Valid),
            VerifyReason::of_status(status),
            status.as_str(),
        ),
        None => (None, Some(VerifyReason::StatusUndetermined), UNDETERMINED),
    };
    OfflineVerdict {
        valid,
        genuine: true,
        reason: reason.map(VerifyReason::code),
        status,
        claims: Some(claims),
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
