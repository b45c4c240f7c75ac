use actix_multipart::form::{MultipartForm, bytes::Bytes, text::Text};
use actix_web::{HttpRequest, HttpResponse, web};
use entity::statuses::ApplicationStatus;
use serde::{Deserialize, Serialize};
use service::Context;
use service::applying::applications::{self, ApplicationView, ApplyRequest, MaterialView};
use service::applying::materials;
use uuid::Uuid;

use service::wording::refusals::{material_label_of, reject_reason_message_of};

use crate::error::ApiError;
use crate::extract::{JsonObject, Resident, multipart_rejection};

/// An application as answered to its applicant: reasons and missing kinds with Chinese text.
#[derive(Serialize)]
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

#[derive(Serialize)]
struct Labelled {
    kind: String,
    label: &'static str,
}

#[derive(Serialize)]
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

pub async fn create(
    ctx: web::Data<Context>,
    resident: Resident,
    req: HttpRequest,
    body: JsonObject<ApplyRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .map(|v| v.to_str().unwrap_or("\u{0}").to_owned());
    let (view, _created) =
        applications::apply(&ctx, &resident.0, body.into_inner(), key.as_deref()).await?;
    Ok(HttpResponse::Created().json(ApplicationBody::from(view)))
}

#[derive(Deserialize)]
pub struct PageQuery {
    limit: Option<u64>,
    cursor: Option<String>,
}

pub async fn list(
    ctx: web::Data<Context>,
    resident: Resident,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = applications::list(&ctx, &resident.0, q.limit, q.cursor.as_deref()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "items": page.items.into_iter().map(ApplicationBody::from).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })))
}

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
