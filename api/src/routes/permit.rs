use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use service::Context;
use service::domain::permit_rules::Renewal;
use service::keys::signing::PublishedKey;
use service::permit::address_change::{self, AddressChangeRequest, AddressChanged};
use service::permit::cards::CardOrderView;
use service::permit::permits::{PermitView, SignedDocument};
use service::permit::{cards, endorsement, permits};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::extract::{JsonObject, Resident};
use crate::openapi::schemas;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(keys)
        .service(show)
        .service(document)
        .service(photo)
        .service(endorse)
        .service(change_address)
        .service(order_card)
        .service(card_order);
}

#[derive(Deserialize, IntoParams)]
pub struct RevealQuery {
    #[serde(default)]
    reveal: bool,
}

/// The holder's permit, with the latest physical-card order riding along.
#[derive(Serialize, ToSchema)]
#[schema(as = Permit)]
pub struct PermitBody {
    #[serde(flatten)]
    permit: PermitView,
    physical_card: Option<CardOrderView>,
}

#[utoipa::path(
    tag = "证照",
    summary = "我的电子居住证（证件号码默认遮挡）",
    security(("resident" = [])),
    params(RevealQuery),
    responses((status = 200, body = PermitBody)),
)]
#[get("/me/permit")]
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
    let mut permit_view = permits::view(&ctx, &permit, &version, q.reveal)?;
    permit_view.status_list = service::verify::status_list::places::place_of(&ctx.db, permit.id)
        .await?
        .map(|place| place.reference());
    // The latest physical-card order rides along, so a screen needs no second call.
    let physical_card = match cards::latest(&ctx, person_id).await {
        Ok(order) => Some(order),
        Err(service::Error::Refused(service::Refusal::NotFound(_))) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(PermitBody {
            permit: permit_view,
            physical_card,
        }))
}

/// The signed document of the current version, verifiable with `GET /api/v1/keys`.
#[utoipa::path(
    tag = "证照",
    summary = "当前版本的签名证照数据",
    security(("resident" = [])),
    responses((status = 200, body = SignedDocument)),
)]
#[get("/me/permit/document")]
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

#[utoipa::path(
    tag = "证照",
    summary = "证照相片（仅本人）",
    security(("resident" = [])),
    responses((status = 200)),
)]
#[get("/me/permit/photo")]
pub async fn photo(ctx: web::Data<Context>, resident: Resident) -> Result<HttpResponse, ApiError> {
    let photo = permits::photo(&ctx, resident.0.person()?).await?;
    Ok(HttpResponse::Ok()
        .content_type(photo.mime)
        .insert_header(("Cache-Control", "private, no-store"))
        .body(photo.bytes))
}

/// The endorsement or renewal made, and the permit as it now stands.
#[derive(Serialize, ToSchema)]
#[schema(as = Endorsement)]
pub struct EndorsementBody {
    kind: Renewal,
    permit: PermitView,
}

#[utoipa::path(
    tag = "证照",
    summary = "年度签注或到期换领",
    security(("resident" = [])),
    responses((status = 503, description = crate::error::SIGNING_UNAVAILABLE_DESCRIPTION, body = crate::error::ErrorBody), (status = 201, body = EndorsementBody)),
)]
#[post("/me/permit/endorsements")]
pub async fn endorse(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let (kind, permit) = endorsement::endorse(&ctx, resident.0.person()?).await?;
    Ok(HttpResponse::Created().json(EndorsementBody { kind, permit }))
}

/// A new address ([`AddressChangeRequest`], with what the server checks of each field stated
/// for the document): `city` left out is the permit's own.
#[derive(Deserialize, ToSchema)]
pub struct AddressChangeBody {
    #[serde(default)]
    #[schema(schema_with = schemas::city)]
    city: Option<String>,
    #[schema(schema_with = schemas::text)]
    district: String,
    #[schema(schema_with = schemas::text)]
    address: String,
    #[schema(schema_with = schemas::date)]
    since: String,
}

impl From<AddressChangeBody> for AddressChangeRequest {
    fn from(b: AddressChangeBody) -> AddressChangeRequest {
        AddressChangeRequest {
            city: b.city,
            district: b.district,
            address: b.address,
            since: b.since,
        }
    }
}

/// Another city answers 422 `CITY_CHANGE_NEEDS_NEW_APPLICATION`: the screens start the
/// application there.
#[utoipa::path(
    tag = "证照",
    summary = "变更本市内的居住地址（签发新版本；迁往其他城市须重新申领）",
    security(("resident" = [])),
    request_body = inline(AddressChangeBody),
    responses((status = 503, description = crate::error::SIGNING_UNAVAILABLE_DESCRIPTION, body = crate::error::ErrorBody), (status = 201, body = AddressChanged)),
)]
#[post("/me/permit/address-change")]
pub async fn change_address(
    ctx: web::Data<Context>,
    resident: Resident,
    body: JsonObject<AddressChangeBody>,
) -> Result<HttpResponse, ApiError> {
    let request = AddressChangeRequest::from(body.into_inner());
    let changed = address_change::change_address(&ctx, resident.0.person()?, &request).await?;
    Ok(HttpResponse::Created().json(changed))
}

#[derive(Deserialize, ToSchema)]
pub struct CardRequest {
    #[schema(schema_with = schemas::text)]
    pickup_station: String,
}

#[utoipa::path(
    tag = "证照",
    summary = "自愿申领实体证件",
    security(("resident" = [])),
    request_body = inline(CardRequest),
    description = "首张免费；补领、换领需缴工本费：返回 payment（缴款书编号、金额、缴费地址、截止时间），订单保持 ordered，缴费成功后变为 paid，逾期未缴自动取消（cancelled）。",
    responses(
        (status = 201, body = CardOrderView),
        (status = 503, description = "非税支付平台暂不可用，订单未提交", body = crate::error::ErrorBody),
    ),
)]
#[post("/me/physical-card")]
pub async fn order_card(
    ctx: web::Data<Context>,
    resident: Resident,
    body: JsonObject<CardRequest>,
) -> Result<HttpResponse, ApiError> {
    let order = cards::order(&ctx, resident.0.person()?, &body.pickup_station).await?;
    Ok(HttpResponse::Created().json(order))
}

#[utoipa::path(
    tag = "证照",
    summary = "实体证件进度",
    security(("resident" = [])),
    responses((status = 200, body = CardOrderView)),
)]
#[get("/me/physical-card")]
pub async fn card_order(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cards::latest(&ctx, resident.0.person()?).await?))
}

/// The published keys.
#[derive(Serialize, ToSchema)]
#[schema(as = Keys)]
pub struct KeysBody {
    keys: Vec<PublishedKey>,
}

/// The issuing authority's public keys (JWK), for anyone verifying offline.
#[utoipa::path(
    tag = "证照",
    summary = "签发机关公钥（JWK）",
    responses((status = 200, body = KeysBody)),
)]
#[get("/keys")]
pub async fn keys(ctx: web::Data<Context>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(KeysBody {
            keys: ctx.keys.published(),
        })
}
