use sea_orm::entity::prelude::*;

use crate::statuses::ApplicationStatus;

/// An application for a permit, and the outcome of its verification or review.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub account_id: Uuid,
    pub status: ApplicationStatus,
    #[sea_orm(unique)]
    pub open_for_person: Option<Uuid>,
    pub city_code: String,
    pub city: String,
    pub district_code: String,
    pub district: String,
    pub address_enc: Vec<u8>,
    pub residence_since: Date,
    pub basis: String,
    pub missing: String,
    pub reasons: String,
    pub review_note_enc: Option<Vec<u8>>,
    pub permit_id: Option<Uuid>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
