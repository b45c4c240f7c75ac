//! Filing an application for a permit (DESIGN.md, API.md "Applying"), and the resident's
//! view of their applications. Materials are in [`super::materials`], review in
//! [`super::review`].
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
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Context;
use crate::applying::eligibility::{Basis, Declared, Verdict, assess};
use crate::applying::idempotency;
use crate::domain::IdNumber;
use crate::domain::divisions::{self, City, District};
use crate::domain::permit_rules::PermitStatus;
use crate::error::{FieldProblem, Missing, Refusal, Result, invalid, on_unique};
use crate::govdata::fetch_dossier;
use crate::identity::sessions::ResidentPrincipal;
use crate::keys::privacy::Kind;
use crate::permit::{address, permits};

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
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
    let given = address::check(
        city,
        &req.district,
        &req.address,
        ("residence_since", &req.residence_since),
        today,
    )?;
    let basis =
        Basis::parse(&req.basis).ok_or_else(|| invalid("basis", FieldProblem::NotAllowed))?;
    let email = req
        .email
        .as_deref()
        .map(crate::identity::binding::validate_email)
        .transpose()?;
    Ok(Valid {
        city,
        district: given.district,
        address: given.address,
        residence_since: given.since,
        basis,
        email,
    })
}

/// Files an application and verifies it at once. Answers the view and whether it was created
/// now (`false` when an earlier answer was replayed for the same `Idempotency-Key`).
#[tracing::instrument(name = "yueju_applications", skip_all, fields(outcome = tracing::field::Empty))]
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
    let today = ctx.clock.today();
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

    let now = ctx.clock.now();
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
    refuse_if_open_or_held(&txn, person_id, application_id, valid.city, today).await?;
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
    crate::metrics::application(status);
    Ok((view, true))
}

/// Refuses a new application while another is open or a valid (or suspended) permit of the
/// same city is held on `today`. A permit of another city does not stop it: moving there is
/// applying there, and that permit ends when the new one is issued.
pub(super) async fn refuse_if_open_or_held<C: ConnectionTrait>(
    db: &C,
    person_id: Uuid,
    this: Uuid,
    city: &City,
    today: NaiveDate,
) -> Result<()> {
    let open = application::Entity::find()
        .filter(application::Column::OpenForPerson.eq(person_id))
        .filter(application::Column::Id.ne(this))
        .count(db)
        .await?;
    if open > 0 {
        return Err(Refusal::ApplicationOpen.into());
    }
    if let Some((permit, version)) = permits::current(db, person_id).await?
        && permit.city_code == city.code
    {
        match permits::status(&permit, &version, today) {
            PermitStatus::Valid | PermitStatus::Suspended => return Err(Refusal::PermitHeld.into()),
            PermitStatus::Expired | PermitStatus::Revoked => {}
        }
    }
    Ok(())
}

pub(super) async fn set_contact_email<C: ConnectionTrait>(
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
        .col_expr(person::Column::UpdatedAt, Expr::value(ctx.clock.now()))
        .filter(person::Column::Id.eq(person_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn person_id_number(ctx: &Context, db_person: Uuid) -> Result<IdNumber> {
    person_id_number_in(ctx, &ctx.db, db_person).await
}

pub(super) async fn person_id_number_in<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: Uuid,
) -> Result<IdNumber> {
    let person = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .ok_or(Refusal::IdentityRequired)?;
    Ok(IdNumber::parse_at(
        &ctx.vault
            .open_string(Kind::IdNumber, &person.id_number_enc)?,
        ctx.clock.today(),
    )?)
}

pub(super) fn to_json(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

pub(super) fn from_json(text: &str) -> Vec<String> {
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
pub(super) async fn own<C: ConnectionTrait>(
    db: &C,
    person_id: Uuid,
    id: Uuid,
) -> Result<application::Model> {
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

pub const MAX_PAGE: u64 = 100;

/// Keyset paging on (created_at, id): the cursor is the last item's id.
pub(super) async fn page_of(
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
