//! An address the resident gives, when applying and when moving within the city: a district
//! of the city, the street address as typed, and the day they began to live there. Checked one
//! way everywhere (the bot asks within the same length).

use chrono::NaiveDate;

use crate::domain::divisions::{City, District};
use crate::error::{FieldProblem, Refusal, Result, invalid};

/// The longest street address taken, in characters.
pub const MAX_ADDRESS_CHARS: usize = 120;

/// A checked address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenAddress {
    pub district: &'static District,
    /// Trimmed.
    pub address: String,
    pub since: NaiveDate,
}

/// Checks an address in `city`: a district of it, a street address neither empty nor too
/// long, and a `YYYY-MM-DD` day not after `today` (refusals name that field `since_field`).
pub fn check(
    city: &'static City,
    district: &str,
    address: &str,
    (since_field, since): (&'static str, &str),
    today: NaiveDate,
) -> Result<GivenAddress> {
    let district = city
        .find_district(district)
        .ok_or(Refusal::UnknownDistrict)?;
    let address = address.trim();
    if address.is_empty() {
        return Err(invalid("address", FieldProblem::Empty));
    }
    if address.chars().count() > MAX_ADDRESS_CHARS {
        return Err(invalid("address", FieldProblem::TooLong));
    }
    let since = NaiveDate::parse_from_str(since.trim(), "%Y-%m-%d")
        .map_err(|_| invalid(since_field, FieldProblem::BadFormat))?;
    if since > today {
        return Err(invalid(since_field, FieldProblem::InFuture));
    }
    Ok(GivenAddress {
        district,
        address: address.to_owned(),
        since,
    })
}
