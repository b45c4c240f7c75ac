//! The 粤居码 and its verification: the holder's code (JSON with SVG, or PNG), the card with
//! a fresh code, `POST /verify` for anyone, and the signed status list for offline verifiers.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use service::Context;
use service::permit::permits;
use service::verify::{holder_code, offline, verification};
use service::wording;
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::extract::{MaybeAgency, Resident};
use crate::openapi::schemas;

/// The routes of this module but `POST /verify`, which the caller registers first.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(my_code).service(card_svg).service(status_list);
}

#[derive(Deserialize, IntoParams)]
pub struct CodeQuery {
    #[serde(default)]
    #[param(schema_with = code_format)]
    format: Option<String>,
}

fn code_format() -> impl Into<RefOr<Schema>> {
    service::api_schema::one_of(["svg", "png"])
}

/// The holder's current code, with its QR as SVG.
#[derive(Serialize, ToSchema)]
#[schema(as = Code)]
pub struct CodeBody {
    #[schema(pattern = "^YJ2[A-Z2-7]+$")]
    token: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    permit_no: String,
    qr_svg: String,
}

fn render_error(e: render::RenderError) -> ApiError {
    tracing::error!(error = %e, "rendering the code failed");
    ApiError::internal()
}

#[utoipa::path(
    tag = "粤居码",
    summary = "粤居码（SVG；?format=png 返回 PNG）",
    security(("resident" = [])),
    params(CodeQuery),
    responses((status = 503, description = crate::error::SIGNING_UNAVAILABLE_DESCRIPTION, body = crate::error::ErrorBody), (status = 200, content(
        (CodeBody = "application/json"),
        (inline(schemas::Png) = "image/png"),
    ))),
)]
#[get("/me/code")]
pub async fn my_code(
    ctx: web::Data<Context>,
    resident: Resident,
    q: web::Query<CodeQuery>,
) -> Result<HttpResponse, ApiError> {
    let code = holder_code::current_code(&ctx, resident.0.person()?).await?;
    match q.format.as_deref() {
        None | Some("json") | Some("svg") => {
            let qr_svg = render::qr_svg(&code.token).map_err(render_error)?;
            Ok(HttpResponse::Ok()
                .insert_header(("Cache-Control", "no-store"))
                .json(CodeBody {
                    token: code.token,
                    expires_at: code.expires_at,
                    permit_no: code.permit_no,
                    qr_svg,
                }))
        }
        Some("png") => {
            let png = render::qr_png(&code.token, 8).map_err(render_error)?;
            Ok(HttpResponse::Ok()
                .content_type("image/png")
                .insert_header(("Cache-Control", "no-store"))
                .insert_header(("X-Code-Expires-At", code.expires_at.to_rfc3339()))
                .body(png))
        }
        Some(_) => Err(ApiError::invalid_request("format 只能是 svg 或 png")),
    }
}

/// The card as the holder sees it, with a QR of a fresh code; the ID number masked.
#[utoipa::path(
    tag = "证照",
    summary = "电子证卡面（SVG，含粤居码）",
    security(("resident" = [])),
    responses((status = 503, description = crate::error::SIGNING_UNAVAILABLE_DESCRIPTION, body = crate::error::ErrorBody), (status = 200, content((inline(schemas::Svg) = "image/svg+xml")))),
)]
#[get("/me/permit/card.svg")]
pub async fn card_svg(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let person_id = resident.0.person()?;
    let (permit, version) = permits::my_permit(&ctx, person_id).await?;
    let view = permits::view(&ctx, &permit, &version, false)?;
    let code = holder_code::current_code(&ctx, person_id).await?;
    let photo = match permits::photo(&ctx, person_id).await {
        Ok(p) => Some(p),
        Err(service::Error::Refused(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let dates = [
        view.issued_on.to_string(),
        view.valid_from.to_string(),
        view.valid_until.to_string(),
    ];
    let caption = code
        .expires_at
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%H:%M:%S 前有效")
        .to_string();
    let svg = render::card_svg(
        &render::CardFields {
            name: &view.name,
            gender_label: wording::labels::gender_of(&view.gender),
            ethnicity: &view.ethnicity,
            id_number: &view.id_number,
            hukou_address: &view.hukou_address,
            residence_address: &view.residence_address,
            issuing_authority: &view.issuing_authority,
            issued_on: &dates[0],
            valid_from: &dates[1],
            valid_until: &dates[2],
            permit_no: &view.permit_no,
            status_label: wording::labels::permit_status_on_card(view.status),
            photo: photo.as_ref().map(|p| render::Photo {
                mime: &p.mime,
                bytes: &p.bytes,
            }),
        },
        &code.token,
        Some(&caption),
    )
    .map_err(render_error)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(svg))
}

/// Anyone may verify. Whatever the body holds, the answer is a verdict: a body that is not
/// JSON, or has no string `token`, is `valid: false` with reason `MALFORMED`.
#[utoipa::path(
    tag = "粤居码",
    summary = "核验粤居码（任何人；部门令牌可见更多字段）",
    request_body(
        content = Option<serde_json::Value>,
        description = "{\"token\": \"YJ2…\"}；其他任何内容视为无效粤居码",
    ),
    responses((status = 200, body = service::verify::verification::Verdict)),
)]
#[post("/verify")]
pub async fn verify(
    ctx: web::Data<Context>,
    agency: MaybeAgency,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // Only `token` is read; a borrowed field skips building a whole JSON tree per request.
    #[derive(serde::Deserialize)]
    struct VerifyBody<'a> {
        #[serde(borrow)]
        token: std::borrow::Cow<'a, str>,
    }
    // serde would also read a struct from an array; only an object is a body.
    let is_object = body.trim_ascii_start().first() == Some(&b'{');
    let token = serde_json::from_slice::<VerifyBody>(&body)
        .ok()
        .filter(|_| is_object)
        .map(|b| b.token)
        .unwrap_or_default();
    let verdict =
        service::metrics::verified(verification::verify(&ctx, &token, agency.0.as_ref())).await;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(verdict))
}

/// One Status List Token (draft-ietf-oauth-status-list): 2 bits per permit, signed. A cache
/// may keep it for what is left of its life, which `max-age` says.
#[utoipa::path(
    tag = "粤居码",
    summary = "证件状态清单（IETF Token Status List，JWT；离线核验用）",
    params(("list_id" = String, Path, pattern = "^[0-9]{1,10}$")),
    responses((status = 503, description = crate::error::SIGNING_UNAVAILABLE_DESCRIPTION, body = crate::error::ErrorBody), (status = 200, content(
        (inline(schemas::StatusListJwt) = "application/statuslist+jwt"),
    ))),
)]
#[get("/status-lists/{list_id}")]
pub async fn status_list(
    ctx: web::Data<Context>,
    list_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let missing = service::Refusal::NotFound(service::error::Missing::StatusList);
    let id = list_id.parse::<u32>().map_err(|_| missing.clone())?;
    let served = offline::status_list_token(&ctx, id).await?.ok_or(missing)?;
    Ok(HttpResponse::Ok()
        .content_type("application/statuslist+jwt")
        .insert_header((
            "Cache-Control",
            format!("public, max-age={}", served.max_age_secs),
        ))
        .body(served.token))
}
