//! Continuous residence (居住年限) as pure functions of the permit history and a date: the
//! periods of residence per city and the whole years each open one counts.
//!
//! The rules (DESIGN.md, "Rules of the domain"):
//! - a count starts on the day the residence registration in the city began (the first
//!   version's `continuous_since`, taken from the government data when the permit was issued);
//! - an endorsement made late restarts it on the day it was made ([`permit_rules::next_dates`]
//!   writes that day into the new version). The broken period ends on the missed due date, the
//!   last day continuity held; while the endorsement is still missing no count is open, so a
//!   suspended permit proves no years;
//! - a move to another city ends it on the day the residence there began (the next permit's
//!   `continuous_since`);
//! - an ended registration ends it on its last day; so do a revocation and an expiry that was
//!   never renewed (`revoked` and `expired` extend the contract's `ended_by` values).
//!
//! Nothing after `as_of` is known to the count: versions made later are ignored and an end
//! that falls later leaves the period open.

use chrono::NaiveDate;
use serde::Serialize;

use super::permit_rules::{self, Dates, StatusFacts, years_after};

/// One version of a permit, with the day it was made (China's calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionFacts {
    pub made_on: NaiveDate,
    pub dates: Dates,
    /// Made by a change of address: when it restarts the count, a registration had ended and
    /// the new address was registered too late.
    pub address_change: bool,
}

/// One permit's life in one city: its versions in the order made, and the acts that end it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermitHistory {
    pub city: String,
    pub versions: Vec<VersionFacts>,
    pub revoked_on: Option<NaiveDate>,
    /// The last day of the residence registration in the government data, when it ended and
    /// no new address was registered in time.
    pub registration_ended_on: Option<NaiveDate>,
}

/// Why a period of continuous residence ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ResidenceEndedBy)]
pub enum EndedBy {
    LateEndorsement,
    Moved,
    RegistrationEnded,
    Revoked,
    Expired,
}

impl EndedBy {
    pub const ALL: [EndedBy; 5] = [
        EndedBy::LateEndorsement,
        EndedBy::Moved,
        EndedBy::RegistrationEnded,
        EndedBy::Revoked,
        EndedBy::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::LateEndorsement => "late_endorsement",
            EndedBy::Moved => "moved",
            EndedBy::RegistrationEnded => "registration_ended",
            EndedBy::Revoked => "revoked",
            EndedBy::Expired => "expired",
        }
    }
}

/// A period of continuous residence in one city; `to` is its last day, `None` while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = ResidencePeriod)]
pub struct Period {
    pub city: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub ended_by: Option<EndedBy>,
}

/// The count a running period gives on `as_of`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = ContinuousResidence)]
pub struct Continuous {
    pub city: String,
    pub since: NaiveDate,
    pub years: u32,
}

/// Whole years from `since` to `as_of`: the anniversaries passed, 29 February's falling on
/// 28 February as the permit's own dates do ([`years_after`]).
pub fn whole_years(since: NaiveDate, as_of: NaiveDate) -> u32 {
    if as_of < since {
        return 0;
    }
    // At most one year more than the calendar years between: step down to the last reached.
    let mut years = as_of.years_since(since).unwrap_or(0).saturating_add(1);
    while years > 0 && years_after(since, years) > as_of {
        years -= 1;
    }
    years
}

/// The periods of residence known on `as_of`, oldest first. `histories` may come in any order;
/// a permit whose first version was made after `as_of` does not count.
pub fn periods(histories: &[PermitHistory], as_of: NaiveDate) -> Vec<Period> {
    let mut known: Vec<(&PermitHistory, Vec<VersionFacts>)> = histories
        .iter()
        .filter_map(|h| {
            let versions: Vec<VersionFacts> = h
                .versions
                .iter()
                .copied()
                .filter(|v| v.made_on <= as_of)
                .collect();
            (!versions.is_empty()).then_some((h, versions))
        })
        .collect();
    known.sort_by_key(|(_, versions)| versions[0].made_on);
    let mut out = Vec::new();
    for (i, (history, versions)) in known.iter().enumerate() {
        // The residence that began in another city after this permit was issued ends this one.
        let moved_on = known[i + 1..]
            .iter()
            .find(|(next, _)| next.city != history.city)
            .map(|(_, next_versions)| next_versions[0].dates.continuous_since);
        out.extend(permit_periods(history, versions, moved_on, as_of));
    }
    out
}

fn permit_periods(
    history: &PermitHistory,
    versions: &[VersionFacts],
    moved_on: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Vec<Period> {
    let mut out = Vec::new();
    let mut from = versions[0].dates.continuous_since;
    for pair in versions.windows(2) {
        let (before, after) = (pair[0].dates, pair[1].dates);
        if after.continuous_since != from {
            // A late new address: continuity held until the day before it was registered. A
            // late endorsement: until the missed due date.
            let (to, why) = if pair[1].address_change {
                (
                    after.continuous_since.pred_opt().unwrap_or(from),
                    EndedBy::RegistrationEnded,
                )
            } else {
                (before.endorsement_due, EndedBy::LateEndorsement)
            };
            out.push(Period {
                city: history.city.clone(),
                from,
                to: Some(to.max(from)),
                ended_by: Some(why),
            });
            from = after.continuous_since;
        }
    }
    let last = versions[versions.len() - 1].dates;
    let facts = StatusFacts {
        revoked: false,
        valid_until: last.valid_until,
        endorsement_due: last.endorsement_due,
    };
    let ends = [
        history.revoked_on.map(|d| (d, EndedBy::Revoked)),
        history
            .registration_ended_on
            .map(|d| (d, EndedBy::RegistrationEnded)),
        moved_on.map(|d| (d, EndedBy::Moved)),
        permit_rules::is_expired(last.valid_until, as_of)
            .then_some((last.valid_until, EndedBy::Expired)),
        permit_rules::endorsement_missed(&facts, as_of)
            .then_some((last.endorsement_due, EndedBy::LateEndorsement)),
    ];
    // The first end reached on `as_of` closes the period; an end before its start closes it on
    // its first day.
    let end = ends
        .into_iter()
        .flatten()
        .filter(|(day, _)| *day <= as_of)
        .min_by_key(|(day, _)| *day);
    out.push(Period {
        city: history.city.clone(),
        from,
        to: end.map(|(day, _)| day.max(from)),
        ended_by: end.map(|(_, why)| why),
    });
    out
}

/// The running counts on `as_of`, one per city with a period still open.
pub fn continuous(periods: &[Period], as_of: NaiveDate) -> Vec<Continuous> {
    periods
        .iter()
        .filter(|p| p.to.is_none() && p.from <= as_of)
        .map(|p| Continuous {
            city: p.city.clone(),
            since: p.from,
            years: whole_years(p.from, as_of),
        })
        .collect()
}

/// Whether `min_years` of continuous residence in `city` hold on `as_of`: the yes or no a
/// residence proof states.
pub fn holds(histories: &[PermitHistory], city: &str, min_years: u32, as_of: NaiveDate) -> bool {
    continuous(&periods(histories, as_of), as_of)
        .iter()
        .any(|c| c.city == city && c.years >= min_years)
}

#[cfg(test)]
mod tests;
