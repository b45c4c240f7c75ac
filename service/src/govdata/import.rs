//! Bulk upsert into the embedded government-data source (`POST /api/v1/staff/gov-records`).
//!
//! Each record is validated on its own; the valid ones are written together in one
//! transaction and the invalid ones reported with their list and index. People are upserted
//! by ID number (the whole record is replaced). For the other lists, the records given for a
//! person replace that person's records of the same kind, so a batch can be sent again safely.
//! A residence registration may carry its last day (`until`): a permit holder whose
//! registration ended is told in the import's transaction ([`registrations_replaced`]).

use base64::Engine as _;
use chrono::NaiveDate;
use entity::{gov_employment, gov_housing, gov_person, gov_residence_registration, gov_schooling};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait};
use serde::Deserialize;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::HousingKind;
use crate::Context;
use crate::domain::{Gender, IdNumber, IdNumberError};
use crate::error::Result;
use crate::keys::privacy::Kind;
use crate::permit::registration_end::{Registration, registrations_replaced};
use rows::Rows;

pub mod file;
mod rows;

/// Rows per INSERT/DELETE statement: well under SQLite's and PostgreSQL's parameter limits.
const CHUNK: usize = 300;
pub const MAX_PHOTO_BYTES: usize = 1024 * 1024;
const MAX_TEXT: usize = 200;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(as = GovRecords)]
pub struct Batch {
    #[serde(deserialize_with = "rows")]
    pub people: Vec<PersonIn>,
    #[serde(deserialize_with = "rows")]
    pub residence_registrations: Vec<ResidenceIn>,
    #[serde(deserialize_with = "rows")]
    pub employment: Vec<EmploymentIn>,
    #[serde(deserialize_with = "rows")]
    pub housing: Vec<HousingIn>,
    #[serde(deserialize_with = "rows")]
    pub schooling: Vec<SchoolingIn>,
}

/// Each record is a JSON object: serde's derived structs would also take an array of the
/// fields in order, which the contract does not allow.
fn rows<'de, D, T>(deserializer: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error as _;
    let objects = Vec::<serde_json::Map<String, serde_json::Value>>::deserialize(deserializer)?;
    objects
        .into_iter()
        .map(|o| serde_json::from_value(serde_json::Value::Object(o)).map_err(D::Error::custom))
        .collect()
}

// Serialize (here and below) only for the OpenAPI schema, which shows each field's default.
#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PersonIn {
    pub id_number: Option<String>,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub hukou_address: Option<String>,
    pub hukou_region_code: Option<String>,
    pub photo_base64: Option<String>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ResidenceIn {
    pub id_number: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub address: Option<String>,
    pub since: Option<String>,
    /// The registration's last day, once it ended.
    pub until: Option<String>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EmploymentIn {
    pub id_number: Option<String>,
    pub employer: Option<String>,
    pub city: Option<String>,
    pub since: Option<String>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct HousingIn {
    pub id_number: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub kind: Option<String>,
    pub since: Option<String>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SchoolingIn {
    pub id_number: Option<String>,
    pub school: Option<String>,
    pub city: Option<String>,
    pub since: Option<String>,
}

/// Which list of the batch a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    People,
    ResidenceRegistrations,
    Employment,
    Housing,
    Schooling,
}

impl List {
    pub fn as_str(self) -> &'static str {
        match self {
            List::People => "people",
            List::ResidenceRegistrations => "residence_registrations",
            List::Employment => "employment",
            List::Housing => "housing",
            List::Schooling => "schooling",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    IdNumberInvalid(IdNumberError),
    Missing(&'static str),
    TooLong(&'static str),
    Invalid(&'static str),
    DateInFuture(&'static str),
    GenderMismatch,
    PhotoInvalid,
}

impl Problem {
    /// The stable code of the problem, as the staff endpoint and the importer report it.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::IdNumberInvalid(_) => "ID_NUMBER_INVALID",
            Problem::Missing(_) => "FIELD_MISSING",
            Problem::TooLong(_) => "FIELD_TOO_LONG",
            Problem::Invalid(_) => "FIELD_INVALID",
            Problem::DateInFuture(_) => "DATE_IN_FUTURE",
            Problem::GenderMismatch => "GENDER_MISMATCH",
            Problem::PhotoInvalid => "PHOTO_INVALID",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub list: List,
    pub index: usize,
    pub problem: Problem,
}

#[derive(Debug, Default)]
pub struct Report {
    pub upserted: usize,
    pub errors: Vec<RecordError>,
}

/// Validates and writes one batch in one transaction (`POST /api/v1/staff/gov-records`).
pub async fn import(ctx: &Context, batch: Batch) -> Result<Report> {
    let (prepared, errors) = prepare(ctx, batch)?;
    let txn = ctx.db.begin().await?;
    let upserted = prepared.write(ctx, &txn).await?;
    txn.commit().await?;
    Ok(Report { upserted, errors })
}

/// A batch validated and sealed, not yet written: what [`prepare`] makes of a [`Batch`].
#[derive(Default)]
pub struct Prepared {
    people: BTreeMap<String, gov_person::ActiveModel>,
    residences: Rows<gov_residence_registration::ActiveModel>,
    /// Every registration of the people named, for the permits whose registration ended.
    registrations: BTreeMap<String, Vec<Registration>>,
    employment: Rows<gov_employment::ActiveModel>,
    housing: Rows<gov_housing::ActiveModel>,
    schooling: Rows<gov_schooling::ActiveModel>,
    /// The valid records taken.
    pub records: usize,
}

/// Validates each record of a batch and seals what it holds, so that the writing transaction
/// holds only writes. Answers what is to be written and the records refused.
pub fn prepare(ctx: &Context, batch: Batch) -> Result<(Prepared, Vec<RecordError>)> {
    let now = ctx.clock.now();
    let today = ctx.clock.today();
    let vault = &ctx.vault;
    let mut errors = Vec::new();
    let blind = |id: &IdNumber| vault.blind_index(Kind::IdNumber, id.as_str());

    // Validate and seal first, so that the transaction holds only writes.
    let mut people = BTreeMap::new();
    for (index, p) in batch.people.into_iter().enumerate() {
        match validate_person(&p, today) {
            Ok(v) => {
                let photo_enc = v
                    .photo
                    .as_ref()
                    .map(|(_, bytes)| vault.seal(Kind::Photo, bytes))
                    .transpose()?;
                let model = gov_person::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    id_number_blind: Set(blind(&v.id)),
                    id_number_enc: Set(vault.seal_str(Kind::IdNumber, v.id.as_str())?),
                    name_enc: Set(vault.seal_str(Kind::Name, &v.name)?),
                    gender: Set(v.gender.as_str().into()),
                    ethnicity: Set(v.ethnicity),
                    hukou_address_enc: Set(vault.seal_str(Kind::Address, &v.hukou_address)?),
                    hukou_region_code: Set(v.hukou_region_code),
                    photo_enc: Set(photo_enc),
                    photo_mime: Set(v.photo.map(|(mime, _)| mime.to_owned())),
                    updated_at: Set(now),
                };
                // A person named twice in one batch: the later record wins.
                people.insert(blind(&v.id), model);
            }
            Err(problem) => errors.push(RecordError {
                list: List::People,
                index,
                problem,
            }),
        }
    }

    let mut residences = Rows::default();
    let mut registrations: BTreeMap<String, Vec<Registration>> = BTreeMap::new();
    for (index, r) in batch.residence_registrations.into_iter().enumerate() {
        let result = (|| {
            let id = id_number(&r.id_number, today)?;
            let since = date(&r.since, "since", today)?;
            let until = r
                .until
                .is_some()
                .then(|| date(&r.until, "until", today))
                .transpose()?;
            if until.is_some_and(|until| until < since) {
                return Err(Problem::Invalid("until"));
            }
            Ok((
                blind(&id),
                text(&r.city, "city")?,
                text(&r.district, "district")?,
                text(&r.address, "address")?,
                since,
                until,
            ))
        })();
        match result {
            Ok((b, city, district, address, since, until)) => {
                registrations
                    .entry(b.clone())
                    .or_default()
                    .push(Registration {
                        city: city.clone(),
                        since,
                        until,
                    });
                residences.push(
                    b.clone(),
                    gov_residence_registration::ActiveModel {
                        id: Set(Uuid::new_v4()),
                        id_number_blind: Set(b),
                        city: Set(city),
                        district: Set(district),
                        address_enc: Set(vault.seal_str(Kind::Address, &address)?),
                        since: Set(since),
                        until: Set(until),
                        updated_at: Set(now),
                    },
                )
            }
            Err(problem) => errors.push(RecordError {
                list: List::ResidenceRegistrations,
                index,
                problem,
            }),
        }
    }

    let mut employment = Rows::default();
    for (index, e) in batch.employment.into_iter().enumerate() {
        let result = (|| {
            let id = id_number(&e.id_number, today)?;
            Ok((
                blind(&id),
                text(&e.employer, "employer")?,
                text(&e.city, "city")?,
                date(&e.since, "since", today)?,
            ))
        })();
        match result {
            Ok((b, employer, city, since)) => employment.push(
                b.clone(),
                gov_employment::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    id_number_blind: Set(b),
                    employer: Set(employer),
                    city: Set(city),
                    since: Set(since),
                    updated_at: Set(now),
                },
            ),
            Err(problem) => errors.push(RecordError {
                list: List::Employment,
                index,
                problem,
            }),
        }
    }

    let mut housing = Rows::default();
    for (index, h) in batch.housing.into_iter().enumerate() {
        let result = (|| {
            let id = id_number(&h.id_number, today)?;
            let kind =
                HousingKind::parse(&text(&h.kind, "kind")?).ok_or(Problem::Invalid("kind"))?;
            Ok((
                blind(&id),
                text(&h.city, "city")?,
                text(&h.address, "address")?,
                kind,
                date(&h.since, "since", today)?,
            ))
        })();
        match result {
            Ok((b, city, address, kind, since)) => housing.push(
                b.clone(),
                gov_housing::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    id_number_blind: Set(b),
                    city: Set(city),
                    address_enc: Set(vault.seal_str(Kind::Address, &address)?),
                    kind: Set(kind.as_str().into()),
                    since: Set(since),
                    updated_at: Set(now),
                },
            ),
            Err(problem) => errors.push(RecordError {
                list: List::Housing,
                index,
                problem,
            }),
        }
    }

    let mut schooling = Rows::default();
    for (index, s) in batch.schooling.into_iter().enumerate() {
        let result = (|| {
            let id = id_number(&s.id_number, today)?;
            Ok((
                blind(&id),
                text(&s.school, "school")?,
                text(&s.city, "city")?,
                date(&s.since, "since", today)?,
            ))
        })();
        match result {
            Ok((b, school, city, since)) => schooling.push(
                b.clone(),
                gov_schooling::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    id_number_blind: Set(b),
                    school: Set(school),
                    city: Set(city),
                    since: Set(since),
                    updated_at: Set(now),
                },
            ),
            Err(problem) => errors.push(RecordError {
                list: List::Schooling,
                index,
                problem,
            }),
        }
    }

    let records =
        people.len() + residences.len() + employment.len() + housing.len() + schooling.len();
    Ok((
        Prepared {
            people,
            residences,
            registrations,
            employment,
            housing,
            schooling,
            records,
        },
        errors,
    ))
}

impl Prepared {
    /// Takes in a batch that came after this one: as if it were written after it, its records
    /// replace this one's for the people and kinds it names.
    pub fn absorb(&mut self, later: Prepared) {
        self.people.extend(later.people);
        self.residences.absorb(later.residences);
        self.registrations.extend(later.registrations);
        self.employment.absorb(later.employment);
        self.housing.absorb(later.housing);
        self.schooling.absorb(later.schooling);
        self.records += later.records;
    }

    /// Writes everything in the caller's transaction; answers the rows written.
    pub async fn write<C: ConnectionTrait>(self, ctx: &Context, txn: &C) -> Result<usize> {
        let Prepared {
            people,
            residences,
            registrations,
            employment,
            housing,
            schooling,
            records: _,
        } = self;
        let mut upserted = people.len();
        let mut people: Vec<_> = people.into_values().collect();
        while !people.is_empty() {
            let chunk: Vec<_> = people.drain(..people.len().min(CHUNK)).collect();
            gov_person::Entity::insert_many(chunk)
                .on_conflict(
                    OnConflict::column(gov_person::Column::IdNumberBlind)
                        .update_columns([
                            gov_person::Column::IdNumberEnc,
                            gov_person::Column::NameEnc,
                            gov_person::Column::Gender,
                            gov_person::Column::Ethnicity,
                            gov_person::Column::HukouAddressEnc,
                            gov_person::Column::HukouRegionCode,
                            gov_person::Column::PhotoEnc,
                            gov_person::Column::PhotoMime,
                            gov_person::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
        upserted += residences
            .replace(txn, gov_residence_registration::Column::IdNumberBlind)
            .await?;
        // In the same transaction: the holders whose registration ended are told once it commits.
        registrations_replaced(ctx, txn, &registrations).await?;
        upserted += employment
            .replace(txn, gov_employment::Column::IdNumberBlind)
            .await?;
        upserted += housing
            .replace(txn, gov_housing::Column::IdNumberBlind)
            .await?;
        upserted += schooling
            .replace(txn, gov_schooling::Column::IdNumberBlind)
            .await?;
        Ok(upserted)
    }
}

struct ValidPerson {
    id: IdNumber,
    name: String,
    gender: Gender,
    ethnicity: String,
    hukou_address: String,
    hukou_region_code: String,
    photo: Option<(&'static str, Vec<u8>)>,
}

fn validate_person(p: &PersonIn, today: NaiveDate) -> Result<ValidPerson, Problem> {
    let id = id_number(&p.id_number, today)?;
    let gender = Gender::parse(&text(&p.gender, "gender")?).ok_or(Problem::Invalid("gender"))?;
    if gender != id.gender() {
        return Err(Problem::GenderMismatch);
    }
    let hukou_region_code = match &p.hukou_region_code {
        None => id.region_code().to_owned(),
        Some(code) if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) => code.clone(),
        Some(_) => return Err(Problem::Invalid("hukou_region_code")),
    };
    let photo = match &p.photo_base64 {
        None => None,
        Some(b64) => Some(decode_photo(b64)?),
    };
    Ok(ValidPerson {
        name: text(&p.name, "name")?,
        ethnicity: text(&p.ethnicity, "ethnicity")?,
        hukou_address: text(&p.hukou_address, "hukou_address")?,
        id,
        gender,
        hukou_region_code,
        photo,
    })
}

/// A JPEG or PNG, recognised by its first bytes, at most [`MAX_PHOTO_BYTES`].
fn decode_photo(b64: &str) -> Result<(&'static str, Vec<u8>), Problem> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| Problem::PhotoInvalid)?;
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(Problem::PhotoInvalid);
    }
    let mime = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else {
        return Err(Problem::PhotoInvalid);
    };
    Ok((mime, bytes))
}

fn id_number(value: &Option<String>, today: NaiveDate) -> Result<IdNumber, Problem> {
    let raw = value.as_deref().ok_or(Problem::Missing("id_number"))?;
    IdNumber::parse_at(raw, today).map_err(Problem::IdNumberInvalid)
}

fn text(value: &Option<String>, field: &'static str) -> Result<String, Problem> {
    let v = value.as_deref().map(str::trim).unwrap_or_default();
    if v.is_empty() {
        return Err(Problem::Missing(field));
    }
    if v.chars().count() > MAX_TEXT {
        return Err(Problem::TooLong(field));
    }
    Ok(v.to_owned())
}

fn date(
    value: &Option<String>,
    field: &'static str,
    today: NaiveDate,
) -> Result<NaiveDate, Problem> {
    let raw = text(value, field)?;
    let d = NaiveDate::parse_from_str(&raw, "%Y-%m-%d").map_err(|_| Problem::Invalid(field))?;
    if d > today {
        return Err(Problem::DateInFuture(field));
    }
    Ok(d)
}
