use sea_orm::entity::prelude::*;

/// What a person accepted for one subscribe-message template of one mini-program: one-time
/// credits (each accept adds one, each message sent spends one) or a long-term subscription.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    /// `yss` or `yjm`.
    pub app: String,
    pub template_id: String,
    /// The template kind (`endorsement_due`, `expiry`, …).
    pub kind: String,
    /// `one_time` or `long_term`.
    pub mode: String,
    pub credits: i32,
    /// `accept`, `reject` or `ban`: the latest answer.
    pub status: String,
    /// The person's openid in that mini-program: the message goes there.
    pub openid: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::person::Entity",
        from = "Column::PersonId",
        to = "super::person::Column::Id"
    )]
    Person,
}

impl Related<super::person::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Person.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
