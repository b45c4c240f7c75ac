//! The message of every refusal, as the resident, the operator or the agency reads it: the API
//! answers it in `error.message` and the bot replies with it. The texts are part of the
//! contract (tests assert some of them): change them deliberately.

use std::borrow::Cow;

use crate::applying::eligibility::{MaterialKind, RejectReason};
use crate::domain::IdNumberError;
use crate::error::{FieldProblem, Missing, Refusal};
use crate::govdata::import::Problem as ImportProblem;
use crate::verify::codes::CodeError;
use crate::verify::verification::VerifyReason;

/// The message of a refusal.
pub fn refusal_message(refusal: &Refusal) -> Cow<'static, str> {
    match refusal {
        Refusal::IdNumberInvalid(reason) => id_number_message(*reason).into(),
        Refusal::IdentityMismatch => "姓名与公民身份号码不匹配，请核对后重试".into(),
        Refusal::IdentityAlreadyBound => "该账号已绑定其他身份，不能再绑定".into(),
        Refusal::IdentityRequired => "请先完成实名认证".into(),
        Refusal::FaceVerificationRequired => {
            "实名认证需要本人刷脸：请在粤省事小程序中完成人脸核身".into()
        }
        Refusal::FaceVerificationFailed => {
            "人脸核身未通过或已失效，请在粤省事小程序中重新进行人脸核身".into()
        }
        Refusal::InvalidField { field, reason } => field_message(field, *reason).into(),
        Refusal::UnknownApp => "不支持的小程序，app 应为 yss（粤省事）或 yjm（粤居码）".into(),
        Refusal::LoginCodeInvalid => "登录凭证无效或已使用，请重新登录".into(),
        Refusal::DevLoginRefused => "正式环境不接受开发登录码".into(),
        Refusal::LoginNotConfigured => "该小程序的登录暂未开通".into(),
        Refusal::PlatformRateLimited => "操作过于频繁，请稍后再试".into(),
        Refusal::PlatformRiskyUser => "微信判定该账号存在安全风险，暂时无法登录".into(),
        Refusal::PlatformUnavailable => "微信服务暂时繁忙，请稍后再试".into(),
        Refusal::GovDataUnavailable => "政务数据服务暂时不可用，请稍后再试".into(),
        Refusal::Unauthenticated => "请先登录".into(),
        Refusal::TokenExpired => "登录已过期，请重新登录".into(),
        Refusal::Forbidden => "没有权限执行此操作".into(),
        Refusal::InvalidCredentials => "用户名或密码错误".into(),
        Refusal::RefreshTokenInvalid => "登录状态已失效，请重新登录".into(),
        Refusal::RefreshTokenReused => {
            "检测到登录凭证被重复使用，已退出该次登录，请重新登录".into()
        }
        Refusal::NotFound(what) => not_found_message(*what).into(),
        Refusal::RegionNotSupported => {
            "深圳市的居住证由深圳市单独办理，请通过深圳市的渠道申领".into()
        }
        Refusal::UnknownCity => "城市不在广东省行政区划内，请选择广东省的地级市".into(),
        Refusal::UnknownDistrict => "区县不属于所选城市，请重新选择".into(),
        Refusal::ApplicationOpen => "您已有一件正在办理的申请，请等待办理结果".into(),
        Refusal::PermitHeld => "您已持有居住证，无需重复申领；到期前请办理签注或续期".into(),
        Refusal::IdempotencyKeyReused => "同一个 Idempotency-Key 已用于不同的请求".into(),
        Refusal::NotAwaitingMaterials => "该申请当前不需要补充材料".into(),
        Refusal::MaterialNotNeeded => "该申请不需要这类材料".into(),
        Refusal::FileTypeNotAllowed => "仅支持 JPEG、PNG 图片或 PDF 文件".into(),
        Refusal::FileTooLarge => "文件过大，请压缩后重新上传".into(),
        Refusal::FileUnreadable => "文件已损坏或不是有效的 JPEG、PNG 图片或 PDF 文件".into(),
        Refusal::ImageTooLarge => "图片像素过多（上限 4000 万像素），请缩小后重新上传".into(),
        Refusal::NotPendingReview => "该申请不在待审核状态".into(),
        Refusal::EndorsementNotDue { opens_on } => {
            format!("尚未到签注时间，{opens_on} 起可以办理签注").into()
        }
        Refusal::PermitExpired => "居住证已过有效期，请重新申领".into(),
        Refusal::PermitRevoked => "居住证已被注销".into(),
        Refusal::PermitNotValid => "居住证当前不在有效状态，请先办理签注或续期".into(),
        Refusal::CityChangeNeedsNewApplication { city } => {
            format!("居住证只能变更本市内的居住地址。迁往{city}居住的，请在{city}重新申领居住证")
                .into()
        }
        Refusal::EndorsementRequired => {
            "居住证因未按期签注已暂停使用，请先办理签注，再变更居住地址".into()
        }
        Refusal::AddressSinceBeforePermit { issued_on } => format!(
            "新地址的居住起始日期不能早于居住证签发日期（{}）",
            issued_on.format("%Y年%-m月%-d日")
        )
        .into(),
        Refusal::ConditionsNotMet(missing) => conditions_message(missing).into(),
        Refusal::CardOrderOpen => "您已有一张正在办理的实体证件订单".into(),
        Refusal::PaymentUnavailable => {
            "非税支付平台暂时无法开具缴款书，本次申领未提交，请稍后再试".into()
        }
        Refusal::SigningUnavailable => "电子签章服务暂时不可用，本次操作未完成，请稍后再试".into(),
        Refusal::PaymentAmountMismatch => "缴费金额与缴款书金额不一致".into(),
        Refusal::PaidOnlyByPayment => {
            "是否已缴费以非税支付平台的缴费结果为准，不能手动设为已缴费".into()
        }
        Refusal::Conflict => "操作与其他同时进行的操作冲突，请刷新后重试".into(),
        Refusal::InvalidTransition { from, to } => format!("状态不能从 {from} 变为 {to}").into(),
        Refusal::AgencyExists => "该统一社会信用代码的部门已登记".into(),
        Refusal::ClientCredentialsInvalid => "客户端标识或密钥不正确".into(),
        Refusal::TooManyAttempts { retry_after_secs } => format!(
            "尝试次数过多，请在{}分钟后再试",
            retry_after_secs.div_ceil(60)
        )
        .into(),
        Refusal::ScopeNotAllowed(_) => "该部门未获准使用此功能".into(),
        Refusal::FieldNotAllowed(_) => "请求的信息项超出该部门登记的范围".into(),
        Refusal::CodeInvalid(reason) => code_reason_message(*reason).into(),
        Refusal::RequestDecided => "该授权请求已处理".into(),
        Refusal::RequestExpired => "该授权请求已过期，请用证部门重新发起".into(),
        Refusal::ConsentTextChanged => "授权说明已更新，请重新阅读后再确认".into(),
        Refusal::AuthorizationRevoked => "持证人已撤回授权".into(),
        Refusal::AuthorizationExpired => "授权已过期".into(),
        Refusal::DownloadLimitReached => "该授权的下载次数已用完".into(),
        Refusal::AuthorizationNotForCopy => "该授权仅限获取居住年限证明，不能下载加注件".into(),
        Refusal::AuthorizationNotForProof => {
            "该授权仅限下载加注件，不含居住年限证明，请另行请求授权".into()
        }
        Refusal::SignatureInvalid => "消息签名校验失败".into(),
        Refusal::TimestampOutOfWindow => "消息时间戳超出允许范围，可能是重放的请求".into(),
        Refusal::MessageMalformed => "消息格式不正确".into(),
        Refusal::MessageTooLarge => "请求内容过大".into(),
    }
}

fn conditions_message(missing: &[MaterialKind]) -> String {
    if missing.is_empty() {
        return "政务数据未能证明您仍符合居住证条件".to_owned();
    }
    let labels: Vec<&str> = missing.iter().map(|m| material_label(*m)).collect();
    format!(
        "政务数据未能证明您仍符合居住证条件，缺少：{}",
        labels.join("；")
    )
}

/// What a [`Refusal::NotFound`] did not find.
pub fn not_found_message(what: Missing) -> &'static str {
    match what {
        Missing::Application => "未找到该申请",
        Missing::Permit => "您尚未持有居住证",
        Missing::Material => "未找到该材料",
        Missing::CardOrder => "未找到实体证件订单",
        Missing::PaymentNotice => "未找到该缴款书",
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
        VerifyReason::PermitSuspended => {
            "该居住证暂停使用（未按期签注，或居住登记结束后未登记新地址）"
        }
        VerifyReason::PermitExpired => "该居住证已过有效期",
        VerifyReason::PermitRevoked => "该居住证已被注销",
        VerifyReason::StatusUndetermined => "暂时无法确认该居住证的状态，请稍后重试",
    }
}

/// What each kind of material is, in full, for the resident who must provide it.
pub fn material_label(kind: MaterialKind) -> &'static str {
    match kind {
        MaterialKind::ResidenceProof => {
            "居住证明（租赁合同、房产证明或单位出具的居住证明，证明已在本市居住满半年）"
        }
        MaterialKind::EmploymentProof => "就业证明（劳动合同或社会保险缴费证明）",
        MaterialKind::HousingProof => "住所证明（房产证或已登记备案的房屋租赁合同）",
        MaterialKind::StudyProof => "就读证明（学校出具的在读证明）",
    }
}

/// [`material_label`] of a stored kind name; a name no longer known reads as "other material".
pub fn material_label_of(kind: &str) -> &'static str {
    MaterialKind::parse(kind).map_or("其他材料", material_label)
}

/// Why an application was refused, for the resident.
pub fn reject_reason_message(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::NoHouseholdRecord => "未查询到您的户籍信息，请到户籍地公安机关核实",
        RejectReason::HukouSameCity => "您的户籍在居住地所在城市，无需申领居住证",
        RejectReason::ResidenceTooShort => "在居住地居住未满半年，暂不符合申领条件",
        RejectReason::ReviewRejected => "经审核，申请材料不能证明您符合申领条件",
    }
}

/// [`reject_reason_message`] of a stored reason code; an unknown code reads generically.
pub fn reject_reason_message_of(code: &str) -> &'static str {
    RejectReason::parse(code).map_or("不符合申领条件", reject_reason_message)
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

/// The Chinese name of a request field, for messages. Field names are the API's wire names,
/// an open set: a name without a label is shown as it is.
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
        "min_years" => "居住年限",
        "until" => "结束日期",
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

/// Why a record of a government-data import was not taken, for the operator.
pub fn import_problem_message(problem: &ImportProblem) -> String {
    match problem {
        ImportProblem::IdNumberInvalid(reason) => id_number_message(*reason).to_owned(),
        ImportProblem::Missing(field) => format!("缺少{}", field_label(field)),
        ImportProblem::TooLong(field) => format!("{}过长", field_label(field)),
        ImportProblem::Invalid(field) => format!("{}格式或取值不正确", field_label(field)),
        ImportProblem::DateInFuture(field) => format!("{}不能晚于今天", field_label(field)),
        ImportProblem::GenderMismatch => "性别与公民身份号码不一致".to_owned(),
        ImportProblem::PhotoInvalid => "相片应为不超过1MB的JPEG或PNG图片（base64编码）".to_owned(),
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
        FieldProblem::Unprintable => {
            format!("{label}含有加注件上无法打印的字符（生僻字或表情符号），请改用常用字")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One sample of every refusal. `variant_index` below has no catch-all arm, so a new
    /// variant must be added here before this compiles.
    fn samples() -> Vec<Refusal> {
        vec![
            Refusal::IdNumberInvalid(IdNumberError::ChecksumMismatch),
            Refusal::IdentityMismatch,
            Refusal::IdentityAlreadyBound,
            Refusal::IdentityRequired,
            Refusal::FaceVerificationRequired,
            Refusal::FaceVerificationFailed,
            Refusal::InvalidField {
                field: "city",
                reason: FieldProblem::Missing,
            },
            Refusal::UnknownApp,
            Refusal::LoginCodeInvalid,
            Refusal::DevLoginRefused,
            Refusal::LoginNotConfigured,
            Refusal::PlatformRateLimited,
            Refusal::PlatformRiskyUser,
            Refusal::PlatformUnavailable,
            Refusal::GovDataUnavailable,
            Refusal::Unauthenticated,
            Refusal::TokenExpired,
            Refusal::Forbidden,
            Refusal::InvalidCredentials,
            Refusal::RefreshTokenInvalid,
            Refusal::RefreshTokenReused,
            Refusal::NotFound(Missing::Permit),
            Refusal::RegionNotSupported,
            Refusal::UnknownCity,
            Refusal::UnknownDistrict,
            Refusal::ApplicationOpen,
            Refusal::PermitHeld,
            Refusal::IdempotencyKeyReused,
            Refusal::NotAwaitingMaterials,
            Refusal::MaterialNotNeeded,
            Refusal::FileTypeNotAllowed,
            Refusal::FileTooLarge,
            Refusal::FileUnreadable,
            Refusal::ImageTooLarge,
            Refusal::NotPendingReview,
            Refusal::EndorsementNotDue {
                opens_on: chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap_or_default(),
            },
            Refusal::PermitExpired,
            Refusal::PermitRevoked,
            Refusal::PermitNotValid,
            Refusal::ConditionsNotMet(vec![MaterialKind::HousingProof]),
            Refusal::CardOrderOpen,
            Refusal::Conflict,
            Refusal::InvalidTransition {
                from: "paid".into(),
                to: "ordered".into(),
            },
            Refusal::AgencyExists,
            Refusal::ClientCredentialsInvalid,
            Refusal::TooManyAttempts {
                retry_after_secs: 90,
            },
            Refusal::ScopeNotAllowed("verify".into()),
            Refusal::FieldNotAllowed("photo".into()),
            Refusal::CodeInvalid(VerifyReason::PermitRevoked),
            Refusal::RequestDecided,
            Refusal::RequestExpired,
            Refusal::ConsentTextChanged,
            Refusal::AuthorizationRevoked,
            Refusal::AuthorizationExpired,
            Refusal::DownloadLimitReached,
            Refusal::SignatureInvalid,
            Refusal::TimestampOutOfWindow,
            Refusal::MessageMalformed,
            Refusal::MessageTooLarge,
            Refusal::AuthorizationNotForCopy,
            Refusal::AuthorizationNotForProof,
            Refusal::PaymentUnavailable,
            Refusal::PaymentAmountMismatch,
            Refusal::PaidOnlyByPayment,
            Refusal::NotFound(Missing::PaymentNotice),
            Refusal::CityChangeNeedsNewApplication {
                city: "佛山市".into(),
            },
            Refusal::EndorsementRequired,
            Refusal::AddressSinceBeforePermit {
                issued_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
            },
            Refusal::SigningUnavailable,
        ]
    }

    fn variant_index(refusal: &Refusal) -> usize {
        match refusal {
            Refusal::IdNumberInvalid(_) => 0,
            Refusal::IdentityMismatch => 1,
            Refusal::IdentityAlreadyBound => 2,
            Refusal::IdentityRequired => 3,
            Refusal::FaceVerificationRequired => 4,
            Refusal::FaceVerificationFailed => 5,
            Refusal::InvalidField { .. } => 6,
            Refusal::UnknownApp => 7,
            Refusal::LoginCodeInvalid => 8,
            Refusal::DevLoginRefused => 9,
            Refusal::LoginNotConfigured => 10,
            Refusal::PlatformRateLimited => 11,
            Refusal::PlatformRiskyUser => 12,
            Refusal::PlatformUnavailable => 13,
            Refusal::GovDataUnavailable => 14,
            Refusal::Unauthenticated => 15,
            Refusal::TokenExpired => 16,
            Refusal::Forbidden => 17,
            Refusal::InvalidCredentials => 18,
            Refusal::RefreshTokenInvalid => 19,
            Refusal::RefreshTokenReused => 20,
            Refusal::NotFound(_) => 21,
            Refusal::RegionNotSupported => 22,
            Refusal::UnknownCity => 23,
            Refusal::UnknownDistrict => 24,
            Refusal::ApplicationOpen => 25,
            Refusal::PermitHeld => 26,
            Refusal::IdempotencyKeyReused => 27,
            Refusal::NotAwaitingMaterials => 28,
            Refusal::MaterialNotNeeded => 29,
            Refusal::FileTypeNotAllowed => 30,
            Refusal::FileTooLarge => 31,
            Refusal::FileUnreadable => 32,
            Refusal::ImageTooLarge => 33,
            Refusal::NotPendingReview => 34,
            Refusal::EndorsementNotDue { .. } => 35,
            Refusal::PermitExpired => 36,
            Refusal::PermitRevoked => 37,
            Refusal::PermitNotValid => 38,
            Refusal::ConditionsNotMet(_) => 39,
            Refusal::CardOrderOpen => 40,
            Refusal::Conflict => 41,
            Refusal::InvalidTransition { .. } => 42,
            Refusal::AgencyExists => 43,
            Refusal::ClientCredentialsInvalid => 44,
            Refusal::TooManyAttempts { .. } => 45,
            Refusal::ScopeNotAllowed(_) => 46,
            Refusal::FieldNotAllowed(_) => 47,
            Refusal::CodeInvalid(_) => 48,
            Refusal::RequestDecided => 49,
            Refusal::RequestExpired => 50,
            Refusal::ConsentTextChanged => 51,
            Refusal::AuthorizationRevoked => 52,
            Refusal::AuthorizationExpired => 53,
            Refusal::DownloadLimitReached => 54,
            Refusal::SignatureInvalid => 55,
            Refusal::TimestampOutOfWindow => 56,
            Refusal::MessageMalformed => 57,
            Refusal::MessageTooLarge => 58,
            Refusal::AuthorizationNotForCopy => 59,
            Refusal::AuthorizationNotForProof => 60,
            Refusal::PaymentUnavailable => 61,
            Refusal::PaymentAmountMismatch => 62,
            Refusal::PaidOnlyByPayment => 63,
            Refusal::CityChangeNeedsNewApplication { .. } => 64,
            Refusal::EndorsementRequired => 65,
            Refusal::AddressSinceBeforePermit { .. } => 66,
            Refusal::SigningUnavailable => 67,
        }
    }

    fn is_chinese(text: &str) -> bool {
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_refusal_has_a_chinese_message() {
        let samples = samples();
        let mut seen: Vec<usize> = samples.iter().map(variant_index).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen, (0..=67).collect::<Vec<_>>(), "one sample per variant");
        for refusal in &samples {
            let message = refusal_message(refusal);
            assert!(is_chinese(&message), "{refusal:?} reads {message:?}");
        }
    }

    #[test]
    fn details_of_a_refusal_are_worded_into_its_message() {
        assert_eq!(
            refusal_message(&Refusal::TooManyAttempts {
                retry_after_secs: 61
            }),
            "尝试次数过多，请在2分钟后再试"
        );
        assert_eq!(
            refusal_message(&Refusal::InvalidField {
                field: "city",
                reason: FieldProblem::Empty
            }),
            "城市不能为空"
        );
        assert!(
            refusal_message(&Refusal::ConditionsNotMet(vec![MaterialKind::StudyProof]))
                .ends_with("缺少：就读证明（学校出具的在读证明）")
        );
    }

    #[test]
    fn a_stored_name_no_longer_known_reads_generically() {
        assert_eq!(material_label_of("passport"), "其他材料");
        assert_eq!(reject_reason_message_of("GONE"), "不符合申领条件");
        assert_eq!(
            reject_reason_message_of("HUKOU_SAME_CITY"),
            "您的户籍在居住地所在城市，无需申领居住证"
        );
    }
}
