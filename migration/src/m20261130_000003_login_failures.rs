//! Failed logins counted per (scope, key) in the database, so a lock-out holds across
//! instances: staff logins per username (`staff_user`) and per source address
//! (`staff_source`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(string(LoginFailures::Scope))
                    .col(string(LoginFailures::Key))
                    .col(integer(LoginFailures::FailedAttempts))
                    .col(timestamp_with_time_zone_null(LoginFailures::LockedUntil))
                    .col(timestamp_with_time_zone(LoginFailures::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(LoginFailures::Scope)
                            .col(LoginFailures::Key),
                    )
                    .to_owned(),
            )
            .await?;
        crate::index(
            manager,
            "idx_login_failures_updated",
            LoginFailures::Table,
            LoginFailures::UpdatedAt,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Scope,
    Key,
    FailedAttempts,
    LockedUntil,
    UpdatedAt,
}
