//! The HTTP adapter for the government data exchange.
//!
//! Protocol: `POST {base}/v1/{dataset}` with `{"id_number": "..."}` and, when configured,
//! `Authorization: Bearer {token}`. `household` answers `{"record": {...} | null}`; the other
//! datasets (`residence-registrations`, `employment`, `housing`, `schooling`) answer
//! `{"records": [...]}`, in the field names of `POST /api/v1/staff/gov-records`. The ID number
//! travels in the body, never in a URL that proxies would log.

use anyhow::Context as _;
use async_trait::async_trait;
use base64::Engine as _;
use chrono::NaiveDate;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, de::DeserializeOwned};
use std::time::Duration;

use super::{
    Employment, GovDataSource, Household, Housing, HousingKind, Photo, ResidenceRegistration,
    Schooling,
};
use crate::domain::{Gender, IdNumber};
use crate::error::{Refusal, Result};

pub struct HttpGovData {
    http: reqwest::Client,
    base: String,
    token: Option<SecretString>,
}

#[derive(Deserialize)]
struct One<T> {
    record: Option<T>,
}

#[derive(Deserialize)]
struct Many<T> {
    records: Vec<T>,
}

#[derive(Deserialize)]
struct HouseholdWire {
    name: String,
    gender: Gender,
    ethnicity: String,
    hukou_address: String,
    #[serde(default)]
    hukou_region_code: Option<String>,
    #[serde(default)]
    photo_base64: Option<String>,
    #[serde(default)]
    photo_mime: Option<String>,
}

#[derive(Deserialize)]
struct ResidenceWire {
    city: String,
    district: String,
    address: String,
    since: NaiveDate,
}

#[derive(Deserialize)]
struct EmploymentWire {
    employer: String,
    city: String,
    since: NaiveDate,
}

#[derive(Deserialize)]
struct HousingWire {
    city: String,
    address: String,
    kind: String,
    since: NaiveDate,
}

#[derive(Deserialize)]
struct SchoolingWire {
    school: String,
    city: String,
    since: NaiveDate,
}

impl HttpGovData {
    pub fn new(
        base: &str,
        token: Option<SecretString>,
        timeout: Duration,
    ) -> anyhow::Result<HttpGovData> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent("yueju/0.1")
            .build()
            .context("building the government-data HTTP client")?;
        Ok(HttpGovData {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
        })
    }

    async fn query<T: DeserializeOwned>(&self, dataset: &'static str, id: &IdNumber) -> Result<T> {
        crate::metrics::govdata_call(dataset, self.query_unmeasured(dataset, id)).await
    }

    async fn query_unmeasured<T: DeserializeOwned>(
        &self,
        dataset: &str,
        id: &IdNumber,
    ) -> Result<T> {
        let mut request = self
            .http
            .post(format!("{}/v1/{dataset}", self.base))
            .json(&serde_json::json!({ "id_number": id.as_str() }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose_secret());
        }
        let response = request.send().await.map_err(|e| {
            tracing::warn!(
                dataset,
                timeout = e.is_timeout(),
                "government data exchange unreachable"
            );
            Refusal::GovDataUnavailable
        })?;
        if !response.status().is_success() {
            tracing::warn!(dataset, status = %response.status(), "government data exchange answered an error");
            return Err(Refusal::GovDataUnavailable.into());
        }
        response.json::<T>().await.map_err(|_| {
            tracing::warn!(
                dataset,
                "government data exchange answered an unreadable body"
            );
            Refusal::GovDataUnavailable.into()
        })
    }
}

#[async_trait]
impl GovDataSource for HttpGovData {
    async fn household(&self, id: &IdNumber) -> Result<Option<Household>> {
        let One { record } = self.query::<One<HouseholdWire>>("household", id).await?;
        let Some(w) = record else { return Ok(None) };
        let photo = match (w.photo_base64, w.photo_mime) {
            (Some(b64), Some(mime)) => Some(Photo {
                mime,
                bytes: base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| Refusal::GovDataUnavailable)?,
            }),
            _ => None,
        };
        Ok(Some(Household {
            name: w.name,
            gender: w.gender,
            ethnicity: w.ethnicity,
            hukou_address: w.hukou_address,
            hukou_region_code: w
                .hukou_region_code
                .unwrap_or_else(|| id.region_code().to_owned()),
            photo,
        }))
    }

    async fn residence_registrations(&self, id: &IdNumber) -> Result<Vec<ResidenceRegistration>> {
        let Many { records } = self
            .query::<Many<ResidenceWire>>("residence-registrations", id)
            .await?;
        Ok(records
            .into_iter()
            .map(|w| ResidenceRegistration {
                city: w.city,
                district: w.district,
                address: w.address,
                since: w.since,
            })
            .collect())
    }

    async fn employment(&self, id: &IdNumber) -> Result<Vec<Employment>> {
        let Many { records } = self.query::<Many<EmploymentWire>>("employment", id).await?;
        Ok(records
            .into_iter()
            .map(|w| Employment {
                employer: w.employer,
                city: w.city,
                since: w.since,
            })
            .collect())
    }

    async fn housing(&self, id: &IdNumber) -> Result<Vec<Housing>> {
        let Many { records } = self.query::<Many<HousingWire>>("housing", id).await?;
        records
            .into_iter()
            .map(|w| {
                Ok(Housing {
                    city: w.city,
                    address: w.address,
                    kind: HousingKind::parse(&w.kind).ok_or(Refusal::GovDataUnavailable)?,
                    since: w.since,
                })
            })
            .collect()
    }

    async fn schooling(&self, id: &IdNumber) -> Result<Vec<Schooling>> {
        let Many { records } = self.query::<Many<SchoolingWire>>("schooling", id).await?;
        Ok(records
            .into_iter()
            .map(|w| Schooling {
                school: w.school,
                city: w.city,
                since: w.since,
            })
            .collect())
    }
}
