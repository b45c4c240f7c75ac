//! The permit: issued signed, shown with a status computed from dates and events, endorsed
//! (签注) yearly and renewed near expiry as new signed versions linked to the previous one,
//! and revoked by staff.

use chrono::{DateTime, Months, NaiveDate, Utc};
use entity::{application, permit, permit_version, person};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Context;
use crate::config::today_in_china;
use crate::domain::divisions::{self, City};
use crate::domain::{IdNumber, licence};
use crate::eligibility::{Basis, missing_proofs};
use crate::error::{Missing, Refusal, Result, on_unique};
use crate::govdata::{Household, Photo, fetch_dossier};
use crate::outbox::{self, Notice};
use crate::privacy::{Kind, mask_id_number};
use crate::signing::verify_value;

/// The purpose label every permit signature covers.
pub const SIGNATURE_PURPOSE: &str = "yueju-permit-v1";
pub const DOCUMENT_TYPE: &str = "gd-residence-permit";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PermitStatus {
    Valid,
    Suspended,
    Expired,
    Revoked,
}

impl PermitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PermitStatus::Valid => "valid",
            PermitStatus::Suspended => "suspended",
            PermitStatus::Expired => "expired",
            PermitStatus::Revoked => "revoked",
        }
    }
}

/// What is signed: every statutory field and the version chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermitDocument {
    #[serde(rename = "type")]
    pub doc_type: String,
    pub licence_id: String,
    pub permit_no: String,
    pub version: i32,
    /// `issue`, `endorsement` or `renewal`.
    pub kind: String,
    pub previous_licence_id: Option<String>,
    pub name: String,
    pub gender: String,
    pub ethnicity: String,
    pub id_number: String,
    pub photo_sha256: Option<String>,
    pub hukou_address: String,
    pub residence_address: String,
    pub issuing_authority: String,
    pub issued_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub endorsement_due: NaiveDate,
    pub continuous_since: NaiveDate,
    pub signed_at: DateTime<Utc>,
}

/// A document with its detached signature, as anyone can verify it with `GET /api/v1/keys`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedDocument {
    pub document: PermitDocument,
    pub alg: String,
    pub kid: String,
    pub signature: String,
}

/// The permit as its holder sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PermitView {
    pub permit_no: String,
    pub licence_id: String,
    pub version: i32,
    pub name: String,
    pub gender: String,
    pub ethnicity: String,
    pub id_number: String,
    pub photo_url: Option<String>,
    pub hukou_address: String,
    pub residence_address: String,
    pub issuing_authority: String,
    pub issued_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub next_endorsement_due: NaiveDate,
    pub endorsement_window_opens: NaiveDate,
    pub continuous_since: NaiveDate,
    pub status: PermitStatus,
}

pub fn years_after(date: NaiveDate, years: u32) -> NaiveDate {
    date.checked_add_months(Months::new(years * 12))
        .unwrap_or(NaiveDate::MAX)
}

fn days_before(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_sub_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

/// Status from the facts alone, so it is never stored stale: revoked by staff; expired after
/// the validity period; suspended once an endorsement date has passed without endorsement.
pub fn status_of(
    revoked: bool,
    valid_until: NaiveDate,
    endorsement_due: NaiveDate,
    today: NaiveDate,
) -> PermitStatus {
    if revoked {
        PermitStatus::Revoked
    } else if today > valid_until {
        PermitStatus::Expired
    } else if today > endorsement_due && endorsement_due < valid_until {
        PermitStatus::Suspended
    } else {
        PermitStatus::Valid
    }
}

pub fn issuing_authority(city: &City) -> String {
    format!("{}公安局", city.name)
}

/// The residence address as printed: the declared address, prefixed with city and district
/// unless it already starts with the city.
pub fn residence_address(city: &str, district: &str, address: &str) -> String {
    if address.starts_with(city) {
        address.to_owned()
    } else {
        format!("{city}{district}{address}")
    }
}

/// What issuing needs besides the connection: who, where, and since when.
pub struct Issue<'a> {
    pub person_id: Uuid,
    pub id: &'a IdNumber,
    pub household: &'a Household,
    pub city: &'static City,
    pub residence_address: String,
    pub continuous_since: NaiveDate,
}

/// Issues a permit inside the caller's transaction: a new permit number, version 1, signed.
pub async fn issue<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    issue: Issue<'_>,
) -> Result<permit::Model> {
    let today = today_in_china();
    let now = Utc::now();
    let year = today.format("%Y");
    let serial = crate::counters::next(db, &format!("permit:{}:{year}", issue.city.code)).await?;
    let permit_no = format!("{}{year}{serial:06}", issue.city.code);
    let rules = &ctx.settings.permit;
    let valid_until = years_after(today, rules.validity_years);
    let photo_sha256 = issue
        .household
        .photo
        .as_ref()
        .map(|p| hex::encode(Sha256::digest(&p.bytes)));
    let permit = permit::ActiveModel {
        id: Set(Uuid::new_v4()),
        person_id: Set(issue.person_id),
        permit_no: Set(permit_no.clone()),
        city_code: Set(issue.city.code.to_owned()),
        photo_enc: Set(issue
            .household
            .photo
            .as_ref()
            .map(|p| ctx.vault.seal(Kind::Photo, &p.bytes))
            .transpose()?),
        photo_mime: Set(issue.household.photo.as_ref().map(|p| p.mime.clone())),
        revoked_at: Set(None),
        revoke_reason_enc: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let document = PermitDocument {
        doc_type: DOCUMENT_TYPE.into(),
        licence_id: licence_id(ctx, &permit_no, 1)?,
        permit_no,
        version: 1,
        kind: "issue".into(),
        previous_licence_id: None,
        name: issue.household.name.clone(),
        gender: issue.id.gender().as_str().into(),
        ethnicity: issue.household.ethnicity.clone(),
        id_number: issue.id.as_str().into(),
        photo_sha256,
        hukou_address: issue.household.hukou_address.clone(),
        residence_address: issue.residence_address,
        issuing_authority: issuing_authority(issue.city),
        issued_on: today,
        valid_from: today,
        valid_until,
        endorsement_due: years_after(today, 1).min(valid_until),
        continuous_since: issue.continuous_since,
        signed_at: now,
    };
    insert_version(ctx, db, permit.id, &document).await?;
    tracing::info!(permit_id = %permit.id, "permit issued");
    Ok(permit)
}

fn licence_id(ctx: &Context, permit_no: &str, version: i32) -> Result<String> {
    let rules = &ctx.settings.permit;
    let id = licence::licence_id(
        &rules.licence_type_code,
        &rules.issuer_credit_code,
        permit_no,
        version as u32,
    )
    .ok_or_else(|| anyhow::anyhow!("licence type or issuer code is not alphanumeric"))?;
    Ok(id)
}

async fn insert_version<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    permit_id: Uuid,
    document: &PermitDocument,
) -> Result<()> {
    let value = serde_json::to_value(document).map_err(anyhow::Error::from)?;
    let signature = ctx.keys.sign_value(SIGNATURE_PURPOSE, &value);
    permit_version::ActiveModel {
        id: Set(Uuid::new_v4()),
        permit_id: Set(permit_id),
        version: Set(document.version),
        kind: Set(document.kind.clone()),
        licence_id: Set(document.licence_id.clone()),
        payload_enc: Set(ctx.vault.seal(
            Kind::Permit,
            &serde_json::to_vec(&value).map_err(anyhow::Error::from)?,
        )?),
        signature: Set(signature),
        kid: Set(ctx.keys.signing_kid().to_owned()),
        valid_from: Set(document.valid_from),
        valid_until: Set(document.valid_until),
        endorsement_due: Set(document.endorsement_due),
        continuous_since: Set(document.continuous_since),
        created_at: Set(document.signed_at),
    }
    .insert(db)
    .await
    .map_err(|e| on_unique(e, Refusal::Conflict))?;
    Ok(())
}

/// The person's current permit (the latest issued) and its latest version.
pub async fn current<C: ConnectionTrait>(
    db: &C,
    person_id: Uuid,
) -> Result<Option<(permit::Model, permit_version::Model)>> {
    let Some(permit) = permit::Entity::find()
        .filter(permit::Column::PersonId.eq(person_id))
        .order_by_desc(permit::Column::CreatedAt)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let version = latest_version(db, permit.id).await?;
    Ok(Some((permit, version)))
}

pub async fn latest_version<C: ConnectionTrait>(
    db: &C,
    permit_id: Uuid,
) -> Result<permit_version::Model> {
    permit_version::Entity::find()
        .filter(permit_version::Column::PermitId.eq(permit_id))
        .order_by_desc(permit_version::Column::Version)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("permit {permit_id} has no version").into())
}

pub fn status(
    permit: &permit::Model,
    version: &permit_version::Model,
    today: NaiveDate,
) -> PermitStatus {
    status_of(
        permit.revoked_at.is_some(),
        version.valid_until,
        version.endorsement_due,
        today,
    )
}

pub fn open_document(ctx: &Context, version: &permit_version::Model) -> Result<PermitDocument> {
    let bytes = ctx.vault.open(Kind::Permit, &version.payload_enc)?;
    Ok(serde_json::from_slice(&bytes).map_err(anyhow::Error::from)?)
}

pub fn signed_document(ctx: &Context, version: &permit_version::Model) -> Result<SignedDocument> {
    Ok(SignedDocument {
        document: open_document(ctx, version)?,
        alg: "EdDSA".into(),
        kid: version.kid.clone(),
        signature: version.signature.clone(),
    })
}

/// Whether a signed document is genuine, checked with what `GET /api/v1/keys` publishes.
pub fn verify_document(ctx: &Context, signed: &SignedDocument) -> bool {
    serde_json::to_value(&signed.document).is_ok_and(|value| {
        verify_value(
            &ctx.keys.published(),
            &signed.kid,
            SIGNATURE_PURPOSE,
            &value,
            &signed.signature,
        )
    })
}

pub fn view(
    ctx: &Context,
    permit: &permit::Model,
    version: &permit_version::Model,
    reveal: bool,
) -> Result<PermitView> {
    let doc = open_document(ctx, version)?;
    let today = today_in_china();
    Ok(PermitView {
        id_number: if reveal {
            doc.id_number.clone()
        } else {
            mask_id_number(&doc.id_number)
        },
        photo_url: permit
            .photo_enc
            .as_ref()
            .map(|_| "/api/v1/me/permit/photo".to_owned()),
        status: status(permit, version, today),
        endorsement_window_opens: days_before(
            version.endorsement_due,
            ctx.settings.permit.endorsement_window_days,
        ),
        next_endorsement_due: version.endorsement_due,
        permit_no: doc.permit_no,
        licence_id: doc.licence_id,
        version: doc.version,
        name: doc.name,
        gender: doc.gender,
        ethnicity: doc.ethnicity,
        hukou_address: doc.hukou_address,
        residence_address: doc.residence_address,
        issuing_authority: doc.issuing_authority,
        issued_on: doc.issued_on,
        valid_from: doc.valid_from,
        valid_until: doc.valid_until,
        continuous_since: doc.continuous_since,
    })
}

pub async fn my_permit(
    ctx: &Context,
    person_id: Uuid,
) -> Result<(permit::Model, permit_version::Model)> {
    current(&ctx.db, person_id)
        .await?
        .ok_or_else(|| Refusal::NotFound(Missing::Permit).into())
}

pub async fn photo(ctx: &Context, person_id: Uuid) -> Result<Photo> {
    let (permit, _) = my_permit(ctx, person_id).await?;
    match (permit.photo_enc, permit.photo_mime) {
        (Some(sealed), Some(mime)) => Ok(Photo {
            mime,
            bytes: ctx.vault.open(Kind::Photo, &sealed)?,
        }),
        _ => Err(Refusal::NotFound(Missing::Permit).into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Renewal {
    Endorsement,
    Renewal,
}

/// The yearly endorsement, or the renewal when expiry is near. Both re-check that the
/// government data still proves the conditions, and add a new signed version.
pub async fn endorse(ctx: &Context, person_id: Uuid) -> Result<(Renewal, PermitView)> {
    let today = today_in_china();
    let rules = &ctx.settings.permit;
    let (permit, version) = my_permit(ctx, person_id).await?;
    match status(&permit, &version, today) {
        PermitStatus::Revoked => return Err(Refusal::PermitRevoked.into()),
        PermitStatus::Expired => return Err(Refusal::PermitExpired.into()),
        PermitStatus::Valid | PermitStatus::Suspended => {}
    }
    let late = today > version.endorsement_due;
    let kind = if today >= days_before(version.valid_until, rules.renewal_window_days) {
        Renewal::Renewal
    } else {
        let opens_on = days_before(version.endorsement_due, rules.endorsement_window_days);
        if today < opens_on {
            return Err(Refusal::EndorsementNotDue { opens_on }.into());
        }
        Renewal::Endorsement
    };
    let city = divisions::city_of_region_code(&permit.city_code)
        .ok_or_else(|| anyhow::anyhow!("permit city {} unknown", permit.city_code))?;
    let basis = permit_basis(&ctx.db, permit.id).await?;
    let old = open_document(ctx, &version)?;
    let id = IdNumber::parse(&old.id_number)?;
    let dossier = fetch_dossier(ctx.gov.as_ref(), &id).await?;
    if let Some(missing) = missing_proofs(city, basis, &dossier, today, rules.residence_months) {
        return Err(Refusal::ConditionsNotMet(missing).into());
    }
    let household = dossier.household.ok_or(Refusal::ConditionsNotMet(vec![]))?;
    // The version row's dates are authoritative (they are what status and reminders use).
    let (valid_from, valid_until, due) = match kind {
        Renewal::Endorsement => {
            let base = if late { today } else { version.endorsement_due };
            (
                version.valid_from,
                version.valid_until,
                years_after(base, 1).min(version.valid_until),
            )
        }
        Renewal::Renewal => {
            let until = years_after(version.valid_until, rules.validity_years);
            (today, until, years_after(version.valid_until, 1).min(until))
        }
    };
    let next = version.version + 1;
    let document = PermitDocument {
        licence_id: licence_id(ctx, &old.permit_no, next)?,
        version: next,
        kind: match kind {
            Renewal::Endorsement => "endorsement",
            Renewal::Renewal => "renewal",
        }
        .into(),
        previous_licence_id: Some(old.licence_id.clone()),
        // A late endorsement restarts the count of continuous residence.
        continuous_since: if late {
            today
        } else {
            version.continuous_since
        },
        name: household.name,
        ethnicity: household.ethnicity,
        hukou_address: household.hukou_address,
        valid_from,
        valid_until,
        endorsement_due: due,
        signed_at: Utc::now(),
        ..old
    };
    let txn = ctx.db.begin().await?;
    insert_version(ctx, &txn, permit.id, &document).await?;
    let forget = ctx.status_cache.forget_when_done(&permit.permit_no);
    txn.commit().await?;
    drop(forget);
    tracing::info!(permit_id = %permit.id, version = next, ?kind, "permit endorsed");
    let version = latest_version(&ctx.db, permit.id).await?;
    Ok((kind, view(ctx, &permit, &version, false)?))
}

/// The basis the permit was issued on, from the application that produced it.
async fn permit_basis<C: ConnectionTrait>(db: &C, permit_id: Uuid) -> Result<Basis> {
    let app = application::Entity::find()
        .filter(application::Column::PermitId.eq(permit_id))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("permit {permit_id} has no application"))?;
    Basis::parse(&app.basis).ok_or_else(|| anyhow::anyhow!("application basis unreadable").into())
}

/// Staff revoke a permit; the holder is told through the outbox.
pub async fn revoke(ctx: &Context, permit_no: &str, reason: &str) -> Result<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(crate::error::invalid(
            "reason",
            crate::error::FieldProblem::Empty,
        ));
    }
    let txn = ctx.db.begin().await?;
    let Some(permit) = permit::Entity::find()
        .filter(permit::Column::PermitNo.eq(permit_no))
        .one(&txn)
        .await?
    else {
        return Err(Refusal::NotFound(Missing::Permit).into());
    };
    if permit.revoked_at.is_some() {
        return Err(Refusal::PermitRevoked.into());
    }
    let person_id = permit.person_id;
    let mut active: permit::ActiveModel = permit.into();
    active.revoked_at = Set(Some(Utc::now()));
    active.revoke_reason_enc = Set(Some(ctx.vault.seal_str(Kind::Note, reason)?));
    active.update(&txn).await?;
    let notice = Notice::PermitRevoked {
        permit_no: permit_no.to_owned(),
        reason: reason.to_owned(),
    };
    outbox::enqueue(
        ctx,
        &txn,
        person_id,
        &format!("permit_revoked:{permit_no}"),
        &notice,
    )
    .await?;
    let forget = ctx.status_cache.forget_when_done(permit_no);
    txn.commit().await?;
    drop(forget);
    tracing::info!("permit revoked");
    Ok(())
}

/// The person behind a permit holder's request still exists (accounts may be closed).
pub async fn person_exists<C: ConnectionTrait>(db: &C, person_id: Uuid) -> Result<bool> {
    Ok(person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .is_some())
}

/// Parses a value of the signed document for display or tests.
pub fn document_value(document: &PermitDocument) -> Result<Value> {
    Ok(serde_json::to_value(document).map_err(anyhow::Error::from)?)
}
