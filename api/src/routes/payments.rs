//! The payment platform's paid callback for the card fee: no login, the body signed instead.
//! The handler reads the raw bytes, since the signature covers them exactly as sent; the
//! service checks the signature before it parses anything (see
//! [`service::permit::fees::notify`]).

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use service::Context;
use service::permit::fees::notify::{self, Receipt};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;

/// The header that carries the callback's signature.
const SIGNATURE_HEADER: &str = "X-Signature";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(payment_notify);
}

/// The callback's body as the platform sends it; read by the service from the raw bytes, this
/// type only describes it in the document.
#[derive(Deserialize, ToSchema)]
#[schema(as = PaymentNotify)]
#[allow(
    dead_code,
    reason = "describes the body in the document; the service parses the raw bytes"
)]
pub struct NotifyBody {
    notice_no: String,
    #[schema(schema_with = paid)]
    status: String,
    amount_cents: i64,
    paid_at: DateTime<Utc>,
}

/// The one status the platform calls back with.
fn paid() -> utoipa::openapi::schema::Object {
    service::api_schema::one_of(["paid"])
}

#[utoipa::path(
    tag = "缴费",
    summary = "非税支付平台缴费结果通知（签名回调）",
    description = "缴款书缴费成功后由非税支付平台调用。X-Signature 为请求体原文的 HMAC-SHA-256（小写十六进制），密钥为 YUEJU_PAYMENT_NOTIFY_SECRET。重复通知返回相同结果、不重复入账；签名错误 401，缴款书不存在 404，金额不符 422。",
    params(
        ("X-Signature" = String, Header, description = "请求体原文的 HMAC-SHA-256，小写十六进制"),
    ),
    request_body = inline(NotifyBody),
    responses((status = 200, body = Receipt)),
)]
#[post("/payments/notify")]
pub async fn payment_notify(
    ctx: web::Data<Context>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let signature = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let receipt = notify::paid(&ctx, &body, signature).await?;
    tracing::info!(
        notice_no = receipt.notice_no,
        "card fee paid callback accepted"
    );
    Ok(HttpResponse::Ok().json(receipt))
}
