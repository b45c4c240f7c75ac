//! The short Chinese label of every value of the closed sets the screens show, and the list of
//! them all that `GET /api/v1/labels` answers.

use entity::statuses::{ApplicationStatus, CardOrderStatus, OutboxStatus, RequestStatus};
use sea_orm::{ActiveEnum, Iterable};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::applying::eligibility::{Basis, MaterialKind};
use crate::consent::access_log::Action;
use crate::consent::grants::GrantStatus;
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

/// The status in a sentence that says what happens next, as the bot answers it.
pub fn application_status_explained(status: ApplicationStatus) -> &'static str {
    match status {
        ApplicationStatus::Issued => "已办结，居住证已签发",
        ApplicationStatus::NeedsMaterials => "待补充材料",
        ApplicationStatus::PendingReview => "材料已齐全，等待派出所审核",
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
        CardOrderStatus::Cancelled => "已取消（缴款书逾期未缴费）",
    }
}

/// The status in a sentence that says what happens next, as the bot answers it.
pub fn card_order_status_explained(status: CardOrderStatus) -> &'static str {
    match status {
        CardOrderStatus::Ordered => "已下单，待缴费",
        CardOrderStatus::Paid => "已受理，等待制证",
        CardOrderStatus::Produced => "已制证，正在送往领证点",
        CardOrderStatus::Ready => "已到领证点，可以领取",
        CardOrderStatus::Collected => "已领取",
        CardOrderStatus::Cancelled => "缴款书逾期未缴费，订单已取消，可重新申请",
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

/// The status in a sentence that says why, as the bot answers it.
pub fn permit_status_explained(status: PermitStatus) -> &'static str {
    match status {
        PermitStatus::Valid => "有效",
        PermitStatus::Suspended => "暂停使用（未按期签注，或居住登记结束后未登记新地址）",
        PermitStatus::Expired => "已过有效期",
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

/// [`gender`] of a stored value (`male`/`female`, or 男/女 as some records hold it); anything
/// else is 未知, so a card never prints a raw value.
pub fn gender_of(stored: &str) -> &'static str {
    match stored.trim().to_ascii_lowercase().as_str() {
        "male" | "男" => gender(Gender::Male),
        "female" | "女" => gender(Gender::Female),
        _ => "未知",
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
        VerifyReason::PermitSuspended => "居住证暂停使用",
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
        Action::ResidenceProof => "开具居住年限证明",
        Action::ProofCheck => "核验居住年限证明",
    }
}

/// Why a period of continuous residence ended.
pub fn residence_ended_by(why: crate::domain::residence_years::EndedBy) -> &'static str {
    use crate::domain::residence_years::EndedBy;
    match why {
        EndedBy::LateEndorsement => "逾期签注，重新计算",
        EndedBy::Moved => "迁往其他城市",
        EndedBy::RegistrationEnded => "居住登记注销",
        EndedBy::Revoked => "居住证被注销",
        EndedBy::Expired => "居住证过期未换领",
    }
}

/// Why a residence proof does not check.
pub fn residence_proof_reason(reason: crate::residence::proofs::ProofReason) -> &'static str {
    use crate::residence::proofs::ProofReason;
    match reason {
        ProofReason::Malformed => "不是有效的居住年限证明",
        ProofReason::UnknownKey => "签名密钥未知，无法核验",
        ProofReason::BadSignature => "签名无效：证明可能被篡改或伪造",
        ProofReason::ProofExpired => "证明已过有效期",
    }
}

/// What an agency may do (its registered scopes).
pub fn agency_scope(scope: crate::consent::agencies::Scope) -> &'static str {
    use crate::consent::agencies::Scope;
    match scope {
        Scope::Verify => "核验粤居码",
        Scope::Download => "经授权下载加注件",
        Scope::ResidenceProof => "经授权获取居住年限证明",
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

/// One vocabulary: the wire name and label of each value, in the order the screens list them.
pub struct Vocabulary {
    pub name: &'static str,
    pub labels: Vec<(String, &'static str)>,
}

/// A vocabulary of (wire name, label) pairs.
fn listed<'a>(
    name: &'static str,
    pairs: impl IntoIterator<Item = (&'a str, &'static str)>,
) -> Vocabulary {
    let labels = pairs.into_iter().map(|(v, l)| (v.to_owned(), l)).collect();
    Vocabulary { name, labels }
}

/// A vocabulary of stored statuses, named by their stored strings.
fn stored<E: ActiveEnum<Value = String> + Iterable>(
    name: &'static str,
    label: fn(E) -> &'static str,
) -> Vocabulary {
    let labels = E::iter().map(|v| (v.to_value(), label(v))).collect();
    Vocabulary { name, labels }
}

/// Every vocabulary; serializes as `{"<vocabulary>": {"<value>": "<中文>"}}`, keeping the
/// declared order (a field list on screen follows it).
pub struct Vocabularies(pub Vec<Vocabulary>);

impl Serialize for Vocabulary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.labels.len()))?;
        for (value, label) in &self.labels {
            map.serialize_entry(value, label)?;
        }
        map.end()
    }
}

impl Serialize for Vocabularies {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for vocabulary in &self.0 {
            map.serialize_entry(vocabulary.name, vocabulary)?;
        }
        map.end()
    }
}

/// Every vocabulary the screens show: what `GET /api/v1/labels` answers.
pub fn vocabularies() -> Vocabularies {
    Vocabularies(vec![
        stored("application_status", application_status),
        stored("authorization_request_status", request_status),
        listed(
            "grant_status",
            GrantStatus::ALL.map(|s| (s.as_str(), grant_status(s))),
        ),
        stored("card_order_status", card_order_status),
        stored("outbox_status", outbox_status),
        listed(
            "permit_status",
            PermitStatus::ALL.map(|s| (s.as_str(), permit_status(s))),
        ),
        listed("gender", Gender::ALL.map(|g| (g.as_str(), gender(g)))),
        listed(
            "verify_reason",
            VerifyReason::ALL.map(|r| (r.code(), verify_reason(r))),
        ),
        listed(
            "permit_field",
            PermitField::ALL.map(|f| (f.as_str(), permit_field(f))),
        ),
        listed(
            "material_kind",
            MaterialKind::ALL.map(|k| (k.as_str(), material_kind(k))),
        ),
        listed("basis", Basis::ALL.map(|b| (b.as_str(), basis(b)))),
        listed(
            "access_action",
            Action::ALL.map(|a| (a.as_str(), access_action(a))),
        ),
        listed(
            "agency_scope",
            crate::consent::agencies::Scope::ALL.map(|s| (s.as_str(), agency_scope(s))),
        ),
        listed(
            "subscription_kind",
            TemplateKind::ALL.map(|k| (k.as_str(), subscription_kind(k))),
        ),
        listed(
            "residence_ended_by",
            crate::domain::residence_years::EndedBy::ALL
                .map(|e| (e.as_str(), residence_ended_by(e))),
        ),
        listed(
            "residence_proof_reason",
            crate::residence::proofs::ProofReason::ALL
                .map(|r| (r.code(), residence_proof_reason(r))),
        ),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_valid_permit_prints_no_badge_on_the_card() {
        for (status, badge) in [
            (PermitStatus::Valid, None),
            (PermitStatus::Suspended, Some("已暂停")),
            (PermitStatus::Expired, Some("已过期")),
            (PermitStatus::Revoked, Some("已注销")),
        ] {
            assert_eq!(permit_status_on_card(status), badge, "{status:?}");
        }
    }

    #[test]
    fn a_stored_gender_is_worded_in_chinese_and_an_unknown_one_as_unknown() {
        for (stored, label) in [
            ("male", "男"),
            ("男", "男"),
            (" Female ", "女"),
            ("女", "女"),
            ("something", "未知"),
            ("", "未知"),
        ] {
            assert_eq!(gender_of(stored), label, "{stored}");
        }
    }

    #[test]
    fn the_card_prints_the_badge_and_gender_worded_here() {
        let card = render::CardFields {
            name: "陈志强",
            gender_label: gender_of("female"),
            ethnicity: "汉族",
            id_number: "4401**********1234",
            hukou_address: "湖南省衡阳市",
            residence_address: "广东省广州市",
            issuing_authority: "广州市公安局",
            issued_on: "2026-01-15",
            valid_from: "2026-01-15",
            valid_until: "2029-01-14",
            permit_no: "粤穗2026000123",
            status_label: permit_status_on_card(PermitStatus::Revoked),
            photo: None,
        };
        let svg = render::card_svg(&card, "x", None).unwrap();
        assert!(svg.contains(">女</text>"));
        assert!(svg.contains(">已注销</text>"));
    }

    use super::*;

    #[test]
    fn every_vocabulary_labels_every_value_in_chinese() {
        let all = vocabularies();
        assert!(all.0.len() >= 13);
        for vocabulary in &all.0 {
            assert!(
                !vocabulary.labels.is_empty(),
                "{} is empty",
                vocabulary.name
            );
            for (value, label) in &vocabulary.labels {
                assert!(
                    label
                        .chars()
                        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{}.{value} reads {label:?}",
                    vocabulary.name
                );
            }
        }
    }

    #[test]
    fn the_vocabularies_serialize_as_nested_objects_in_declared_order() {
        let json = serde_json::to_string(&vocabularies()).unwrap_or_default();
        assert!(json.starts_with(r#"{"application_status":{"needs_materials":"待补充材料","#));
        let name = json.find(r#""name":"姓名""#);
        let until = json.find(r#""valid_until":"有效期至""#);
        assert!(name.is_some() && name < until, "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(
            value["verify_reason"]["CODE_EXPIRED"],
            "粤居码已过期，请持证人刷新"
        );
    }
}
