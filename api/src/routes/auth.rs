use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::Context;
use service::identity::sessions::{self, TokenPair};

use crate::error::ApiError;
use crate::extract::{JsonObject, Resident};

#[derive(Deserialize)]
pub struct LoginRequest {
    app: String,
    code: String,
}

#[derive(Deserialize)]
pub struct RefreshRequest {
    refresh_token: String,
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
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

pub async fn miniprogram_login(
    ctx: web::Data<Context>,
    body: JsonObject<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = sessions::login(&ctx, &body.app, &body.code).await?;
    Ok(no_store(TokenResponse::from(pair)))
}

pub async fn refresh(
    ctx: web::Data<Context>,
    body: JsonObject<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = sessions::refresh(&ctx, &body.refresh_token).await?;
    Ok(no_store(TokenResponse::from(pair)))
}

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
