//! The continuous residence of a person on a date, from every permit they have held: each
//! permit's signed versions give the days the counts start and restart; its revocation and an
//! ended residence registration end them.

use chrono::NaiveDate;
use entity::{permit, permit_version};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use crate::Context;
use crate::config::day_in_china;
use crate::domain::divisions;
use crate::domain::permit_rules::Dates;
use crate::domain::residence_years::{self, Continuous, Period, PermitHistory, VersionFacts};
use crate::error::{FieldProblem, Refusal, Result};

/// The version kind an address change writes.
const ADDRESS_CHANGE: &str = "address_change";

/// `GET /api/v1/me/residence-years`: the periods and the running counts on `as_of`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResidenceYears {
    pub as_of: NaiveDate,
    pub periods: Vec<Period>,
    pub continuous: Vec<Continuous>,
}

/// The history of every permit the person has held, oldest first.
pub async fn histories<C: ConnectionTrait>(db: &C, person_id: Uuid) -> Result<Vec<PermitHistory>> {
    let permits = permit::Entity::find()
        .filter(permit::Column::PersonId.eq(person_id))
        .order_by_asc(permit::Column::CreatedAt)
        .all(db)
        .await?;
    let versions = permit_version::Entity::find()
        .filter(permit_version::Column::PermitId.is_in(permits.iter().map(|p| p.id)))
        .order_by_asc(permit_version::Column::Version)
        .all(db)
        .await?;
    permits
        .into_iter()
        .map(|p| {
            let city = divisions::city_of_region_code(&p.city_code)
                .ok_or_else(|| anyhow::anyhow!("permit city {} unknown", p.city_code))?;
            Ok(PermitHistory {
                city: city.name.to_owned(),
                versions: versions
                    .iter()
                    .filter(|v| v.permit_id == p.id)
                    .map(|v| VersionFacts {
                        made_on: day_in_china(v.created_at),
                        address_change: v.kind == ADDRESS_CHANGE,
                        dates: Dates {
                            valid_from: v.valid_from,
                            valid_until: v.valid_until,
                            endorsement_due: v.endorsement_due,
                            continuous_since: v.continuous_since,
                        },
                    })
                    .collect(),
                revoked_on: p.revoked_at.map(day_in_china),
                registration_ended_on: p.registration_ended_on,
            })
        })
        .collect()
}

/// The date a count is asked for: today when not given; never a day still to come, whose
/// endorsements and moves nobody knows yet.
pub fn as_of(ctx: &Context, asked: Option<NaiveDate>) -> Result<NaiveDate> {
    let today = ctx.clock.today();
    match asked {
        Some(day) if day > today => Err(Refusal::InvalidField {
            field: "as_of",
            reason: FieldProblem::InFuture,
        }
        .into()),
        Some(day) => Ok(day),
        None => Ok(today),
    }
}

pub async fn of_person(
    ctx: &Context,
    person_id: Uuid,
    asked: Option<NaiveDate>,
) -> Result<ResidenceYears> {
    let as_of = as_of(ctx, asked)?;
    let histories = histories(&ctx.db, person_id).await?;
    let periods = residence_years::periods(&histories, as_of);
    let continuous = residence_years::continuous(&periods, as_of);
    Ok(ResidenceYears {
        as_of,
        periods,
        continuous,
    })
}
