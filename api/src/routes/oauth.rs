//! `POST /oauth/token`: the client-credentials grant (RFC 6749 §4.4) for agencies. Client
//! authentication by HTTP Basic or by `client_id`/`client_secret` in the body; the body may
//! be a form (as the RFC says) or JSON. Errors use the RFC's shape, not ours.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use base64::Engine as _;
use serde::Deserialize;
use service::{Context, Error, Refusal, consent::agencies};

#[derive(Deserialize, Default)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header(("Cache-Control", "no-store"));
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="yueju""#));
    }
    res.json(serde_json::json!({"error": error, "error_description": description}))
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

pub async fn token(ctx: web::Data<Context>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let parsed: Option<TokenRequest> = if content_type.starts_with("application/json") {
        serde_json::from_slice(&body).ok()
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(&body).ok()
    } else {
        None
    };
    let Some(form) = parsed else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "请求体应为 application/x-www-form-urlencoded 或 JSON",
        );
    };
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "缺少 grant_type",
            );
        }
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "仅支持 client_credentials",
            );
        }
    }
    let (client_id, client_secret) =
        match (basic_credentials(&req), form.client_id, form.client_secret) {
            (Some(basic), None, None) => basic,
            (None, Some(id), Some(secret)) => (id, secret),
            (Some(_), _, _) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "客户端认证方式只能使用一种",
                );
            }
            _ => {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "缺少客户端凭据");
            }
        };
    match agencies::token(&ctx, &client_id, &client_secret, form.scope.as_deref()).await {
        Ok(token) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Pragma", "no-cache"))
            .json(serde_json::json!({
                "access_token": token.access_token,
                "token_type": "Bearer",
                "expires_in": token.expires_in,
                "scope": token.scope,
            })),
        Err(Error::Refused(Refusal::ClientCredentialsInvalid)) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "客户端标识或密钥不正确",
        ),
        Err(Error::Refused(Refusal::TooManyAttempts { retry_after_secs })) => {
            let mut res = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_client",
                &format!(
                    "密钥错误次数过多，请在{}分钟后再试",
                    retry_after_secs.div_ceil(60)
                ),
            );
            if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Err(Error::Refused(Refusal::ScopeNotAllowed(_))) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "请求的权限超出该部门登记的范围",
        ),
        Err(e) => {
            let api: crate::error::ApiError = e.into();
            oauth_error(
                api.status_code(),
                "server_error",
                "服务器内部错误，请稍后再试",
            )
        }
    }
}
