use sea_orm::entity::prelude::*;

/// A subscribe choice of the last minute, not yet matched by the same choice from the other
/// source (the mini-program's post or the platform's popup event), so one choice counts once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription_choices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub app: String,
    pub template_id: String,
    pub status: String,
    /// `app` or `event`.
    pub source: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
