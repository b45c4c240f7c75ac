//! Schema migrations, one file each, listed in order. Every `up` has a real `down`.
//! They run at start-up (`service::db::connect_and_migrate`) and through the CLI
//! (`cargo run -p migration -- up|down|status|fresh`).

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_identity_tables;
mod m20261125_000002_create_gov_record_tables;
mod m20261125_000003_create_application_tables;
mod m20261125_000004_create_agency_tables;
mod m20261125_000006_create_retention_tables;
mod m20261125_000007_create_bot_tables;
mod m20261125_000008_index_residence_since;
mod m20261130_000001_subscriptions;
mod m20261130_000002_face_verification;
mod m20261130_000003_login_failures;
mod m20261201_000001_current_version;
mod m20261201_000002_status_lists;
mod m20261201_000003_chat_links;
mod m20261202_000001_registration_end;
mod m20261202_000005_card_payments;
mod m20261203_000001_proof_grants;
mod m20261203_000002_permit_suspension;
mod m20261204_000001_gov_import_checkpoints;
mod m20261204_000002_dashboard_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_identity_tables::Migration),
            Box::new(m20261125_000002_create_gov_record_tables::Migration),
            Box::new(m20261125_000003_create_application_tables::Migration),
            Box::new(m20261125_000004_create_agency_tables::Migration),
            Box::new(m20261125_000006_create_retention_tables::Migration),
            Box::new(m20261125_000007_create_bot_tables::Migration),
            Box::new(m20261125_000008_index_residence_since::Migration),
            Box::new(m20261130_000001_subscriptions::Migration),
            Box::new(m20261130_000002_face_verification::Migration),
            Box::new(m20261130_000003_login_failures::Migration),
            Box::new(m20261201_000001_current_version::Migration),
            Box::new(m20261201_000002_status_lists::Migration),
            Box::new(m20261201_000003_chat_links::Migration),
            Box::new(m20261202_000001_registration_end::Migration),
            Box::new(m20261202_000005_card_payments::Migration),
            Box::new(m20261203_000001_proof_grants::Migration),
            Box::new(m20261203_000002_permit_suspension::Migration),
            Box::new(m20261204_000001_gov_import_checkpoints::Migration),
            Box::new(m20261204_000002_dashboard_indexes::Migration),
        ]
    }
}

/// A plain (non-unique) index on one column, as several migrations create them.
pub(crate) async fn index<T: IntoIden + 'static, C: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    col: C,
) -> Result<(), DbErr> {
    manager
        .create_index(Index::create().name(name).table(table).col(col).to_owned())
        .await
}
