//! The dialogue: an enum whose variants carry what has been collected so far, so a state
//! that cannot exist cannot be written down. Stored sealed (it may hold an address or a
//! name) as JSON; see [`crate::store`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// The main menu: nothing in progress.
    #[default]
    Idle,
    /// General eligibility questions; nothing personal is asked.
    Quiz { step: Quiz },
    /// The application, with a draft id that makes its submission idempotent.
    Apply { draft: Uuid, step: ApplyStep },
    /// Waiting for the resident to confirm the yearly endorsement.
    EndorseConfirm,
    /// The reminder-settings menu.
    Reminders,
    /// Waiting for an e-mail address for reminders.
    ReminderEmail,
    /// Changing the permit's address within its city.
    ChangeAddress { step: ChangeStep },
}

/// Where an address change stands: each step holds the answers given before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ask", rename_all = "snake_case")]
pub enum ChangeStep {
    /// Where the holder lives now: a district of the permit's city, or another city.
    Place {
        permit_city: String,
    },
    District {
        city: String,
    },
    Address {
        city: String,
        district: String,
    },
    Since {
        city: String,
        district: String,
        address: String,
    },
    Confirm {
        city: String,
        district: String,
        address: String,
        since: NaiveDate,
    },
}

impl ChangeStep {
    /// The step before this one; `None` leaves the change.
    pub fn back(self) -> Option<ChangeStep> {
        Some(match self {
            ChangeStep::Place { .. } => return None,
            ChangeStep::District { city } => ChangeStep::Place { permit_city: city },
            ChangeStep::Address { city, .. } => ChangeStep::District { city },
            ChangeStep::Since { city, district, .. } => ChangeStep::Address { city, district },
            ChangeStep::Confirm {
                city,
                district,
                address,
                ..
            } => ChangeStep::Since {
                city,
                district,
                address,
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ask", rename_all = "snake_case")]
pub enum Quiz {
    City,
    Hukou { city: String },
    Stay { city: String },
    Basis { city: String },
}

/// Where the application stands: each step holds the answers given before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ask", rename_all = "snake_case")]
pub enum ApplyStep {
    City,
    District {
        city: String,
    },
    Address {
        city: String,
        district: String,
    },
    Since {
        city: String,
        district: String,
        address: String,
    },
    Basis {
        city: String,
        district: String,
        address: String,
        since: NaiveDate,
    },
    /// Identity binding, only when the linked login is not bound yet.
    Name {
        form: Form,
    },
    IdNumber {
        form: Form,
        name: String,
    },
    Confirm {
        form: Form,
    },
}

/// Every answer the application needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    pub city: String,
    pub district: String,
    pub address: String,
    pub since: NaiveDate,
    pub basis: String,
}

impl ApplyStep {
    /// The step before this one; `None` leaves the application.
    pub fn back(self) -> Option<ApplyStep> {
        Some(match self {
            ApplyStep::City => return None,
            ApplyStep::District { .. } => ApplyStep::City,
            ApplyStep::Address { city, .. } => ApplyStep::District { city },
            ApplyStep::Since { city, district, .. } => ApplyStep::Address { city, district },
            ApplyStep::Basis {
                city,
                district,
                address,
                ..
            } => ApplyStep::Since {
                city,
                district,
                address,
            },
            ApplyStep::Name { form } | ApplyStep::Confirm { form } => ApplyStep::Basis {
                city: form.city,
                district: form.district,
                address: form.address,
                since: form.since,
            },
            ApplyStep::IdNumber { form, .. } => ApplyStep::Name { form },
        })
    }
}

impl Quiz {
    pub fn back(self) -> Option<Quiz> {
        Some(match self {
            Quiz::City => return None,
            Quiz::Hukou { .. } => Quiz::City,
            Quiz::Stay { city } => Quiz::Hukou { city },
            Quiz::Basis { city } => Quiz::Stay { city },
        })
    }
}

impl State {
    /// A short name for logs (never the collected values).
    pub fn name(&self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Quiz { .. } => "quiz",
            State::Apply { step, .. } => match step {
                ApplyStep::City => "apply.city",
                ApplyStep::District { .. } => "apply.district",
                ApplyStep::Address { .. } => "apply.address",
                ApplyStep::Since { .. } => "apply.since",
                ApplyStep::Basis { .. } => "apply.basis",
                ApplyStep::Name { .. } => "apply.name",
                ApplyStep::IdNumber { .. } => "apply.id_number",
                ApplyStep::Confirm { .. } => "apply.confirm",
            },
            State::EndorseConfirm => "endorse.confirm",
            State::Reminders => "reminders",
            State::ReminderEmail => "reminders.email",
            State::ChangeAddress { step } => match step {
                ChangeStep::Place { .. } => "address.place",
                ChangeStep::District { .. } => "address.district",
                ChangeStep::Address { .. } => "address.address",
                ChangeStep::Since { .. } => "address.since",
                ChangeStep::Confirm { .. } => "address.confirm",
            },
        }
    }
}
