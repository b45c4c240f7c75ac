//! Applications and their materials, permits and their signed versions, physical-card
//! orders, the notification outbox, idempotency keys and named counters.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Permits::Table)
                    .col(pk_uuid(Permits::Id))
                    .col(uuid(Permits::PersonId))
                    .col(string_uniq(Permits::PermitNo))
                    .col(string(Permits::CityCode))
                    .col(blob_null(Permits::PhotoEnc))
                    .col(string_null(Permits::PhotoMime))
                    .col(timestamp_with_time_zone_null(Permits::RevokedAt))
                    .col(blob_null(Permits::RevokeReasonEnc))
                    .col(timestamp_with_time_zone(Permits::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_permits_person")
                            .from(Permits::Table, Permits::PersonId)
                            .to(Persons::Table, Persons::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_permits_person",
            Permits::Table,
            Permits::PersonId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(PermitVersions::Table)
                    .col(pk_uuid(PermitVersions::Id))
                    .col(uuid(PermitVersions::PermitId))
                    .col(integer(PermitVersions::Version))
                    .col(string(PermitVersions::Kind))
                    .col(string_uniq(PermitVersions::LicenceId))
                    .col(blob(PermitVersions::PayloadEnc))
                    .col(string(PermitVersions::Signature))
                    .col(string(PermitVersions::Kid))
                    .col(date(PermitVersions::ValidFrom))
                    .col(date(PermitVersions::ValidUntil))
                    .col(date(PermitVersions::EndorsementDue))
                    .col(date(PermitVersions::ContinuousSince))
                    .col(timestamp_with_time_zone(PermitVersions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_permit_versions_permit")
                            .from(PermitVersions::Table, PermitVersions::PermitId)
                            .to(Permits::Table, Permits::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_permit_versions_permit_version")
                    .table(PermitVersions::Table)
                    .col(PermitVersions::PermitId)
                    .col(PermitVersions::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Reminder sweeps select by these dates.
        index(
            manager,
            "idx_permit_versions_due",
            PermitVersions::Table,
            PermitVersions::EndorsementDue,
        )
        .await?;
        index(
            manager,
            "idx_permit_versions_until",
            PermitVersions::Table,
            PermitVersions::ValidUntil,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Applications::Table)
                    .col(pk_uuid(Applications::Id))
                    .col(uuid(Applications::PersonId))
                    .col(uuid(Applications::AccountId))
                    .col(string(Applications::Status))
                    // Equal to person_id while the application is open, else NULL: the unique
                    // index then allows one open application per person on every database.
                    .col(uuid_null(Applications::OpenForPerson).unique_key())
                    .col(string(Applications::CityCode))
                    .col(string(Applications::City))
                    .col(string(Applications::DistrictCode))
                    .col(string(Applications::District))
                    .col(blob(Applications::AddressEnc))
                    .col(date(Applications::ResidenceSince))
                    .col(string(Applications::Basis))
                    .col(string(Applications::Missing))
                    .col(string(Applications::Reasons))
                    .col(blob_null(Applications::ReviewNoteEnc))
                    .col(uuid_null(Applications::PermitId))
                    .col(uuid_null(Applications::DecidedBy))
                    .col(timestamp_with_time_zone_null(Applications::DecidedAt))
                    .col(timestamp_with_time_zone(Applications::CreatedAt))
                    .col(timestamp_with_time_zone(Applications::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_applications_person")
                            .from(Applications::Table, Applications::PersonId)
                            .to(Persons::Table, Persons::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_applications_person",
            Applications::Table,
            Applications::PersonId,
        )
        .await?;
        index(
            manager,
            "idx_applications_status",
            Applications::Table,
            Applications::Status,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Materials::Table)
                    .col(pk_uuid(Materials::Id))
                    .col(uuid(Materials::ApplicationId))
                    .col(string(Materials::Kind))
                    .col(string(Materials::Mime))
                    .col(big_integer(Materials::SizeBytes))
                    .col(string(Materials::Sha256))
                    .col(string(Materials::StoredPath))
                    .col(timestamp_with_time_zone(Materials::CreatedAt))
                    .col(timestamp_with_time_zone_null(Materials::PurgedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_materials_application")
                            .from(Materials::Table, Materials::ApplicationId)
                            .to(Applications::Table, Applications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_materials_application",
            Materials::Table,
            Materials::ApplicationId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(CardOrders::Table)
                    .col(pk_uuid(CardOrders::Id))
                    .col(uuid(CardOrders::PersonId))
                    .col(uuid(CardOrders::PermitId))
                    .col(uuid_null(CardOrders::OpenForPerson).unique_key())
                    .col(string(CardOrders::PickupStation))
                    .col(big_integer(CardOrders::FeeCents))
                    .col(string(CardOrders::Status))
                    .col(timestamp_with_time_zone(CardOrders::CreatedAt))
                    .col(timestamp_with_time_zone(CardOrders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_card_orders_permit")
                            .from(CardOrders::Table, CardOrders::PermitId)
                            .to(Permits::Table, Permits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_card_orders_person",
            CardOrders::Table,
            CardOrders::PersonId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_uuid(Outbox::Id))
                    .col(uuid_null(Outbox::PersonId))
                    .col(string(Outbox::Kind))
                    .col(blob(Outbox::PayloadEnc))
                    .col(string_uniq(Outbox::DedupeKey))
                    .col(string(Outbox::Status))
                    .col(integer(Outbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::LockedUntil))
                    .col(string_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(string(IdempotencyKeys::Scope))
                    .col(string(IdempotencyKeys::Key))
                    .col(string(IdempotencyKeys::RequestHash))
                    .col(blob(IdempotencyKeys::ResponseEnc))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Scope)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Counters::Table)
                    .col(string(Counters::Name).primary_key())
                    .col(big_integer(Counters::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Counters::Table.into_iden(),
            IdempotencyKeys::Table.into_iden(),
            Outbox::Table.into_iden(),
            CardOrders::Table.into_iden(),
            Materials::Table.into_iden(),
            Applications::Table.into_iden(),
            PermitVersions::Table.into_iden(),
            Permits::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    Id,
    PersonId,
    PermitNo,
    CityCode,
    PhotoEnc,
    PhotoMime,
    RevokedAt,
    RevokeReasonEnc,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PermitVersions {
    Table,
    Id,
    PermitId,
    Version,
    Kind,
    LicenceId,
    PayloadEnc,
    Signature,
    Kid,
    ValidFrom,
    ValidUntil,
    EndorsementDue,
    ContinuousSince,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    PersonId,
    AccountId,
    Status,
    OpenForPerson,
    CityCode,
    City,
    DistrictCode,
    District,
    AddressEnc,
    ResidenceSince,
    Basis,
    Missing,
    Reasons,
    ReviewNoteEnc,
    PermitId,
    DecidedBy,
    DecidedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Materials {
    Table,
    Id,
    ApplicationId,
    Kind,
    Mime,
    SizeBytes,
    Sha256,
    StoredPath,
    CreatedAt,
    PurgedAt,
}

#[derive(DeriveIden)]
enum CardOrders {
    Table,
    Id,
    PersonId,
    PermitId,
    OpenForPerson,
    PickupStation,
    FeeCents,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    PersonId,
    Kind,
    PayloadEnc,
    DedupeKey,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Scope,
    Key,
    RequestHash,
    ResponseEnc,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Counters {
    Table,
    Name,
    Value,
}
