use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::Context;
use service::applying::{materials, review};
use service::govdata::import::{self, Batch, Problem, RecordError};
use service::identity::staff::{self, Role};
use service::{permit::cards, permit::permits};
use uuid::Uuid;

use service::wording::refusals::import_problem_message;

use crate::error::ApiError;
use crate::extract::{JsonObject, Staff};
use crate::rate_limit::RateLimits;

#[derive(Deserialize)]
pub struct LoginRequest {
    username: String,
    password: String,
}

pub async fn login(
    ctx: web::Data<Context>,
    limits: web::Data<RateLimits>,
    req: HttpRequest,
    body: JsonObject<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let source = limits.source(&req);
    let token = staff::login(&ctx, &body.username, &body.password, source).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({
            "access_token": token.access_token,
            "token_type": "Bearer",
            "expires_in": token.expires_in,
        })))
}

#[derive(Serialize)]
struct ImportResponse {
    upserted: usize,
    errors: Vec<ImportErrorBody>,
}

#[derive(Serialize)]
struct ImportErrorBody {
    list: &'static str,
    index: usize,
    code: &'static str,
    message: String,
}

impl From<RecordError> for ImportErrorBody {
    fn from(e: RecordError) -> Self {
        let code = match e.problem {
            Problem::IdNumberInvalid(_) => "ID_NUMBER_INVALID",
            Problem::Missing(_) => "FIELD_MISSING",
            Problem::TooLong(_) => "FIELD_TOO_LONG",
            Problem::Invalid(_) => "FIELD_INVALID",
            Problem::DateInFuture(_) => "DATE_IN_FUTURE",
            Problem::GenderMismatch => "GENDER_MISMATCH",
            Problem::PhotoInvalid => "PHOTO_INVALID",
        };
        let message = import_problem_message(&e.problem);
        ImportErrorBody {
            list: e.list.as_str(),
            index: e.index,
            code,
            message,
        }
    }
}

pub async fn upsert_gov_records(
    ctx: web::Data<Context>,
    staff: Staff,
    body: JsonObject<Batch>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Admin)?;
    let report = import::import(&ctx, body.into_inner()).await?;
    tracing::info!(staff_id = %staff.0.staff_id, upserted = report.upserted, errors = report.errors.len(), "government records imported");
    Ok(HttpResponse::Ok().json(ImportResponse {
        upserted: report.upserted,
        errors: report
            .errors
            .into_iter()
            .map(ImportErrorBody::from)
            .collect(),
    }))
}

#[derive(Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

pub async fn queue(
    ctx: web::Data<Context>,
    staff: Staff,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Reviewer)?;
    let page = review::queue(&ctx, q.status.as_deref(), q.limit, q.cursor.as_deref()).await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn application(
    ctx: web::Data<Context>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Reviewer)?;
    let view = review::review_view(&ctx, id.into_inner()).await?;
    tracing::info!(staff_id = %staff.0.staff_id, application_id = %view.application.id, "application opened for review");
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(view))
}

pub async fn material(
    ctx: web::Data<Context>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Reviewer)?;
    let (application_id, material_id) = path.into_inner();
    let (kind, bytes) = materials::material_content(&ctx, application_id, material_id).await?;
    tracing::info!(staff_id = %staff.0.staff_id, %application_id, %material_id, "material opened for review");
    // A download with a fixed type, never rendered inline as whatever the browser guesses.
    let (mime, ext) = kind.map_or(("application/octet-stream", "bin"), |k| {
        (k.mime(), k.extension())
    });
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"material-{material_id}.{ext}\""),
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}

#[derive(Deserialize)]
pub struct DecisionRequest {
    approve: bool,
    #[serde(default)]
    reason: String,
}

pub async fn decide(
    ctx: web::Data<Context>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: JsonObject<DecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Reviewer)?;
    let view = review::decide(
        &ctx,
        staff.0.staff_id,
        id.into_inner(),
        body.approve,
        &body.reason,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize)]
pub struct RevokeRequest {
    reason: String,
}

pub async fn revoke_permit(
    ctx: web::Data<Context>,
    staff: Staff,
    permit_no: web::Path<String>,
    body: JsonObject<RevokeRequest>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Admin)?;
    permits::revoke(&ctx, &permit_no, &body.reason).await?;
    tracing::info!(staff_id = %staff.0.staff_id, "permit revoked by staff");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct CardStatusRequest {
    status: String,
}

pub async fn advance_card_order(
    ctx: web::Data<Context>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: JsonObject<CardStatusRequest>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Reviewer)?;
    Ok(HttpResponse::Ok().json(cards::advance(&ctx, id.into_inner(), &body.status).await?))
}

#[derive(Deserialize)]
pub struct AgencyRequest {
    name: String,
    credit_code: String,
    contact: String,
    scopes: Vec<String>,
    #[serde(default)]
    fields: Vec<String>,
}

/// Registers an agency (admin); the client secret is in this answer and nowhere else.
pub async fn register_agency(
    ctx: web::Data<Context>,
    staff: Staff,
    body: JsonObject<AgencyRequest>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Admin)?;
    let registered = service::consent::agencies::register(
        &ctx,
        staff.0.staff_id,
        service::consent::agencies::Registration {
            name: &body.name,
            credit_code: &body.credit_code,
            contact: &body.contact,
            scopes: &body.scopes,
            fields: &body.fields,
        },
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(registered))
}

pub async fn agencies(ctx: web::Data<Context>, staff: Staff) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Admin)?;
    let items = service::consent::agencies::list(&ctx).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items, "next_cursor": null})))
}

#[derive(Deserialize, Default)]
pub struct ReminderRun {
    #[serde(default)]
    as_of: Option<chrono::NaiveDate>,
    #[serde(default)]
    deliver: Option<bool>,
}

/// Runs the reminder sweep now (as of a date, for tests and catch-up), then the delivery
/// worker once when asked.
pub async fn run_reminders(
    ctx: web::Data<Context>,
    staff: Staff,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Admin)?;
    let body: ReminderRun = crate::extract::optional_json(&body)?;
    let as_of = body.as_of.unwrap_or_else(|| ctx.clock.today());
    let sweep = service::notices::reminders::sweep(&ctx, as_of).await?;
    let delivery = if body.deliver.unwrap_or(false) {
        let budget = std::time::Duration::from_secs(ctx.settings.reminders.staff_run_budget_secs);
        service::notices::delivery::run_within(&ctx, Some(budget)).await?
    } else {
        service::notices::delivery::DeliveryReport::default()
    };
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "as_of": as_of,
        "queued": sweep.queued,
        "sent": delivery.sent,
        "failed": delivery.failed,
        "undeliverable": delivery.undeliverable,
        "unfinished": delivery.unfinished,
    })))
}

#[derive(Deserialize, Default)]
pub struct RetentionRequest {
    #[serde(default)]
    as_of: Option<String>,
}

/// Runs the retention job now (admin), as of a date (default: today in China), so tests and
/// operators can drive it with a clock.
pub async fn run_retention(
    ctx: web::Data<Context>,
    staff: Staff,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Admin)?;
    let req: RetentionRequest = crate::extract::optional_json(&body)?;
    let as_of = match req.as_of.as_deref() {
        None => ctx.clock.today(),
        Some(s) => chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            service::error::invalid("as_of", service::error::FieldProblem::BadFormat)
        })?,
    };
    let report = crate::jobs::retention(&ctx, as_of).await?;
    tracing::info!(staff_id = %staff.0.staff_id, %as_of, "retention run by staff");
    Ok(HttpResponse::Ok().json(report))
}
