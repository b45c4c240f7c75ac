//! The HTTP layer's one error type. Every error leaves as
//! `{"error": {"code": "UPPER_SNAKE", "message": "<简体中文>"}}` with a fitting status;
//! a 500 says nothing about its cause, which goes to the log with its whole chain.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use service::domain::IdNumberError;
use service::error::{FieldProblem, Missing};
use service::verify::codes::CodeError;
use service::verify::verification::VerifyReason;
use service::{Error, Refusal};
use std::borrow::Cow;

#[derive(Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    /// Seconds for a `Retry-After` header (a lock-out's remaining time).
    retry_after: Option<u64>,
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

/// The resident-facing wording of refusals, for the bot: the same table as the API's.
pub fn wording() -> bot::Wording {
    bot::Wording {
        refusal: |refusal| ApiError::from(refusal.clone()).message.into_owned(),
        material: material_label,
        reason: reason_message,
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
        let retry_after = match &refusal {
            Refusal::TooManyAttempts { retry_after_secs } => Some((*retry_after_secs).max(1)),
            _ => None,
        };
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
            Refusal::FaceVerificationRequired => (
                S::FORBIDDEN,
                "FACE_VERIFICATION_REQUIRED",
                "实名认证需要本人刷脸：请在粤省事小程序中完成人脸核身".into(),
            ),
            Refusal::FaceVerificationFailed => (
                S::UNPROCESSABLE_ENTITY,
                "FACE_VERIFICATION_FAILED",
                "人脸核身未通过或已失效，请在粤省事小程序中重新进行人脸核身".into(),
            ),
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
            Refusal::NotFound(what) => (
                S::NOT_FOUND,
                not_found_code(what),
                not_found_message(what).into(),
            ),
            Refusal::RegionNotSupported => (
                S::UNPROCESSABLE_ENTITY,
                "REGION_NOT_SUPPORTED",
                "深圳市的居住证由深圳市单独办理，请通过深圳市的渠道申领".into(),
            ),
            Refusal::UnknownCity => (
                S::UNPROCESSABLE_ENTITY,
                "UNKNOWN_CITY",
                "城市不在广东省行政区划内，请选择广东省的地级市".into(),
            ),
            Refusal::UnknownDistrict => (
                S::UNPROCESSABLE_ENTITY,
                "UNKNOWN_DISTRICT",
                "区县不属于所选城市，请重新选择".into(),
            ),
            Refusal::ApplicationOpen => (
                S::CONFLICT,
                "APPLICATION_OPEN",
                "您已有一件正在办理的申请，请等待办理结果".into(),
            ),
            Refusal::PermitHeld => (
                S::CONFLICT,
                "PERMIT_ALREADY_HELD",
                "您已持有居住证，无需重复申领；到期前请办理签注或续期".into(),
            ),
            Refusal::IdempotencyKeyReused => (
                S::UNPROCESSABLE_ENTITY,
                "IDEMPOTENCY_KEY_REUSED",
                "同一个 Idempotency-Key 已用于不同的请求".into(),
            ),
            Refusal::NotAwaitingMaterials => (
                S::CONFLICT,
                "APPLICATION_NOT_AWAITING_MATERIALS",
                "该申请当前不需要补充材料".into(),
            ),
            Refusal::MaterialNotNeeded => (
                S::UNPROCESSABLE_ENTITY,
                "MATERIAL_NOT_NEEDED",
                "该申请不需要这类材料".into(),
            ),
            Refusal::FileTypeNotAllowed => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_FILE_TYPE",
                "仅支持 JPEG、PNG 图片或 PDF 文件".into(),
            ),
            Refusal::FileTooLarge => (
                S::PAYLOAD_TOO_LARGE,
                "FILE_TOO_LARGE",
                "文件过大，请压缩后重新上传".into(),
            ),
            // Same code as an unknown type: the file is not the JPEG, PNG or PDF it claims.
            Refusal::FileUnreadable => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_FILE_TYPE",
                "文件已损坏或不是有效的 JPEG、PNG 图片或 PDF 文件".into(),
            ),
            Refusal::ImageTooLarge => (
                S::PAYLOAD_TOO_LARGE,
                "FILE_TOO_LARGE",
                "图片像素过多（上限 4000 万像素），请缩小后重新上传".into(),
            ),
            Refusal::NotPendingReview => (
                S::CONFLICT,
                "APPLICATION_NOT_PENDING",
                "该申请不在待审核状态".into(),
            ),
            Refusal::EndorsementNotDue { opens_on } => (
                S::UNPROCESSABLE_ENTITY,
                "ENDORSEMENT_NOT_DUE",
                format!("尚未到签注时间，{opens_on} 起可以办理签注").into(),
            ),
            Refusal::PermitExpired => (
                S::UNPROCESSABLE_ENTITY,
                "PERMIT_EXPIRED",
                "居住证已过有效期，请重新申领".into(),
            ),
            Refusal::PermitRevoked => (
                S::UNPROCESSABLE_ENTITY,
                "PERMIT_REVOKED",
                "居住证已被注销".into(),
            ),
            Refusal::PermitNotValid => (
                S::UNPROCESSABLE_ENTITY,
                "PERMIT_NOT_VALID",
                "居住证当前不在有效状态，请先办理签注或续期".into(),
            ),
            Refusal::ConditionsNotMet(missing) => (
                S::UNPROCESSABLE_ENTITY,
                "CONDITIONS_NOT_MET",
                conditions_message(&missing).into(),
            ),
            Refusal::CardOrderOpen => (
                S::CONFLICT,
                "CARD_ORDER_OPEN",
                "您已有一张正在办理的实体证件订单".into(),
            ),
            Refusal::Conflict => (
                S::CONFLICT,
                "CONFLICT",
                "操作与其他同时进行的操作冲突，请刷新后重试".into(),
            ),
            Refusal::InvalidTransition { from, to } => (
                S::CONFLICT,
                "INVALID_STATUS_TRANSITION",
                format!("状态不能从 {from} 变为 {to}").into(),
            ),
            Refusal::AgencyExists => (
                S::CONFLICT,
                "AGENCY_EXISTS",
                "该统一社会信用代码的部门已登记".into(),
            ),
            Refusal::ClientCredentialsInvalid => (
                S::UNAUTHORIZED,
                "INVALID_CLIENT",
                "客户端标识或密钥不正确".into(),
            ),
            Refusal::TooManyAttempts { retry_after_secs } => (
                S::TOO_MANY_REQUESTS,
                "TOO_MANY_ATTEMPTS",
                format!(
                    "尝试次数过多，请在{}分钟后再试",
                    retry_after_secs.div_ceil(60)
                )
                .into(),
            ),
            Refusal::ScopeNotAllowed(_) => (
                S::FORBIDDEN,
                "SCOPE_NOT_ALLOWED",
                "该部门未获准使用此功能".into(),
            ),
            Refusal::FieldNotAllowed(_) => (
                S::FORBIDDEN,
                "FIELD_NOT_ALLOWED",
                "请求的信息项超出该部门登记的范围".into(),
            ),
            Refusal::CodeInvalid(reason) => (
                S::UNPROCESSABLE_ENTITY,
                "CODE_INVALID",
                code_reason_message(reason).into(),
            ),
            Refusal::RequestDecided => (
                S::CONFLICT,
                "REQUEST_ALREADY_DECIDED",
                "该授权请求已处理".into(),
            ),
            Refusal::RequestExpired => (
                S::CONFLICT,
                "REQUEST_EXPIRED",
                "该授权请求已过期，请用证部门重新发起".into(),
            ),
            Refusal::ConsentTextChanged => (
                S::CONFLICT,
                "CONSENT_TEXT_CHANGED",
                "授权说明已更新，请重新阅读后再确认".into(),
            ),
            Refusal::AuthorizationRevoked => (
                S::FORBIDDEN,
                "AUTHORIZATION_REVOKED",
                "持证人已撤回授权".into(),
            ),
            Refusal::AuthorizationExpired => {
                (S::FORBIDDEN, "AUTHORIZATION_EXPIRED", "授权已过期".into())
            }
            Refusal::DownloadLimitReached => (
                S::FORBIDDEN,
                "DOWNLOAD_LIMIT_REACHED",
                "该授权的下载次数已用完".into(),
            ),
            Refusal::SignatureInvalid => (
                S::UNAUTHORIZED,
                "SIGNATURE_INVALID",
                "消息签名校验失败".into(),
            ),
            Refusal::TimestampOutOfWindow => (
                S::UNAUTHORIZED,
                "TIMESTAMP_OUT_OF_WINDOW",
                "消息时间戳超出允许范围，可能是重放的请求".into(),
            ),
            Refusal::MessageMalformed => {
                (S::BAD_REQUEST, "MESSAGE_MALFORMED", "消息格式不正确".into())
            }
            Refusal::MessageTooLarge => (
                S::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "请求内容过大".into(),
            ),
        };
        ApiError {
            status,
            code,
            message,
            retry_after,
        }
    }
}

fn conditions_message(missing: &[service::applying::eligibility::MaterialKind]) -> String {
    if missing.is_empty() {
        return "政务数据未能证明您仍符合居住证条件".to_owned();
    }
    let labels: Vec<&str> = missing.iter().map(|m| material_label(m.as_str())).collect();
    format!(
        "政务数据未能证明您仍符合居住证条件，缺少：{}",
        labels.join("；")
    )
}

fn not_found_code(what: Missing) -> &'static str {
    match what {
        Missing::Application => "APPLICATION_NOT_FOUND",
        Missing::Permit => "PERMIT_NOT_FOUND",
        Missing::Material => "MATERIAL_NOT_FOUND",
        Missing::CardOrder => "CARD_ORDER_NOT_FOUND",
        Missing::Agency => "AGENCY_NOT_FOUND",
        Missing::AuthorizationRequest => "AUTHORIZATION_REQUEST_NOT_FOUND",
        Missing::Authorization => "AUTHORIZATION_NOT_FOUND",
        Missing::StatusList => "STATUS_LIST_NOT_FOUND",
    }
}

fn not_found_message(what: Missing) -> &'static str {
    match what {
        Missing::Application => "未找到该申请",
        Missing::Permit => "您尚未持有居住证",
        Missing::Material => "未找到该材料",
        Missing::CardOrder => "未找到实体证件订单",
        Missing::Agency => "未找到该部门",
        Missing::AuthorizationRequest => "未找到该授权请求",
        Missing::Authorization => "未找到该授权",
        Missing::StatusList => "没有这份状态清单",
    }
}

/// Why a scanned code was not accepted, for the agency's operator.
pub fn code_reason_message(reason: VerifyReason) -> &'static str {
    match reason {
        VerifyReason::Code(CodeError::Expired) => "粤居码已过期，请持证人刷新后重新出示",
        VerifyReason::Code(CodeError::NotYetValid) => "粤居码时间异常，请核对设备时间后重试",
        VerifyReason::Code(CodeError::UnknownKey) => "粤居码的签发密钥未知，无法核验",
        VerifyReason::Code(CodeError::BadSignature) => "粤居码签名无效，可能已被篡改",
        VerifyReason::Code(CodeError::Malformed) => "无法识别的粤居码",
        VerifyReason::PermitNotFound => "未找到该居住证",
        VerifyReason::PermitSuspended => "该居住证未按期签注，暂停使用",
        VerifyReason::PermitExpired => "该居住证已过有效期",
        VerifyReason::PermitRevoked => "该居住证已被注销",
        VerifyReason::StatusUndetermined => "暂时无法确认该居住证的状态，请稍后重试",
    }
}

/// What each kind of material is, for the resident.
pub fn material_label(kind: &str) -> &'static str {
    match kind {
        "residence_proof" => {
            "居住证明（租赁合同、房产证明或单位出具的居住证明，证明已在本市居住满半年）"
        }
        "employment_proof" => "就业证明（劳动合同或社会保险缴费证明）",
        "housing_proof" => "住所证明（房产证或已登记备案的房屋租赁合同）",
        "study_proof" => "就读证明（学校出具的在读证明）",
        _ => "其他材料",
    }
}

/// Why an application was refused, for the resident.
pub fn reason_message(code: &str) -> &'static str {
    match code {
        "NO_HOUSEHOLD_RECORD" => "未查询到您的户籍信息，请到户籍地公安机关核实",
        "HUKOU_SAME_CITY" => "您的户籍在居住地所在城市，无需申领居住证",
        "RESIDENCE_TOO_SHORT" => "在居住地居住未满半年，暂不符合申领条件",
        "REVIEW_REJECTED" => "经审核，申请材料不能证明您符合申领条件",
        _ => "不符合申领条件",
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
        "residence_since" => "居住起始日期",
        "basis" => "申领条件",
        "reason" => "理由",
        "pickup_station" => "领证地点",
        "status" => "状态",
        "cursor" => "分页游标",
        "idempotency_key" => "Idempotency-Key",
        "credit_code" => "统一社会信用代码",
        "contact" => "联系方式",
        "scopes" => "权限范围",
        "fields" => "信息项",
        "purpose" => "用途",
        "days" => "授权天数",
        "retention_days" => "保存期限",
        "token" => "粤居码",
        "as_of" => "基准日期",
        "user" => "聊天用户标识",
        "text" => "消息内容",
        "app" => "小程序",
        "results" => "订阅结果",
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
