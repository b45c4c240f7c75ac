//! The resident's subscribe-message subscriptions (订阅消息): what `wx.requestSubscribeMessage`
//! answered, posted by the mini-program, and the list with the configured templates.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use service::Context;
use std::collections::BTreeMap;

use crate::error::ApiError;
use crate::extract::{JsonObject, Resident};

#[derive(Deserialize)]
pub struct RecordRequest {
    app: String,
    /// template id → `accept`, `reject`, `ban` or `filter`.
    results: BTreeMap<String, String>,
}

/// `GET /api/v1/me/subscriptions`.
pub async fn list(ctx: web::Data<Context>, resident: Resident) -> Result<HttpResponse, ApiError> {
    let list = service::notices::subscriptions::list(&ctx, &resident.0).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// `POST /api/v1/me/subscriptions`: answers the same body as GET.
pub async fn record(
    ctx: web::Data<Context>,
    resident: Resident,
    body: JsonObject<RecordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let results: Vec<(String, String)> = body.results.into_iter().collect();
    let list =
        service::notices::subscriptions::record(&ctx, &resident.0, &body.app, &results).await?;
    Ok(HttpResponse::Ok().json(list))
}
