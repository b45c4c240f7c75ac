use sea_orm::entity::prelude::*;

/// One entry of a holder's access log. Entries of a person form a hash chain:
/// `hash = SHA-256(prev_hash, canonical entry)`, so removal or change shows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub seq: i64,
    pub at: DateTimeUtc,
    /// `agency`, `holder` or `staff`.
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    /// `verify`, `request`, `approve`, `deny`, `download`, `revoke`.
    pub action: String,
    pub purpose: Option<String>,
    /// Canonical JSON with what was involved (fields, grant id, result).
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
