//! The stored statuses, as closed sets. Each is a sea-orm active enum over a text column, so
//! the stored strings are exactly the snake_case names below (no migration); the same strings
//! are what the API answers (serde). A stored string outside the set fails to decode as a
//! database error rather than being read as some default.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where an application stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[derive(utoipa::ToSchema)]
pub enum ApplicationStatus {
    /// The data did not prove every condition: the resident uploads materials.
    NeedsMaterials,
    /// Materials are complete; a reviewer decides.
    PendingReview,
    /// Granted: a permit was issued.
    Issued,
    Rejected,
}

/// Where an agency's request for access stands. `Expired` is also how a pending request past
/// its deadline reads, before any sweep stores it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[derive(utoipa::ToSchema)]
pub enum RequestStatus {
    Pending,
    Approved,
    Denied,
    Expired,
}

/// The steps of a physical card order, in order.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[derive(utoipa::ToSchema)]
pub enum CardOrderStatus {
    Ordered,
    Paid,
    Produced,
    Ready,
    Collected,
    /// The payment notice expired unpaid; the holder may order again.
    Cancelled,
}

/// Where a notice in the outbox stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sent,
    Failed,
    /// Nobody to deliver to (no e-mail and no chat link, or the account was closed).
    Undeliverable,
}
