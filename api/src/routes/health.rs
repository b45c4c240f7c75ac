use actix_web::{HttpResponse, web};
use sea_orm::ConnectionTrait;
use service::Context;

use crate::error::ApiError;

/// Liveness: the process answers. Plain text, the cheapest route (the benchmarks' ceiling).
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// Readiness: the database answers too.
pub async fn readyz(ctx: web::Data<Context>) -> Result<HttpResponse, ApiError> {
    match ctx.db.execute_unprepared("SELECT 1").await {
        Ok(_) => {
            Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready", "database": "ok"})))
        }
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
