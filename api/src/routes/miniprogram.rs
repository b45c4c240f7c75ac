//! The mini-programs' own message push (消息推送) at `/api/v1/wechat/miniprogram/{app}`: the
//! platform's URL check, and the subscribe events (popup, change, sent) that keep the
//! subscription records in step. Every call is signed as the official account's are.
//!
//! Plain mode only for now: the signature is the SHA-1 of the sorted `YUEJU_WECHAT_TOKEN`,
//! timestamp and nonce. [`verify_url`] and [`open`] are the two places that change when the
//! shared 安全模式 transport (`service::wechat::message_server`) is used: it checks the same
//! query and answers the same echostr and plaintext body.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use service::Context;
use service::Refusal;
use service::wechat::MiniApp;
use service::wechat::push::{self, XmlError};

use crate::error::ApiError;
use bot::wechat::signature;

/// The query of a push call (the platform also sends `openid`, unused).
#[derive(Debug, Deserialize)]
pub struct PushQuery {
    signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
    encrypt_type: Option<String>,
}

const MAX_ECHOSTR: usize = 128;

fn app_of(path: &str) -> Result<MiniApp, ApiError> {
    MiniApp::parse(path).ok_or_else(|| Refusal::UnknownApp.into())
}

/// The signature over the token, timestamp and nonce; the push is off without a token.
fn check_signature(ctx: &Context, q: &PushQuery) -> Result<(), ApiError> {
    let Some(token) = ctx.settings.wechat_token.as_deref() else {
        return Err(ApiError::not_found());
    };
    signature::check(
        token,
        q.signature.as_deref(),
        q.timestamp.as_deref(),
        q.nonce.as_deref(),
        chrono::Utc::now().timestamp(),
        ctx.settings.wechat_replay_window_secs,
    )
    .map_err(|refusal| {
        tracing::warn!(
            code = ApiError::from(refusal.clone()).code(),
            "mini-program push refused"
        );
        ApiError::from(refusal)
    })
}

/// The URL check: the echostr to answer, exactly as sent.
fn verify_url(ctx: &Context, _app: MiniApp, q: &PushQuery) -> Result<String, ApiError> {
    check_signature(ctx, q)?;
    let echo = q.echostr.as_deref().unwrap_or("");
    if echo.len() > MAX_ECHOSTR {
        return Err(Refusal::MessageMalformed.into());
    }
    Ok(echo.to_owned())
}

/// A checked push call's message.
fn open(ctx: &Context, _app: MiniApp, q: &PushQuery, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    check_signature(ctx, q)?;
    if q.encrypt_type.as_deref() == Some("aes") {
        tracing::warn!("encrypted mini-program push refused: 安全模式 is not configured here");
        return Err(Refusal::MessageMalformed.into());
    }
    Ok(body.to_vec())
}

/// `GET /api/v1/wechat/miniprogram/{app}`: the platform's URL check.
pub async fn check(
    ctx: web::Data<Context>,
    path: web::Path<String>,
    q: web::Query<PushQuery>,
) -> Result<HttpResponse, ApiError> {
    let app = app_of(&path)?;
    let echo = verify_url(&ctx, app, &q)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(echo))
}

/// `POST /api/v1/wechat/miniprogram/{app}`: an event, answered `success` once taken in (or
/// ignored: another event, or a user with no bound login).
pub async fn receive(
    ctx: web::Data<Context>,
    path: web::Path<String>,
    q: web::Query<PushQuery>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let app = app_of(&path)?;
    let body = body.map_err(|e| match e.as_error::<actix_web::error::PayloadError>() {
        Some(actix_web::error::PayloadError::Overflow) => ApiError::payload_too_large(),
        _ => ApiError::from(Refusal::MessageMalformed),
    })?;
    let message = open(&ctx, app, &q, &body)?;
    let event = push::parse(&message).map_err(|e| match e {
        XmlError::TooLarge => ApiError::payload_too_large(),
        XmlError::DocType | XmlError::Malformed => {
            tracing::warn!(problem = ?e, "pushed event refused");
            ApiError::from(Refusal::MessageMalformed)
        }
    })?;
    let outcome = service::subscriptions::apply_event(&ctx, app, &event).await?;
    tracing::info!(app = app.as_str(), event = %event.event, ?outcome, "mini-program push taken in");
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("success"))
}

/// The `PayloadConfig` of the push: the platform's events are small.
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(push::MAX_BYTES)
}
