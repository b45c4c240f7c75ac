use sea_orm::entity::prelude::*;

/// A grant: the holder's consent for one agency to download the annotated copy.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub request_id: Uuid,
    pub agency_id: Uuid,
    pub person_id: Uuid,
    pub permit_id: Uuid,
    pub purpose: String,
    /// Comma-separated permit fields allowed.
    pub fields: String,
    pub retention_days: i32,
    pub max_downloads: i32,
    pub downloads: i32,
    /// The consent text version the holder agreed to, and the SHA-256 of its exact text.
    pub consent_version: String,
    pub consent_sha256: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// A residence proof asked instead of permit fields: the city, the years and the date
    /// (null: the day the proof is made). All null for the annotated copy.
    pub proof_city: Option<String>,
    pub proof_min_years: Option<i32>,
    pub proof_as_of: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
