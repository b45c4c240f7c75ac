use sea_orm::entity::prelude::*;

/// One signed version of a permit: the issue, each endorsement (签注) and each renewal.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "permit_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub permit_id: Uuid,
    pub version: i32,
    pub kind: String,
    #[sea_orm(unique)]
    pub licence_id: String,
    pub payload_enc: Vec<u8>,
    pub signature: String,
    pub kid: String,
    pub valid_from: Date,
    pub valid_until: Date,
    pub endorsement_due: Date,
    pub continuous_since: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
