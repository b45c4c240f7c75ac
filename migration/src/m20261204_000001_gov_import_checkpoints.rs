//! Where a bulk import of a government-data extract (`yueju import-gov-records FILE`) stands:
//! one row per file, keyed by the SHA-256 of its content, moved in the same transaction as
//! each batch it writes, so a stopped import resumes after the last batch written and never
//! writes a line twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GovImportCheckpoints {
    Table,
    FileSha256,
    FileName,
    FileBytes,
    ByteOffset,
    LinesDone,
    RecordsImported,
    RecordsRefused,
    LinesRefused,
    RefusedBytes,
    StartedAt,
    UpdatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GovImportCheckpoints::Table)
                    .col(string(GovImportCheckpoints::FileSha256).primary_key())
                    .col(string(GovImportCheckpoints::FileName))
                    .col(big_integer(GovImportCheckpoints::FileBytes))
                    .col(big_integer(GovImportCheckpoints::ByteOffset))
                    .col(big_integer(GovImportCheckpoints::LinesDone))
                    .col(big_integer(GovImportCheckpoints::RecordsImported))
                    .col(big_integer(GovImportCheckpoints::RecordsRefused))
                    .col(big_integer(GovImportCheckpoints::LinesRefused))
                    .col(big_integer(GovImportCheckpoints::RefusedBytes))
                    .col(timestamp_with_time_zone(GovImportCheckpoints::StartedAt))
                    .col(timestamp_with_time_zone(GovImportCheckpoints::UpdatedAt))
                    .col(timestamp_with_time_zone_null(
                        GovImportCheckpoints::FinishedAt,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GovImportCheckpoints::Table).to_owned())
            .await
    }
}
