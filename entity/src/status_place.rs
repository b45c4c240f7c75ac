use sea_orm::entity::prelude::*;

/// A taken entry of a status list: the permit it was drawn for (NULL once the permit is
/// deleted; the entry stays taken) and its state (0 valid, 1 revoked, 2 suspended).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "status_places")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub list_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub idx: i32,
    #[sea_orm(unique)]
    pub permit_id: Option<Uuid>,
    pub state: i16,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
