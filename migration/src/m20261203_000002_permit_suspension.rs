//! A permit's use suspended by an act (`permits.suspended_at`): today only the daily sweep
//! sets it, when the holder's residence registration ended and no new address was registered
//! in the time allowed; an address change clears it. The status list carries the same act
//! for verifiers. The sweep selects by `registration_ended_on`, hence the index.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_permits_registration_ended_on";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Permits::Table)
                    .add_column(timestamp_with_time_zone_null(Permits::SuspendedAt))
                    .to_owned(),
            )
            .await?;
        crate::index(manager, INDEX, Permits::Table, Permits::RegistrationEndedOn).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Permits::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Permits::Table)
                    .drop_column(Permits::SuspendedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    SuspendedAt,
    RegistrationEndedOn,
}
