//! Agency access under the holder's consent: agencies ask and download; holders decide,
//! list and revoke grants, and read their access log.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::Deserialize;
use service::applying::applications::Page;
use service::consent::access_log::{ChainCheck, EntryView};
use service::consent::annotated_copy::SignedCopy;
use service::consent::consents::{self, AccessRequest, AgencyRequestView, Approval, RequestView};
use service::consent::copy_pdf;
use service::consent::grants::{self, GrantView};
use service::consent::proof_grants;
use service::residence::proofs::IssuedProof;
use service::{Context, consent::access_log, consent::annotated_copy};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{Agency, JsonObject, Resident};
use crate::openapi::schemas;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(request_access)
        .service(agency_request)
        .service(download_copy)
        .service(check_copy)
        .service(residence_proof)
        .service(my_requests)
        .service(approve)
        .service(deny)
        .service(my_grants)
        .service(revoke)
        .service(my_access_log)
        .service(access_log_check);
}

#[derive(Deserialize, ToSchema)]
pub struct RequestBody {
    #[schema(schema_with = schemas::text)]
    token: String,
    #[schema(schema_with = schemas::text)]
    purpose: String,
    #[serde(deserialize_with = "crate::extract::whole_number")]
    #[schema(schema_with = schemas::whole)]
    days: i64,
    #[serde(default)]
    #[schema(nullable = false)]
    fields: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::extract::optional_whole_number")]
    #[schema(schema_with = schemas::whole)]
    retention_days: Option<i64>,
    /// Ask for a residence proof instead of permit fields (scope `residence:proof`; no
    /// `fields` then).
    #[serde(default)]
    #[schema(nullable = false)]
    /// The statement asked instead of permit fields; `as_of` left out means the day the
    /// proof is made.
    residence_proof: Option<super::residence::ProofBody>,
}

#[utoipa::path(
    tag = "用证部门",
    summary = "扫码后请求持证人授权",
    security(("agency" = [])),
    params(("Idempotency-Key" = Option<String>, Header, nullable = false)),
    request_body = inline(RequestBody),
    responses((status = 201, body = AgencyRequestView)),
)]
#[post("/agency/authorization-requests")]
pub async fn request_access(
    ctx: web::Data<Context>,
    agency: Agency,
    req: HttpRequest,
    body: JsonObject<RequestBody>,
) -> Result<HttpResponse, ApiError> {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .map(|v| v.to_str().unwrap_or("\u{0}").to_owned());
    let view = consents::request_access(
        &ctx,
        &agency.0,
        AccessRequest {
            idempotency_key: key.as_deref(),
            token: &body.token,
            purpose: &body.purpose,
            days: body.days,
            fields: body.fields.as_deref(),
            retention_days: body.retention_days,
            residence_proof: body
                .residence_proof
                .as_ref()
                .map(super::residence::ProofBody::request),
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(
    tag = "用证部门",
    summary = "授权请求进度",
    security(("agency" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AgencyRequestView)),
)]
#[get("/agency/authorization-requests/{id}")]
pub async fn agency_request(
    ctx: web::Data<Context>,
    agency: Agency,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let view = consents::request_for_agency(&ctx, &agency.0, *id).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams)]
pub struct CopyQuery {
    #[serde(default)]
    #[param(schema_with = copy_format)]
    format: Option<String>,
}

fn copy_format() -> impl Into<RefOr<Schema>> {
    service::api_schema::one_of(["json", "svg", "pdf"])
}

#[derive(Clone, Copy)]
enum CopyFormat {
    Json,
    Svg,
    Pdf,
}

#[utoipa::path(
    tag = "用证部门",
    summary = "下载加注件（?format=svg 返回渲染件，?format=pdf 返回附签名数据的 PDF）",
    security(("agency" = [])),
    params(("id" = Uuid, Path), CopyQuery),
    responses((status = 503, description = crate::error::SIGNING_UNAVAILABLE_DESCRIPTION, body = crate::error::ErrorBody), (status = 200, content(
        (SignedCopy = "application/json"),
        (inline(schemas::Svg) = "image/svg+xml"),
        (inline(schemas::Pdf) = "application/pdf"),
    ))),
)]
#[get("/agency/authorizations/{id}/annotated-copy")]
pub async fn download_copy(
    ctx: web::Data<Context>,
    agency: Agency,
    req: HttpRequest,
    id: web::Path<Uuid>,
    q: web::Query<CopyQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = match q.format.as_deref() {
        None | Some("json") => CopyFormat::Json,
        Some("svg") => CopyFormat::Svg,
        Some("pdf") => CopyFormat::Pdf,
        Some(_) => return Err(ApiError::invalid_request("format 只能是 json、svg 或 pdf")),
    };
    let (copy, photo) = annotated_copy::download(&ctx, &agency.0, *id).await?;
    let mut res = HttpResponse::Ok();
    res.insert_header(("Cache-Control", "no-store"));
    match format {
        CopyFormat::Json => Ok(res.json(copy)),
        CopyFormat::Svg => Ok(res
            .content_type("image/svg+xml; charset=utf-8")
            .body(annotated_copy::svg(&copy, photo.as_ref()))),
        CopyFormat::Pdf => {
            // The QR code leads to the service's public address; a dev machine has none
            // configured and answers under the host the agency used.
            let base = match &ctx.settings.public_url {
                Some(url) => url.clone(),
                None => {
                    let info = req.connection_info();
                    format!("{}://{}", info.scheme(), info.host())
                }
            };
            let grant = *id;
            let fallback_font = ctx.pdf_fallback_font.clone();
            // Subsetting the font and compressing take milliseconds of CPU: off the worker.
            let pdf = web::block(move || {
                let envelope = copy_pdf::envelope(&copy)?;
                copy_pdf::pdf(
                    &copy,
                    photo.as_ref(),
                    &envelope,
                    &copy_pdf::check_url(&base, &copy),
                    fallback_font.as_deref(),
                )
            })
            .await
            .map_err(anyhow::Error::from)
            .and_then(|pdf| pdf)
            .map_err(service::error::Error::from)?;
            Ok(res
                .content_type("application/pdf")
                .insert_header((
                    "Content-Disposition",
                    format!("attachment; filename=\"annotated-copy-{grant}.pdf\""),
                ))
                .body(pdf))
        }
    }
}

/// What the QR code on a PDF copy opens: whether that copy was made under the grant and the
/// grant still stands. Anyone may ask; the answer names the permit number, not the person.
#[utoipa::path(
    tag = "用证部门",
    summary = "在线核验加注件（PDF 上二维码所指）",
    params(("id" = Uuid, Path), ("download_no" = i32, Path, minimum = 1)),
    responses((status = 200, body = copy_pdf::OnlineCheck)),
)]
#[get("/annotated-copies/{id}/{download_no}")]
pub async fn check_copy(
    ctx: web::Data<Context>,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, download_no) = path.into_inner();
    // A number that is not one names no copy: the same answer as a copy never made.
    let download_no = download_no.parse::<i32>().unwrap_or(0);
    let check = copy_pdf::online_check(&ctx, id, download_no).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(check))
}

/// A proof made now for the grant's city, years and date, counted like a download and in the
/// holder's access log; a grant for the annotated copy gives none (403).
#[utoipa::path(
    tag = "用证部门",
    summary = "获取居住年限证明（经持证人授权，签名的“是/否”声明及二维码）",
    security(("agency" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 503, description = crate::error::SIGNING_UNAVAILABLE_DESCRIPTION, body = crate::error::ErrorBody), (status = 200, body = IssuedProof)),
)]
#[get("/agency/authorizations/{id}/residence-proof")]
pub async fn residence_proof(
    ctx: web::Data<Context>,
    agency: Agency,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let proof = proof_grants::make(&ctx, &agency.0, *id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(proof))
}

#[utoipa::path(
    tag = "授权",
    summary = "待我决定的授权请求",
    security(("resident" = [])),
    responses((status = 200, body = Page<RequestView>)),
)]
#[get("/me/authorization-requests")]
pub async fn my_requests(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let items = consents::requests_for_holder(&ctx, resident.0.person()?).await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(
    tag = "授权",
    summary = "同意授权（单独同意，记录同意书版本）",
    security(("resident" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = Option<Approval>),
    responses((status = 201, body = GrantView)),
)]
#[post("/me/authorization-requests/{id}/approve")]
pub async fn approve(
    ctx: web::Data<Context>,
    resident: Resident,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let approval: Approval = crate::extract::optional_json(&body)?;
    let grant = consents::approve(&ctx, resident.0.person()?, *id, approval).await?;
    Ok(HttpResponse::Created().json(grant))
}

#[utoipa::path(
    tag = "授权",
    summary = "拒绝授权",
    security(("resident" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RequestView)),
)]
#[post("/me/authorization-requests/{id}/deny")]
pub async fn deny(
    ctx: web::Data<Context>,
    resident: Resident,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let view = consents::deny(&ctx, resident.0.person()?, *id).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(
    tag = "授权",
    summary = "我的授权",
    security(("resident" = [])),
    responses((status = 200, body = Page<GrantView>)),
)]
#[get("/me/authorizations")]
pub async fn my_grants(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let items = grants::grants_for_holder(&ctx, resident.0.person()?).await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(
    tag = "授权",
    summary = "撤回授权（立即停止下载）",
    security(("resident" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = GrantView)),
)]
#[delete("/me/authorizations/{id}")]
pub async fn revoke(
    ctx: web::Data<Context>,
    resident: Resident,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let grant = grants::revoke(&ctx, resident.0.person()?, *id).await?;
    Ok(HttpResponse::Ok().json(grant))
}

#[derive(Deserialize, IntoParams)]
pub struct LogQuery {
    #[serde(default)]
    #[param(schema_with = schemas::page_limit)]
    limit: Option<u64>,
    #[serde(default)]
    #[param(schema_with = schemas::seq_cursor)]
    cursor: Option<String>,
}

/// Oldest first; the cursor is the last `seq` seen.
#[utoipa::path(
    tag = "授权",
    summary = "查询记录（哈希链）",
    security(("resident" = [])),
    params(LogQuery),
    responses((status = 200, body = Page<EntryView>)),
)]
#[get("/me/access-log")]
pub async fn my_access_log(
    ctx: web::Data<Context>,
    resident: Resident,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let after = match q.cursor.as_deref() {
        None | Some("") => 0,
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| ApiError::invalid_request("分页游标不正确"))?,
    };
    let items = access_log::list(&ctx.db, resident.0.person()?, after, limit).await?;
    let next_cursor = (items.len() as u64 == limit)
        .then(|| items.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Recomputes the holder's hash chain and answers whether it is intact, and its head.
#[utoipa::path(
    tag = "授权",
    summary = "校验查询记录哈希链",
    security(("resident" = [])),
    responses((status = 200, body = ChainCheck)),
)]
#[get("/me/access-log/check")]
pub async fn access_log_check(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let check = access_log::check(&ctx.db, resident.0.person()?).await?;
    Ok(HttpResponse::Ok().json(check))
}
