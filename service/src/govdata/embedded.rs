//! The embedded adapter: government records kept in our own tables, sealed at rest and found
//! by the blind index of the ID number.

use async_trait::async_trait;
use entity::{gov_employment, gov_housing, gov_person, gov_residence_registration, gov_schooling};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use std::sync::Arc;

use super::{
    Employment, GovDataSource, Household, Housing, HousingKind, Photo, ResidenceRegistration,
    Schooling,
};
use crate::domain::{Gender, IdNumber};
use crate::error::Result;
use crate::keys::privacy::{Kind, Vault};

pub struct EmbeddedGovData {
    db: DatabaseConnection,
    vault: Arc<Vault>,
}

impl EmbeddedGovData {
    pub fn new(db: DatabaseConnection, vault: Arc<Vault>) -> EmbeddedGovData {
        EmbeddedGovData { db, vault }
    }

    fn blind(&self, id: &IdNumber) -> String {
        self.vault.blind_index(Kind::IdNumber, id.as_str())
    }
}

#[async_trait]
impl GovDataSource for EmbeddedGovData {
    async fn household(&self, id: &IdNumber) -> Result<Option<Household>> {
        let Some(row) = gov_person::Entity::find()
            .filter(gov_person::Column::IdNumberBlind.eq(self.blind(id)))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let photo = match (row.photo_enc, row.photo_mime) {
            (Some(sealed), Some(mime)) => Some(Photo {
                mime,
                bytes: self.vault.open(Kind::Photo, &sealed)?,
            }),
            _ => None,
        };
        Ok(Some(Household {
            name: self.vault.open_string(Kind::Name, &row.name_enc)?,
            gender: Gender::parse(&row.gender).unwrap_or_else(|| id.gender()),
            ethnicity: row.ethnicity,
            hukou_address: self
                .vault
                .open_string(Kind::Address, &row.hukou_address_enc)?,
            hukou_region_code: row.hukou_region_code,
            photo,
        }))
    }

    async fn residence_registrations(&self, id: &IdNumber) -> Result<Vec<ResidenceRegistration>> {
        let rows = gov_residence_registration::Entity::find()
            .filter(gov_residence_registration::Column::IdNumberBlind.eq(self.blind(id)))
            .order_by_asc(gov_residence_registration::Column::Since)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ResidenceRegistration {
                    address: self.vault.open_string(Kind::Address, &r.address_enc)?,
                    city: r.city,
                    district: r.district,
                    since: r.since,
                })
            })
            .collect()
    }

    async fn employment(&self, id: &IdNumber) -> Result<Vec<Employment>> {
        let rows = gov_employment::Entity::find()
            .filter(gov_employment::Column::IdNumberBlind.eq(self.blind(id)))
            .order_by_asc(gov_employment::Column::Since)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Employment {
                employer: r.employer,
                city: r.city,
                since: r.since,
            })
            .collect())
    }

    async fn housing(&self, id: &IdNumber) -> Result<Vec<Housing>> {
        let rows = gov_housing::Entity::find()
            .filter(gov_housing::Column::IdNumberBlind.eq(self.blind(id)))
            .order_by_asc(gov_housing::Column::Since)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Housing {
                    address: self.vault.open_string(Kind::Address, &r.address_enc)?,
                    city: r.city,
                    kind: HousingKind::parse(&r.kind).unwrap_or(HousingKind::Rented),
                    since: r.since,
                })
            })
            .collect()
    }

    async fn schooling(&self, id: &IdNumber) -> Result<Vec<Schooling>> {
        let rows = gov_schooling::Entity::find()
            .filter(gov_schooling::Column::IdNumberBlind.eq(self.blind(id)))
            .order_by_asc(gov_schooling::Column::Since)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Schooling {
                school: r.school,
                city: r.city,
                since: r.since,
            })
            .collect())
    }
}
