use sea_orm::entity::prelude::*;

/// One state set on an entry, in commit order per entry; instances follow this log.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "status_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub list_id: i32,
    pub idx: i32,
    pub state: i16,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
