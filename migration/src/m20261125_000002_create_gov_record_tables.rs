//! The embedded government-data source: household registration, residence registration,
//! employment, housing and schooling, each keyed by the blind index of the citizen ID number.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GovPeople::Table)
                    .col(pk_uuid(GovPeople::Id))
                    .col(string_uniq(GovPeople::IdNumberBlind))
                    .col(blob(GovPeople::IdNumberEnc))
                    .col(blob(GovPeople::NameEnc))
                    .col(string(GovPeople::Gender))
                    .col(string(GovPeople::Ethnicity))
                    .col(blob(GovPeople::HukouAddressEnc))
                    .col(string(GovPeople::HukouRegionCode))
                    .col(blob_null(GovPeople::PhotoEnc))
                    .col(string_null(GovPeople::PhotoMime))
                    .col(timestamp_with_time_zone(GovPeople::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GovResidenceRegistrations::Table)
                    .col(pk_uuid(GovResidenceRegistrations::Id))
                    .col(string(GovResidenceRegistrations::IdNumberBlind))
                    .col(string(GovResidenceRegistrations::City))
                    .col(string(GovResidenceRegistrations::District))
                    .col(blob(GovResidenceRegistrations::AddressEnc))
                    .col(date(GovResidenceRegistrations::Since))
                    .col(timestamp_with_time_zone(
                        GovResidenceRegistrations::UpdatedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GovEmployment::Table)
                    .col(pk_uuid(GovEmployment::Id))
                    .col(string(GovEmployment::IdNumberBlind))
                    .col(string(GovEmployment::Employer))
                    .col(string(GovEmployment::City))
                    .col(date(GovEmployment::Since))
                    .col(timestamp_with_time_zone(GovEmployment::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GovHousing::Table)
                    .col(pk_uuid(GovHousing::Id))
                    .col(string(GovHousing::IdNumberBlind))
                    .col(string(GovHousing::City))
                    .col(blob(GovHousing::AddressEnc))
                    .col(string(GovHousing::Kind))
                    .col(date(GovHousing::Since))
                    .col(timestamp_with_time_zone(GovHousing::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GovSchooling::Table)
                    .col(pk_uuid(GovSchooling::Id))
                    .col(string(GovSchooling::IdNumberBlind))
                    .col(string(GovSchooling::School))
                    .col(string(GovSchooling::City))
                    .col(date(GovSchooling::Since))
                    .col(timestamp_with_time_zone(GovSchooling::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, table) in [
            (
                "idx_gov_residence_blind",
                GovResidenceRegistrations::Table.into_iden(),
            ),
            ("idx_gov_employment_blind", GovEmployment::Table.into_iden()),
            ("idx_gov_housing_blind", GovHousing::Table.into_iden()),
            ("idx_gov_schooling_blind", GovSchooling::Table.into_iden()),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(GovPeople::IdNumberBlind)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            GovSchooling::Table.into_iden(),
            GovHousing::Table.into_iden(),
            GovEmployment::Table.into_iden(),
            GovResidenceRegistrations::Table.into_iden(),
            GovPeople::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum GovPeople {
    Table,
    Id,
    IdNumberBlind,
    IdNumberEnc,
    NameEnc,
    Gender,
    Ethnicity,
    HukouAddressEnc,
    HukouRegionCode,
    PhotoEnc,
    PhotoMime,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GovResidenceRegistrations {
    Table,
    Id,
    IdNumberBlind,
    City,
    District,
    AddressEnc,
    Since,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GovEmployment {
    Table,
    Id,
    IdNumberBlind,
    Employer,
    City,
    Since,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GovHousing {
    Table,
    Id,
    IdNumberBlind,
    City,
    AddressEnc,
    Kind,
    Since,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GovSchooling {
    Table,
    Id,
    IdNumberBlind,
    School,
    City,
    Since,
    UpdatedAt,
}
