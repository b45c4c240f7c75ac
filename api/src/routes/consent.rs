//! Agency access under the holder's consent: agencies ask and download; holders decide,
//! list and revoke grants, and read their access log.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use service::consent::consents::{self, AccessRequest, Approval};
use service::consent::grants;
use service::{Context, consent::access_log, consent::annotated_copy};
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{Agency, JsonObject, Resident};

#[derive(Deserialize)]
pub struct RequestBody {
    token: String,
    purpose: String,
    #[serde(deserialize_with = "crate::extract::whole_number")]
    days: i64,
    #[serde(default)]
    fields: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::extract::optional_whole_number")]
    retention_days: Option<i64>,
}

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
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

pub async fn agency_request(
    ctx: web::Data<Context>,
    agency: Agency,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let view = consents::request_for_agency(&ctx, &agency.0, *id).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize)]
pub struct CopyQuery {
    #[serde(default)]
    format: Option<String>,
}

pub async fn annotated_copy(
    ctx: web::Data<Context>,
    agency: Agency,
    id: web::Path<Uuid>,
    q: web::Query<CopyQuery>,
) -> Result<HttpResponse, ApiError> {
    let svg = match q.format.as_deref() {
        None | Some("json") => false,
        Some("svg") => true,
        Some(_) => return Err(ApiError::invalid_request("format 只能是 json 或 svg")),
    };
    let (copy, photo) = annotated_copy::download(&ctx, &agency.0, *id).await?;
    let mut res = HttpResponse::Ok();
    res.insert_header(("Cache-Control", "no-store"));
    if svg {
        Ok(res
            .content_type("image/svg+xml; charset=utf-8")
            .body(annotated_copy::svg(&copy, photo.as_ref())))
    } else {
        Ok(res.json(copy))
    }
}

pub async fn my_requests(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let items = consents::requests_for_holder(&ctx, resident.0.person()?).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items, "next_cursor": null})))
}

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

pub async fn deny(
    ctx: web::Data<Context>,
    resident: Resident,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let view = consents::deny(&ctx, resident.0.person()?, *id).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn my_grants(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let items = grants::grants_for_holder(&ctx, resident.0.person()?).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items, "next_cursor": null})))
}

pub async fn revoke(
    ctx: web::Data<Context>,
    resident: Resident,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let grant = grants::revoke(&ctx, resident.0.person()?, *id).await?;
    Ok(HttpResponse::Ok().json(grant))
}

#[derive(Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    cursor: Option<String>,
}

/// Oldest first; the cursor is the last `seq` seen.
pub async fn access_log(
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
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items, "next_cursor": next_cursor})))
}

/// Recomputes the holder's hash chain and answers whether it is intact, and its head.
pub async fn access_log_check(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let check = access_log::check(&ctx.db, resident.0.person()?).await?;
    Ok(HttpResponse::Ok().json(check))
}
