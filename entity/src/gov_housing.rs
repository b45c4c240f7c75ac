use sea_orm::entity::prelude::*;

/// Housing record (owned, or a registered rental) of the embedded government-data source.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gov_housing")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub id_number_blind: String,
    pub city: String,
    pub address_enc: Vec<u8>,
    pub kind: String,
    pub since: Date,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
