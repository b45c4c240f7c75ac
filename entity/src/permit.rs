use sea_orm::entity::prelude::*;

/// A residence permit: its number and holder; its content lives in signed versions.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "permits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    #[sea_orm(unique)]
    pub permit_no: String,
    pub city_code: String,
    pub photo_enc: Option<Vec<u8>>,
    pub photo_mime: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoke_reason_enc: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    /// The current `permit_versions` row, moved in the transaction that inserts a version.
    pub current_version_id: Option<Uuid>,
    /// The last day of the holder's residence registration, when the government data shows it
    /// ended and no new address has been registered since.
    pub registration_ended_on: Option<Date>,
    /// When an act suspended the permit's use (the registration ended and no new address was
    /// registered in time); cleared when the holder registers one. The status list says the same.
    pub suspended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
