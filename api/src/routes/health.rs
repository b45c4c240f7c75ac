use actix_web::{HttpResponse, get, web};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use service::Context;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

/// Liveness: the process answers. Plain text, the cheapest route (the benchmarks' ceiling).
#[utoipa::path(
    tag = "运维",
    summary = "存活检查（纯文本 ok）",
    responses((status = 200)),
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Ready {
    status: &'static str,
    database: &'static str,
}

/// Readiness: the database answers too.
#[utoipa::path(
    tag = "运维",
    summary = "就绪检查（含数据库）",
    responses(
        (status = 200, body = inline(Ready)),
        (status = 503, description = "数据库不可用", body = crate::error::ErrorBody),
    ),
)]
#[get("/readyz")]
pub async fn readyz(ctx: web::Data<Context>) -> Result<HttpResponse, ApiError> {
    match ctx.db.execute_unprepared("SELECT 1").await {
        Ok(_) => Ok(HttpResponse::Ok().json(Ready {
            status: "ready",
            database: "ok",
        })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unavailable");
            Err(ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "NOT_READY",
                "服务暂未就绪：数据库不可用",
            ))
        }
    }
}
