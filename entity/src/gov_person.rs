use sea_orm::entity::prelude::*;

/// Household-registration (户籍) record of the embedded government-data source.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gov_people")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub id_number_blind: String,
    pub id_number_enc: Vec<u8>,
    pub name_enc: Vec<u8>,
    pub gender: String,
    pub ethnicity: String,
    pub hukou_address_enc: Vec<u8>,
    pub hukou_region_code: String,
    pub photo_enc: Option<Vec<u8>>,
    pub photo_mime: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
