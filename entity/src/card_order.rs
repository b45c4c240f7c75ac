use sea_orm::entity::prelude::*;

use crate::statuses::CardOrderStatus;

/// A voluntary order of a physical card.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "card_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub permit_id: Uuid,
    #[sea_orm(unique)]
    pub open_for_person: Option<Uuid>,
    pub pickup_station: String,
    pub fee_cents: i64,
    pub status: CardOrderStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
