//! `POST /oauth/token`: the client-credentials grant (RFC 6749 §4.4) for agencies. Client
//! authentication by HTTP Basic or by `client_id`/`client_secret` in the body; the body may
//! be a form (as the RFC says) or JSON. Errors use the RFC's shape, not ours.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, post, web};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use service::{Context, Error, Refusal, consent::agencies};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(token);
}

#[derive(Deserialize, Default, ToSchema)]
struct TokenRequest {
    #[schema(schema_with = grant_types, required = true)]
    grant_type: Option<String>,
    #[schema(nullable = false)]
    client_id: Option<String>,
    #[schema(nullable = false)]
    client_secret: Option<String>,
    #[schema(nullable = false)]
    scope: Option<String>,
}

/// The one grant offered.
fn grant_types() -> utoipa::openapi::schema::Object {
    service::api_schema::one_of(["client_credentials"])
}

/// A client-credentials token (RFC 6749 §5.1).
#[derive(Serialize, ToSchema)]
#[schema(as = OAuthToken)]
struct TokenBody {
    access_token: String,
    #[schema(schema_with = crate::openapi::schemas::bearer)]
    token_type: &'static str,
    expires_in: u64,
    scope: String,
}

/// RFC 6749 §5.2's error shape, `OAuthError` in the OpenAPI document.
#[derive(Serialize, ToSchema)]
#[schema(as = OAuthError)]
pub struct OAuthErrorBody {
    #[schema(schema_with = oauth_error_code)]
    error: &'static str,
    error_description: String,
}

fn oauth_error_code() -> utoipa::openapi::schema::Object {
    service::api_schema::one_of([
        "invalid_request",
        "invalid_client",
        "unsupported_grant_type",
        "invalid_scope",
        "server_error",
    ])
}

/// An answer of the token endpoint that is not a token, in RFC 6749 §5.2's shape:
/// `{"error", "error_description"}`, never cached.
#[derive(Debug)]
pub enum OAuthError {
    /// 400 `invalid_request`: the request itself is wrong.
    InvalidRequest(&'static str),
    /// 400 `unsupported_grant_type`.
    UnsupportedGrantType,
    /// 401 `invalid_client`: no credentials, or wrong ones.
    InvalidClient(&'static str),
    /// 429 `invalid_client` with `Retry-After`: the client's secret is locked out.
    LockedOut { retry_after_secs: u64 },
    /// 400 `invalid_scope`: more than the agency was registered for.
    InvalidScope,
    /// `server_error` with the status our own error mapping gives (its cause is logged there).
    Server(StatusCode),
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error(), self.description())
    }
}

impl OAuthError {
    fn error(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidClient(_) | OAuthError::LockedOut { .. } => "invalid_client",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::Server(_) => "server_error",
        }
    }

    fn description(&self) -> String {
        match self {
            OAuthError::InvalidRequest(text) | OAuthError::InvalidClient(text) => {
                (*text).to_owned()
            }
            OAuthError::UnsupportedGrantType => "仅支持 client_credentials".to_owned(),
            OAuthError::LockedOut { retry_after_secs } => format!(
                "密钥错误次数过多，请在{}分钟后再试",
                retry_after_secs.div_ceil(60)
            ),
            OAuthError::InvalidScope => "请求的权限超出该部门登记的范围".to_owned(),
            OAuthError::Server(_) => "服务器内部错误，请稍后再试".to_owned(),
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            OAuthError::InvalidRequest(_)
            | OAuthError::UnsupportedGrantType
            | OAuthError::InvalidScope => StatusCode::BAD_REQUEST,
            OAuthError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
            OAuthError::LockedOut { .. } => StatusCode::TOO_MANY_REQUESTS,
            OAuthError::Server(status) => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header(("Cache-Control", "no-store"));
        match self {
            OAuthError::InvalidClient(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="yueju""#));
            }
            OAuthError::LockedOut { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        res.json(OAuthErrorBody {
            error: self.error(),
            error_description: self.description(),
        })
    }
}

impl From<Error> for OAuthError {
    fn from(err: Error) -> OAuthError {
        match err {
            Error::Refused(Refusal::ClientCredentialsInvalid) => {
                OAuthError::InvalidClient("客户端标识或密钥不正确")
            }
            Error::Refused(Refusal::TooManyAttempts { retry_after_secs }) => {
                OAuthError::LockedOut { retry_after_secs }
            }
            Error::Refused(Refusal::ScopeNotAllowed(_)) => OAuthError::InvalidScope,
            other => OAuthError::Server(crate::error::ApiError::from(other).status_code()),
        }
    }
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// The request body, as a form (as the RFC says) or JSON.
fn parse_request(req: &HttpRequest, body: &[u8]) -> Result<TokenRequest, OAuthError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let parsed = if content_type.starts_with("application/json") {
        serde_json::from_slice(body).ok()
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(body).ok()
    } else {
        None
    };
    parsed.ok_or(OAuthError::InvalidRequest(
        "请求体应为 application/x-www-form-urlencoded 或 JSON",
    ))
}

/// Only the client-credentials grant is offered.
fn check_grant(form: &TokenRequest) -> Result<(), OAuthError> {
    match form.grant_type.as_deref() {
        Some("client_credentials") => Ok(()),
        None => Err(OAuthError::InvalidRequest("缺少 grant_type")),
        Some(_) => Err(OAuthError::UnsupportedGrantType),
    }
}

/// The client's id and secret, by exactly one of the two ways (RFC 6749 §2.3.1).
fn client_credentials(
    req: &HttpRequest,
    form: TokenRequest,
) -> Result<(String, String), OAuthError> {
    match (basic_credentials(req), form.client_id, form.client_secret) {
        (Some(basic), None, None) => Ok(basic),
        (None, Some(id), Some(secret)) => Ok((id, secret)),
        (Some(_), _, _) => Err(OAuthError::InvalidRequest("客户端认证方式只能使用一种")),
        _ => Err(OAuthError::InvalidClient("缺少客户端凭据")),
    }
}

#[utoipa::path(
    tag = "用证部门",
    summary = "客户端凭据换取部门访问令牌（RFC 6749 §4.4）",
    request_body(content = inline(TokenRequest), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenBody),
        // Every error of this endpoint takes this shape, not ours.
        (status = 400, description = "错误", body = OAuthErrorBody),
    ),
)]
#[post("/oauth/token")]
pub async fn token(
    ctx: web::Data<Context>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let form = parse_request(&req, &body)?;
    check_grant(&form)?;
    let scope = form.scope.clone();
    let (client_id, client_secret) = client_credentials(&req, form)?;
    let token = agencies::token(&ctx, &client_id, &client_secret, scope.as_deref()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(TokenBody {
            access_token: token.access_token,
            token_type: "Bearer",
            expires_in: token.expires_in,
            scope: token.scope,
        }))
}
