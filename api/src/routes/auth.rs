use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use service::Context;
use service::identity::sessions::{self, TokenPair};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::extract::{JsonObject, Resident};
use crate::openapi::schemas;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(miniprogram_login)
        .service(refresh)
        .service(logout);
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(schema_with = service::api_schema::mini_app)]
    app: String,
    #[schema(schema_with = schemas::text)]
    code: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    #[schema(schema_with = schemas::text)]
    refresh_token: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = TokenPair)]
pub struct TokenResponse {
    access_token: String,
    #[schema(schema_with = schemas::bearer)]
    token_type: &'static str,
    expires_in: u64,
    refresh_token: String,
}

impl From<TokenPair> for TokenResponse {
    fn from(pair: TokenPair) -> Self {
        TokenResponse {
            access_token: pair.access_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token,
        }
    }
}

#[utoipa::path(
    tag = "会话",
    summary = "小程序登录（jscode2session；开发模式 dev:<openid>）",
    request_body = inline(LoginRequest),
    responses(
        (status = 200, body = TokenResponse),
        (status = 503, description = "微信平台暂不可用", body = crate::error::ErrorBody),
    ),
)]
#[post("/auth/miniprogram/login")]
pub async fn miniprogram_login(
    ctx: web::Data<Context>,
    body: JsonObject<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = sessions::login(&ctx, &body.app, &body.code).await?;
    Ok(no_store(TokenResponse::from(pair)))
}

#[utoipa::path(
    tag = "会话",
    summary = "刷新令牌轮换（重用将注销整个登录）",
    request_body = inline(RefreshRequest),
    responses((status = 200, body = TokenResponse)),
)]
#[post("/auth/refresh")]
pub async fn refresh(
    ctx: web::Data<Context>,
    body: JsonObject<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = sessions::refresh(&ctx, &body.refresh_token).await?;
    Ok(no_store(TokenResponse::from(pair)))
}

#[utoipa::path(
    tag = "会话",
    summary = "退出登录",
    security(("resident" = [])),
    responses((status = 204)),
)]
#[post("/auth/logout")]
pub async fn logout(ctx: web::Data<Context>, resident: Resident) -> Result<HttpResponse, ApiError> {
    sessions::logout(&ctx, &resident.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Token responses must not be cached (RFC 6749 §5.1).
fn no_store(body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(body)
}
