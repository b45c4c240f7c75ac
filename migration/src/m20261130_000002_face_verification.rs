//! Face verification 2.0: one row per verification started with the platform (`getverifyid`),
//! used at most once to bind; and on each login how strongly its binding was proven
//! (`identity_assurance`: `wx_face` or `gov_data`) and when it was bound. Logins bound before
//! this migration were bound on the government-data match alone: they get `gov_data`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FaceVerifications::Table)
                    .col(pk_uuid(FaceVerifications::Id))
                    .col(uuid(FaceVerifications::AccountId))
                    .col(string(FaceVerifications::App))
                    .col(string(FaceVerifications::Openid))
                    .col(string_uniq(FaceVerifications::OutSeqNo))
                    // SHA-256 of the platform's verify_id: the client presents the id itself.
                    .col(string_uniq(FaceVerifications::VerifyIdHash))
                    .col(string(FaceVerifications::IdNumberBlind))
                    .col(blob(FaceVerifications::IdNumberEnc))
                    .col(blob(FaceVerifications::NameEnc))
                    .col(timestamp_with_time_zone(FaceVerifications::ExpiresAt))
                    .col(timestamp_with_time_zone_null(FaceVerifications::UsedAt))
                    .col(string_null(FaceVerifications::Outcome))
                    .col(integer_null(FaceVerifications::VerifyRet))
                    .col(timestamp_with_time_zone(FaceVerifications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_face_verifications_account")
                            .from(FaceVerifications::Table, FaceVerifications::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        crate::index(
            manager,
            "idx_face_verifications_account",
            FaceVerifications::Table,
            FaceVerifications::AccountId,
        )
        .await?;
        crate::index(
            manager,
            "idx_face_verifications_id_number",
            FaceVerifications::Table,
            FaceVerifications::IdNumberBlind,
        )
        .await?;
        crate::index(
            manager,
            "idx_face_verifications_expires",
            FaceVerifications::Table,
            FaceVerifications::ExpiresAt,
        )
        .await?;
        // SQLite takes one change per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(string_null(Accounts::IdentityAssurance))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(timestamp_with_time_zone_null(Accounts::IdentityBoundAt))
                    .to_owned(),
            )
            .await?;
        let bound_at = Query::select()
            .column((Persons::Table, Persons::CreatedAt))
            .from(Persons::Table)
            .and_where(
                Expr::col((Persons::Table, Persons::Id))
                    .equals((Accounts::Table, Accounts::PersonId)),
            )
            .to_owned();
        manager
            .exec_stmt(
                Query::update()
                    .table(Accounts::Table)
                    .value(Accounts::IdentityAssurance, "gov_data")
                    .value(Accounts::IdentityBoundAt, bound_at)
                    .and_where(Expr::col(Accounts::PersonId).is_not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Accounts::IdentityBoundAt, Accounts::IdentityAssurance] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Accounts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(FaceVerifications::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    PersonId,
    IdentityAssurance,
    IdentityBoundAt,
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FaceVerifications {
    Table,
    Id,
    AccountId,
    App,
    Openid,
    OutSeqNo,
    VerifyIdHash,
    IdNumberBlind,
    IdNumberEnc,
    NameEnc,
    ExpiresAt,
    UsedAt,
    Outcome,
    VerifyRet,
    CreatedAt,
}
