use sea_orm::entity::prelude::*;

/// Residence registration (居住登记) record of the embedded government-data source.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gov_residence_registrations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub id_number_blind: String,
    pub city: String,
    pub district: String,
    pub address_enc: Vec<u8>,
    pub since: Date,
    /// The registration's last day, once it ended (the landlord, employer or school ended it).
    pub until: Option<Date>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
