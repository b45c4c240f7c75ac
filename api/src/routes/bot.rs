//! The bot's channels over HTTP: the WeChat message server (signature on every call, XML in
//! and out, in 安全模式 encrypted through `service::identity::wechat::message_server`) and the channel-neutral JSON endpoint; and the binding code a logged-in resident
//! gives the bot. The work is in the `bot` crate.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use service::Context;
use service::Refusal;
use service::error::{FieldProblem, invalid};
use service::keys::compare::same_secret;
use std::sync::Arc;

use crate::error::ApiError;
use crate::extract::{JsonObject, Resident};
use bot::wechat::{webhook, xml};
use bot::{Bot, ChatUser};
use service::identity::wechat::Account;
use service::identity::wechat::message_server::{MessageServer, Opened, PushQuery};
use service::identity::wechat::xml::XmlError;
use utoipa::ToSchema;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(messages).service(binding_code).service(
        // The webhook's own payload limit: the platform's messages are small.
        scope("/bot/wechat")
            .app_data(wechat_payload_config())
            .service(wechat_check)
            .service(wechat_push),
    );
}

/// The official account's message server; off (404) without a token.
fn message_server(ctx: &Context) -> Result<&MessageServer, ApiError> {
    ctx.settings
        .message_server(Account::OfficialAccount)
        .ok_or_else(ApiError::not_found)
}

/// Logs a refused message-server call (no body, no query: they may carry personal data).
fn refused(refusal: Refusal) -> ApiError {
    let error = ApiError::from(refusal);
    tracing::warn!(code = error.code(), "message-server call refused");
    error
}

/// The platform's URL check of any message server, the same in every mode: `echostr` as sent.
/// The platform's timestamps are checked against the system time, not the context's clock
/// (see `service::clock`).
pub fn url_check(server: &MessageServer, q: &PushQuery) -> Result<HttpResponse, ApiError> {
    let echo = server
        .verify_url(q, service::clock::system_now().timestamp())
        .map_err(refused)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(echo))
}

/// A pushed body opened by its message server (signature, timestamp, and in 安全模式 the
/// decryption), ready for its reader.
pub fn open_push(
    server: &MessageServer,
    q: &PushQuery,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<Opened, ApiError> {
    let body = body.map_err(|e| match e.as_error::<actix_web::error::PayloadError>() {
        Some(actix_web::error::PayloadError::Overflow) => ApiError::payload_too_large(),
        _ => ApiError::from(Refusal::MessageMalformed),
    })?;
    server
        .open(q, &body, service::clock::system_now().timestamp())
        .map_err(refused)
}

/// The answer to an opened message its reader refused.
pub fn unreadable(e: XmlError, opened: &Opened) -> ApiError {
    match e {
        XmlError::TooLarge => ApiError::payload_too_large(),
        XmlError::DocType | XmlError::Malformed => {
            tracing::warn!(problem = ?e, encrypted = opened.is_encrypted(), "pushed XML refused");
            ApiError::from(Refusal::MessageMalformed)
        }
    }
}

/// `GET /api/v1/bot/wechat`: the platform's URL check.
#[utoipa::path(
    tag = "聊天机器人",
    summary = "公众号服务器地址校验",
    params(
        ("signature" = Option<String>, Query),
        ("timestamp" = Option<String>, Query),
        ("nonce" = Option<String>, Query),
        ("echostr" = Option<String>, Query),
    ),
    responses((status = 200)),
)]
#[get("")]
pub async fn wechat_check(
    ctx: web::Data<Context>,
    q: web::Query<PushQuery>,
) -> Result<HttpResponse, ApiError> {
    url_check(message_server(&ctx)?, &q)
}

/// `POST /api/v1/bot/wechat`: a pushed message (in 安全模式 encrypted), answered with a
/// passive XML reply (encrypted the way the message came) or `success`.
#[utoipa::path(
    tag = "聊天机器人",
    summary = "公众号消息推送（XML，被动回复；安全模式下加密）",
    params(
        ("signature" = Option<String>, Query),
        ("timestamp" = Option<String>, Query),
        ("nonce" = Option<String>, Query),
        ("encrypt_type" = inline(Option<EncryptType>), Query),
        ("msg_signature" = Option<String>, Query),
    ),
    request_body(content = String, content_type = "text/xml"),
    responses((status = 200)),
)]
#[post("")]
pub async fn wechat_push(
    ctx: web::Data<Context>,
    bot: web::Data<Bot>,
    q: web::Query<PushQuery>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let ctx = ctx.into_inner();
    let server = message_server(&ctx)?;
    let opened = open_push(server, &q, body)?;
    let inbound = xml::parse(&opened.message).map_err(|e| unreadable(e, &opened))?;
    let answer = webhook::receive(bot.into_inner(), ctx.clone(), inbound).await?;
    Ok(match answer {
        webhook::Answer::Reply(reply) => HttpResponse::Ok()
            .content_type("application/xml; charset=utf-8")
            .body(server.reply(&opened, &reply)?),
        // The platform takes `success` in clear in every mode.
        webhook::Answer::Success => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("success"),
    })
}

/// The `PayloadConfig` of the message server: the platform's messages are small.
pub fn wechat_payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(xml::MAX_BYTES)
}

/// How the platform says a message is encrypted (`PushQuery::encrypt_type`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum EncryptType {
    Aes,
    Raw,
}

#[derive(Deserialize, ToSchema)]
pub struct MessageIn {
    #[schema(pattern = "^[A-Za-z0-9._:@-]{1,64}$")]
    user: String,
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    text: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = BotReplies)]
pub struct MessageOut {
    replies: Vec<String>,
}

const MAX_TEXT_CHARS: usize = 2000;
const MAX_USER_LEN: usize = 64;

/// Who may speak for a chat user here: a gateway holding `YUEJU_BOT_API_SECRET` as a bearer
/// token. Without that setting the endpoint is open in dev and off in prod.
fn check_gateway(ctx: &Context, req: &HttpRequest) -> Result<(), ApiError> {
    let Some(secret) = ctx.settings.bot_api_secret.as_ref() else {
        return if ctx.settings.is_dev() {
            Ok(())
        } else {
            Err(ApiError::not_found())
        };
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    if same_secret(presented.as_bytes(), secret.expose_secret().as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::Unauthenticated.into())
    }
}

/// `POST /api/v1/bot/messages`: `{"user", "text"}` → `{"replies"}`.
#[utoipa::path(
    tag = "聊天机器人",
    summary = "渠道无关的聊天接口（网页聊天、测试）",
    security(("bot_gateway" = [])),
    request_body = inline(MessageIn),
    responses((status = 200, body = MessageOut)),
)]
#[post("/bot/messages")]
pub async fn messages(
    ctx: web::Data<Context>,
    bot: web::Data<Bot>,
    req: HttpRequest,
    body: JsonObject<MessageIn>,
) -> Result<HttpResponse, ApiError> {
    check_gateway(&ctx, &req)?;
    let user = body.user.trim();
    let valid_user = !user.is_empty()
        && user.len() <= MAX_USER_LEN
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@".contains(&b));
    if !valid_user {
        return Err(invalid("user", FieldProblem::BadFormat).into());
    }
    let text = body.text.trim();
    if text.is_empty() {
        return Err(invalid("text", FieldProblem::Empty).into());
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid("text", FieldProblem::TooLong).into());
    }
    let replies = bot.handle(&ctx, &ChatUser::new("web", user), text).await?;
    Ok(HttpResponse::Ok().json(MessageOut { replies }))
}

#[derive(Serialize, ToSchema)]
#[schema(as = BindingCode)]
pub struct CodeOut {
    code: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /api/v1/me/bot-binding-code`.
#[utoipa::path(
    tag = "聊天机器人",
    summary = "获取聊天绑定码",
    security(("resident" = [])),
    responses((status = 201, body = CodeOut)),
)]
#[post("/me/bot-binding-code")]
pub async fn binding_code(
    ctx: web::Data<Context>,
    resident: Resident,
) -> Result<HttpResponse, ApiError> {
    let issued = service::identity::chat_links::issue_code(&ctx, &resident.0).await?;
    Ok(HttpResponse::Created().json(CodeOut {
        code: issued.code,
        expires_at: issued.expires_at,
    }))
}

/// The shared bot, for start-up.
pub fn bot(ctx: &Context) -> anyhow::Result<Arc<Bot>> {
    Ok(Arc::new(Bot::new(&ctx.settings)?))
}
