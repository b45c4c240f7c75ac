//! Subscribe messages (订阅消息): what each person accepted per mini-program and template
//! (one-time credits or a long-term subscription), the choices of the last minute (so the
//! mini-program's post and the platform's popup event of one choice count once), when each
//! chat user last wrote (customer messages reach only those who wrote in the last 48 hours),
//! and which channel carried each notice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Subscriptions::Table)
                    .col(pk_uuid(Subscriptions::Id))
                    .col(uuid(Subscriptions::PersonId))
                    .col(string(Subscriptions::App))
                    .col(string(Subscriptions::TemplateId))
                    .col(string(Subscriptions::Kind))
                    .col(string(Subscriptions::Mode))
                    .col(integer(Subscriptions::Credits).default(0))
                    .col(string(Subscriptions::Status))
                    .col(string(Subscriptions::Openid))
                    .col(timestamp_with_time_zone(Subscriptions::UpdatedAt))
                    .check(Expr::col(Subscriptions::Credits).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_subscriptions_person")
                            .from(Subscriptions::Table, Subscriptions::PersonId)
                            .to(Persons::Table, Persons::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_subscriptions_person_app_template")
                    .table(Subscriptions::Table)
                    .col(Subscriptions::PersonId)
                    .col(Subscriptions::App)
                    .col(Subscriptions::TemplateId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SubscriptionChoices::Table)
                    .col(pk_uuid(SubscriptionChoices::Id))
                    .col(uuid(SubscriptionChoices::PersonId))
                    .col(string(SubscriptionChoices::App))
                    .col(string(SubscriptionChoices::TemplateId))
                    .col(string(SubscriptionChoices::Status))
                    // `app` (the mini-program's post) or `event` (the platform's popup event).
                    .col(string(SubscriptionChoices::Source))
                    .col(timestamp_with_time_zone(SubscriptionChoices::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_subscription_choices_person")
                            .from(SubscriptionChoices::Table, SubscriptionChoices::PersonId)
                            .to(Persons::Table, Persons::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_subscription_choices_person")
                    .table(SubscriptionChoices::Table)
                    .col(SubscriptionChoices::PersonId)
                    .col(SubscriptionChoices::App)
                    .col(SubscriptionChoices::TemplateId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BotLinks::Table)
                    .add_column(timestamp_with_time_zone_null(BotLinks::LastMessageAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(string_null(Outbox::Channel))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite drops one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::Channel)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BotLinks::Table)
                    .drop_column(BotLinks::LastMessageAt)
                    .to_owned(),
            )
            .await?;
        for table in [
            SubscriptionChoices::Table.into_iden(),
            Subscriptions::Table.into_iden(),
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
enum Subscriptions {
    Table,
    Id,
    PersonId,
    App,
    TemplateId,
    Kind,
    Mode,
    Credits,
    Status,
    Openid,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SubscriptionChoices {
    Table,
    Id,
    PersonId,
    App,
    TemplateId,
    Status,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BotLinks {
    Table,
    LastMessageAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Channel,
}
