//! The HTTP layer's one error type. Every error leaves as
//! `{"error": {"code": "UPPER_SNAKE", "message": "<简体中文>"}}` with a fitting status;
//! a 500 says nothing about its cause, which goes to the log with its whole chain. This module
//! maps each refusal to its status and code; the message is [`service::wording`]'s.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use service::error::Missing;
use service::{Error, Refusal, wording};
use std::borrow::Cow;

#[derive(Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    /// Seconds for a `Retry-After` header (a lock-out's remaining time).
    retry_after: Option<u64>,
}

/// The 503 of every operation that signs (the signer port's failure), as the OpenAPI
/// document describes it: one wording for all of them.
pub const SIGNING_UNAVAILABLE_DESCRIPTION: &str =
    "电子签章服务暂不可用，未签发任何内容（SIGNING_UNAVAILABLE）";

/// The one error shape, `Error` in the OpenAPI document.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    #[schema(inline)]
    error: Detail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Detail<'a> {
    #[schema(pattern = "^[A-Z][A-Z0-9_]*$")]
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
            retry_after: None,
        }
    }

    /// The same error with a `Retry-After` header of that many seconds (at least one).
    pub fn with_retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs.max(1));
        self
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

    /// 413 naming the limit that applied, so a client knows how far to shrink.
    pub fn payload_too_large_limit(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("请求内容过大，上限为 {limit} 字节"),
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
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs));
        }
        response.json(ErrorBody {
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
        let retry_after = match &refusal {
            Refusal::TooManyAttempts { retry_after_secs } => Some((*retry_after_secs).max(1)),
            _ => None,
        };
        let (status, code): (StatusCode, &'static str) = match &refusal {
            Refusal::IdNumberInvalid(_) => (S::UNPROCESSABLE_ENTITY, "ID_NUMBER_INVALID"),
            Refusal::IdentityMismatch => (S::UNPROCESSABLE_ENTITY, "IDENTITY_MISMATCH"),
            Refusal::IdentityAlreadyBound => (S::CONFLICT, "IDENTITY_ALREADY_BOUND"),
            Refusal::IdentityRequired => (S::FORBIDDEN, "IDENTITY_REQUIRED"),
            Refusal::FaceVerificationRequired => (S::FORBIDDEN, "FACE_VERIFICATION_REQUIRED"),
            Refusal::FaceVerificationFailed => {
                (S::UNPROCESSABLE_ENTITY, "FACE_VERIFICATION_FAILED")
            }
            Refusal::InvalidField { .. } => (S::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
            Refusal::UnknownApp => (S::UNPROCESSABLE_ENTITY, "UNKNOWN_APP"),
            Refusal::LoginCodeInvalid => (S::UNAUTHORIZED, "LOGIN_CODE_INVALID"),
            Refusal::DevLoginRefused => (S::UNAUTHORIZED, "DEV_LOGIN_REFUSED"),
            Refusal::LoginNotConfigured => (S::SERVICE_UNAVAILABLE, "LOGIN_UNAVAILABLE"),
            Refusal::PlatformRateLimited => (S::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            Refusal::PlatformRiskyUser => (S::FORBIDDEN, "RISKY_USER"),
            Refusal::PlatformUnavailable => (S::SERVICE_UNAVAILABLE, "PLATFORM_UNAVAILABLE"),
            Refusal::GovDataUnavailable => (S::SERVICE_UNAVAILABLE, "GOV_DATA_UNAVAILABLE"),
            Refusal::Unauthenticated => (S::UNAUTHORIZED, "UNAUTHENTICATED"),
            Refusal::TokenExpired => (S::UNAUTHORIZED, "TOKEN_EXPIRED"),
            Refusal::Forbidden => (S::FORBIDDEN, "FORBIDDEN"),
            Refusal::InvalidCredentials => (S::UNAUTHORIZED, "INVALID_CREDENTIALS"),
            Refusal::RefreshTokenInvalid => (S::UNAUTHORIZED, "REFRESH_TOKEN_INVALID"),
            Refusal::RefreshTokenReused => (S::UNAUTHORIZED, "REFRESH_TOKEN_REUSED"),
            Refusal::NotFound(what) => (S::NOT_FOUND, not_found_code(*what)),
            Refusal::RegionNotSupported => (S::UNPROCESSABLE_ENTITY, "REGION_NOT_SUPPORTED"),
            Refusal::UnknownCity => (S::UNPROCESSABLE_ENTITY, "UNKNOWN_CITY"),
            Refusal::UnknownDistrict => (S::UNPROCESSABLE_ENTITY, "UNKNOWN_DISTRICT"),
            Refusal::ApplicationOpen => (S::CONFLICT, "APPLICATION_OPEN"),
            Refusal::PermitHeld => (S::CONFLICT, "PERMIT_ALREADY_HELD"),
            Refusal::IdempotencyKeyReused => (S::UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED"),
            Refusal::NotAwaitingMaterials => (S::CONFLICT, "APPLICATION_NOT_AWAITING_MATERIALS"),
            Refusal::MaterialNotNeeded => (S::UNPROCESSABLE_ENTITY, "MATERIAL_NOT_NEEDED"),
            Refusal::FileTypeNotAllowed => (S::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_FILE_TYPE"),
            Refusal::FileTooLarge => (S::PAYLOAD_TOO_LARGE, "FILE_TOO_LARGE"),
            // Same code as an unknown type: the file is not the JPEG, PNG or PDF it claims.
            Refusal::FileUnreadable => (S::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_FILE_TYPE"),
            Refusal::ImageTooLarge => (S::PAYLOAD_TOO_LARGE, "FILE_TOO_LARGE"),
            Refusal::NotPendingReview => (S::CONFLICT, "APPLICATION_NOT_PENDING"),
            Refusal::EndorsementNotDue { .. } => (S::UNPROCESSABLE_ENTITY, "ENDORSEMENT_NOT_DUE"),
            Refusal::PermitExpired => (S::UNPROCESSABLE_ENTITY, "PERMIT_EXPIRED"),
            Refusal::PermitRevoked => (S::UNPROCESSABLE_ENTITY, "PERMIT_REVOKED"),
            Refusal::PermitNotValid => (S::UNPROCESSABLE_ENTITY, "PERMIT_NOT_VALID"),
            Refusal::CityChangeNeedsNewApplication { .. } => {
                (S::UNPROCESSABLE_ENTITY, "CITY_CHANGE_NEEDS_NEW_APPLICATION")
            }
            Refusal::EndorsementRequired => (S::UNPROCESSABLE_ENTITY, "ENDORSEMENT_REQUIRED"),
            Refusal::AddressSinceBeforePermit { .. } => {
                (S::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED")
            }
            Refusal::ConditionsNotMet(_) => (S::UNPROCESSABLE_ENTITY, "CONDITIONS_NOT_MET"),
            Refusal::CardOrderOpen => (S::CONFLICT, "CARD_ORDER_OPEN"),
            Refusal::PaymentUnavailable => (S::SERVICE_UNAVAILABLE, "PAYMENT_UNAVAILABLE"),
            Refusal::SigningUnavailable => (S::SERVICE_UNAVAILABLE, "SIGNING_UNAVAILABLE"),
            Refusal::PaymentAmountMismatch => (S::UNPROCESSABLE_ENTITY, "PAYMENT_AMOUNT_MISMATCH"),
            Refusal::PaidOnlyByPayment => (S::UNPROCESSABLE_ENTITY, "PAID_ONLY_BY_PAYMENT"),
            Refusal::Conflict => (S::CONFLICT, "CONFLICT"),
            Refusal::InvalidTransition { .. } => (S::CONFLICT, "INVALID_STATUS_TRANSITION"),
            Refusal::AgencyExists => (S::CONFLICT, "AGENCY_EXISTS"),
            Refusal::ClientCredentialsInvalid => (S::UNAUTHORIZED, "INVALID_CLIENT"),
            Refusal::TooManyAttempts { .. } => (S::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS"),
            Refusal::ScopeNotAllowed(_) => (S::FORBIDDEN, "SCOPE_NOT_ALLOWED"),
            Refusal::FieldNotAllowed(_) => (S::FORBIDDEN, "FIELD_NOT_ALLOWED"),
            Refusal::CodeInvalid(_) => (S::UNPROCESSABLE_ENTITY, "CODE_INVALID"),
            Refusal::RequestDecided => (S::CONFLICT, "REQUEST_ALREADY_DECIDED"),
            Refusal::RequestExpired => (S::CONFLICT, "REQUEST_EXPIRED"),
            Refusal::ConsentTextChanged => (S::CONFLICT, "CONSENT_TEXT_CHANGED"),
            Refusal::AuthorizationRevoked => (S::FORBIDDEN, "AUTHORIZATION_REVOKED"),
            Refusal::AuthorizationExpired => (S::FORBIDDEN, "AUTHORIZATION_EXPIRED"),
            Refusal::DownloadLimitReached => (S::FORBIDDEN, "DOWNLOAD_LIMIT_REACHED"),
            Refusal::AuthorizationNotForCopy => (S::FORBIDDEN, "AUTHORIZATION_NOT_FOR_COPY"),
            Refusal::AuthorizationNotForProof => (S::FORBIDDEN, "AUTHORIZATION_NOT_FOR_PROOF"),
            Refusal::SignatureInvalid => (S::UNAUTHORIZED, "SIGNATURE_INVALID"),
            Refusal::TimestampOutOfWindow => (S::UNAUTHORIZED, "TIMESTAMP_OUT_OF_WINDOW"),
            Refusal::MessageMalformed => (S::BAD_REQUEST, "MESSAGE_MALFORMED"),
            Refusal::MessageTooLarge => (S::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
        };
        ApiError {
            status,
            code,
            message: wording::refusal_message(&refusal),
            retry_after,
        }
    }
}

fn not_found_code(what: Missing) -> &'static str {
    match what {
        Missing::Application => "APPLICATION_NOT_FOUND",
        Missing::Permit => "PERMIT_NOT_FOUND",
        Missing::Material => "MATERIAL_NOT_FOUND",
        Missing::CardOrder => "CARD_ORDER_NOT_FOUND",
        Missing::PaymentNotice => "PAYMENT_NOTICE_NOT_FOUND",
        Missing::Agency => "AGENCY_NOT_FOUND",
        Missing::AuthorizationRequest => "AUTHORIZATION_REQUEST_NOT_FOUND",
        Missing::Authorization => "AUTHORIZATION_NOT_FOUND",
        Missing::StatusList => "STATUS_LIST_NOT_FOUND",
    }
}
