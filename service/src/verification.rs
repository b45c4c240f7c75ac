//! Showing and verifying the 粤居码: the holder's current code, online verification with the
//! permit's live status, the signed status list for verifiers that work offline, and the
//! offline verification itself (published keys and, when it has one, a status list).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{permit, permit_version};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::Context;
use crate::access_log::{self, Action, Actor};
use crate::agencies::{self, AgencyPrincipal, Scope};
use crate::codes::{self, CodeClaims};
use crate::config::today_in_china;
use crate::error::Result;
use crate::fields::PermitField;
use crate::permits::{self, PermitDocument, PermitStatus};
use crate::privacy::mask_name;
use crate::signing::{PublishedKey, verify_value};

pub const STATUS_LIST_PURPOSE: &str = "yueju-status-list-v1";

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
    let (permit, version) = permits::my_permit(ctx, person_id).await?;
    let (token, expires_at) = codes::issue(
        &ctx.keys,
        &permit.permit_no,
        version.valid_until,
        ctx.settings.code_ttl_secs,
    )?;
    Ok(CodeView {
        token,
        expires_at,
        permit_no: permit.permit_no,
    })
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

/// The answer of `POST /verify`. `reason` is a stable code whenever `valid` is false.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
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
    fn refused(reason: &'static str, now: DateTime<Utc>) -> Verdict {
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

pub fn status_reason(status: PermitStatus) -> Option<&'static str> {
    match status {
        PermitStatus::Valid => None,
        PermitStatus::Suspended => Some("PERMIT_SUSPENDED"),
        PermitStatus::Expired => Some("PERMIT_EXPIRED"),
        PermitStatus::Revoked => Some("PERMIT_REVOKED"),
    }
}

/// Finds a permit and its current version by number.
pub async fn permit_by_number<C: ConnectionTrait>(
    db: &C,
    permit_no: &str,
) -> Result<Option<(permit::Model, permit_version::Model)>> {
    let Some(permit) = permit::Entity::find()
        .filter(permit::Column::PermitNo.eq(permit_no))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let version = permits::latest_version(db, permit.id).await?;
    Ok(Some((permit, version)))
}

/// Online verification: signature, key, time, then the permit's status now. Never fails for
/// the caller's input; when the status cannot be read the verdict says `undetermined`.
pub async fn verify(ctx: &Context, token: &str, agency: Option<&AgencyPrincipal>) -> Verdict {
    let now = Utc::now();
    let claims = match codes::verify(&ctx.keys, token, now) {
        Ok(claims) => claims,
        Err(e) => return Verdict::refused(e.code(), now),
    };
    match verify_status(ctx, &claims, agency, now).await {
        Ok(verdict) => verdict,
        Err(e) => {
            tracing::warn!(error = ?e, "permit status unreadable during verification");
            Verdict {
                valid: false,
                reason: Some("STATUS_UNDETERMINED"),
                status: Some("undetermined"),
                permit: None,
                code_expires_at: Some(claims.expires_at),
                kid: Some(claims.kid),
                checked_at: now,
            }
        }
    }
}

async fn verify_status(
    ctx: &Context,
    claims: &CodeClaims,
    agency: Option<&AgencyPrincipal>,
    now: DateTime<Utc>,
) -> Result<Verdict> {
    let Some((permit, version)) = permit_by_number(&ctx.db, &claims.permit_no).await? else {
        return Ok(Verdict::refused("PERMIT_NOT_FOUND", now));
    };
    let status = permits::status(&permit, &version, today_in_china());
    let document = permits::open_document(ctx, &version)?;
    let mut extra = BTreeMap::new();
    if let Some(principal) = agency {
        let agency = agencies::find(ctx, principal).await?;
        if principal.require(Scope::Verify).is_ok() {
            for field in agencies::fields_of(&agency) {
                if field.shown_at_verification() {
                    extra.insert(field.as_str(), field_value(&document, field));
                }
            }
        }
        let txn = ctx.db.begin().await?;
        access_log::record(
            &txn,
            access_log::Event {
                person_id: permit.person_id,
                actor: Actor::Agency {
                    id: agency.id,
                    name: agency.name.clone(),
                },
                action: Action::Verify,
                purpose: None,
                detail: json!({
                    "permit_no": permit.permit_no,
                    "status": status.as_str(),
                    "fields": extra.keys().collect::<Vec<_>>(),
                }),
            },
        )
        .await?;
        txn.commit().await?;
    }
    Ok(Verdict {
        valid: status == PermitStatus::Valid,
        reason: status_reason(status),
        status: Some(status.as_str()),
        permit: Some(VerifiedPermit {
            name: mask_name(&document.name),
            permit_no: permit.permit_no,
            valid_until: version.valid_until,
            status,
            extra,
        }),
        code_expires_at: Some(claims.expires_at),
        kid: Some(claims.kid.clone()),
        checked_at: now,
    })
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

/// Permits not in force although their validity has not run out; everything else is valid
/// until the `valid_until` a code carries.
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

/// Builds and signs the current list.
pub async fn status_list(ctx: &Context) -> Result<SignedStatusList> {
    let today = today_in_china();
    let backend = ctx.db.get_database_backend();
    // The latest version of each permit decides; one statement on both databases.
    let sql = "SELECT p.permit_no AS permit_no, \
                      CASE WHEN p.revoked_at IS NOT NULL THEN 'revoked' ELSE 'suspended' END AS status \
               FROM permits p JOIN permit_versions v ON v.permit_id = p.id \
               WHERE v.version = (SELECT MAX(w.version) FROM permit_versions w WHERE w.permit_id = p.id) \
                 AND v.valid_until >= $1 \
                 AND (p.revoked_at IS NOT NULL OR (v.endorsement_due < $1 AND v.endorsement_due < v.valid_until)) \
               ORDER BY p.permit_no";
    let rows = ctx
        .db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [today.into()]))
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        entries.push(StatusEntry {
            permit_no: row.try_get("", "permit_no")?,
            status: row.try_get("", "status")?,
        });
    }
    let now = Utc::now();
    let list = StatusList {
        list_type: "gd-residence-permit-status-list".into(),
        issued_at: now,
        next_update: now + Duration::seconds(i64::from(ctx.settings.agencies.status_list_ttl_secs)),
        entries,
    };
    let value = serde_json::to_value(&list).map_err(anyhow::Error::from)?;
    Ok(SignedStatusList {
        list,
        alg: "EdDSA".into(),
        kid: ctx.keys.signing_kid().to_owned(),
        signature: ctx.keys.sign_value(STATUS_LIST_PURPOSE, &value),
    })
}

// ---------------------------------------------------------------------------
// Offline verification
// ---------------------------------------------------------------------------

/// What an offline verifier can say. `valid` is `None` when the code is genuine but the
/// permit's status is not known (no status list, a stale one, or one that does not verify):
/// "undetermined", never "revoked".
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
                reason: Some(e.code()),
                status: "unknown",
                claims: None,
            };
        }
    };
    let today = now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let verdict = |valid, reason, status| OfflineVerdict {
        valid,
        genuine: true,
        reason,
        status,
        claims: Some(claims.clone()),
    };
    if today > claims.valid_until {
        return verdict(Some(false), Some("PERMIT_EXPIRED"), "expired");
    }
    match status_list.filter(|l| status_list_usable(published, l, now)) {
        None => verdict(None, Some("STATUS_UNDETERMINED"), "undetermined"),
        Some(list) => match list
            .list
            .entries
            .iter()
            .find(|e| e.permit_no == claims.permit_no)
        {
            Some(e) if e.status == "revoked" => {
                verdict(Some(false), Some("PERMIT_REVOKED"), "revoked")
            }
            Some(_) => verdict(Some(false), Some("PERMIT_SUSPENDED"), "suspended"),
            None => verdict(Some(true), None, "valid"),
        },
    }
}
