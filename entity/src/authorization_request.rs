use sea_orm::entity::prelude::*;

use crate::statuses::RequestStatus;

/// An agency's request for access to a holder's permit, waiting for the holder's decision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorization_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub agency_id: Uuid,
    pub person_id: Uuid,
    pub permit_id: Uuid,
    pub purpose: String,
    /// Comma-separated permit fields asked for.
    pub fields: String,
    pub days: i32,
    pub retention_days: i32,
    pub max_downloads: i32,
    /// `pending`, `approved`, `denied`.
    pub status: RequestStatus,
    /// The consent text version shown to the holder.
    pub consent_version: String,
    pub created_at: DateTimeUtc,
    /// A request not decided by then can no longer be approved.
    pub expires_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    /// A residence proof asked instead of permit fields: the city, the years and the date
    /// (null: the day the proof is made). All null for the annotated copy.
    pub proof_city: Option<String>,
    pub proof_min_years: Option<i32>,
    pub proof_as_of: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
