//! The card fee's payment notices (缴款书): one per order that costs a fee, created by the
//! province's non-tax payment platform before the order is stored, and marked paid by the
//! platform's signed callback. The notice number is unique: the callback finds its order by it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CardPayments::Table)
                    .col(pk_uuid(CardPayments::OrderId))
                    .col(string_uniq(CardPayments::NoticeNo))
                    .col(big_integer(CardPayments::AmountCents))
                    .col(string(CardPayments::PayUrl))
                    .col(timestamp_with_time_zone(CardPayments::ExpiresAt))
                    .col(timestamp_with_time_zone_null(CardPayments::PaidAt))
                    .col(timestamp_with_time_zone(CardPayments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_card_payments_order")
                            .from(CardPayments::Table, CardPayments::OrderId)
                            .to(CardOrders::Table, CardOrders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The expiry sweep looks for unpaid notices past their expiry.
        crate::index(
            manager,
            "idx_card_payments_expires_at",
            CardPayments::Table,
            CardPayments::ExpiresAt,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CardPayments::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CardPayments {
    Table,
    OrderId,
    NoticeNo,
    AmountCents,
    PayUrl,
    ExpiresAt,
    PaidAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CardOrders {
    Table,
    Id,
}
