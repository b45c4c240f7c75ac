//! Residence years and the signed yes-or-no proofs of them: the holder's counts, making a
//! proof, and checking one (anyone; an agency's check goes into the holder's access log).

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use service::Context;
use service::residence::proofs::{self, IssuedProof, ProofCheck, ProofRequest};
use service::residence::years::{self, ResidenceYears};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::extract::{JsonObject, MaybeAgency, Resident};
use crate::openapi::schemas;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(my_years)
        .service(make_proof)
        .service(check_proof);
}

#[derive(Deserialize, IntoParams)]
pub struct AsOfQuery {
    /// Today when left out; never a day to come.
    as_of: Option<NaiveDate>,
}

#[utoipa::path(
    tag = "居住年限",
    summary = "我的连续居住年限（各城市的居住时段与已满年数；?as_of= 指定截至日期）",
    security(("resident" = [])),
    params(AsOfQuery),
    responses((status = 200, body = ResidenceYears)),
)]
#[get("/me/residence-years")]
pub async fn my_years(
    ctx: web::Data<Context>,
    resident: Resident,
    q: web::Query<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let years = years::of_person(&ctx, resident.0.person()?, q.as_of).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(years))
}

/// What the holder asks to have stated ([`ProofRequest`], with what the server checks of each
/// field stated for the document; more than 100 years is refused, 422).
#[derive(Deserialize, ToSchema)]
pub struct ProofBody {
    #[schema(schema_with = schemas::city)]
    city: String,
    #[serde(deserialize_with = "crate::extract::whole_number")]
    #[schema(schema_with = schemas::whole)]
    min_years: i64,
    #[serde(default)]
    #[schema(schema_with = schemas::nullable_date)]
    as_of: Option<NaiveDate>,
}

impl ProofBody {
    pub fn request(&self) -> ProofRequest {
        ProofRequest {
            city: self.city.clone(),
            // Beyond u32 is beyond the 100 years allowed: refused as out of range.
            min_years: u32::try_from(self.min_years).unwrap_or(u32::MAX),
            as_of: self.as_of,
        }
    }
}

#[utoipa::path(
    tag = "居住年限",
    summary = "开具居住年限证明（签名的“是/否”声明及二维码，不含居住经历）",
    security(("resident" = [])),
    request_body = inline(ProofBody),
    responses((status = 503, description = crate::error::SIGNING_UNAVAILABLE_DESCRIPTION, body = crate::error::ErrorBody), (status = 201, body = IssuedProof)),
)]
#[post("/me/residence-proofs")]
pub async fn make_proof(
    ctx: web::Data<Context>,
    resident: Resident,
    body: JsonObject<ProofBody>,
) -> Result<HttpResponse, ApiError> {
    let proof = proofs::make(&ctx, resident.0.person()?, &body.request()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(proofs::issued(proof)?))
}

#[utoipa::path(
    tag = "居住年限",
    summary = "核验居住年限证明（任何人；部门令牌核验的记入持证人查询记录）",
    request_body(
        content = Option<serde_json::Value>,
        description = "证明原样 {\"statement\", \"kid\", \"signature\"}，或 {\"token\": \"YJRP1.…\"}；其他任何内容视为无效证明",
    ),
    responses((status = 200, body = ProofCheck)),
)]
#[post("/verify/residence-proof")]
pub async fn check_proof(
    ctx: web::Data<Context>,
    agency: MaybeAgency,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let answer = proofs::check_online(&ctx, &body, agency.0.as_ref()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(answer))
}
