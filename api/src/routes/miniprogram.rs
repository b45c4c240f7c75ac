//! The mini-programs' own message push (消息推送) at `/api/v1/wechat/miniprogram/{app}`: the
//! platform's URL check, and the subscribe events (popup, change, sent) that keep the
//! subscription records in step. Every call goes through the mini-program's message server
//! (`service::identity::wechat::message_server`): signed as the official account's calls are and, in
//! 安全模式, encrypted with that mini-program's appid at the end.

use actix_web::{HttpResponse, get, post, web};
use service::Context;
use service::Refusal;
use service::identity::wechat::message_server::{MessageServer, PushQuery};
use service::identity::wechat::push;
use service::identity::wechat::{Account, MiniApp, xml};

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use super::bot::{open_push, unreadable, url_check};
use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        // The push's own payload limit: the platform's events are small.
        scope("/wechat/miniprogram/{app}")
            .app_data(payload_config())
            .service(check)
            .service(receive),
    );
}

/// The mini-program of the path, as the platform's push calls it.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "only described: the handler reads the path as text"
)]
#[schema(rename_all = "lowercase")]
pub enum App {
    Yss,
    Yjm,
}

/// The mini-program named in the path and its message server; 404 when its push is off (no
/// token or no appid configured).
fn server<'a>(ctx: &'a Context, path: &str) -> Result<(MiniApp, &'a MessageServer), ApiError> {
    let app = MiniApp::parse(path).ok_or(Refusal::UnknownApp)?;
    let server = ctx
        .settings
        .message_server(Account::Mini(app))
        .ok_or_else(ApiError::not_found)?;
    Ok((app, server))
}

/// `GET /api/v1/wechat/miniprogram/{app}`: the platform's URL check, the same in every mode.
#[utoipa::path(
    tag = "小程序消息推送",
    summary = "小程序消息推送服务器地址校验",
    params(
        ("app" = inline(App), Path),
        ("signature" = Option<String>, Query),
        ("timestamp" = Option<String>, Query),
        ("nonce" = Option<String>, Query),
        ("echostr" = Option<String>, Query),
    ),
    responses((status = 200)),
)]
#[get("")]
pub async fn check(
    ctx: web::Data<Context>,
    path: web::Path<String>,
    q: web::Query<PushQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, server) = server(&ctx, &path)?;
    url_check(server, &q)
}

/// `POST /api/v1/wechat/miniprogram/{app}`: an event (in 安全模式 encrypted), answered
/// `success` once taken in, or ignored (another event, a user with no bound login).
#[utoipa::path(
    tag = "小程序消息推送",
    summary = "小程序消息推送（订阅消息弹窗、变更、发送结果事件，XML）",
    params(
        ("app" = inline(App), Path),
        ("signature" = Option<String>, Query),
        ("timestamp" = Option<String>, Query),
        ("nonce" = Option<String>, Query),
    ),
    request_body(content = String, content_type = "text/xml"),
    responses((status = 200)),
)]
#[post("")]
pub async fn receive(
    ctx: web::Data<Context>,
    path: web::Path<String>,
    q: web::Query<PushQuery>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let (app, server) = server(&ctx, &path)?;
    let opened = open_push(server, &q, body)?;
    let event = push::parse(&opened.message).map_err(|e| unreadable(e, &opened))?;
    let outcome = service::notices::subscription_events::apply_event(&ctx, app, &event).await?;
    tracing::info!(app = app.as_str(), event = %event.event, ?outcome, "mini-program push taken in");
    // The platform takes `success` in clear in every mode.
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("success"))
}

/// The `PayloadConfig` of the push: the platform's events are small (in 安全模式 a third
/// larger, as the official account's messages).
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(xml::MAX_BYTES)
}
