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
    /// The application, with a draft id that makes its submission idempotent. `ahead` holds
    /// answers given before their question was asked (a whole sentence at once, or the rest
    /// of the form while one answer is corrected).
    Apply {
        draft: Uuid,
        step: ApplyStep,
        #[serde(default, skip_serializing_if = "Draft::is_empty")]
        ahead: Draft,
    },
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

/// Answers of the application, any of them still missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Draft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

impl Draft {
    pub fn is_empty(&self) -> bool {
        *self == Draft::default()
    }

    /// The answers a step holds.
    pub fn of(step: &ApplyStep) -> Draft {
        let mut d = Draft::default();
        match step {
            ApplyStep::City => {}
            ApplyStep::District { city } => d.city = Some(city.clone()),
            ApplyStep::Address { city, district } => {
                d.city = Some(city.clone());
                d.district = Some(district.clone());
            }
            ApplyStep::Since {
                city,
                district,
                address,
            } => {
                d.city = Some(city.clone());
                d.district = Some(district.clone());
                d.address = Some(address.clone());
            }
            ApplyStep::Basis {
                city,
                district,
                address,
                since,
            } => {
                d.city = Some(city.clone());
                d.district = Some(district.clone());
                d.address = Some(address.clone());
                d.since = Some(*since);
            }
            ApplyStep::Name { form }
            | ApplyStep::IdNumber { form, .. }
            | ApplyStep::Confirm { form } => {
                d.city = Some(form.city.clone());
                d.district = Some(form.district.clone());
                d.address = Some(form.address.clone());
                d.since = Some(form.since);
                d.basis = Some(form.basis.clone());
            }
        }
        d
    }

    /// The answers of `self`, with those of `other` where `self` has none.
    pub fn or(self, other: Draft) -> Draft {
        Draft {
            city: self.city.or(other.city),
            district: self.district.or(other.district),
            address: self.address.or(other.address),
            since: self.since.or(other.since),
            basis: self.basis.or(other.basis),
        }
    }

    /// The first question still open, and the answers given ahead of it; a complete form
    /// when nothing is missing.
    pub fn next(self) -> Next {
        let Draft {
            city,
            district,
            address,
            since,
            basis,
        } = self;
        let later = |address, since, basis| Draft {
            city: None,
            district: None,
            address,
            since,
            basis,
        };
        let Some(city) = city else {
            return Next::Ask(ApplyStep::City, later(address, since, basis));
        };
        let Some(district) = district else {
            return Next::Ask(ApplyStep::District { city }, later(address, since, basis));
        };
        let Some(address) = address else {
            return Next::Ask(
                ApplyStep::Address { city, district },
                later(None, since, basis),
            );
        };
        let Some(since) = since else {
            return Next::Ask(
                ApplyStep::Since {
                    city,
                    district,
                    address,
                },
                later(None, None, basis),
            );
        };
        let Some(basis) = basis else {
            return Next::Ask(
                ApplyStep::Basis {
                    city,
                    district,
                    address,
                    since,
                },
                Draft::default(),
            );
        };
        Next::Complete(Form {
            city,
            district,
            address,
            since,
            basis,
        })
    }
}

/// What a draft needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// This question, with the answers already given for later ones.
    Ask(ApplyStep, Draft),
    Complete(Form),
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
