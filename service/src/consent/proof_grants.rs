//! Residence proofs through the consent flow: instead of the annotated copy, an agency may ask
//! for the signed yes-or-no statement of [`crate::residence::proofs`] (scope
//! `residence:proof`). The request names the city, the years and the date and asks for no
//! permit field; once the holder approves, each `GET …/residence-proof` makes the statement at
//! that moment, counts it against the grant like a download and records it in the holder's
//! access log, in one transaction. A proof grant gives no copy, a copy grant no proof.

use chrono::NaiveDate;
use entity::{agency, authorization, authorization_request as request};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::Context;
use crate::consent::access_log::{self, Action};
use crate::consent::agencies::{self, AgencyPrincipal, Scope};
use crate::consent::grants::{GrantStatus, grant_status};
use crate::domain::divisions;
use crate::error::{FieldProblem, Missing, Refusal, Result, invalid};
use crate::residence::proofs::{self, IssuedProof, MAX_YEARS, ProofRequest, Statement};
use crate::residence::years;

use super::consents::{CONSENT_VERSION, agency_actor};

/// The statement a request or grant asks for, as the holder and the agency see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ResidenceProofAsk)]
pub struct ProofAsk {
    pub city: String,
    pub min_years: u32,
    /// The date the statement speaks of; null: the day the proof is made.
    pub as_of: Option<NaiveDate>,
    /// What is asked, in a sentence: 是否在广州市连续居住满3年（截至2026-06-01）.
    pub text: String,
}

impl ProofAsk {
    fn new(city: String, min_years: u32, as_of: Option<NaiveDate>) -> ProofAsk {
        let day = match as_of {
            Some(day) => day.to_string(),
            None => "开具证明之日".to_owned(),
        };
        ProofAsk {
            text: format!("是否在{city}连续居住满{min_years}年（截至{day}）"),
            city,
            min_years,
            as_of,
        }
    }

    /// The city's official name, the years within 1..=100 and a date not to come, as
    /// `POST /me/residence-proofs` checks them; refused (422) otherwise.
    pub fn checked(ctx: &Context, asked: &ProofRequest) -> Result<ProofAsk> {
        let city = divisions::find_city(&asked.city).ok_or(Refusal::UnknownCity)?;
        if asked.min_years == 0 || asked.min_years > MAX_YEARS {
            return Err(invalid("min_years", FieldProblem::NotAllowed));
        }
        if let Some(day) = asked.as_of {
            years::as_of(ctx, Some(day))?;
        }
        Ok(ProofAsk::new(
            city.name.to_owned(),
            asked.min_years,
            asked.as_of,
        ))
    }

    fn stored(
        city: Option<&String>,
        min_years: Option<i32>,
        as_of: Option<NaiveDate>,
    ) -> Option<Self> {
        let years = u32::try_from(min_years?).ok()?;
        Some(ProofAsk::new(city?.clone(), years, as_of))
    }

    pub fn of_request(req: &request::Model) -> Option<ProofAsk> {
        Self::stored(
            req.proof_city.as_ref(),
            req.proof_min_years,
            req.proof_as_of,
        )
    }

    pub fn of_grant(g: &authorization::Model) -> Option<ProofAsk> {
        Self::stored(g.proof_city.as_ref(), g.proof_min_years, g.proof_as_of)
    }
}

/// The consent text of a request for a residence proof (version [`CONSENT_VERSION`]; the
/// copy's text is unchanged by it).
pub fn consent_text(agency: &agency::Model, req: &request::Model, ask: &ProofAsk) -> String {
    format!(
        "【个人信息提供单独同意书 {CONSENT_VERSION}】\n\
         {agency}（统一社会信用代码 {credit}，联系方式 {contact}）请求获取您的居住年限证明，而非电子居住证加注件。\n\
         处理目的：{purpose}\n\
         提供的信息：仅一项“是”或“否”的结论——您{text}；证明载明居住证编号和部分隐去的姓名以便核对本人，不提供居住经历、居住年数及其他证件信息。\n\
         本次提供的信息不含敏感个人信息。\n\
         授权期限：自同意之日起{days}日内，最多开具{max}次，每次按开具时的记录出具；该部门保存证明的期限为{retention}日，期满后应删除。\n\
         您可以随时撤回本同意，撤回后该部门将无法再获取证明，但不影响撤回前已进行的处理。\n\
         拒绝提供不影响您使用电子居住证的其他功能。",
        agency = agency.name,
        credit = agency.credit_code,
        contact = agency.contact,
        purpose = req.purpose,
        text = ask.text,
        days = req.days,
        max = req.max_downloads,
        retention = req.retention_days,
    )
}

/// `GET /agency/authorizations/{id}/residence-proof`: the agency's own active proof grant
/// gives a proof made now, as `POST /me/residence-proofs` answers it. The proof is signed
/// before the grant is counted but handed out only once the count and the access-log entry
/// are committed together; a grant revoked or used up in between refuses it.
pub async fn make(
    ctx: &Context,
    principal: &AgencyPrincipal,
    grant_id: Uuid,
) -> Result<IssuedProof> {
    principal.require(Scope::ResidenceProof)?;
    let now = ctx.clock.now();
    let grant = authorization::Entity::find_by_id(grant_id)
        .filter(authorization::Column::AgencyId.eq(principal.agency_id))
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::NotFound(Missing::Authorization))?;
    let ask = ProofAsk::of_grant(&grant).ok_or(Refusal::AuthorizationNotForProof)?;
    refuse_unless_active(&grant, now)?;
    let request = ProofRequest {
        city: ask.city.clone(),
        min_years: ask.min_years,
        as_of: ask.as_of,
    };
    let proof = proofs::make(ctx, grant.person_id, &request).await?;
    let statement: Statement =
        serde_json::from_value(proof.statement.clone()).map_err(anyhow::Error::from)?;
    let txn = ctx.db.begin().await?;
    super::grants::count_download(&txn, &grant).await?;
    let agency = agencies::row(&txn, grant.agency_id).await?;
    access_log::record(
        &txn,
        access_log::Event {
            person_id: grant.person_id,
            at: now,
            actor: agency_actor(&agency),
            action: Action::ResidenceProof,
            purpose: Some(&grant.purpose),
            detail: {
                let mut detail = proofs::logged(&statement);
                detail["authorization_id"] = json!(grant.id.to_string());
                detail
            },
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(authorization_id = %grant.id, proof_id = %statement.proof_id, "residence proof made for an agency");
    proofs::issued(proof)
}

fn refuse_unless_active(
    grant: &authorization::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    match grant_status(grant, now) {
        GrantStatus::Revoked => Err(Refusal::AuthorizationRevoked.into()),
        GrantStatus::Expired => Err(Refusal::AuthorizationExpired.into()),
        GrantStatus::Exhausted => Err(Refusal::DownloadLimitReached.into()),
        GrantStatus::Active => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ask_says_the_city_the_years_and_the_date_or_the_day_it_is_made() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 1);
        assert_eq!(
            ProofAsk::new("广州市".into(), 3, day).text,
            "是否在广州市连续居住满3年（截至2026-06-01）"
        );
        assert_eq!(
            ProofAsk::new("佛山市".into(), 1, None).text,
            "是否在佛山市连续居住满1年（截至开具证明之日）"
        );
        assert_eq!(ProofAsk::stored(None, Some(3), None), None);
        assert_eq!(
            ProofAsk::stored(Some(&"广州市".into()), Some(-1), None),
            None
        );
    }
}
