//! Chat links belong to identity: `bot_links` and `bot_binding_codes` become `chat_links` and
//! `chat_binding_codes` (indexes renamed with them); `bot_inbound_messages`, the dedupe of
//! platform messages that the mini-programs' message push shares with the bot, becomes
//! `inbound_messages`; and the count of wrong binding codes
//! leaves `bot_dialogues` for `login_failures`, as the agencies' count of wrong client secrets
//! leaves `agencies`: every brute-force limit is counted in one place. Counts in flight are
//! not carried over (at worst a guesser gets a fresh run of tries once).
//!
//! SQLite renames tables and drops one column per `ALTER TABLE`, but cannot rename an index,
//! so indexes are dropped and created again under their new names on both databases.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An index that changes name with its table.
struct Renamed {
    old: &'static str,
    new: &'static str,
    unique: bool,
}

const LINK_INDEXES: [Renamed; 2] = [
    Renamed {
        old: "uq_bot_links_chat_user",
        new: "uq_chat_links_chat_user",
        unique: true,
    },
    Renamed {
        old: "idx_bot_links_account",
        new: "idx_chat_links_account",
        unique: false,
    },
];

const CODE_INDEX: Renamed = Renamed {
    old: "idx_bot_binding_codes_account",
    new: "idx_chat_binding_codes_account",
    unique: false,
};

const INBOUND_INDEX: Renamed = Renamed {
    old: "idx_bot_inbound_messages_created",
    new: "idx_inbound_messages_created",
    unique: false,
};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rename_table(manager, BotLinks::Table, ChatLinks::Table).await?;
        rename_table(manager, BotBindingCodes::Table, ChatBindingCodes::Table).await?;
        for index in &LINK_INDEXES {
            replace_link_index(manager, index.old, index.new, ChatLinks::Table, index).await?;
        }
        replace_code_index(
            manager,
            CODE_INDEX.old,
            CODE_INDEX.new,
            ChatBindingCodes::Table,
        )
        .await?;
        rename_table(manager, BotInboundMessages::Table, InboundMessages::Table).await?;
        replace_inbound_index(manager, INBOUND_INDEX.old, INBOUND_INDEX.new).await?;
        drop_column(manager, BotDialogues::Table, BotDialogues::CodeFailures).await?;
        drop_column(manager, BotDialogues::Table, BotDialogues::CodesLockedUntil).await?;
        drop_column(manager, Agencies::Table, Agencies::FailedAttempts).await?;
        drop_column(manager, Agencies::Table, Agencies::LockedUntil).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The failure counts come back empty, as they were for a new row.
        let counts = [
            (
                Agencies::Table.into_iden(),
                integer(Agencies::FailedAttempts).default(0).to_owned(),
                timestamp_with_time_zone_null(Agencies::LockedUntil),
            ),
            (
                BotDialogues::Table.into_iden(),
                integer(BotDialogues::CodeFailures).default(0).to_owned(),
                timestamp_with_time_zone_null(BotDialogues::CodesLockedUntil),
            ),
        ];
        for (table, failures, locked_until) in counts {
            add_column(manager, table.clone(), failures).await?;
            add_column(manager, table, locked_until).await?;
        }
        replace_inbound_index(manager, INBOUND_INDEX.new, INBOUND_INDEX.old).await?;
        rename_table(manager, InboundMessages::Table, BotInboundMessages::Table).await?;
        replace_code_index(
            manager,
            CODE_INDEX.new,
            CODE_INDEX.old,
            ChatBindingCodes::Table,
        )
        .await?;
        for index in &LINK_INDEXES {
            replace_link_index(manager, index.new, index.old, ChatLinks::Table, index).await?;
        }
        rename_table(manager, ChatBindingCodes::Table, BotBindingCodes::Table).await?;
        rename_table(manager, ChatLinks::Table, BotLinks::Table).await
    }
}

async fn rename_table<F: IntoIden + 'static, T: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    from: F,
    to: T,
) -> Result<(), DbErr> {
    manager
        .rename_table(Table::rename().table(from, to).to_owned())
        .await
}

/// Drops index `drop` and creates `create` on the links table (renamed back last in `down`,
/// so the table is `chat_links` in both directions).
async fn replace_link_index(
    manager: &SchemaManager<'_>,
    drop: &str,
    create: &str,
    table: ChatLinks,
    index: &Renamed,
) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(drop).table(table).to_owned())
        .await?;
    let mut new = Index::create();
    new.name(create).table(table);
    if index.unique {
        new.col(ChatLinks::Channel)
            .col(ChatLinks::ChannelUser)
            .unique();
    } else {
        new.col(ChatLinks::AccountId);
    }
    manager.create_index(new.to_owned()).await
}

async fn replace_code_index(
    manager: &SchemaManager<'_>,
    drop: &str,
    create: &str,
    table: ChatBindingCodes,
) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(drop).table(table).to_owned())
        .await?;
    crate::index(manager, create, table, ChatBindingCodes::AccountId).await
}

/// Drops index `drop` and creates `create` on the inbound messages (renamed back after it in
/// `down`, so the table is `inbound_messages` in both directions).
async fn replace_inbound_index(
    manager: &SchemaManager<'_>,
    drop: &str,
    create: &str,
) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(drop)
                .table(InboundMessages::Table)
                .to_owned(),
        )
        .await?;
    crate::index(
        manager,
        create,
        InboundMessages::Table,
        InboundMessages::CreatedAt,
    )
    .await
}

/// One column per `ALTER TABLE`, as SQLite requires.
async fn drop_column<T: IntoIden + 'static, C: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    column: C,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

async fn add_column<T: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    mut column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(&mut column)
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden, Clone, Copy)]
enum BotLinks {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChatLinks {
    Table,
    Channel,
    ChannelUser,
    AccountId,
}

#[derive(DeriveIden, Clone, Copy)]
enum BotBindingCodes {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChatBindingCodes {
    Table,
    AccountId,
}

#[derive(DeriveIden, Clone, Copy)]
enum BotInboundMessages {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum InboundMessages {
    Table,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BotDialogues {
    Table,
    CodeFailures,
    CodesLockedUntil,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    FailedAttempts,
    LockedUntil,
}
