//! Agencies (用证部门) and their client credentials, the holder's authorization requests and
//! grants, and the holder's access log (a hash chain per person).

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
                    .table(Agencies::Table)
                    .col(pk_uuid(Agencies::Id))
                    .col(string(Agencies::Name))
                    .col(string_uniq(Agencies::CreditCode))
                    .col(string(Agencies::Contact))
                    .col(string(Agencies::Scopes))
                    .col(string(Agencies::Fields))
                    .col(string_uniq(Agencies::ClientId))
                    .col(string(Agencies::SecretHash))
                    .col(integer(Agencies::FailedAttempts).default(0))
                    .col(timestamp_with_time_zone_null(Agencies::LockedUntil))
                    .col(uuid(Agencies::CreatedBy))
                    .col(timestamp_with_time_zone(Agencies::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuthorizationRequests::Table)
                    .col(pk_uuid(AuthorizationRequests::Id))
                    .col(uuid(AuthorizationRequests::AgencyId))
                    .col(uuid(AuthorizationRequests::PersonId))
                    .col(uuid(AuthorizationRequests::PermitId))
                    .col(string(AuthorizationRequests::Purpose))
                    .col(string(AuthorizationRequests::Fields))
                    .col(integer(AuthorizationRequests::Days))
                    .col(integer(AuthorizationRequests::RetentionDays))
                    .col(integer(AuthorizationRequests::MaxDownloads))
                    .col(string(AuthorizationRequests::Status))
                    .col(string(AuthorizationRequests::ConsentVersion))
                    .col(timestamp_with_time_zone(AuthorizationRequests::CreatedAt))
                    .col(timestamp_with_time_zone(AuthorizationRequests::ExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        AuthorizationRequests::DecidedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_authorization_requests_agency")
                            .from(
                                AuthorizationRequests::Table,
                                AuthorizationRequests::AgencyId,
                            )
                            .to(Agencies::Table, Agencies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_authorization_requests_person",
            AuthorizationRequests::Table,
            AuthorizationRequests::PersonId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Authorizations::Table)
                    .col(pk_uuid(Authorizations::Id))
                    .col(uuid_uniq(Authorizations::RequestId))
                    .col(uuid(Authorizations::AgencyId))
                    .col(uuid(Authorizations::PersonId))
                    .col(uuid(Authorizations::PermitId))
                    .col(string(Authorizations::Purpose))
                    .col(string(Authorizations::Fields))
                    .col(integer(Authorizations::RetentionDays))
                    .col(integer(Authorizations::MaxDownloads))
                    .col(integer(Authorizations::Downloads).default(0))
                    .col(string(Authorizations::ConsentVersion))
                    .col(string(Authorizations::ConsentSha256))
                    .col(timestamp_with_time_zone(Authorizations::CreatedAt))
                    .col(timestamp_with_time_zone(Authorizations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Authorizations::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_authorizations_request")
                            .from(Authorizations::Table, Authorizations::RequestId)
                            .to(AuthorizationRequests::Table, AuthorizationRequests::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_authorizations_agency")
                            .from(Authorizations::Table, Authorizations::AgencyId)
                            .to(Agencies::Table, Agencies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_authorizations_person",
            Authorizations::Table,
            Authorizations::PersonId,
        )
        .await?;
        // No foreign key to persons: the log outlives a closed account (kept three years).
        manager
            .create_table(
                Table::create()
                    .table(AccessLog::Table)
                    .col(pk_uuid(AccessLog::Id))
                    .col(uuid(AccessLog::PersonId))
                    .col(big_integer(AccessLog::Seq))
                    .col(timestamp_with_time_zone(AccessLog::At))
                    .col(string(AccessLog::ActorKind))
                    .col(uuid_null(AccessLog::ActorId))
                    .col(string(AccessLog::ActorName))
                    .col(string(AccessLog::Action))
                    .col(string_null(AccessLog::Purpose))
                    .col(text(AccessLog::Detail))
                    .col(string(AccessLog::PrevHash))
                    .col(string(AccessLog::Hash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_access_log_person_seq")
                    .table(AccessLog::Table)
                    .col(AccessLog::PersonId)
                    .col(AccessLog::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_access_log_at",
            AccessLog::Table,
            AccessLog::At,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AccessLog::Table.into_iden(),
            Authorizations::Table.into_iden(),
            AuthorizationRequests::Table.into_iden(),
            Agencies::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
    Name,
    CreditCode,
    Contact,
    Scopes,
    Fields,
    ClientId,
    SecretHash,
    FailedAttempts,
    LockedUntil,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuthorizationRequests {
    Table,
    Id,
    AgencyId,
    PersonId,
    PermitId,
    Purpose,
    Fields,
    Days,
    RetentionDays,
    MaxDownloads,
    Status,
    ConsentVersion,
    CreatedAt,
    ExpiresAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum Authorizations {
    Table,
    Id,
    RequestId,
    AgencyId,
    PersonId,
    PermitId,
    Purpose,
    Fields,
    RetentionDays,
    MaxDownloads,
    Downloads,
    ConsentVersion,
    ConsentSha256,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AccessLog {
    Table,
    Id,
    PersonId,
    Seq,
    At,
    ActorKind,
    ActorId,
    ActorName,
    Action,
    Purpose,
    Detail,
    PrevHash,
    Hash,
}
