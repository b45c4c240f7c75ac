//! What the holder and the agency are shown of an access request: the views, the consent
//! text the holder agrees to, and the agency as an actor in the access log.

use chrono::{DateTime, Utc};
use entity::statuses::RequestStatus;
use entity::{agency, authorization_request as request};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::consent::access_log::Actor;
use crate::permit::fields::{self, PermitField};

use super::consents::CONSENT_VERSION;
use super::grants::GrantView;
use super::proof_grants::ProofAsk;

/// A request as the holder sees it before deciding.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = HolderRequest)]
pub struct RequestView {
    pub id: Uuid,
    pub status: RequestStatus,
    pub agency: AgencyInfo,
    pub purpose: String,
    pub fields: Vec<FieldInfo>,
    /// A residence proof asked instead of permit fields (`fields` is then empty).
    pub residence_proof: Option<ProofAsk>,
    pub days: i32,
    pub retention_days: i32,
    pub max_downloads: i32,
    pub sensitive: bool,
    pub consent_version: String,
    pub consent_text: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgencyInfo {
    pub id: Uuid,
    pub name: String,
    pub credit_code: String,
    pub contact: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldInfo {
    pub field: &'static str,
    pub label: &'static str,
    pub sensitive: bool,
}

/// A request as its agency follows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = AgencyRequest)]
pub struct AgencyRequestView {
    pub id: Uuid,
    pub status: RequestStatus,
    pub holder: String,
    pub permit_no: String,
    pub purpose: String,
    pub fields: Vec<String>,
    /// A residence proof asked instead of permit fields.
    pub residence_proof: Option<ProofAsk>,
    pub expires_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub authorization: Option<GrantView>,
}

pub(super) fn names(list: &[PermitField]) -> Vec<String> {
    list.iter().map(|f| f.as_str().to_owned()).collect()
}

pub(super) fn agency_info(a: &agency::Model) -> AgencyInfo {
    AgencyInfo {
        id: a.id,
        name: a.name.clone(),
        credit_code: a.credit_code.clone(),
        contact: a.contact.clone(),
    }
}

fn field_infos(list: &[PermitField]) -> Vec<FieldInfo> {
    list.iter()
        .map(|f| FieldInfo {
            field: f.as_str(),
            label: f.label(),
            sensitive: f.is_sensitive(),
        })
        .collect()
}

/// The exact text the holder agrees to (version [`CONSENT_VERSION`]).
pub fn consent_text(agency: &agency::Model, req: &request::Model) -> String {
    if let Some(ask) = ProofAsk::of_request(req) {
        return super::proof_grants::consent_text(agency, req, &ask);
    }
    let list = fields::parse_list(&req.fields);
    let labels: Vec<&str> = list.iter().map(|f| f.label()).collect();
    let sensitive: Vec<&str> = list
        .iter()
        .filter(|f| f.is_sensitive())
        .map(|f| f.label())
        .collect();
    let sensitive_line = if sensitive.is_empty() {
        "本次提供的信息不含敏感个人信息。".to_owned()
    } else {
        format!(
            "其中{}属于敏感个人信息，一旦泄露或被非法使用，可能导致您的人格尊严受到侵害或者人身、财产安全受到危害。您的同意是针对本次提供的单独同意。",
            sensitive.join("、")
        )
    };
    format!(
        "【个人信息提供单独同意书 {CONSENT_VERSION}】\n\
         {agency}（统一社会信用代码 {credit}，联系方式 {contact}）请求获取您的电子居住证加注件。\n\
         处理目的：{purpose}\n\
         提供的信息：{fields}\n\
         {sensitive_line}\n\
         授权期限：自同意之日起{days}日内，最多下载{max}次；该部门保存加注件的期限为{retention}日，期满后应删除。\n\
         您可以随时撤回本同意，撤回后该部门将无法再下载，但不影响撤回前已进行的处理。\n\
         拒绝提供不影响您使用电子居住证的其他功能。",
        agency = agency.name,
        credit = agency.credit_code,
        contact = agency.contact,
        purpose = req.purpose,
        fields = labels.join("、"),
        days = req.days,
        max = req.max_downloads,
        retention = req.retention_days,
    )
}

pub(crate) fn request_view(
    agency: &agency::Model,
    req: &request::Model,
    now: DateTime<Utc>,
) -> RequestView {
    let list = fields::parse_list(&req.fields);
    RequestView {
        id: req.id,
        status: effective_request_status(req, now),
        agency: agency_info(agency),
        purpose: req.purpose.clone(),
        sensitive: list.iter().any(|f| f.is_sensitive()),
        fields: field_infos(&list),
        residence_proof: ProofAsk::of_request(req),
        days: req.days,
        retention_days: req.retention_days,
        max_downloads: req.max_downloads,
        consent_version: req.consent_version.clone(),
        consent_text: consent_text(agency, req),
        created_at: req.created_at,
        expires_at: req.expires_at,
        decided_at: req.decided_at,
    }
}

pub(super) fn effective_request_status(req: &request::Model, now: DateTime<Utc>) -> RequestStatus {
    if req.status == RequestStatus::Pending && now > req.expires_at {
        RequestStatus::Expired
    } else {
        req.status
    }
}

pub(super) fn agency_actor(a: &agency::Model) -> Actor {
    Actor::Agency {
        id: a.id,
        name: a.name.clone(),
    }
}
