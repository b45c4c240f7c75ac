//! The permit's date rules, as pure functions of `today`: the dates of a first version, the
//! status (valid, suspended, expired, revoked), the endorsement (签注) window, the
//! endorse-or-renew decision and the dates it gives, and when a reminder is due.
//!
//! Every path that answers "is this permit in force" reads these functions: the holder's
//! screens, online and offline verification, the status list, the reminder sweep and the
//! consent request. SQL only narrows the rows to read; the rules decide each one, so an
//! offline verifier cannot say "valid" where `POST /verify` says "suspended".

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The lengths the regulation sets (configuration; see `config::PermitRules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periods {
    /// Validity of a permit, in years.
    pub validity_years: u32,
    /// Days before the due date from which the yearly endorsement may be made.
    pub endorsement_window_days: u32,
    /// Days before expiry from which the permit may be renewed.
    pub renewal_window_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PermitStatus {
    Valid,
    Suspended,
    Expired,
    Revoked,
}

impl PermitStatus {
    pub const ALL: [PermitStatus; 4] = [
        PermitStatus::Valid,
        PermitStatus::Suspended,
        PermitStatus::Expired,
        PermitStatus::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PermitStatus::Valid => "valid",
            PermitStatus::Suspended => "suspended",
            PermitStatus::Expired => "expired",
            PermitStatus::Revoked => "revoked",
        }
    }
}

/// What a permit's status depends on: its current version's dates and whether staff revoked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusFacts {
    pub revoked: bool,
    pub valid_until: NaiveDate,
    pub endorsement_due: NaiveDate,
}

/// The dates of one version. The version row's dates are authoritative: status and
/// reminders read them, the signed document repeats them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dates {
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub endorsement_due: NaiveDate,
    pub continuous_since: NaiveDate,
}

impl Dates {
    pub fn facts(&self, revoked: bool) -> StatusFacts {
        StatusFacts {
            revoked,
            valid_until: self.valid_until,
            endorsement_due: self.endorsement_due,
        }
    }
}

/// `years` anniversaries after `date` (29 February falls on 28 February), or the last date
/// when out of range.
pub fn years_after(date: NaiveDate, years: u32) -> NaiveDate {
    years
        .checked_mul(12)
        .and_then(|months| date.checked_add_months(Months::new(months)))
        .unwrap_or(NaiveDate::MAX)
}

/// `days` days before `date`, or the first date when out of range.
pub fn days_before(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_sub_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

/// `days` days after `date`, or the last date when out of range.
pub fn days_after(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The dates of version 1, issued `today`: valid for the configured years, the first
/// endorsement due a year on (never after the validity ends).
pub fn first_version(today: NaiveDate, continuous_since: NaiveDate, periods: Periods) -> Dates {
    let valid_until = years_after(today, periods.validity_years);
    Dates {
        valid_from: today,
        valid_until,
        endorsement_due: years_after(today, 1).min(valid_until),
        continuous_since,
    }
}

/// Past its last valid day.
pub fn is_expired(valid_until: NaiveDate, today: NaiveDate) -> bool {
    today > valid_until
}

/// An endorsement is still to be made within this validity. When the due date is the last
/// valid day, renewal, not endorsement, comes next.
pub fn endorsement_pending(facts: &StatusFacts) -> bool {
    facts.endorsement_due < facts.valid_until
}

/// The due date has passed without the endorsement: the permit's use is suspended.
pub fn endorsement_missed(facts: &StatusFacts, today: NaiveDate) -> bool {
    today > facts.endorsement_due && endorsement_pending(facts)
}

/// The order in which the facts decide: revoked by staff, then expired, then suspended.
/// Online status and offline verification both go through it.
pub fn status_from(revoked: bool, expired: bool, missed: bool) -> PermitStatus {
    if revoked {
        PermitStatus::Revoked
    } else if expired {
        PermitStatus::Expired
    } else if missed {
        PermitStatus::Suspended
    } else {
        PermitStatus::Valid
    }
}

/// The status from the facts alone, so it is never stored stale.
pub fn status(facts: &StatusFacts, today: NaiveDate) -> PermitStatus {
    status_from(
        facts.revoked,
        is_expired(facts.valid_until, today),
        endorsement_missed(facts, today),
    )
}

/// What a permit's entry in the status lists records: only states an act sets (revocation by
/// staff; an explicit suspension). States that follow from dates are never listed, since the
/// 粤居码 carries the last valid day and the next endorsement date: lists do not change at
/// midnight, and a verifier holding a list reads the same status as `POST /verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListEntry {
    InForce,
    Revoked,
    Suspended,
}

impl ListEntry {
    /// The entry of a permit whose row records these acts: revocation wins over suspension.
    pub fn of(revoked: bool, suspended: bool) -> ListEntry {
        if revoked {
            ListEntry::Revoked
        } else if suspended {
            ListEntry::Suspended
        } else {
            ListEntry::InForce
        }
    }
}

/// The list entry that goes with a permit's stored facts (a suspension by an act aside: see
/// `permit::permits::list_entry`).
pub fn list_entry(facts: &StatusFacts) -> ListEntry {
    ListEntry::of(facts.revoked, false)
}

/// The status from a list entry and the dates a code carries: how `POST /verify` answers an
/// anonymous verifier (entries in memory) and how an offline verifier answers (a list it
/// fetched). Equal to [`status`] for the same facts on the same day.
pub fn status_from_entry(
    entry: ListEntry,
    valid_until: NaiveDate,
    endorsement_due: NaiveDate,
    today: NaiveDate,
) -> PermitStatus {
    let facts = StatusFacts {
        revoked: entry == ListEntry::Revoked,
        valid_until,
        endorsement_due,
    };
    status_from(
        facts.revoked,
        is_expired(valid_until, today),
        endorsement_missed(&facts, today) || entry == ListEntry::Suspended,
    )
}

/// The first day the endorsement due on `due` may be made.
pub fn endorsement_window_opens(due: NaiveDate, periods: Periods) -> NaiveDate {
    days_before(due, periods.endorsement_window_days)
}

/// The first day a permit valid until `valid_until` may be renewed.
pub fn renewal_window_opens(valid_until: NaiveDate, periods: Periods) -> NaiveDate {
    days_before(valid_until, periods.renewal_window_days)
}

/// What the holder's request makes: the yearly endorsement, or the renewal when expiry is near.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Renewal {
    Endorsement,
    Renewal,
}

impl Renewal {
    /// The version kind written for it.
    pub fn kind(self) -> &'static str {
        match self {
            Renewal::Endorsement => "endorsement",
            Renewal::Renewal => "renewal",
        }
    }
}

/// Why neither an endorsement nor a renewal can be made today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotNow {
    Revoked,
    Expired,
    /// Too early: the endorsement window opens on this day.
    NotDue {
        opens_on: NaiveDate,
    },
}

/// Whether the holder may endorse or renew `today`, and which. A suspended permit may be
/// endorsed (late); a revoked or expired one may not.
pub fn endorse_or_renew(
    facts: &StatusFacts,
    today: NaiveDate,
    periods: Periods,
) -> Result<Renewal, NotNow> {
    match status(facts, today) {
        PermitStatus::Revoked => return Err(NotNow::Revoked),
        PermitStatus::Expired => return Err(NotNow::Expired),
        PermitStatus::Valid | PermitStatus::Suspended => {}
    }
    if today >= renewal_window_opens(facts.valid_until, periods) {
        return Ok(Renewal::Renewal);
    }
    let opens_on = endorsement_window_opens(facts.endorsement_due, periods);
    if today < opens_on {
        return Err(NotNow::NotDue { opens_on });
    }
    Ok(Renewal::Endorsement)
}

/// The dates of the version an endorsement or renewal made `today` writes. An endorsement
/// keeps the validity and moves the due date a year on from the old due date, or from today
/// when late; a renewal extends the validity by the configured years. A late one restarts the
/// count of continuous residence.
pub fn next_dates(current: &Dates, step: Renewal, today: NaiveDate, periods: Periods) -> Dates {
    let late = today > current.endorsement_due;
    let continuous_since = if late {
        today
    } else {
        current.continuous_since
    };
    match step {
        Renewal::Endorsement => {
            let base = if late { today } else { current.endorsement_due };
            Dates {
                valid_from: current.valid_from,
                valid_until: current.valid_until,
                endorsement_due: years_after(base, 1).min(current.valid_until),
                continuous_since,
            }
        }
        Renewal::Renewal => {
            let valid_until = years_after(current.valid_until, periods.validity_years);
            Dates {
                valid_from: today,
                valid_until,
                endorsement_due: years_after(current.valid_until, 1).min(valid_until),
                continuous_since,
            }
        }
    }
}

/// The endorsement due date to remind the holder of on `as_of`: while the window is open and
/// the permit in force (after the due date it is suspended, and the holder hears of it then).
pub fn endorsement_reminder(
    facts: &StatusFacts,
    as_of: NaiveDate,
    periods: Periods,
) -> Option<NaiveDate> {
    (endorsement_pending(facts)
        && status(facts, as_of) == PermitStatus::Valid
        && endorsement_window_opens(facts.endorsement_due, periods) <= as_of)
        .then_some(facts.endorsement_due)
}

/// The due dates [`endorsement_reminder`] can answer on `as_of`, first and last: what the
/// sweep selects by (indexed), before the rule decides each row.
pub fn endorsement_reminder_dues(as_of: NaiveDate, periods: Periods) -> (NaiveDate, NaiveDate) {
    (as_of, days_after(as_of, periods.endorsement_window_days))
}

/// An expiry reminder: how many days are left and the threshold reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryReminder {
    pub days_left: i64,
    pub threshold: u32,
}

/// The smallest configured threshold that `days_left` has reached, e.g. 5 days left with
/// thresholds 30, 7, 1 → 7. `None` when expiry is further away than every threshold.
pub fn expiry_threshold(days_left: i64, thresholds: &[u32]) -> Option<u32> {
    thresholds
        .iter()
        .copied()
        .filter(|d| days_left <= i64::from(*d))
        .min()
}

/// The expiry reminder due on `as_of`: a permit not revoked, not yet expired, within the
/// largest threshold of its last valid day (suspended or not: it still expires).
pub fn expiry_reminder(
    facts: &StatusFacts,
    as_of: NaiveDate,
    thresholds: &[u32],
) -> Option<ExpiryReminder> {
    if facts.revoked || is_expired(facts.valid_until, as_of) {
        return None;
    }
    let days_left = (facts.valid_until - as_of).num_days();
    expiry_threshold(days_left, thresholds).map(|threshold| ExpiryReminder {
        days_left,
        threshold,
    })
}

/// The last valid days [`expiry_reminder`] can answer on `as_of`, first and last; `None`
/// without thresholds.
pub fn expiry_reminder_dates(
    as_of: NaiveDate,
    thresholds: &[u32],
) -> Option<(NaiveDate, NaiveDate)> {
    let max = thresholds.iter().copied().max()?;
    Some((as_of, days_after(as_of, max)))
}

#[cfg(test)]
mod tests;
