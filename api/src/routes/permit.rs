use actix_web::{HttpResponse, web};
use serde::Deserialize;
use service::Context;
use service::permit::{cards, endorsement, permits};

use crate::error::ApiError;
use crate::extract::{JsonObject, Resident};

#[derive(Deserialize)]
pub struct RevealQuery {
    #[serde(default)]
    reveal: bool,
}

pub async fn show(
    ctx: web::Data<Context>,
    resident: Resident,
    q: web::Query<RevealQuery>,
) -> Result<HttpResponse, ApiError> {
    let person_id = resident.0.person()?;
    let (permit, version) = permits::my_permit(&ctx, person_id).await?;
    if q.reveal {
        tracing::info!(account_id = %resident.0.account_id, "permit shown with the full ID number");
    }
    let mut view = permits::view(&ctx, &permit, &version, q.reveal)?;
    view.status_list = service::verify::status_list::places::place_of(&ctx.db, permit.id)
        .await?
        .map(|place| place.reference());
    // The latest physical-card order rides along, so a screen needs no second call.
    let physical_card = match cards::latest(&ctx, person_id).await {
        Ok(order) => Some(order),
        Err(service::Error::Refused(service::Refusal::NotFound(_))) => None,
        Err(e) => return Err(e.into()),
    };
    let mut body = serde_json::to_value(&view).map_err(|e| {
        tracing::error!(error = %e, "serialising the permit view");
        ApiError::internal()
    })?;
    body["physical_card"] = serde_json::to_value(physical_card).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body))
}

/// The signed document of the current version, verifiable with `GET /api/v1/keys`.
pub async fn document(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let (_, version) = permits::my_permit(&ctx, resident.0.person()?).await?;
    let signed = permits::signed_document(&ctx, &version)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(signed))
}

pub async fn photo(ctx: web::Data<Context>, resident: Resident) -> Result<HttpResponse, ApiError> {
    let photo = permits::photo(&ctx, resident.0.person()?).await?;
    Ok(HttpResponse::Ok()
        .content_type(photo.mime)
        .insert_header(("Cache-Control", "private, no-store"))
        .body(photo.bytes))
}

pub async fn endorse(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let (kind, view) = endorsement::endorse(&ctx, resident.0.person()?).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({"kind": kind, "permit": view})))
}

#[derive(Deserialize)]
pub struct CardRequest {
    pickup_station: String,
}

pub async fn order_card(
    ctx: web::Data<Context>,
    resident: Resident,
    body: JsonObject<CardRequest>,
) -> Result<HttpResponse, ApiError> {
    let order = cards::order(&ctx, resident.0.person()?, &body.pickup_station).await?;
    Ok(HttpResponse::Created().json(order))
}

pub async fn card_order(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cards::latest(&ctx, resident.0.person()?).await?))
}

/// The issuing authority's public keys (JWK), for anyone verifying offline.
pub async fn keys(ctx: web::Data<Context>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(serde_json::json!({"keys": ctx.keys.published()}))
}
