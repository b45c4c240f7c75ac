//! The staff dashboard counts rows of a window of days: applications by the day filed and
//! notices by the day sent, each read from an index on that timestamp (decisions and the
//! access log have theirs already).

use sea_orm_migration::prelude::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Applications {
    Table,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(
            manager,
            "idx_applications_created_at",
            Applications::Table,
            Applications::CreatedAt,
        )
        .await?;
        index(manager, "idx_outbox_sent_at", Outbox::Table, Outbox::SentAt).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("idx_outbox_sent_at", Outbox::Table.into_iden()),
            (
                "idx_applications_created_at",
                Applications::Table.into_iden(),
            ),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
