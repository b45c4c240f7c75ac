use sea_orm::entity::prelude::*;

/// A document uploaded for an application, stored sealed outside the web root.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "materials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub kind: String,
    pub mime: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub stored_path: String,
    pub created_at: DateTimeUtc,
    pub purged_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
