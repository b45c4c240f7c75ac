use sea_orm::entity::prelude::*;

/// Where a person's access-log chain starts once retention has deleted its oldest entries:
/// the first retained `seq` and the hash it must link to.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_log_anchors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    pub seq: i64,
    pub prev_hash: String,
    /// How many entries retention has deleted so far.
    pub removed: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
