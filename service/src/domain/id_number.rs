//! The citizen ID number (公民身份号码) of GB 11643-1999.
//!
//! 18 characters: a 6-digit administrative region code, the 8-digit birth date, a 3-digit
//! sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character, 0-9 or X.
//! The region check covers the province-level part (the national list of counties is not
//! shipped); the date must exist on the calendar and not lie in the future.

use chrono::NaiveDate;
use std::fmt;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";
/// Province-level codes of GB/T 2260 (mainland provinces, Taiwan, Hong Kong, Macao).
const PROVINCES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("must be 18 characters")]
    WrongLength,
    #[error("only digits and a final X are allowed")]
    InvalidCharacter,
    #[error("unknown region code")]
    UnknownRegion,
    #[error("birth date does not exist")]
    InvalidBirthDate,
    #[error("birth date lies in the future")]
    BirthDateInFuture,
    #[error("check character does not match")]
    ChecksumMismatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub const ALL: [Gender; 2] = [Gender::Male, Gender::Female];

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }

    pub fn parse(s: &str) -> Option<Gender> {
        match s {
            "male" => Some(Gender::Male),
            "female" => Some(Gender::Female),
            _ => None,
        }
    }
}

impl IdNumber {
    /// Parses a number given by a person: surrounding blanks are ignored and a lower-case
    /// `x` is accepted and normalised to `X`. `today` bounds the birth date.
    pub fn parse_at(input: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
        let s = input.trim().to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(IdNumberError::WrongLength);
        }
        let bytes = s.as_bytes();
        if !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err(IdNumberError::InvalidCharacter);
        }
        if !PROVINCES.contains(&&s[..2]) || &s[2..6] == "0000" {
            return Err(IdNumberError::UnknownRegion);
        }
        let birth = parse_birth_date(&s[6..14]).ok_or(IdNumberError::InvalidBirthDate)?;
        if birth > today {
            return Err(IdNumberError::BirthDateInFuture);
        }
        if check_char(&bytes[..17]) != bytes[17] {
            return Err(IdNumberError::ChecksumMismatch);
        }
        Ok(IdNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        // Validated in parse_at; the fallback is unreachable.
        parse_birth_date(&self.0[6..14]).unwrap_or(NaiveDate::MIN)
    }

    pub fn gender(&self) -> Gender {
        let sequence_last = self.0.as_bytes()[16] - b'0';
        if sequence_last % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// The form shown to people: `4405**********123X`.
    pub fn masked(&self) -> String {
        crate::keys::privacy::mask_id_number(&self.0)
    }
}

/// The MOD 11-2 check character of the first 17 digits.
pub fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn parse_birth_date(yyyymmdd: &str) -> Option<NaiveDate> {
    let year = yyyymmdd.get(..4)?.parse().ok()?;
    let month = yyyymmdd.get(4..6)?.parse().ok()?;
    let day = yyyymmdd.get(6..8)?.parse().ok()?;
    if year < 1900 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

impl AsRef<str> for IdNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Debug never prints the whole number, so that a stray `{:?}` cannot leak it into a log.
impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or(NaiveDate::MIN)
    }

    fn with_check(first17: &str) -> String {
        let c = check_char(first17.as_bytes()) as char;
        format!("{first17}{c}")
    }

    #[test]
    fn a_known_valid_number_parses_with_its_parts() {
        let id = IdNumber::parse_at("440511199003071234", today()).unwrap();
        assert_eq!(id.region_code(), "440511");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1990, 3, 7).unwrap()
        );
        assert_eq!(id.gender(), Gender::Male);
        assert_eq!(id.masked(), "4405**********1234");
    }

    #[test]
    fn lower_case_x_is_accepted_and_normalised() {
        let upper = with_check("11010519491231002");
        assert!(upper.ends_with('X'), "fixture must end in X: {upper}");
        let lower = upper.to_lowercase();
        let id = IdNumber::parse_at(&lower, today()).unwrap();
        assert_eq!(id.as_str(), upper);
    }

    #[test]
    fn each_kind_of_fault_is_named() {
        let t = today();
        assert_eq!(
            IdNumber::parse_at("44051119900307123", t),
            Err(IdNumberError::WrongLength)
        );
        assert_eq!(
            IdNumber::parse_at("4405111990030712A4", t),
            Err(IdNumberError::InvalidCharacter)
        );
        assert_eq!(
            IdNumber::parse_at(&with_check("99051119900307123"), t),
            Err(IdNumberError::UnknownRegion)
        );
        assert_eq!(
            IdNumber::parse_at(&with_check("44051119900230123"), t),
            Err(IdNumberError::InvalidBirthDate)
        );
        assert_eq!(
            IdNumber::parse_at(&with_check("44051120300101123"), t),
            Err(IdNumberError::BirthDateInFuture)
        );
        assert_eq!(
            IdNumber::parse_at("440511199003071235", t),
            Err(IdNumberError::ChecksumMismatch)
        );
    }

    #[test]
    fn debug_output_masks_the_number() {
        let id = IdNumber::parse_at("440511199003071234", today()).unwrap();
        assert!(!format!("{id:?}").contains("199003071"));
    }

    fn valid_parts() -> impl Strategy<Value = String> {
        (
            prop::sample::select(PROVINCES.to_vec()),
            1u32..=9999,
            1900i32..=2026,
            1u32..=12,
            1u32..=28,
            0u32..=999,
        )
            .prop_map(|(prov, rest, y, m, d, seq)| {
                let region = format!("{prov}{:04}", rest);
                let d = if y == 2026 && m >= 11 { d.min(20) } else { d };
                let m = if y == 2026 { m.min(11) } else { m };
                with_check(&format!("{region}{y:04}{m:02}{d:02}{seq:03}"))
            })
    }

    proptest! {
        #[test]
        fn every_generated_valid_number_parses_back_unchanged(s in valid_parts()) {
            let id = IdNumber::parse_at(&s, today()).unwrap();
            prop_assert_eq!(id.as_str(), s.as_str());
        }

        #[test]
        fn changing_any_one_character_is_refused(s in valid_parts(), pos in 0usize..18, repl in prop::sample::select(b"0123456789X".to_vec())) {
            let mut bytes = s.clone().into_bytes();
            prop_assume!(bytes[pos] != repl);
            bytes[pos] = repl;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse_at(&changed, today()).is_err());
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,30}") {
            let _ = IdNumber::parse_at(&s, today());
        }
    }
}
