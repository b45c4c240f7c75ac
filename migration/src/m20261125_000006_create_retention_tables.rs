//! Retention: where each person's access-log chain now starts once its oldest entries have
//! been deleted, and an index that lets the retention job find decided applications by date.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No foreign key to persons, like the access log itself.
        manager
            .create_table(
                Table::create()
                    .table(AccessLogAnchors::Table)
                    .col(pk_uuid(AccessLogAnchors::PersonId))
                    .col(big_integer(AccessLogAnchors::Seq))
                    .col(string(AccessLogAnchors::PrevHash))
                    .col(big_integer(AccessLogAnchors::Removed).default(0))
                    .col(timestamp_with_time_zone(AccessLogAnchors::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_applications_decided_at")
                    .table(Applications::Table)
                    .col(Applications::DecidedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_applications_decided_at")
                    .table(Applications::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AccessLogAnchors::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AccessLogAnchors {
    Table,
    PersonId,
    Seq,
    PrevHash,
    Removed,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    DecidedAt,
}
