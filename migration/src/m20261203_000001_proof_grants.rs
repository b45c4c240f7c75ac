//! Residence proofs asked through the consent flow: a request (and the grant its approval
//! makes) may ask for a signed yes-or-no statement of residence years instead of permit
//! fields. The statement asked is kept as three nullable columns on each table; all three
//! are null for a request for the annotated copy.
//!
//! One column a statement: SQLite alters a table one column at a time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuthorizationRequests {
    Table,
}

#[derive(DeriveIden)]
enum Authorizations {
    Table,
}

// The variants name the columns, which share their prefix on purpose.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden, Clone, Copy)]
enum ProofColumn {
    ProofCity,
    ProofMinYears,
    ProofAsOf,
}

fn column(col: ProofColumn) -> ColumnDef {
    match col {
        ProofColumn::ProofCity => string_null(col),
        ProofColumn::ProofMinYears => integer_null(col),
        ProofColumn::ProofAsOf => date_null(col),
    }
}

const COLUMNS: [ProofColumn; 3] = [
    ProofColumn::ProofCity,
    ProofColumn::ProofMinYears,
    ProofColumn::ProofAsOf,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuthorizationRequests::Table)
                        .add_column(column(col))
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(Authorizations::Table)
                        .add_column(column(col))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in COLUMNS.into_iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Authorizations::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(AuthorizationRequests::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
