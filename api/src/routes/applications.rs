use actix_multipart::form::{MultipartForm, bytes::Bytes, text::Text};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use entity::statuses::ApplicationStatus;
use serde::{Deserialize, Serialize};
use service::Context;
use service::applying::applications::{self, ApplicationView, ApplyRequest, MaterialView, Page};
use service::applying::materials;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use service::wording::refusals::{material_label_of, reject_reason_message_of};

use crate::error::ApiError;
use crate::extract::{JsonObject, Resident, multipart_rejection};
use crate::openapi::schemas;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(add_material);
}

/// An application as answered to its applicant: reasons and missing kinds with Chinese text.
#[derive(Serialize, ToSchema)]
#[schema(as = Application)]
pub struct ApplicationBody {
    id: Uuid,
    status: ApplicationStatus,
    city: String,
    district: String,
    address: String,
    residence_since: chrono::NaiveDate,
    basis: String,
    missing: Vec<String>,
    missing_materials: Vec<Labelled>,
    reasons: Vec<Reason>,
    permit_no: Option<String>,
    materials: Vec<MaterialView>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Serialize, ToSchema)]
struct Labelled {
    kind: String,
    label: &'static str,
}

#[derive(Serialize, ToSchema)]
struct Reason {
    code: String,
    message: &'static str,
}

impl From<ApplicationView> for ApplicationBody {
    fn from(v: ApplicationView) -> Self {
        ApplicationBody {
            missing_materials: v
                .missing
                .iter()
                .map(|k| Labelled {
                    kind: k.clone(),
                    label: material_label_of(k),
                })
                .collect(),
            reasons: v
                .reasons
                .iter()
                .map(|c| Reason {
                    code: c.clone(),
                    message: reject_reason_message_of(c),
                })
                .collect(),
            id: v.id,
            status: v.status,
            city: v.city,
            district: v.district,
            address: v.address,
            residence_since: v.residence_since,
            basis: v.basis,
            missing: v.missing,
            permit_no: v.permit_no,
            materials: v.materials,
            created_at: v.created_at,
            updated_at: v.updated_at,
            decided_at: v.decided_at,
        }
    }
}

/// What the resident sends to apply ([`ApplyRequest`], with what the server checks of each
/// field stated for the document).
#[derive(Deserialize, ToSchema)]
pub struct ApplyBody {
    #[schema(schema_with = schemas::city)]
    city: String,
    #[schema(schema_with = schemas::text)]
    district: String,
    #[schema(schema_with = schemas::text)]
    address: String,
    #[schema(schema_with = schemas::date)]
    residence_since: String,
    #[schema(schema_with = basis)]
    basis: String,
    #[serde(default)]
    #[schema(nullable = false)]
    email: Option<String>,
}

/// What the residence rests on.
fn basis() -> utoipa::openapi::schema::Object {
    use service::applying::eligibility::Basis;
    service::api_schema::one_of(Basis::ALL.map(Basis::as_str))
}

impl From<ApplyBody> for ApplyRequest {
    fn from(b: ApplyBody) -> ApplyRequest {
        ApplyRequest {
            city: b.city,
            district: b.district,
            address: b.address,
            residence_since: b.residence_since,
            basis: b.basis,
            email: b.email,
        }
    }
}

#[utoipa::path(
    tag = "申领",
    summary = "申领居住证（政务数据即时核验）",
    security(("resident" = [])),
    params(("Idempotency-Key" = Option<String>, Header, nullable = false)),
    request_body = inline(ApplyBody),
    responses((status = 503, description = crate::error::SIGNING_UNAVAILABLE_DESCRIPTION, body = crate::error::ErrorBody), (status = 201, body = ApplicationBody)),
)]
#[post("/applications")]
pub async fn create(
    ctx: web::Data<Context>,
    resident: Resident,
    req: HttpRequest,
    body: JsonObject<ApplyBody>,
) -> Result<HttpResponse, ApiError> {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .map(|v| v.to_str().unwrap_or("\u{0}").to_owned());
    let (view, _created) =
        applications::apply(&ctx, &resident.0, body.into_inner().into(), key.as_deref()).await?;
    Ok(HttpResponse::Created().json(ApplicationBody::from(view)))
}

#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    #[param(schema_with = schemas::page_limit)]
    limit: Option<u64>,
    #[param(schema_with = schemas::uuid_cursor)]
    cursor: Option<String>,
}

#[utoipa::path(
    tag = "申领",
    summary = "我的申请",
    security(("resident" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<ApplicationBody>)),
)]
#[get("/applications")]
pub async fn list(
    ctx: web::Data<Context>,
    resident: Resident,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = applications::list(&ctx, &resident.0, q.limit, q.cursor.as_deref()).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: page.items.into_iter().map(ApplicationBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(
    tag = "申领",
    summary = "申请详情",
    security(("resident" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ApplicationBody)),
)]
#[get("/applications/{id}")]
pub async fn show(
    ctx: web::Data<Context>,
    resident: Resident,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let view = applications::get(&ctx, &resident.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ApplicationBody::from(view)))
}

#[derive(MultipartForm)]
pub struct MaterialUpload {
    file: Bytes,
    kind: Text<String>,
}

/// The form of an upload, for the document: these two parts and no other (a part named with
/// control characters is not even multipart the server can read).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "only described: the upload is read as a MaterialUpload"
)]
pub struct MaterialForm {
    #[schema(schema_with = material_kind)]
    kind: String,
    #[schema(content_media_type = "application/octet-stream")]
    file: String,
}

fn material_kind() -> utoipa::openapi::schema::Object {
    use service::applying::eligibility::MaterialKind;
    service::api_schema::one_of(MaterialKind::ALL.map(MaterialKind::as_str))
}

#[utoipa::path(
    tag = "申领",
    summary = "上传材料（JPEG/PNG/PDF）",
    security(("resident" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = inline(MaterialForm), content_type = "multipart/form-data"),
    responses((status = 201, body = ApplicationBody)),
)]
#[post("/applications/{id}/materials")]
pub async fn add_material(
    ctx: web::Data<Context>,
    resident: Resident,
    id: web::Path<Uuid>,
    form: Result<MultipartForm<MaterialUpload>, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let form = form.map_err(multipart_rejection)?.into_inner();
    let view = materials::add_material(
        &ctx,
        &resident.0,
        id.into_inner(),
        &form.kind,
        form.file.data.to_vec(),
    )
    .await?;
    Ok(HttpResponse::Created().json(ApplicationBody::from(view)))
}
