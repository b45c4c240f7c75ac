//! The permit fields an agency may be allowed to see, by stable name.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PermitField {
    Name,
    Gender,
    Ethnicity,
    IdNumber,
    Photo,
    HukouAddress,
    ResidenceAddress,
    IssuingAuthority,
    IssuedOn,
    ValidFrom,
    ValidUntil,
}

impl PermitField {
    pub const ALL: [PermitField; 11] = [
        PermitField::Name,
        PermitField::Gender,
        PermitField::Ethnicity,
        PermitField::IdNumber,
        PermitField::Photo,
        PermitField::HukouAddress,
        PermitField::ResidenceAddress,
        PermitField::IssuingAuthority,
        PermitField::IssuedOn,
        PermitField::ValidFrom,
        PermitField::ValidUntil,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PermitField::Name => "name",
            PermitField::Gender => "gender",
            PermitField::Ethnicity => "ethnicity",
            PermitField::IdNumber => "id_number",
            PermitField::Photo => "photo",
            PermitField::HukouAddress => "hukou_address",
            PermitField::ResidenceAddress => "residence_address",
            PermitField::IssuingAuthority => "issuing_authority",
            PermitField::IssuedOn => "issued_on",
            PermitField::ValidFrom => "valid_from",
            PermitField::ValidUntil => "valid_until",
        }
    }

    /// The field's name on the card and in the consent text.
    pub fn label(self) -> &'static str {
        crate::wording::labels::permit_field(self)
    }

    /// Sensitive personal information under PIPL art. 28 (identity documents, biometrics,
    /// ethnicity, precise whereabouts).
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            PermitField::IdNumber
                | PermitField::Photo
                | PermitField::Ethnicity
                | PermitField::HukouAddress
                | PermitField::ResidenceAddress
        )
    }

    /// Fields an agency with the verify scope sees at verification, without a grant: they say
    /// nothing about the person beyond the permit itself.
    pub fn shown_at_verification(self) -> bool {
        matches!(
            self,
            PermitField::IssuingAuthority | PermitField::IssuedOn | PermitField::ValidFrom
        )
    }

    pub fn parse(s: &str) -> Option<PermitField> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Reads a stored comma-separated list, skipping what is unknown.
pub fn parse_list(list: &str) -> Vec<PermitField> {
    list.split(',')
        .filter_map(|s| PermitField::parse(s.trim()))
        .collect()
}

pub fn join(fields: &[PermitField]) -> String {
    fields
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(",")
}
