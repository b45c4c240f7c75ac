use sea_orm::entity::prelude::*;

/// A chat user linked to a login (and through it to the person it is bound to).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub channel: String,
    pub channel_user: String,
    pub account_id: Uuid,
    /// `unionid`, `code` or `dev`.
    pub method: String,
    pub created_at: DateTimeUtc,
    /// When the chat user last wrote (customer messages reach them for 48 hours after).
    pub last_message_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::AccountId",
        to = "super::account::Column::Id"
    )]
    Account,
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
