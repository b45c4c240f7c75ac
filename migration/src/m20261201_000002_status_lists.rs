//! Token Status Lists (draft-ietf-oauth-status-list): fixed-size lists of 2-bit entries,
//! each permit at a random place drawn at issue (`status_places`), and the log of state
//! changes (`status_changes`) that lets every instance follow the others within a second.
//!
//! Existing permits get places here: shuffled, then packed densely into lists of 131072
//! entries, revoked ones at state 1. The shuffle is what keeps a place from telling when a
//! permit was issued.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Entries per list at the time of this migration. Fixed here: a migration must keep doing
/// what it did, whatever size later lists are given.
const SIZE: i64 = 131_072;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StatusLists::Table)
                    // Chosen as max + 1 by the allocator, never by a sequence, so that two
                    // instances creating "the next list" at once create one.
                    .col(integer(StatusLists::Id).primary_key())
                    .col(integer(StatusLists::Size))
                    .col(integer(StatusLists::Allocated).default(0))
                    .col(timestamp_with_time_zone(StatusLists::CreatedAt))
                    .check(
                        Expr::col(StatusLists::Size)
                            .gt(0)
                            .and(Expr::col(StatusLists::Allocated).gte(0))
                            .and(
                                Expr::col(StatusLists::Allocated).lte(Expr::col(StatusLists::Size)),
                            ),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StatusPlaces::Table)
                    .col(integer(StatusPlaces::ListId))
                    .col(integer(StatusPlaces::Idx))
                    // NULL once the permit is deleted: the place stays taken (and keeps its
                    // state), since tokens already given out still point at it.
                    .col(uuid_null(StatusPlaces::PermitId).unique_key())
                    .col(small_integer(StatusPlaces::State).default(0))
                    // Two bits per entry.
                    .check(Expr::col(StatusPlaces::State).between(0, 3))
                    .primary_key(
                        Index::create()
                            .col(StatusPlaces::ListId)
                            .col(StatusPlaces::Idx),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_status_places_list")
                            .from(StatusPlaces::Table, StatusPlaces::ListId)
                            .to(StatusLists::Table, StatusLists::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_status_places_permit")
                            .from(StatusPlaces::Table, StatusPlaces::PermitId)
                            .to(Permits::Table, Permits::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // Start-up reads only the entries that are not VALID; they are a few percent.
        manager
            .create_index(
                Index::create()
                    .name("idx_status_places_set")
                    .table(StatusPlaces::Table)
                    .col(StatusPlaces::ListId)
                    .col(StatusPlaces::Idx)
                    .and_where(Expr::col(StatusPlaces::State).ne(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StatusChanges::Table)
                    // AUTOINCREMENT on SQLite: a seq is never reused, even after retention
                    // deleted every row, so followers never mistake a new change for a seen one.
                    .col(big_pk_auto(StatusChanges::Seq))
                    .col(integer(StatusChanges::ListId))
                    .col(integer(StatusChanges::Idx))
                    .col(small_integer(StatusChanges::State))
                    .check(Expr::col(StatusChanges::State).between(0, 3))
                    .col(timestamp_with_time_zone(StatusChanges::ChangedAt))
                    .to_owned(),
            )
            .await?;
        crate::index(
            manager,
            "idx_status_changes_changed_at",
            StatusChanges::Table,
            StatusChanges::ChangedAt,
        )
        .await?;
        backfill(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StatusChanges::Table.into_iden(),
            StatusPlaces::Table.into_iden(),
            StatusLists::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Every existing permit gets a place. The same SQL runs on SQLite (3.25+, window functions)
/// and PostgreSQL.
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let now = match manager.get_database_backend() {
        // sqlx reads this text back as UTC.
        DbBackend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        _ => "CURRENT_TIMESTAMP",
    };
    // The lists first (the places refer to them): as many as the permits fill, each
    // `allocated` with the permits it receives. Numbering by id is enough here: only the
    // count per list matters.
    db.execute_unprepared(&format!(
        "INSERT INTO status_lists (id, size, allocated, created_at) \
         SELECT (rn - 1) / {SIZE} + 1, {SIZE}, COUNT(*), {now} \
         FROM (SELECT ROW_NUMBER() OVER (ORDER BY id) AS rn FROM permits) AS numbered \
         GROUP BY (rn - 1) / {SIZE} + 1"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "INSERT INTO status_places (list_id, idx, permit_id, state) \
         SELECT (rn - 1) / {SIZE} + 1, (rn - 1) % {SIZE}, id, \
                CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END \
         FROM (SELECT id, revoked_at, ROW_NUMBER() OVER (ORDER BY random()) AS rn \
               FROM permits) AS shuffled"
    ))
    .await?;
    Ok(())
}

#[derive(DeriveIden)]
enum StatusLists {
    Table,
    Id,
    Size,
    Allocated,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StatusPlaces {
    Table,
    ListId,
    Idx,
    PermitId,
    State,
}

#[derive(DeriveIden)]
enum StatusChanges {
    Table,
    Seq,
    ListId,
    Idx,
    State,
    ChangedAt,
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    Id,
}
