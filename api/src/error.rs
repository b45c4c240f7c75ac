//! The HTTP layer's one error type. Every error leaves as
//! `{"error": {"code": "UPPER_SNAKE", "message": "<简体中文>"}}` with a fitting status;
//! a 500 says nothing about its cause, which goes to the log with its whole chain.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use service::domain::IdNumberError;
use service::error::FieldProblem;
use service::{Error, Refusal};
use std::borrow::Cow;

pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "请求的资源不存在")
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "服务器内部错误，请稍后再试",
        )
    }

    pub fn invalid_json(message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_JSON", message)
    }

    pub fn unsupported_media_type() -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "请求内容类型应为 application/json",
        )
    }

    pub fn payload_too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "请求内容过大",
        )
    }

    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(Body {
            error: Detail {
                code: self.code,
                message: &self.message,
            },
        })
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        match err {
            Error::Refused(refusal) => refusal.into(),
            Error::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                ApiError::internal()
            }
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        use StatusCode as S;
        let (status, code, message): (StatusCode, &'static str, Cow<'static, str>) = match refusal {
            Refusal::IdNumberInvalid(reason) => (
                S::UNPROCESSABLE_ENTITY,
                "ID_NUMBER_INVALID",
                id_number_message(reason).into(),
            ),
            Refusal::IdentityMismatch => (
                S::UNPROCESSABLE_ENTITY,
                "IDENTITY_MISMATCH",
                "姓名与公民身份号码不匹配，请核对后重试".into(),
            ),
            Refusal::IdentityAlreadyBound => (
                S::CONFLICT,
                "IDENTITY_ALREADY_BOUND",
                "该账号已绑定其他身份，不能再绑定".into(),
            ),
            Refusal::IdentityRequired => {
                (S::FORBIDDEN, "IDENTITY_REQUIRED", "请先完成实名认证".into())
            }
            Refusal::InvalidField { field, reason } => (
                S::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
                field_message(field, reason).into(),
            ),
            Refusal::UnknownApp => (
                S::UNPROCESSABLE_ENTITY,
                "UNKNOWN_APP",
                "不支持的小程序，app 应为 yss（粤省事）或 yjm（粤居码）".into(),
            ),
            Refusal::LoginCodeInvalid => (
                S::UNAUTHORIZED,
                "LOGIN_CODE_INVALID",
                "登录凭证无效或已使用，请重新登录".into(),
            ),
            Refusal::DevLoginRefused => (
                S::UNAUTHORIZED,
                "DEV_LOGIN_REFUSED",
                "正式环境不接受开发登录码".into(),
            ),
            Refusal::LoginNotConfigured => (
                S::SERVICE_UNAVAILABLE,
                "LOGIN_UNAVAILABLE",
                "该小程序的登录暂未开通".into(),
            ),
            Refusal::PlatformRateLimited => (
                S::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "操作过于频繁，请稍后再试".into(),
            ),
            Refusal::PlatformRiskyUser => (
                S::FORBIDDEN,
                "RISKY_USER",
                "微信判定该账号存在安全风险，暂时无法登录".into(),
            ),
            Refusal::PlatformUnavailable => (
                S::SERVICE_UNAVAILABLE,
                "PLATFORM_UNAVAILABLE",
                "微信服务暂时繁忙，请稍后再试".into(),
            ),
            Refusal::GovDataUnavailable => (
                S::SERVICE_UNAVAILABLE,
                "GOV_DATA_UNAVAILABLE",
                "政务数据服务暂时不可用，请稍后再试".into(),
            ),
            Refusal::Unauthenticated => (S::UNAUTHORIZED, "UNAUTHENTICATED", "请先登录".into()),
            Refusal::TokenExpired => (
                S::UNAUTHORIZED,
                "TOKEN_EXPIRED",
                "登录已过期，请重新登录".into(),
            ),
            Refusal::Forbidden => (S::FORBIDDEN, "FORBIDDEN", "没有权限执行此操作".into()),
            Refusal::InvalidCredentials => (
                S::UNAUTHORIZED,
                "INVALID_CREDENTIALS",
                "用户名或密码错误".into(),
            ),
            Refusal::RefreshTokenInvalid => (
                S::UNAUTHORIZED,
                "REFRESH_TOKEN_INVALID",
                "登录状态已失效，请重新登录".into(),
            ),
            Refusal::RefreshTokenReused => (
                S::UNAUTHORIZED,
                "REFRESH_TOKEN_REUSED",
                "检测到登录凭证被重复使用，已退出该次登录，请重新登录".into(),
            ),
        };
        ApiError {
            status,
            code,
            message,
        }
    }
}

pub fn id_number_message(reason: IdNumberError) -> &'static str {
    match reason {
        IdNumberError::WrongLength => "公民身份号码应为18位",
        IdNumberError::InvalidCharacter => "公民身份号码只能由数字和末位的X组成",
        IdNumberError::UnknownRegion => "公民身份号码的地区码不正确",
        IdNumberError::InvalidBirthDate => "公民身份号码中的出生日期不正确",
        IdNumberError::BirthDateInFuture => "公民身份号码中的出生日期晚于今天",
        IdNumberError::ChecksumMismatch => "公民身份号码校验位不正确，请核对后重新输入",
    }
}

/// The Chinese name of a request field, for messages.
pub fn field_label(field: &str) -> &str {
    match field {
        "name" => "姓名",
        "id_number" => "公民身份号码",
        "email" => "电子邮箱",
        "gender" => "性别",
        "ethnicity" => "民族",
        "hukou_address" => "户籍地址",
        "hukou_region_code" => "户籍地区码",
        "city" => "城市",
        "district" => "区县",
        "address" => "地址",
        "since" => "起始日期",
        "employer" => "工作单位",
        "school" => "学校",
        "kind" => "类型",
        "photo_base64" => "相片",
        other => other,
    }
}

pub fn field_message(field: &str, problem: FieldProblem) -> String {
    let label = field_label(field);
    match problem {
        FieldProblem::Missing => format!("缺少{label}"),
        FieldProblem::Empty => format!("{label}不能为空"),
        FieldProblem::TooLong => format!("{label}过长"),
        FieldProblem::BadFormat => format!("{label}格式不正确"),
        FieldProblem::InFuture => format!("{label}不能晚于今天"),
        FieldProblem::NotAllowed => format!("{label}不在允许的范围内"),
    }
}
