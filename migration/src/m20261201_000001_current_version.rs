//! Each permit points to its current version (`permits.current_version_id`), so that every
//! read of "the current version" is one join by primary key instead of a search for the
//! highest version number. Existing permits point to their highest version.
//!
//! Nullable and without a foreign key: a permit row is inserted before its first version
//! (which refers to it), and the pointer is set in the same transaction; SQLite cannot add a
//! foreign key to an existing table either.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Permits::Table)
                    .add_column(uuid_null(Permits::CurrentVersionId))
                    .to_owned(),
            )
            .await?;
        let highest = Query::select()
            .column((PermitVersions::Table, PermitVersions::Id))
            .from(PermitVersions::Table)
            .and_where(
                Expr::col((PermitVersions::Table, PermitVersions::PermitId))
                    .equals((Permits::Table, Permits::Id)),
            )
            .order_by(
                (PermitVersions::Table, PermitVersions::Version),
                Order::Desc,
            )
            .limit(1)
            .to_owned();
        manager
            .exec_stmt(
                Query::update()
                    .table(Permits::Table)
                    .value(Permits::CurrentVersionId, highest)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Permits::Table)
                    .drop_column(Permits::CurrentVersionId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    Id,
    CurrentVersionId,
}

#[derive(DeriveIden)]
enum PermitVersions {
    Table,
    Id,
    PermitId,
    Version,
}
