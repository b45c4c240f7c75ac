use sea_orm::entity::prelude::*;

/// A Token Status List: `size` 2-bit entries, of which `allocated` are given to permits.
/// Ids are chosen as max + 1, so lists are numbered 1, 2, 3…
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "status_lists")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub size: i32,
    pub allocated: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
