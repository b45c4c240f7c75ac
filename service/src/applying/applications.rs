//! Applying for a permit (DESIGN.md, API.md "Applying").
//!
//! Government-data verification runs at once: when the data proves everything the permit is
//! issued in the same transaction as the application; when something is unproved the
//! application waits for exactly the missing kinds of material, then for a reviewer; when a
//! rule is broken it is rejected with every reason. One open application per person.

use chrono::{DateTime, NaiveDate, Utc};
use entity::statuses::ApplicationStatus;
use entity::{application, material, person};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use uuid::Uuid;

use crate::Context;
use crate::applying::documents::{self, Checked, DocumentType};
use crate::applying::eligibility::{Basis, Declared, MaterialKind, RejectReason, Verdict, assess};
use crate::applying::idempotency;
use crate::config::today_in_china;
use crate::domain::IdNumber;
use crate::domain::divisions::{self, City, District};
use crate::domain::permit_rules::PermitStatus;
use crate::error::{FieldProblem, Missing, Refusal, Result, invalid, on_unique};
use crate::govdata::fetch_dossier;
use crate::identity::sessions::ResidentPrincipal;
use crate::keys::privacy::{Kind, mask_id_number, mask_name};
use crate::notices::outbox::{self, Notice};
use crate::permit::permits;

const MAX_ADDRESS_CHARS: usize = 120;

/// What the resident sends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApplyRequest {
    pub city: String,
    pub district: String,
    pub address: String,
    pub residence_since: String,
    pub basis: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// An application as its applicant sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplicationView {
    pub id: Uuid,
    pub status: ApplicationStatus,
    pub city: String,
    pub district: String,
    pub address: String,
    pub residence_since: NaiveDate,
    pub basis: String,
    pub missing: Vec<String>,
    pub reasons: Vec<String>,
    pub permit_no: Option<String>,
    pub materials: Vec<MaterialView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaterialView {
    pub id: Uuid,
    pub kind: String,
    pub mime: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    /// When the file was deleted (retention or account closure); the metadata stays.
    #[serde(default)]
    pub purged_at: Option<DateTime<Utc>>,
}

struct Valid {
    city: &'static City,
    district: &'static District,
    address: String,
    residence_since: NaiveDate,
    basis: Basis,
    email: Option<String>,
}

fn validate(req: &ApplyRequest, today: NaiveDate) -> Result<Valid> {
    let city = divisions::find_city(&req.city).ok_or(Refusal::UnknownCity)?;
    if city.is_shenzhen() {
        return Err(Refusal::RegionNotSupported.into());
    }
    let district = city
        .find_district(&req.district)
        .ok_or(Refusal::UnknownDistrict)?;
    let address = req.address.trim();
    if address.is_empty() {
        return Err(invalid("address", FieldProblem::Empty));
    }
    if address.chars().count() > MAX_ADDRESS_CHARS {
        return Err(invalid("address", FieldProblem::TooLong));
    }
    let residence_since = NaiveDate::parse_from_str(req.residence_since.trim(), "%Y-%m-%d")
        .map_err(|_| invalid("residence_since", FieldProblem::BadFormat))?;
    if residence_since > today {
        return Err(invalid("residence_since", FieldProblem::InFuture));
    }
    let basis =
        Basis::parse(&req.basis).ok_or_else(|| invalid("basis", FieldProblem::NotAllowed))?;
    let email = req
        .email
        .as_deref()
        .map(crate::identity::binding::validate_email)
        .transpose()?;
    Ok(Valid {
        city,
        district,
        address: address.to_owned(),
        residence_since,
        basis,
        email,
    })
}

/// Files an application and verifies it at once. Answers the view and whether it was created
/// now (`false` when an earlier answer was replayed for the same `Idempotency-Key`).
pub async fn apply(
    ctx: &Context,
    principal: &ResidentPrincipal,
    req: ApplyRequest,
    idempotency_key: Option<&str>,
) -> Result<(ApplicationView, bool)> {
    let person_id = principal.person()?;
    let key = idempotency_key
        .map(|k| {
            let request = serde_json::to_value(&req).map_err(anyhow::Error::from)?;
            idempotency::Key::new(format!("person:{person_id}:applications"), k, &request)
        })
        .transpose()?;
    if let Some(key) = &key
        && let Some(view) = idempotency::replay::<ApplicationView, _>(ctx, &ctx.db, key).await?
    {
        return Ok((view, false));
    }
    let today = today_in_china();
    let valid = validate(&req, today)?;
    let id = person_id_number(ctx, person_id).await?;
    // Outside the transaction: the data exchange may be remote and slow.
    let dossier = fetch_dossier(ctx.gov.as_ref(), &id).await?;
    let declared = Declared {
        city: valid.city,
        residence_since: valid.residence_since,
        basis: valid.basis,
    };
    let verdict = assess(
        &declared,
        &dossier,
        today,
        ctx.settings.permit.residence_months,
    );

    let now = Utc::now();
    let (status, missing, reasons) = match &verdict {
        Verdict::Eligible => (ApplicationStatus::Issued, vec![], vec![]),
        Verdict::NeedsMaterials(m) => (ApplicationStatus::NeedsMaterials, m.clone(), vec![]),
        Verdict::Rejected(r) => (ApplicationStatus::Rejected, vec![], r.clone()),
    };
    let txn = ctx.db.begin().await?;
    // Write first (SQLite upgrades a reading transaction badly under concurrency); the unique
    // `open_for_person` refuses a second open application.
    let application_id = Uuid::new_v4();
    let row = application::ActiveModel {
        id: Set(application_id),
        person_id: Set(person_id),
        account_id: Set(principal.account_id),
        status: Set(status),
        open_for_person: Set((status == ApplicationStatus::NeedsMaterials).then_some(person_id)),
        city_code: Set(valid.city.code.into()),
        city: Set(valid.city.name.into()),
        district_code: Set(valid.district.code.into()),
        district: Set(valid.district.name.into()),
        address_enc: Set(ctx.vault.seal_str(Kind::Address, &valid.address)?),
        residence_since: Set(valid.residence_since),
        basis: Set(valid.basis.as_str().into()),
        missing: Set(to_json(
            &missing.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
        )),
        reasons: Set(to_json(
            &reasons.iter().map(|r| r.code()).collect::<Vec<_>>(),
        )),
        review_note_enc: Set(None),
        permit_id: Set(None),
        decided_by: Set(None),
        decided_at: Set((status != ApplicationStatus::NeedsMaterials).then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| on_unique(e, Refusal::ApplicationOpen))?;
    refuse_if_open_or_held(&txn, person_id, application_id).await?;
    let mut row = row;
    if verdict == Verdict::Eligible {
        let household = dossier
            .household
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("eligible without household"))?;
        let permit = permits::issue(
            ctx,
            &txn,
            permits::Issue {
                person_id,
                id: &id,
                household,
                city: valid.city,
                residence_address: permits::residence_address(
                    valid.city.name,
                    valid.district.name,
                    &valid.address,
                ),
                continuous_since: valid.residence_since,
            },
        )
        .await?;
        let mut active: application::ActiveModel = row.into();
        active.permit_id = Set(Some(permit.id));
        row = active.update(&txn).await?;
    }
    if let Some(email) = &valid.email {
        set_contact_email(ctx, &txn, person_id, email).await?;
    }
    let view = view_of(ctx, &txn, &row).await?;
    if let Some(key) = &key {
        idempotency::save(ctx, &txn, key, &view).await?;
    }
    txn.commit().await?;
    tracing::info!(%application_id, status = ?status, "application filed");
    Ok((view, true))
}

/// Refuses a new application while another is open or a valid (or suspended) permit is held.
async fn refuse_if_open_or_held<C: ConnectionTrait>(
    db: &C,
    person_id: Uuid,
    this: Uuid,
) -> Result<()> {
    let open = application::Entity::find()
        .filter(application::Column::OpenForPerson.eq(person_id))
        .filter(application::Column::Id.ne(this))
        .count(db)
        .await?;
    if open > 0 {
        return Err(Refusal::ApplicationOpen.into());
    }
    if let Some((permit, version)) = permits::current(db, person_id).await? {
        match permits::status(&permit, &version, today_in_china()) {
            PermitStatus::Valid | PermitStatus::Suspended => return Err(Refusal::PermitHeld.into()),
            PermitStatus::Expired | PermitStatus::Revoked => {}
        }
    }
    Ok(())
}

async fn set_contact_email<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: Uuid,
    email: &str,
) -> Result<()> {
    person::Entity::update_many()
        .col_expr(
            person::Column::EmailEnc,
            Expr::value(ctx.vault.seal_str(Kind::Email, email)?),
        )
        .col_expr(person::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(person::Column::Id.eq(person_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn person_id_number(ctx: &Context, db_person: Uuid) -> Result<IdNumber> {
    person_id_number_in(ctx, &ctx.db, db_person).await
}

async fn person_id_number_in<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: Uuid,
) -> Result<IdNumber> {
    let person = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .ok_or(Refusal::IdentityRequired)?;
    Ok(IdNumber::parse(
        &ctx.vault
            .open_string(Kind::IdNumber, &person.id_number_enc)?,
    )?)
}

fn to_json(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn from_json(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(crate) async fn view_of<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    row: &application::Model,
) -> Result<ApplicationView> {
    let materials = material::Entity::find()
        .filter(material::Column::ApplicationId.eq(row.id))
        .order_by_asc(material::Column::CreatedAt)
        .all(db)
        .await?;
    let permit_no = match row.permit_id {
        Some(pid) => entity::permit::Entity::find_by_id(pid)
            .one(db)
            .await?
            .map(|p| p.permit_no),
        None => None,
    };
    Ok(ApplicationView {
        id: row.id,
        status: row.status,
        city: row.city.clone(),
        district: row.district.clone(),
        address: ctx.vault.open_string(Kind::Address, &row.address_enc)?,
        residence_since: row.residence_since,
        basis: row.basis.clone(),
        missing: from_json(&row.missing),
        reasons: from_json(&row.reasons),
        permit_no,
        materials: materials.into_iter().map(material_view).collect(),
        created_at: row.created_at,
        updated_at: row.updated_at,
        decided_at: row.decided_at,
    })
}

pub fn material_view(m: material::Model) -> MaterialView {
    MaterialView {
        id: m.id,
        kind: m.kind,
        mime: m.mime,
        size_bytes: m.size_bytes,
        sha256: m.sha256,
        created_at: m.created_at,
        purged_at: m.purged_at,
    }
}

/// One of the person's own applications; anyone else's is "not found".
async fn own<C: ConnectionTrait>(db: &C, person_id: Uuid, id: Uuid) -> Result<application::Model> {
    application::Entity::find_by_id(id)
        .filter(application::Column::PersonId.eq(person_id))
        .one(db)
        .await?
        .ok_or_else(|| Refusal::NotFound(Missing::Application).into())
}

pub async fn get(
    ctx: &Context,
    principal: &ResidentPrincipal,
    id: Uuid,
) -> Result<ApplicationView> {
    let row = own(&ctx.db, principal.person()?, id).await?;
    view_of(ctx, &ctx.db, &row).await
}

/// A page of items and the cursor of the next page.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub const MAX_PAGE: u64 = 100;

/// Keyset paging on (created_at, id): the cursor is the last item's id.
async fn page_of(
    ctx: &Context,
    filter: Condition,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> Result<(Vec<application::Model>, Option<String>)> {
    let limit = limit.unwrap_or(20).clamp(1, MAX_PAGE);
    let mut query = application::Entity::find().filter(filter.clone());
    if let Some(cursor) = cursor {
        let after =
            Uuid::parse_str(cursor).map_err(|_| invalid("cursor", FieldProblem::BadFormat))?;
        let anchor = application::Entity::find_by_id(after)
            .filter(filter)
            .one(&ctx.db)
            .await?
            .ok_or_else(|| invalid("cursor", FieldProblem::BadFormat))?;
        query = query.filter(
            Condition::any()
                .add(application::Column::CreatedAt.gt(anchor.created_at))
                .add(
                    Condition::all()
                        .add(application::Column::CreatedAt.eq(anchor.created_at))
                        .add(application::Column::Id.gt(anchor.id)),
                ),
        );
    }
    let mut rows = query
        .order_by_asc(application::Column::CreatedAt)
        .order_by_asc(application::Column::Id)
        .limit(limit + 1)
        .all(&ctx.db)
        .await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    Ok((rows, next))
}

pub async fn list(
    ctx: &Context,
    principal: &ResidentPrincipal,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> Result<Page<ApplicationView>> {
    let filter = Condition::all().add(application::Column::PersonId.eq(principal.person()?));
    let (rows, next_cursor) = page_of(ctx, filter, limit, cursor).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push(view_of(ctx, &ctx.db, row).await?);
    }
    Ok(Page { items, next_cursor })
}

fn uploads_dir(ctx: &Context, application_id: Uuid) -> PathBuf {
    ctx.settings
        .data_dir
        .join("uploads")
        .join(application_id.to_string())
}

/// Adds a document of a missing kind. It must decode as what it claims (images are stored
/// re-encoded, see `documents`); the file is sealed and written under the data directory
/// (never served as a static file); the row and the status change are one transaction, and
/// the file is removed again if that transaction fails.
pub async fn add_material(
    ctx: &Context,
    principal: &ResidentPrincipal,
    application_id: Uuid,
    kind: &str,
    bytes: Vec<u8>,
) -> Result<ApplicationView> {
    let person_id = principal.person()?;
    let kind =
        MaterialKind::parse(kind).ok_or_else(|| invalid("kind", FieldProblem::NotAllowed))?;
    if bytes.len() > ctx.settings.max_upload_bytes {
        return Err(Refusal::FileTooLarge.into());
    }
    // A cheap look at the signature first, so an unknown type costs no decoding slot.
    DocumentType::sniff(&bytes).ok_or(Refusal::FileTypeNotAllowed)?;
    let app = own(&ctx.db, person_id, application_id).await?;
    if app.status != ApplicationStatus::NeedsMaterials {
        return Err(Refusal::NotAwaitingMaterials.into());
    }
    let missing = from_json(&app.missing);
    if !missing.iter().any(|m| m == kind.as_str()) {
        return Err(Refusal::MaterialNotNeeded.into());
    }
    let checked = decode_off_thread(bytes).await?;
    let mime = checked.kind.mime();
    let bytes = checked.bytes;
    let material_id = Uuid::new_v4();
    let dir = uploads_dir(ctx, application_id);
    let path = dir.join(format!("{material_id}.sealed"));
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let sealed = ctx.vault.seal(Kind::Document, &bytes)?;
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(anyhow::Error::from)?;
    tokio::fs::write(&path, sealed)
        .await
        .map_err(anyhow::Error::from)?;
    let result = record_material(
        ctx,
        &app,
        material_id,
        kind,
        mime,
        bytes.len(),
        sha256,
        &path,
        &missing,
    )
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&path).await;
    }
    result
}

/// Decodes never run more than this many at once: each may hold an image's pixels in memory.
static DECODE_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Decoding is CPU work, so it runs on the blocking pool rather than an async worker.
async fn decode_off_thread(bytes: Vec<u8>) -> Result<Checked> {
    let _slot = DECODE_SLOTS
        .acquire()
        .await
        .map_err(|e| anyhow::Error::from(e).context("waiting for a decoding slot"))?;
    let checked = tokio::task::spawn_blocking(move || documents::check(bytes))
        .await
        .map_err(|e| anyhow::Error::from(e).context("decoding a material"))??;
    Ok(checked)
}

#[allow(clippy::too_many_arguments)]
async fn record_material(
    ctx: &Context,
    app: &application::Model,
    material_id: Uuid,
    kind: MaterialKind,
    mime: &str,
    size: usize,
    sha256: String,
    path: &std::path::Path,
    missing: &[String],
) -> Result<ApplicationView> {
    let now = Utc::now();
    let txn = ctx.db.begin().await?;
    material::ActiveModel {
        id: Set(material_id),
        application_id: Set(app.id),
        kind: Set(kind.as_str().into()),
        mime: Set(mime.into()),
        size_bytes: Set(size as i64),
        sha256: Set(sha256),
        stored_path: Set(path
            .strip_prefix(&ctx.settings.data_dir)
            .unwrap_or(path)
            .display()
            .to_string()),
        created_at: Set(now),
        purged_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let present: Vec<String> = material::Entity::find()
        .filter(material::Column::ApplicationId.eq(app.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.kind)
        .collect();
    let complete = missing.iter().all(|m| present.contains(m));
    let mut active: application::ActiveModel = app.clone().into();
    if complete {
        active.status = Set(ApplicationStatus::PendingReview);
    }
    active.updated_at = Set(now);
    let row = active.update(&txn).await?;
    let view = view_of(ctx, &txn, &row).await?;
    txn.commit().await?;
    tracing::info!(application_id = %app.id, kind = kind.as_str(), complete, "material added");
    Ok(view)
}

/// An application as a reviewer sees it: the applicant's name and ID number in full (a
/// reviewer compares them with the documents), masked forms for lists.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewView {
    #[serde(flatten)]
    pub application: ApplicationView,
    pub applicant_name: String,
    pub applicant_id_number: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub id: Uuid,
    pub status: ApplicationStatus,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub city: String,
    pub district: String,
    pub basis: String,
    pub missing: Vec<String>,
    pub materials: u64,
    pub created_at: DateTime<Utc>,
}

pub async fn queue(
    ctx: &Context,
    status: Option<&str>,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> Result<Page<QueueItem>> {
    let status = match status {
        None => ApplicationStatus::PendingReview,
        Some(name) => ApplicationStatus::try_from_value(&name.to_owned())
            .map_err(|_| invalid("status", FieldProblem::NotAllowed))?,
    };
    let (rows, next_cursor) = page_of(
        ctx,
        Condition::all().add(application::Column::Status.eq(status)),
        limit,
        cursor,
    )
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let (name, id_number) = applicant(ctx, row.person_id).await?;
        let materials = material::Entity::find()
            .filter(material::Column::ApplicationId.eq(row.id))
            .count(&ctx.db)
            .await?;
        items.push(QueueItem {
            id: row.id,
            status: row.status,
            applicant_name: mask_name(&name),
            applicant_id_number: mask_id_number(&id_number),
            city: row.city,
            district: row.district,
            basis: row.basis,
            missing: from_json(&row.missing),
            materials,
            created_at: row.created_at,
        });
    }
    Ok(Page { items, next_cursor })
}

async fn applicant(ctx: &Context, person_id: Uuid) -> Result<(String, String)> {
    let p = person::Entity::find_by_id(person_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("applicant {person_id} missing"))?;
    Ok((
        ctx.vault.open_string(Kind::Name, &p.name_enc)?,
        ctx.vault.open_string(Kind::IdNumber, &p.id_number_enc)?,
    ))
}

pub async fn review_view(ctx: &Context, id: Uuid) -> Result<ReviewView> {
    let row = application::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::NotFound(Missing::Application))?;
    let (applicant_name, applicant_id_number) = applicant(ctx, row.person_id).await?;
    Ok(ReviewView {
        application: view_of(ctx, &ctx.db, &row).await?,
        applicant_name,
        applicant_id_number,
    })
}

/// Deletes the stored files of these materials and marks them purged (their metadata stays),
/// in the caller's transaction. Files go first: a failed transaction leaves rows a later run
/// purges again, never a file nobody knows about. Answers how many rows were marked.
pub async fn purge_material_files<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    materials: &[material::Model],
) -> Result<u64> {
    let mut ids = Vec::with_capacity(materials.len());
    for m in materials.iter().filter(|m| m.purged_at.is_none()) {
        let path = ctx.settings.data_dir.join(&m.stored_path);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(anyhow::Error::from(e)
                    .context(format!("deleting material {}", m.id))
                    .into());
            }
        }
        ids.push(m.id);
    }
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(material::Entity::update_many()
        .col_expr(material::Column::PurgedAt, Expr::value(Some(Utc::now())))
        .filter(material::Column::Id.is_in(ids))
        .filter(material::Column::PurgedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// A material's content, opened for a reviewer, with the kind it was stored as (`None` only
/// for a row whose content type is not one this server stores).
pub async fn material_content(
    ctx: &Context,
    application_id: Uuid,
    material_id: Uuid,
) -> Result<(Option<DocumentType>, Vec<u8>)> {
    let m = material::Entity::find_by_id(material_id)
        .filter(material::Column::ApplicationId.eq(application_id))
        .filter(material::Column::PurgedAt.is_null())
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::NotFound(Missing::Material))?;
    let sealed = tokio::fs::read(ctx.settings.data_dir.join(&m.stored_path))
        .await
        .map_err(anyhow::Error::from)?;
    Ok((
        DocumentType::from_mime(&m.mime),
        ctx.vault.open(Kind::Document, &sealed)?,
    ))
}

/// A reviewer's decision on an application pending review: approval issues the permit in the
/// same transaction; either way the applicant is told through the outbox.
pub async fn decide(
    ctx: &Context,
    staff_id: Uuid,
    id: Uuid,
    approve: bool,
    reason: &str,
) -> Result<ReviewView> {
    let reason = reason.trim();
    if !approve && reason.is_empty() {
        return Err(invalid("reason", FieldProblem::Empty));
    }
    let now = Utc::now();
    let txn = ctx.db.begin().await?;
    // Claim the application with a conditional update, so two reviewers cannot both decide.
    let claimed = application::Entity::update_many()
        .col_expr(
            application::Column::Status,
            Expr::value(if approve {
                ApplicationStatus::Issued
            } else {
                ApplicationStatus::Rejected
            }),
        )
        .col_expr(
            application::Column::OpenForPerson,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(application::Column::DecidedBy, Expr::value(staff_id))
        .col_expr(application::Column::DecidedAt, Expr::value(now))
        .col_expr(application::Column::UpdatedAt, Expr::value(now))
        .filter(application::Column::Id.eq(id))
        .filter(application::Column::Status.eq(ApplicationStatus::PendingReview))
        .exec(&txn)
        .await?
        .rows_affected;
    let row = application::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Refusal::NotFound(Missing::Application))?;
    if claimed == 0 {
        return Err(Refusal::NotPendingReview.into());
    }
    let mut active: application::ActiveModel = row.clone().into();
    if !reason.is_empty() {
        active.review_note_enc = Set(Some(ctx.vault.seal_str(Kind::Note, reason)?));
    }
    let mut permit_no = None;
    if approve {
        let person_id = row.person_id;
        let id_number = person_id_number_in(ctx, &txn, person_id).await?;
        let household = ctx
            .gov
            .household(&id_number)
            .await?
            .ok_or(Refusal::ConditionsNotMet(vec![]))?;
        let city = divisions::find_city(&row.city)
            .ok_or_else(|| anyhow::anyhow!("application city unknown"))?;
        refuse_if_open_or_held(&txn, person_id, row.id).await?;
        let permit = permits::issue(
            ctx,
            &txn,
            permits::Issue {
                person_id,
                id: &id_number,
                household: &household,
                city,
                residence_address: permits::residence_address(
                    &row.city,
                    &row.district,
                    &ctx.vault.open_string(Kind::Address, &row.address_enc)?,
                ),
                continuous_since: row.residence_since,
            },
        )
        .await?;
        permit_no = Some(permit.permit_no.clone());
        active.permit_id = Set(Some(permit.id));
    } else {
        active.reasons = Set(to_json(&[RejectReason::ReviewRejected.code()]));
    }
    active.update(&txn).await?;
    let notice = Notice::ApplicationDecided {
        application_id: id,
        approved: approve,
        permit_no,
        reason: (!reason.is_empty()).then(|| reason.to_owned()),
    };
    outbox::enqueue(
        ctx,
        &txn,
        row.person_id,
        &format!("application_decided:{id}"),
        &notice,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(application_id = %id, %staff_id, approve, "application decided");
    review_view(ctx, id).await
}
