//! The government-data port: household registration (户籍), residence registration (居住登记),
//! employment / social insurance, housing and school enrolment, looked up by citizen ID number.
//!
//! Two adapters: [`EmbeddedGovData`] reads tables in our own database (filled through the
//! staff API, [`import`]), and [`HttpGovData`] asks the government data exchange over HTTP.

mod embedded;
mod http;
pub mod import;

pub use embedded::EmbeddedGovData;
pub use http::HttpGovData;

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::domain::{Gender, IdNumber};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub mime: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household {
    pub name: String,
    pub gender: Gender,
    pub ethnicity: String,
    pub hukou_address: String,
    /// The household region; the ID number's first six digits unless the record says otherwise.
    pub hukou_region_code: String,
    pub photo: Option<Photo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidenceRegistration {
    pub city: String,
    pub district: String,
    pub address: String,
    pub since: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employment {
    pub employer: String,
    pub city: String,
    pub since: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HousingKind {
    Owned,
    Rented,
}

impl HousingKind {
    pub fn parse(s: &str) -> Option<HousingKind> {
        match s {
            "owned" => Some(HousingKind::Owned),
            "rented" => Some(HousingKind::Rented),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HousingKind::Owned => "owned",
            HousingKind::Rented => "rented",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Housing {
    pub city: String,
    pub address: String,
    pub kind: HousingKind,
    pub since: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schooling {
    pub school: String,
    pub city: String,
    pub since: NaiveDate,
}

/// A source of government records. Errors of a remote source surface as
/// `Refusal::GovDataUnavailable`; a person with no record is `None` or an empty list.
#[async_trait]
pub trait GovDataSource: Send + Sync {
    async fn household(&self, id: &IdNumber) -> Result<Option<Household>>;
    async fn residence_registrations(&self, id: &IdNumber) -> Result<Vec<ResidenceRegistration>>;
    async fn employment(&self, id: &IdNumber) -> Result<Vec<Employment>>;
    async fn housing(&self, id: &IdNumber) -> Result<Vec<Housing>>;
    async fn schooling(&self, id: &IdNumber) -> Result<Vec<Schooling>>;
}

/// Everything the sources hold about one person, fetched together.
#[derive(Debug, Clone, Default)]
pub struct Dossier {
    pub household: Option<Household>,
    pub registrations: Vec<ResidenceRegistration>,
    pub employment: Vec<Employment>,
    pub housing: Vec<Housing>,
    pub schooling: Vec<Schooling>,
}

pub async fn fetch_dossier(source: &dyn GovDataSource, id: &IdNumber) -> Result<Dossier> {
    let (household, registrations, employment, housing, schooling) = tokio::try_join!(
        source.household(id),
        source.residence_registrations(id),
        source.employment(id),
        source.housing(id),
        source.schooling(id),
    )?;
    Ok(Dossier {
        household,
        registrations,
        employment,
        housing,
        schooling,
    })
}
