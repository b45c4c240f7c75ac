//! The resident's subscribe-message subscriptions (订阅消息): what `wx.requestSubscribeMessage`
//! answered, posted by the mini-program, and the list with the configured templates.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use service::Context;
use service::notices::subscriptions::Subscriptions;
use std::collections::BTreeMap;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::extract::{JsonObject, Resident};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(record);
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RecordRequest {
    #[schema(schema_with = service::api_schema::mini_app)]
    app: String,
    /// template id → `accept`, `reject`, `ban` or `filter`.
    #[schema(schema_with = answers)]
    results: BTreeMap<String, String>,
}

/// What `wx.requestSubscribeMessage` answered, by template id.
fn answers() -> impl Into<RefOr<Schema>> {
    let answer = service::api_schema::one_of(["accept", "reject", "ban", "filter"]);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(Schema::Object(answer)))
}

/// `GET /api/v1/me/subscriptions`.
#[utoipa::path(
    tag = "我的",
    summary = "订阅消息（提醒）的订阅情况及可订阅的模板",
    security(("resident" = [])),
    responses((status = 200, body = Subscriptions)),
)]
#[get("/me/subscriptions")]
pub async fn list(ctx: web::Data<Context>, resident: Resident) -> Result<HttpResponse, ApiError> {
    let subscriptions = service::notices::subscriptions::list(&ctx, &resident.0).await?;
    Ok(HttpResponse::Ok().json(subscriptions))
}

/// `POST /api/v1/me/subscriptions`: answers the same body as GET.
#[utoipa::path(
    tag = "我的",
    summary = "记录 wx.requestSubscribeMessage 的结果（一次性订阅每次同意增加一次）",
    security(("resident" = [])),
    request_body = inline(RecordRequest),
    responses((status = 200, body = Subscriptions)),
)]
#[post("/me/subscriptions")]
pub async fn record(
    ctx: web::Data<Context>,
    resident: Resident,
    body: JsonObject<RecordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let results: Vec<(String, String)> = body.results.into_iter().collect();
    let subscriptions =
        service::notices::subscriptions::record(&ctx, &resident.0, &body.app, &results).await?;
    Ok(HttpResponse::Ok().json(subscriptions))
}
