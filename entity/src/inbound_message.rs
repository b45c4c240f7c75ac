use sea_orm::entity::prelude::*;

/// A platform message already taken in (by the bot's official-account channel or a
/// mini-program's message push), with the reply it got, so a redelivery is answered with the
/// same reply instead of being handled again.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub message_key: String,
    pub channel: String,
    /// The reply, sealed; None while the first delivery is still being handled.
    pub reply_enc: Option<Vec<u8>>,
    /// `passive` (in the HTTP answer) or `customer` (followed up through the message API).
    pub delivered_by: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
