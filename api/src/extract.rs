//! Extractors for the principals (resident, staff) and the JSON/path/query error handlers
//! that turn actix's own errors into our error shape.

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use service::Context;
use service::Refusal;
use service::consent::agencies::AgencyPrincipal;
use service::identity::sessions::ResidentPrincipal;
use service::identity::staff::StaffPrincipal;
use std::future::{Future, Ready, ready};
use std::pin::Pin;

use crate::error::ApiError;

/// A logged-in resident; the request is refused with 401 otherwise.
pub struct Resident(pub ResidentPrincipal);

/// A logged-in staff member; the role is checked by the handler.
pub struct Staff(pub StaffPrincipal);

/// An agency with a client-credentials token; scopes are checked by the service.
pub struct Agency(pub AgencyPrincipal);

/// An agency when the request carries a token, anyone otherwise (`POST /verify`). A token
/// that is present but invalid is refused, so an agency never silently loses its fields.
pub struct MaybeAgency(pub Option<AgencyPrincipal>);

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(Refusal::Unauthenticated)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(Refusal::Unauthenticated)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Refusal::Unauthenticated.into());
    }
    Ok(token.trim().to_owned())
}

fn context(req: &HttpRequest) -> Result<web::Data<Context>, ApiError> {
    req.app_data::<web::Data<Context>>()
        .cloned()
        .ok_or_else(|| {
            tracing::error!("application context missing");
            ApiError::internal()
        })
}

impl FromRequest for Resident {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parts = bearer(req).and_then(|token| Ok((token, context(req)?)));
        Box::pin(async move {
            let (token, ctx) = parts?;
            Ok(Resident(
                service::identity::sessions::authenticate(&ctx, &token).await?,
            ))
        })
    }
}

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(bearer(req).and_then(|token| {
            let ctx = context(req)?;
            Ok(Staff(service::identity::staff::authenticate(&ctx, &token)?))
        }))
    }
}

impl FromRequest for Agency {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(bearer(req).and_then(|token| {
            let ctx = context(req)?;
            Ok(Agency(service::consent::agencies::authenticate(
                &ctx, &token,
            )?))
        }))
    }
}

impl FromRequest for MaybeAgency {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if req.headers().get(header::AUTHORIZATION).is_none() {
            return ready(Ok(MaybeAgency(None)));
        }
        ready(bearer(req).and_then(|token| {
            let ctx = context(req)?;
            Ok(MaybeAgency(Some(service::consent::agencies::authenticate(
                &ctx, &token,
            )?)))
        }))
    }
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| json_error(&err, limit).into())
}

/// The body limit that applies to a route, beside the extractor configs that enforce it, so
/// that the 413 envelope can name it (see [`envelope_bare_errors`]).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Client errors that actix answers by itself (a raw body over its limit, a method the path
/// does not take, …) come as plain text; this gives them the contract's JSON envelope. Errors
/// already in JSON pass as they are.
pub fn envelope_bare_errors<B: actix_web::body::MessageBody + 'static>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::ResponseError as _;
    use actix_web::http::StatusCode;
    use actix_web::middleware::ErrorHandlerResponse;
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let error = match res.status() {
        StatusCode::PAYLOAD_TOO_LARGE => match res.request().app_data::<BodyLimit>() {
            Some(BodyLimit(limit)) => ApiError::payload_too_large_limit(*limit),
            None => ApiError::payload_too_large(),
        },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::unsupported_media_type(),
        StatusCode::NOT_FOUND => ApiError::not_found(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "该地址不支持此请求方法",
        ),
        _ => ApiError::invalid_request("请求无法处理"),
    };
    let (req, _) = res.into_parts();
    let mut answer = error.error_response();
    if answer.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(methods) = crate::openapi::allowed_methods(req.path())
        && let Ok(allow) = header::HeaderValue::from_str(&methods.join(", ").to_ascii_uppercase())
    {
        // RFC 9110: a 405 names the methods the resource takes.
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    let res = actix_web::dev::ServiceResponse::new(req, answer);
    Ok(ErrorHandlerResponse::Response(res.map_into_right_body()))
}

fn json_error(err: &JsonPayloadError, limit: usize) -> ApiError {
    match err {
        JsonPayloadError::ContentType => ApiError::unsupported_media_type(),
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::payload_too_large_limit(limit)
        }
        JsonPayloadError::Deserialize(e) => match e.classify() {
            serde_json::error::Category::Data => {
                // serde names a missing field as "missing field `x` at line …"; values are
                // never echoed back.
                let text = e.to_string();
                match text
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.split('`').next())
                {
                    Some(field) => ApiError::invalid_json(format!("缺少必填字段 {field}")),
                    None => ApiError::invalid_json("字段类型或取值不正确".to_owned()),
                }
            }
            _ => ApiError::invalid_json("请求内容不是有效的JSON".to_owned()),
        },
        _ => ApiError::invalid_json("无法读取请求内容".to_owned()),
    }
}

/// A JSON body that may be absent: empty means the defaults; anything else must parse, as an
/// object.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
        .map_err(|e| json_error(&JsonPayloadError::Deserialize(e), 0))?;
    from_object(object)
}

fn from_object<T: serde::de::DeserializeOwned>(
    object: serde_json::Map<String, serde_json::Value>,
) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|e| json_error(&JsonPayloadError::Deserialize(e), 0))
}

/// A JSON request body that must be an object. serde's derived structs also accept an array
/// of the fields in order (`[null, true]`); the contract says object, so that is refused as
/// any other malformed body is. Limits and media type are those of [`json_config`].
pub struct JsonObject<T>(pub T);

impl<T> JsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonObject<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let object =
            web::Json::<serde_json::Map<String, serde_json::Value>>::from_request(req, payload);
        Box::pin(async move {
            let object = object.await?.into_inner();
            Ok(JsonObject(from_object(object)?))
        })
    }
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err: PathError, _req| ApiError::not_found().into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|_err: QueryPayloadError, _req| {
        ApiError::invalid_request("查询参数不正确").into()
    })
}

/// Multipart uploads: the whole request is bounded by the upload limit plus room for the
/// other fields; overflow is 413, a body that is not multipart 415, a missing field 400.
pub fn multipart_config(max_upload_bytes: usize) -> actix_multipart::form::MultipartFormConfig {
    actix_multipart::form::MultipartFormConfig::default()
        .total_limit(max_upload_bytes + 64 * 1024)
        .memory_limit(max_upload_bytes + 64 * 1024)
        .error_handler(|err, _req| multipart_error(&err).into())
}

/// The form extractor refuses a wrong content type before consulting the configured handler,
/// so handlers take `Result<MultipartForm<_>, _>` and map with this too.
pub fn multipart_rejection(err: actix_web::Error) -> ApiError {
    if let Some(api) = err.as_error::<ApiError>() {
        return api.clone();
    }
    match err.as_error::<actix_multipart::MultipartError>() {
        Some(e) => multipart_error(e),
        None => ApiError::invalid_request("上传内容格式不正确"),
    }
}

fn multipart_error(err: &actix_multipart::MultipartError) -> ApiError {
    use actix_multipart::MultipartError;
    match err {
        MultipartError::Payload(actix_web::error::PayloadError::Overflow) => ApiError::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "FILE_TOO_LARGE",
            "文件过大，请压缩后重新上传",
        ),
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible
        | MultipartError::BoundaryMissing => ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "请以 multipart/form-data 上传文件",
        ),
        MultipartError::MissingField(field) => {
            ApiError::invalid_request(format!("缺少表单字段 {field}（需要 file 和 kind）"))
        }
        _ => ApiError::invalid_request("上传内容格式不正确"),
    }
}

/// A whole number in a JSON body. JSON Schema's `integer` takes `3.0` as well as `3`; serde's
/// integers refuse the first, so a client sending what the contract allows would get a 400.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::Deserialize as _;
    use serde::de::Error as _;
    let n = serde_json::Number::deserialize(deserializer)?;
    // 2^53: beyond it a float no longer holds every whole number exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT)
                .map(|f| f as i64)
        })
        .ok_or_else(|| D::Error::custom("not a whole number"))
}

/// [`whole_number`] for a field that may be left out or null.
pub fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    use serde::Deserialize as _;
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|w| w.0))
}
