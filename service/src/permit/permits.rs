//! The permit: issued signed, shown with a status computed from dates and events, endorsed
//! (签注) yearly and renewed near expiry as new signed versions linked to the previous one,
//! and revoked by staff. The dates come from [`permit_rules`]; this module does the I/O.
//!
//! Each permit points to its current version (`permits.current_version_id`), moved by
//! [`add_version`] in the transaction that inserts the version. Every read of the current
//! version goes through the pointer: [`current_version`] in Rust, [`WITH_CURRENT_VERSION`]
//! in SQL.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{permit, permit_version, person};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Context;
use crate::domain::divisions::City;
use crate::domain::permit_rules::{self, Dates, ListEntry, PermitStatus, StatusFacts};
use crate::domain::{IdNumber, licence};
use crate::error::{Missing, Refusal, Result, on_unique};
use crate::govdata::{Household, Photo};
use crate::keys::privacy::{Kind, mask_id_number};
use crate::keys::signing::verify_value_alg;
use crate::notices::outbox::{self, Notice};
use crate::verify::status_list::{Status as ListStatus, StatusListRef, places};

/// The purpose label every permit signature covers.
pub const SIGNATURE_PURPOSE: &str = "yueju-permit-v1";
pub const DOCUMENT_TYPE: &str = "gd-residence-permit";

/// The one SQL spelling of "a permit and its current version", as `p` and `v`. Raw queries
/// that read the current version select `FROM` it.
pub const WITH_CURRENT_VERSION: &str =
    "permits p JOIN permit_versions v ON v.id = p.current_version_id AND v.permit_id = p.id";

/// What is signed: every statutory field and the version chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermitDocument {
    #[serde(rename = "type")]
    pub doc_type: String,
    pub licence_id: String,
    pub permit_no: String,
    pub version: i32,
    /// `issue`, `endorsement`, `renewal` or `address_change`.
    pub kind: String,
    pub previous_licence_id: Option<String>,
    pub name: String,
    pub gender: String,
    pub ethnicity: String,
    pub id_number: String,
    pub photo_sha256: Option<String>,
    pub hukou_address: String,
    pub residence_address: String,
    /// The day the holder began living at `residence_address`, when an address change declared
    /// it (absent from documents made before, so their signatures still verify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence_since: Option<NaiveDate>,
    pub issuing_authority: String,
    pub issued_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub endorsement_due: NaiveDate,
    pub continuous_since: NaiveDate,
    pub signed_at: DateTime<Utc>,
}

/// A document with its detached signature, as anyone can verify it with `GET /api/v1/keys`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedDocument {
    #[schema(value_type = Object)]
    pub document: PermitDocument,
    #[schema(schema_with = crate::api_schema::signature_alg)]
    pub alg: String,
    pub kid: String,
    pub signature: String,
}

/// The permit as its holder sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    /// The permit's entry in the status lists, filled by the holder's permit route.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub status_list: Option<StatusListRef>,
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
    let today = ctx.clock.today();
    let now = ctx.clock.now();
    let year = today.format("%Y");
    let serial =
        crate::permit::counters::next(db, &format!("permit:{}:{year}", issue.city.code)).await?;
    let permit_no = format!("{}{year}{serial:06}", issue.city.code);
    let dates =
        permit_rules::first_version(today, issue.continuous_since, ctx.settings.permit.periods());
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
        current_version_id: Set(None),
        registration_ended_on: Set(None),
        suspended_at: Set(None),
    }
    .insert(db)
    .await?;
    // A permit of another city ends with the move here.
    super::address_change::end_other_cities(ctx, db, issue.person_id, issue.city).await?;
    // Its place in the status lists, drawn at random, in the same transaction.
    let place =
        places::allocate(db, permit.id, ctx.settings.agencies.status_list_size, now).await?;
    if ctx.status_lists.status(place).is_none() {
        // A list this issue opened (or another instance a moment ago): known here at once,
        // every entry valid until an act sets one; the others learn of it from the database.
        if let Some(size) = places::list_size(db, place.list_id).await? {
            ctx.status_lists.add_list(place.list_id, size);
        }
    }
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
        residence_since: None,
        issuing_authority: issuing_authority(issue.city),
        issued_on: today,
        valid_from: dates.valid_from,
        valid_until: dates.valid_until,
        endorsement_due: dates.endorsement_due,
        continuous_since: dates.continuous_since,
        signed_at: now,
    };
    let version = add_version(ctx, db, &permit, &document).await?;
    tracing::info!(permit_id = %permit.id, "permit issued");
    Ok(permit::Model {
        current_version_id: Some(version.id),
        ..permit
    })
}

pub(super) fn licence_id(ctx: &Context, permit_no: &str, version: i32) -> Result<String> {
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

/// Signs and inserts a new version of `permit` and points the permit to it, inside the
/// caller's transaction: the only way a version is written. The pointer moves only from the
/// version the caller read (`permit.current_version_id`), so of two concurrent changes built
/// on the same version one is refused as a conflict, never lost.
pub(super) async fn add_version<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    permit: &permit::Model,
    document: &PermitDocument,
) -> Result<permit_version::Model> {
    let value = serde_json::to_value(document).map_err(anyhow::Error::from)?;
    // Signed before anything is written: a signer that fails refuses the caller's whole
    // transaction, so nothing is issued half.
    let signed = ctx.keys.sign_value(SIGNATURE_PURPOSE, &value).await?;
    let version = permit_version::ActiveModel {
        id: Set(Uuid::new_v4()),
        permit_id: Set(permit.id),
        version: Set(document.version),
        kind: Set(document.kind.clone()),
        licence_id: Set(document.licence_id.clone()),
        payload_enc: Set(ctx.vault.seal(
            Kind::Permit,
            &serde_json::to_vec(&value).map_err(anyhow::Error::from)?,
        )?),
        signature: Set(signed.b64()),
        kid: Set(signed.kid),
        valid_from: Set(document.valid_from),
        valid_until: Set(document.valid_until),
        endorsement_due: Set(document.endorsement_due),
        continuous_since: Set(document.continuous_since),
        created_at: Set(document.signed_at),
    }
    .insert(db)
    .await
    .map_err(|e| on_unique(e, Refusal::Conflict))?;
    let read = match permit.current_version_id {
        Some(id) => permit::Column::CurrentVersionId.eq(id),
        None => permit::Column::CurrentVersionId.is_null(),
    };
    let moved = permit::Entity::update_many()
        .col_expr(permit::Column::CurrentVersionId, Expr::value(version.id))
        .filter(permit::Column::Id.eq(permit.id))
        .filter(read)
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Err(Refusal::Conflict.into());
    }
    Ok(version)
}

/// The person's current permit (the latest issued) and its current version.
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
    let version = current_version(db, &permit).await?;
    Ok(Some((permit, version)))
}

/// The version the permit points to.
pub async fn current_version<C: ConnectionTrait>(
    db: &C,
    permit: &permit::Model,
) -> Result<permit_version::Model> {
    let id = permit
        .current_version_id
        .ok_or_else(|| anyhow::anyhow!("permit {} has no current version", permit.id))?;
    permit_version::Entity::find_by_id(id)
        .filter(permit_version::Column::PermitId.eq(permit.id))
        .one(db)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!("permit {} points to a missing version {id}", permit.id).into()
        })
}

/// The dates of a version row.
pub fn dates(version: &permit_version::Model) -> Dates {
    Dates {
        valid_from: version.valid_from,
        valid_until: version.valid_until,
        endorsement_due: version.endorsement_due,
        continuous_since: version.continuous_since,
    }
}

/// What the status of a permit and its current version depends on.
pub fn facts(permit: &permit::Model, version: &permit_version::Model) -> StatusFacts {
    dates(version).facts(permit.revoked_at.is_some())
}

/// The entry the status lists hold for this permit: the acts recorded on its row.
pub fn list_entry(permit: &permit::Model) -> ListEntry {
    ListEntry::of(permit.revoked_at.is_some(), permit.suspended_at.is_some())
}

/// The status today: the acts on the row (as the status list carries them) and the dates of
/// the current version (as the code carries them), read exactly as a verifier reads them.
pub fn status(
    permit: &permit::Model,
    version: &permit_version::Model,
    today: NaiveDate,
) -> PermitStatus {
    permit_rules::status_from_entry(
        list_entry(permit),
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
        alg: ctx
            .keys
            .alg_of(&version.kid)
            .unwrap_or_default()
            .as_str()
            .into(),
        kid: version.kid.clone(),
        signature: version.signature.clone(),
    })
}

/// Whether a signed document is genuine, checked with what `GET /api/v1/keys` publishes.
pub fn verify_document(ctx: &Context, signed: &SignedDocument) -> bool {
    serde_json::to_value(&signed.document).is_ok_and(|value| {
        verify_value_alg(
            &ctx.keys.published(),
            &signed.alg,
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
    let today = ctx.clock.today();
    // The dates shown are the row's, the ones the status is computed from (the signed
    // document repeats them).
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
        endorsement_window_opens: permit_rules::endorsement_window_opens(
            version.endorsement_due,
            ctx.settings.permit.periods(),
        ),
        next_endorsement_due: version.endorsement_due,
        permit_no: doc.permit_no,
        licence_id: doc.licence_id,
        version: version.version,
        name: doc.name,
        gender: doc.gender,
        ethnicity: doc.ethnicity,
        hukou_address: doc.hukou_address,
        residence_address: doc.residence_address,
        issuing_authority: doc.issuing_authority,
        issued_on: doc.issued_on,
        valid_from: version.valid_from,
        valid_until: version.valid_until,
        continuous_since: version.continuous_since,
        status_list: None,
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
    let place = places::place_of(&txn, permit.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("permit {} has no place in the status lists", permit.id))?;
    places::set_state(&txn, place, ListStatus::Revoked).await?;
    let mut active: permit::ActiveModel = permit.into();
    active.revoked_at = Set(Some(ctx.clock.now()));
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
    txn.commit().await?;
    // Seen at once here; other instances follow the change log within a second.
    ctx.status_lists.apply(place, ListStatus::Revoked);
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
