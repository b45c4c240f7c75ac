//! An index on the date residence was registered since: the reminder sweep selects residents
//! who have just reached six months by that date. Without it, the planner scans every person
//! (SQLite: `SCAN persons`), so the sweep cost followed all persons, not the residents due.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_gov_residence_since";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(GovResidenceRegistrations::Table)
                    .col(GovResidenceRegistrations::Since)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(GovResidenceRegistrations::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum GovResidenceRegistrations {
    Table,
    Since,
}
