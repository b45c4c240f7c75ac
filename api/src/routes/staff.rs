use actix_web::{HttpRequest, HttpResponse, get, post, web};
use entity::statuses::ApplicationStatus;
use serde::{Deserialize, Serialize};
use service::Context;
use service::applying::applications::Page;
use service::applying::review::{QueueItem, ReviewView};
use service::applying::{materials, review};
use service::consent::agencies::{AgencyView, Registered};
use service::govdata::import::{self, Batch, RecordError};
use service::identity::staff::{self, Role};
use service::permit::cards::CardOrderView;
use service::{permit::cards, permit::permits};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use service::wording::refusals::import_problem_message;

use crate::error::ApiError;
use crate::extract::{BodyLimit, JsonObject, Staff, json_config};
use crate::openapi::schemas;
use crate::rate_limit::RateLimits;

pub fn configure(cfg: &mut ServiceConfig, max_bulk_bytes: usize) {
    cfg.service(register_agency)
        .service(agencies)
        .service(run_reminders)
        .service(login)
        .service(run_retention)
        .service(queue)
        .service(application)
        .service(material)
        .service(decide)
        .service(revoke_permit)
        .service(advance_card_order)
        .service(dashboard)
        .service(
            // Imports are bulk: their own body limit, which the 413 names.
            scope("/staff/gov-records")
                .app_data(json_config(max_bulk_bytes))
                .app_data(BodyLimit(max_bulk_bytes))
                .service(upsert_gov_records),
        );
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(schema_with = schemas::text)]
    username: String,
    #[schema(schema_with = schemas::text)]
    password: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = StaffToken)]
pub struct StaffTokenBody {
    access_token: String,
    #[schema(schema_with = schemas::bearer)]
    token_type: &'static str,
    expires_in: u64,
}

#[utoipa::path(
    tag = "工作人员",
    summary = "工作人员登录（密码错误过多时暂时锁定，429 并带 Retry-After）",
    request_body = inline(LoginRequest),
    responses((status = 200, body = StaffTokenBody)),
)]
#[post("/staff/login")]
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
        .json(StaffTokenBody {
            access_token: token.access_token,
            token_type: "Bearer",
            expires_in: token.expires_in,
        }))
}

#[derive(Serialize, ToSchema)]
#[schema(as = GovImport)]
pub struct ImportResponse {
    upserted: usize,
    errors: Vec<ImportErrorBody>,
}

#[derive(Serialize, ToSchema)]
struct ImportErrorBody {
    list: &'static str,
    index: usize,
    code: &'static str,
    message: String,
}

impl From<RecordError> for ImportErrorBody {
    fn from(e: RecordError) -> Self {
        let code = e.problem.code();
        let message = import_problem_message(&e.problem);
        ImportErrorBody {
            list: e.list.as_str(),
            index: e.index,
            code,
            message,
        }
    }
}

#[utoipa::path(
    tag = "工作人员",
    summary = "批量导入政务数据（一个事务）",
    security(("staff" = [])),
    request_body = inline(Batch),
    responses((status = 200, body = ImportResponse)),
)]
#[post("")]
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

#[derive(Deserialize, IntoParams)]
pub struct DashboardQuery {
    /// Days shown, ending today (China's calendar): default 30; 0 is taken as 1, more than
    /// 366 as 366.
    #[param(schema_with = crate::openapi::schemas::page_limit)]
    days: Option<u64>,
}

/// The service at a glance, for the console's 概览 (any staff role): counts per day, never a
/// person.
#[utoipa::path(
    tag = "工作人员",
    summary = "概览：每日申请结果、审核队列、提醒送达渠道与用证部门核验次数（仅统计数字）",
    security(("staff" = [])),
    params(DashboardQuery),
    responses((status = 200, body = service::operations::dashboard::Dashboard)),
)]
#[get("/staff/dashboard")]
pub async fn dashboard(
    ctx: web::Data<Context>,
    staff: Staff,
    q: web::Query<DashboardQuery>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Reviewer)?;
    let view = service::operations::dashboard::dashboard(&ctx, q.days).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(view))
}

#[derive(Deserialize, IntoParams)]
pub struct QueueQuery {
    #[param(schema_with = application_status)]
    status: Option<String>,
    #[param(schema_with = schemas::page_limit)]
    limit: Option<u64>,
    #[param(schema_with = schemas::uuid_cursor)]
    cursor: Option<String>,
}

fn application_status() -> impl Into<RefOr<Schema>> {
    <ApplicationStatus as utoipa::PartialSchema>::schema()
}

#[utoipa::path(
    tag = "工作人员",
    summary = "审核队列",
    security(("staff" = [])),
    params(QueueQuery),
    responses((status = 200, body = Page<QueueItem>)),
)]
#[get("/staff/applications")]
pub async fn queue(
    ctx: web::Data<Context>,
    staff: Staff,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Reviewer)?;
    let page = review::queue(&ctx, q.status.as_deref(), q.limit, q.cursor.as_deref()).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(
    tag = "工作人员",
    summary = "申请详情（审核用）",
    security(("staff" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ReviewView)),
)]
#[get("/staff/applications/{id}")]
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

#[utoipa::path(
    tag = "工作人员",
    summary = "查看申请材料",
    security(("staff" = [])),
    params(("id" = Uuid, Path), ("material_id" = Uuid, Path)),
    responses((status = 200)),
)]
#[get("/staff/applications/{id}/materials/{material_id}")]
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

#[derive(Deserialize, ToSchema)]
pub struct DecisionRequest {
    approve: bool,
    #[serde(default)]
    reason: String,
}

#[utoipa::path(
    tag = "工作人员",
    summary = "审核决定",
    security(("staff" = [])),
    params(("id" = Uuid, Path)),
    request_body = inline(DecisionRequest),
    responses((status = 503, description = crate::error::SIGNING_UNAVAILABLE_DESCRIPTION, body = crate::error::ErrorBody), (status = 200, body = ReviewView)),
)]
#[post("/staff/applications/{id}/decision")]
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

#[derive(Deserialize, ToSchema)]
pub struct RevokeRequest {
    #[schema(schema_with = schemas::text)]
    reason: String,
}

#[utoipa::path(
    tag = "工作人员",
    summary = "注销居住证",
    security(("staff" = [])),
    params(("permit_no" = String, Path)),
    request_body = inline(RevokeRequest),
    responses((status = 204)),
)]
#[post("/staff/permits/{permit_no}/revoke")]
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

#[derive(Deserialize, ToSchema)]
pub struct CardStatusRequest {
    #[schema(schema_with = card_step)]
    status: String,
}

/// The steps staff move a paid order to. Paid itself is the payment platform's to say
/// (`POST /payments/notify`): `paid` is refused, 422 `PAID_ONLY_BY_PAYMENT`.
fn card_step() -> utoipa::openapi::schema::Object {
    service::api_schema::one_of(["produced", "ready", "collected"])
}

#[utoipa::path(
    tag = "工作人员",
    summary = "推进实体证件状态",
    security(("staff" = [])),
    params(("id" = Uuid, Path)),
    request_body = inline(CardStatusRequest),
    responses((status = 200, body = CardOrderView)),
    description = "工作人员只能把已缴费的订单推进到制证、待领取、已领取；是否已缴费以非税支付平台的通知为准，设为 paid 会被拒绝（422 PAID_ONLY_BY_PAYMENT）。",
)]
#[post("/staff/card-orders/{id}/status")]
pub async fn advance_card_order(
    ctx: web::Data<Context>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: JsonObject<CardStatusRequest>,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Reviewer)?;
    Ok(HttpResponse::Ok().json(cards::advance(&ctx, id.into_inner(), &body.status).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AgencyRequest {
    #[schema(schema_with = schemas::text)]
    name: String,
    #[schema(schema_with = schemas::credit_code)]
    credit_code: String,
    #[schema(schema_with = schemas::text)]
    contact: String,
    #[schema(schema_with = agency_scopes)]
    scopes: Vec<String>,
    #[serde(default)]
    fields: Vec<String>,
}

/// What an agency may be allowed: at least one scope.
fn agency_scopes() -> impl Into<RefOr<Schema>> {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(service::api_schema::one_of([
            "permit:verify",
            "permit:download",
            "residence:proof",
        ]))
        .min_items(Some(1))
}

/// Registers an agency (admin); the client secret is in this answer and nowhere else.
#[utoipa::path(
    tag = "工作人员",
    summary = "登记用证部门（密钥只显示一次）",
    security(("staff" = [])),
    request_body = inline(AgencyRequest),
    responses((status = 201, body = Registered)),
)]
#[post("/staff/agencies")]
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

#[utoipa::path(
    tag = "工作人员",
    summary = "已登记的用证部门",
    security(("staff" = [])),
    responses((status = 200, body = Page<AgencyView>)),
)]
#[get("/staff/agencies")]
pub async fn agencies(ctx: web::Data<Context>, staff: Staff) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Admin)?;
    let items = service::consent::agencies::list(&ctx).await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

#[derive(Deserialize, Default, ToSchema)]
pub struct ReminderRequest {
    #[serde(default)]
    #[schema(schema_with = schemas::nullable_date)]
    as_of: Option<chrono::NaiveDate>,
    #[serde(default)]
    deliver: Option<bool>,
}

/// What a reminder run did.
#[derive(Serialize, ToSchema)]
#[schema(as = ReminderRun)]
pub struct ReminderRunBody {
    as_of: chrono::NaiveDate,
    queued: u64,
    sent: u64,
    failed: u64,
    undeliverable: u64,
    unfinished: u64,
}

/// Runs the reminder sweep now (as of a date, for tests and catch-up), then the delivery
/// worker once when asked.
#[utoipa::path(
    tag = "工作人员",
    summary = "立即执行提醒扫描（可指定日期）并投递",
    security(("staff" = [])),
    request_body(content = Option<ReminderRequest>),
    responses((status = 200, body = ReminderRunBody)),
)]
#[post("/staff/reminders/run")]
pub async fn run_reminders(
    ctx: web::Data<Context>,
    staff: Staff,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    staff.0.require(Role::Admin)?;
    let body: ReminderRequest = crate::extract::optional_json(&body)?;
    let as_of = body.as_of.unwrap_or_else(|| ctx.clock.today());
    let sweep = service::notices::reminders::sweep(&ctx, as_of).await?;
    let delivery = if body.deliver.unwrap_or(false) {
        let budget = std::time::Duration::from_secs(ctx.settings.reminders.staff_run_budget_secs);
        service::notices::delivery::run_within(&ctx, Some(budget)).await?
    } else {
        service::notices::delivery::DeliveryReport::default()
    };
    Ok(HttpResponse::Ok().json(ReminderRunBody {
        as_of,
        queued: sweep.queued,
        sent: delivery.sent,
        failed: delivery.failed,
        undeliverable: delivery.undeliverable,
        unfinished: delivery.unfinished,
    }))
}

#[derive(Deserialize, Default, ToSchema)]
pub struct RetentionRequest {
    #[serde(default)]
    #[schema(schema_with = schemas::nullable_date)]
    as_of: Option<String>,
}

/// Runs the retention job now (admin), as of a date (default: today in China), so tests and
/// operators can drive it with a clock.
#[utoipa::path(
    tag = "工作人员",
    summary = "立即执行保存期限清理（可指定日期）",
    security(("staff" = [])),
    request_body(content = Option<RetentionRequest>),
    responses((status = 200, body = crate::jobs::RetentionReport)),
)]
#[post("/staff/retention/run")]
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
