use sea_orm::entity::prelude::*;

/// An agency (用证部门) registered by staff, with its client credentials (secret hashed).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agencies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(unique)]
    pub credit_code: String,
    pub contact: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Comma-separated permit fields the agency may ask for.
    pub fields: String,
    #[sea_orm(unique)]
    pub client_id: String,
    pub secret_hash: String,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
