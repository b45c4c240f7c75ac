//! An ended residence registration: the government data's record gains its last day
//! (`gov_residence_registrations.until`), and the permit remembers the day its holder's
//! registration ended until a new address is registered (`permits.registration_ended_on`):
//! it ends the count of residence years and starts the time left to register again.
//!
//! One column a statement: SQLite alters a table one column at a time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(GovResidenceRegistrations::Table)
                    .add_column(date_null(GovResidenceRegistrations::Until))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Permits::Table)
                    .add_column(date_null(Permits::RegistrationEndedOn))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Permits::Table)
                    .drop_column(Permits::RegistrationEndedOn)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(GovResidenceRegistrations::Table)
                    .drop_column(GovResidenceRegistrations::Until)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    RegistrationEndedOn,
}

#[derive(DeriveIden)]
enum GovResidenceRegistrations {
    Table,
    Until,
}
