//! Who may hold a residence permit, decided on government data (DESIGN.md, rules of the domain).
//!
//! A citizen living in a Guangdong city other than their household-registration city for at
//! least six months, with one basis: lawful stable employment, lawful stable residence, or
//! continuous study. [`assess`] is a pure function: broken rules reject with every reason;
//! conditions the data does not prove become the kinds of material still missing.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::divisions::{self, City};
use crate::govdata::Dossier;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Employment,
    Residence,
    Study,
}

impl Basis {
    pub const ALL: [Basis; 3] = [Basis::Employment, Basis::Residence, Basis::Study];

    pub fn parse(s: &str) -> Option<Basis> {
        match s.trim() {
            "employment" => Some(Basis::Employment),
            "residence" => Some(Basis::Residence),
            "study" => Some(Basis::Study),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Employment => "employment",
            Basis::Residence => "residence",
            Basis::Study => "study",
        }
    }

    /// The material that proves this basis when the data does not.
    pub fn proof(self) -> MaterialKind {
        match self {
            Basis::Employment => MaterialKind::EmploymentProof,
            Basis::Residence => MaterialKind::HousingProof,
            Basis::Study => MaterialKind::StudyProof,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    /// Proof that the stay began six months ago or more (居住证明).
    ResidenceProof,
    /// Labour contract or social-insurance record (就业证明).
    EmploymentProof,
    /// Property certificate or registered rental contract (住所证明).
    HousingProof,
    /// Certificate of enrolment (就读证明).
    StudyProof,
}

impl MaterialKind {
    pub const ALL: [MaterialKind; 4] = [
        MaterialKind::ResidenceProof,
        MaterialKind::EmploymentProof,
        MaterialKind::HousingProof,
        MaterialKind::StudyProof,
    ];

    pub fn parse(s: &str) -> Option<MaterialKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MaterialKind::ResidenceProof => "residence_proof",
            MaterialKind::EmploymentProof => "employment_proof",
            MaterialKind::HousingProof => "housing_proof",
            MaterialKind::StudyProof => "study_proof",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectReason {
    /// No household-registration record for the person.
    NoHouseholdRecord,
    /// The household is registered in the city of residence: not a migrant there.
    HukouSameCity,
    /// The declared stay is shorter than the required months.
    ResidenceTooShort,
    /// A reviewer refused the application.
    ReviewRejected,
}

impl RejectReason {
    pub const ALL: [RejectReason; 4] = [
        RejectReason::NoHouseholdRecord,
        RejectReason::HukouSameCity,
        RejectReason::ResidenceTooShort,
        RejectReason::ReviewRejected,
    ];

    pub fn parse(code: &str) -> Option<RejectReason> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            RejectReason::NoHouseholdRecord => "NO_HOUSEHOLD_RECORD",
            RejectReason::HukouSameCity => "HUKOU_SAME_CITY",
            RejectReason::ResidenceTooShort => "RESIDENCE_TOO_SHORT",
            RejectReason::ReviewRejected => "REVIEW_REJECTED",
        }
    }
}

/// What the applicant declared, already validated against the list of divisions.
#[derive(Debug, Clone)]
pub struct Declared {
    pub city: &'static City,
    pub residence_since: NaiveDate,
    pub basis: Basis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Eligible,
    NeedsMaterials(Vec<MaterialKind>),
    Rejected(Vec<RejectReason>),
}

/// The day on which a stay that began on `since` reaches `months` months.
pub fn months_after(since: NaiveDate, months: u32) -> NaiveDate {
    since
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

fn same_city(record_city: &str, city: &City) -> bool {
    divisions::find_city(record_city).is_some_and(|c| c.code == city.code)
}

pub fn assess(
    declared: &Declared,
    dossier: &Dossier,
    today: NaiveDate,
    residence_months: u32,
) -> Verdict {
    let mut reasons = Vec::new();
    match &dossier.household {
        None => reasons.push(RejectReason::NoHouseholdRecord),
        Some(h) => {
            if divisions::city_of_region_code_by_prefix(&h.hukou_region_code)
                .is_some_and(|c| c.code == declared.city.code)
            {
                reasons.push(RejectReason::HukouSameCity);
            }
        }
    }
    if months_after(declared.residence_since, residence_months) > today {
        reasons.push(RejectReason::ResidenceTooShort);
    }
    if !reasons.is_empty() {
        return Verdict::Rejected(reasons);
    }
    missing_proofs(
        declared.city,
        declared.basis,
        dossier,
        today,
        residence_months,
    )
    .map_or(Verdict::Eligible, Verdict::NeedsMaterials)
}

/// The kinds of material the data does not prove, or `None` when it proves everything.
/// Used at application and again at each endorsement and renewal.
pub fn missing_proofs(
    city: &City,
    basis: Basis,
    dossier: &Dossier,
    today: NaiveDate,
    residence_months: u32,
) -> Option<Vec<MaterialKind>> {
    let mut missing = Vec::new();
    let registered_long_enough = dossier
        .registrations
        .iter()
        .any(|r| same_city(&r.city, city) && months_after(r.since, residence_months) <= today);
    if !registered_long_enough {
        missing.push(MaterialKind::ResidenceProof);
    }
    let basis_proved = match basis {
        Basis::Employment => dossier
            .employment
            .iter()
            .any(|e| same_city(&e.city, city) && e.since <= today),
        Basis::Residence => dossier
            .housing
            .iter()
            .any(|h| same_city(&h.city, city) && h.since <= today),
        Basis::Study => dossier
            .schooling
            .iter()
            .any(|s| same_city(&s.city, city) && s.since <= today),
    };
    if !basis_proved {
        missing.push(basis.proof());
    }
    (!missing.is_empty()).then_some(missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Gender;
    use crate::govdata::{Employment, Household, Housing, ResidenceRegistration, Schooling};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn today() -> NaiveDate {
        d("2026-11-25")
    }

    fn household(region: &str) -> Household {
        Household {
            name: "陈志强".into(),
            gender: Gender::Male,
            ethnicity: "汉族".into(),
            hukou_address: "x".into(),
            hukou_region_code: region.into(),
            photo: None,
        }
    }

    fn guangzhou() -> &'static City {
        divisions::find_city("广州市").unwrap()
    }

    fn declared(since: &str, basis: Basis) -> Declared {
        Declared {
            city: guangzhou(),
            residence_since: d(since),
            basis,
        }
    }

    fn full_dossier() -> Dossier {
        Dossier {
            household: Some(household("440511")),
            registrations: vec![ResidenceRegistration {
                city: "广州市".into(),
                district: "天河区".into(),
                address: "x".into(),
                since: d("2024-01-15"),
            }],
            employment: vec![Employment {
                employer: "e".into(),
                city: "广州".into(),
                since: d("2024-02-01"),
            }],
            housing: vec![Housing {
                city: "广州市".into(),
                address: "x".into(),
                kind: crate::govdata::HousingKind::Rented,
                since: d("2024-01-01"),
            }],
            schooling: vec![Schooling {
                school: "s".into(),
                city: "广州市".into(),
                since: d("2023-09-01"),
            }],
        }
    }

    #[test]
    fn data_that_proves_everything_makes_the_applicant_eligible_for_each_basis() {
        for basis in [Basis::Employment, Basis::Residence, Basis::Study] {
            assert_eq!(
                assess(&declared("2024-01-15", basis), &full_dossier(), today(), 6),
                Verdict::Eligible
            );
        }
    }

    #[test]
    fn a_household_in_the_same_city_is_rejected_even_under_an_old_region_code() {
        let mut dossier = full_dossier();
        // 440102 was 东山区, abolished in 2005 but still in older ID numbers.
        dossier.household = Some(household("440102"));
        assert_eq!(
            assess(
                &declared("2024-01-15", Basis::Employment),
                &dossier,
                today(),
                6
            ),
            Verdict::Rejected(vec![RejectReason::HukouSameCity])
        );
    }

    #[test]
    fn every_broken_rule_is_reported_together() {
        let mut dossier = full_dossier();
        dossier.household = Some(household("440106"));
        assert_eq!(
            assess(
                &declared("2026-09-01", Basis::Employment),
                &dossier,
                today(),
                6
            ),
            Verdict::Rejected(vec![
                RejectReason::HukouSameCity,
                RejectReason::ResidenceTooShort
            ])
        );
        let none = Dossier::default();
        assert_eq!(
            assess(
                &declared("2024-01-01", Basis::Employment),
                &none,
                today(),
                6
            ),
            Verdict::Rejected(vec![RejectReason::NoHouseholdRecord])
        );
    }

    #[test]
    fn six_months_count_to_the_day() {
        assert_eq!(
            assess(
                &declared("2026-05-25", Basis::Employment),
                &full_dossier(),
                today(),
                6
            ),
            Verdict::Eligible
        );
        assert_eq!(
            assess(
                &declared("2026-05-26", Basis::Employment),
                &full_dossier(),
                today(),
                6
            ),
            Verdict::Rejected(vec![RejectReason::ResidenceTooShort])
        );
    }

    #[test]
    fn unproved_conditions_ask_for_exactly_the_missing_materials() {
        let mut dossier = full_dossier();
        dossier.employment.clear();
        dossier.registrations[0].since = d("2026-10-01");
        assert_eq!(
            assess(
                &declared("2024-01-15", Basis::Employment),
                &dossier,
                today(),
                6
            ),
            Verdict::NeedsMaterials(vec![
                MaterialKind::ResidenceProof,
                MaterialKind::EmploymentProof
            ])
        );
        let mut elsewhere = full_dossier();
        elsewhere.housing[0].city = "佛山市".into();
        assert_eq!(
            assess(
                &declared("2024-01-15", Basis::Residence),
                &elsewhere,
                today(),
                6
            ),
            Verdict::NeedsMaterials(vec![MaterialKind::HousingProof])
        );
    }
}
