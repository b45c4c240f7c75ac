//! The bot's tables: dialogue states per chat user, links of chat users to logins, one-time
//! binding codes, and inbound platform messages already answered (redelivery dedupe).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BotDialogues::Table)
                    .col(string(BotDialogues::Channel))
                    .col(string(BotDialogues::ChannelUser))
                    // The state enum as JSON, sealed: it may carry an address or a name.
                    .col(blob(BotDialogues::StateEnc))
                    .col(integer(BotDialogues::Version))
                    .col(integer(BotDialogues::CodeFailures).default(0))
                    .col(timestamp_with_time_zone_null(
                        BotDialogues::CodesLockedUntil,
                    ))
                    .col(timestamp_with_time_zone(BotDialogues::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(BotDialogues::Channel)
                            .col(BotDialogues::ChannelUser),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BotLinks::Table)
                    .col(pk_uuid(BotLinks::Id))
                    .col(string(BotLinks::Channel))
                    .col(string(BotLinks::ChannelUser))
                    .col(uuid(BotLinks::AccountId))
                    .col(string(BotLinks::Method))
                    .col(timestamp_with_time_zone(BotLinks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bot_links_account")
                            .from(BotLinks::Table, BotLinks::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_bot_links_chat_user")
                    .table(BotLinks::Table)
                    .col(BotLinks::Channel)
                    .col(BotLinks::ChannelUser)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bot_links_account")
                    .table(BotLinks::Table)
                    .col(BotLinks::AccountId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BotBindingCodes::Table)
                    .col(string(BotBindingCodes::CodeHash).primary_key())
                    .col(uuid(BotBindingCodes::AccountId))
                    .col(timestamp_with_time_zone(BotBindingCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(BotBindingCodes::UsedAt))
                    .col(timestamp_with_time_zone(BotBindingCodes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bot_binding_codes_account")
                            .from(BotBindingCodes::Table, BotBindingCodes::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bot_binding_codes_account")
                    .table(BotBindingCodes::Table)
                    .col(BotBindingCodes::AccountId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BotInboundMessages::Table)
                    .col(string(BotInboundMessages::MessageKey).primary_key())
                    .col(string(BotInboundMessages::Channel))
                    .col(blob_null(BotInboundMessages::ReplyEnc))
                    .col(string_null(BotInboundMessages::DeliveredBy))
                    .col(timestamp_with_time_zone(BotInboundMessages::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bot_inbound_messages_created")
                    .table(BotInboundMessages::Table)
                    .col(BotInboundMessages::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BotInboundMessages::Table.into_iden(),
            BotBindingCodes::Table.into_iden(),
            BotLinks::Table.into_iden(),
            BotDialogues::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum BotDialogues {
    Table,
    Channel,
    ChannelUser,
    StateEnc,
    Version,
    CodeFailures,
    CodesLockedUntil,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BotLinks {
    Table,
    Id,
    Channel,
    ChannelUser,
    AccountId,
    Method,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BotBindingCodes {
    Table,
    CodeHash,
    AccountId,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BotInboundMessages {
    Table,
    MessageKey,
    Channel,
    ReplyEnc,
    DeliveredBy,
    CreatedAt,
}
