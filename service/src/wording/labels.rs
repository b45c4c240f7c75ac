//! The short Chinese label of every value of the closed sets the screens show, and the list of
//! them all that `GET /api/v1/labels` answers.

use entity::statuses::{ApplicationStatus, CardOrderStatus, OutboxStatus, RequestStatus};
use sea_orm::{ActiveEnum, Iterable};
use serde_json::{Map, Value};

use crate::applying::eligibility::{Basis, MaterialKind};
use crate::consent::access_log::Action;
use crate::consent::consents::GrantStatus;
use crate::domain::Gender;
use crate::domain::permit_rules::PermitStatus;
use crate::identity::wechat::subscribe::TemplateKind;
use crate::permit::fields::PermitField;
use crate::verify::codes::CodeError;
use crate::verify::verification::VerifyReason;

pub fn application_status(status: ApplicationStatus) -> &'static str {
    match status {
        ApplicationStatus::NeedsMaterials => "待补充材料",
        ApplicationStatus::PendingReview => "待审核",
        ApplicationStatus::Issued => "已签发",
        ApplicationStatus::Rejected => "未通过",
    }
}

pub fn request_status(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Pending => "待处理",
        RequestStatus::Approved => "已同意",
        RequestStatus::Denied => "已拒绝",
        RequestStatus::Expired => "已过期",
    }
}

/// A grant as its holder and the agency see it ("revoked" is the holder withdrawing consent).
pub fn grant_status(status: GrantStatus) -> &'static str {
    match status {
        GrantStatus::Active => "有效",
        GrantStatus::Revoked => "已撤回",
        GrantStatus::Expired => "已过期",
        GrantStatus::Exhausted => "次数已用完",
    }
}

pub fn card_order_status(status: CardOrderStatus) -> &'static str {
    match status {
        CardOrderStatus::Ordered => "已下单",
        CardOrderStatus::Paid => "已缴费",
        CardOrderStatus::Produced => "已制证",
        CardOrderStatus::Ready => "待领取",
        CardOrderStatus::Collected => "已领取",
    }
}

pub fn outbox_status(status: OutboxStatus) -> &'static str {
    match status {
        OutboxStatus::Pending => "待发送",
        OutboxStatus::Sent => "已发送",
        OutboxStatus::Failed => "发送失败",
        OutboxStatus::Undeliverable => "无法送达",
    }
}

pub fn permit_status(status: PermitStatus) -> &'static str {
    match status {
        PermitStatus::Valid => "有效",
        PermitStatus::Suspended => "暂停使用",
        PermitStatus::Expired => "已过期",
        PermitStatus::Revoked => "已注销",
    }
}

/// The badge printed on the card and the copy; a permit in force carries none.
pub fn permit_status_on_card(status: PermitStatus) -> Option<&'static str> {
    match status {
        PermitStatus::Valid => None,
        PermitStatus::Suspended => Some("已暂停"),
        PermitStatus::Expired => Some("已过期"),
        PermitStatus::Revoked => Some("已注销"),
    }
}

pub fn gender(gender: Gender) -> &'static str {
    match gender {
        Gender::Male => "男",
        Gender::Female => "女",
    }
}

/// Why a verification failed, in a few words for the agency's screen (the refusal's full
/// sentence is [`super::refusals::code_reason_message`]).
pub fn verify_reason(reason: VerifyReason) -> &'static str {
    match reason {
        VerifyReason::Code(CodeError::Malformed) => "无法识别的粤居码",
        VerifyReason::Code(CodeError::UnknownKey) => "签发密钥未知",
        VerifyReason::Code(CodeError::BadSignature) => "签名无效，可能被篡改",
        VerifyReason::Code(CodeError::Expired) => "粤居码已过期，请持证人刷新",
        VerifyReason::Code(CodeError::NotYetValid) => "粤居码时间异常",
        VerifyReason::PermitNotFound => "未找到该居住证",
        VerifyReason::PermitSuspended => "居住证未按期签注，暂停使用",
        VerifyReason::PermitExpired => "居住证已过期",
        VerifyReason::PermitRevoked => "居住证已注销",
        VerifyReason::StatusUndetermined => "暂时无法确认证件状态",
    }
}

/// The field's name on the card, in the consent text and on the agency's screens.
pub fn permit_field(field: PermitField) -> &'static str {
    match field {
        PermitField::Name => "姓名",
        PermitField::Gender => "性别",
        PermitField::Ethnicity => "民族",
        PermitField::IdNumber => "公民身份号码",
        PermitField::Photo => "相片",
        PermitField::HukouAddress => "户籍地址",
        PermitField::ResidenceAddress => "居住地址",
        PermitField::IssuingAuthority => "签发机关",
        PermitField::IssuedOn => "签发日期",
        PermitField::ValidFrom => "有效期起",
        PermitField::ValidUntil => "有效期至",
    }
}

/// The kind of material in a word (what it must contain is
/// [`super::refusals::material_label`]).
pub fn material_kind(kind: MaterialKind) -> &'static str {
    match kind {
        MaterialKind::ResidenceProof => "居住证明",
        MaterialKind::EmploymentProof => "就业证明",
        MaterialKind::HousingProof => "住所证明",
        MaterialKind::StudyProof => "就读证明",
    }
}

pub fn basis(basis: Basis) -> &'static str {
    match basis {
        Basis::Employment => "合法稳定就业",
        Basis::Residence => "合法稳定住所",
        Basis::Study => "连续就读",
    }
}

pub fn access_action(action: Action) -> &'static str {
    match action {
        Action::Verify => "核验",
        Action::Request => "请求授权",
        Action::Approve => "同意授权",
        Action::Deny => "拒绝授权",
        Action::Download => "下载加注件",
        Action::Revoke => "撤回授权",
    }
}

pub fn subscription_kind(kind: TemplateKind) -> &'static str {
    match kind {
        TemplateKind::EndorsementDue => "签注提醒",
        TemplateKind::Expiry => "到期提醒",
        TemplateKind::Decision => "审核结果通知",
        TemplateKind::AuthorizationRequest => "授权请求通知",
        TemplateKind::EligibleNow => "可申领提醒",
        TemplateKind::RegistrationEnded => "居住登记变更通知",
    }
}

/// Every vocabulary by name, each value by its wire name: what `GET /api/v1/labels` answers.
pub fn vocabularies() -> Map<String, Value> {
    fn table<T>(
        values: impl IntoIterator<Item = T>,
        name: impl Fn(&T) -> String,
        label: impl Fn(T) -> &'static str,
    ) -> Value {
        Value::Object(
            values
                .into_iter()
                .map(|v| (name(&v), Value::from(label(v))))
                .collect(),
        )
    }
    let mut all = Map::new();
    let mut add = |name: &str, table: Value| {
        all.insert(name.to_owned(), table);
    };
    add(
        "application_status",
        table(
            ApplicationStatus::iter(),
            |s| s.to_value(),
            application_status,
        ),
    );
    add(
        "authorization_request_status",
        table(RequestStatus::iter(), |s| s.to_value(), request_status),
    );
    add(
        "grant_status",
        table(GrantStatus::ALL, |s| s.as_str().to_owned(), grant_status),
    );
    add(
        "card_order_status",
        table(CardOrderStatus::iter(), |s| s.to_value(), card_order_status),
    );
    add(
        "outbox_status",
        table(OutboxStatus::iter(), |s| s.to_value(), outbox_status),
    );
    add(
        "permit_status",
        table(PermitStatus::ALL, |s| s.as_str().to_owned(), permit_status),
    );
    add(
        "gender",
        table(Gender::ALL, |g| g.as_str().to_owned(), gender),
    );
    add(
        "verify_reason",
        table(VerifyReason::ALL, |r| r.code().to_owned(), verify_reason),
    );
    add(
        "permit_field",
        table(PermitField::ALL, |f| f.as_str().to_owned(), permit_field),
    );
    add(
        "material_kind",
        table(MaterialKind::ALL, |k| k.as_str().to_owned(), material_kind),
    );
    add("basis", table(Basis::ALL, |b| b.as_str().to_owned(), basis));
    add(
        "access_action",
        table(Action::ALL, |a| a.as_str().to_owned(), access_action),
    );
    add(
        "subscription_kind",
        table(
            TemplateKind::ALL,
            |k| k.as_str().to_owned(),
            subscription_kind,
        ),
    );
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vocabulary_labels_every_value_in_chinese() {
        let all = vocabularies();
        assert!(all.len() >= 13, "{all:?}");
        for (name, table) in &all {
            let table = table.as_object().map(|t| t.iter().collect::<Vec<_>>());
            let Some(table) = table.filter(|t| !t.is_empty()) else {
                panic!("{name} is empty");
            };
            for (value, label) in table {
                let label = label.as_str().unwrap_or_default();
                assert!(
                    label
                        .chars()
                        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{name}.{value} reads {label:?}"
                );
            }
        }
        assert_eq!(all["application_status"]["pending_review"], "待审核");
        assert_eq!(
            all["verify_reason"]["CODE_EXPIRED"],
            "粤居码已过期，请持证人刷新"
        );
    }
}
