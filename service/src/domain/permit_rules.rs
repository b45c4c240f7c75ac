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

/// The list entry that goes with a permit's stored facts.
pub fn list_entry(facts: &StatusFacts) -> ListEntry {
    if facts.revoked {
        ListEntry::Revoked
    } else {
        ListEntry::InForce
    }
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const PERIODS: Periods = Periods {
        validity_years: 3,
        endorsement_window_days: 30,
        renewal_window_days: 30,
    };

    /// Any day from 2000 to about 2080.
    fn day() -> impl Strategy<Value = NaiveDate> {
        (0i64..30_000).prop_map(|n| d(2000, 1, 1) + chrono::Duration::days(n))
    }

    fn periods() -> impl Strategy<Value = Periods> {
        (1u32..=5, 0u32..=90, 0u32..=90).prop_map(|(y, e, r)| Periods {
            validity_years: y,
            endorsement_window_days: e,
            renewal_window_days: r,
        })
    }

    /// Facts as versions can hold them: the due date never after the last valid day.
    fn facts() -> impl Strategy<Value = StatusFacts> {
        (any::<bool>(), day(), 0i64..2_000).prop_map(|(revoked, due, extra)| StatusFacts {
            revoked,
            valid_until: due + chrono::Duration::days(extra),
            endorsement_due: due,
        })
    }

    /// The dates of a version made by the rules: issued, then endorsed or renewed.
    fn dates() -> impl Strategy<Value = (Dates, Periods)> {
        (day(), periods(), 0i64..400).prop_map(|(issued, periods, since)| {
            let first = first_version(issued, issued - chrono::Duration::days(since), periods);
            (first, periods)
        })
    }

    #[test]
    fn a_permit_is_suspended_the_day_after_its_due_date_and_expired_the_day_after_its_last() {
        let f = StatusFacts {
            revoked: false,
            valid_until: d(2029, 6, 1),
            endorsement_due: d(2027, 6, 1),
        };
        assert_eq!(status(&f, d(2027, 6, 1)), PermitStatus::Valid);
        assert_eq!(status(&f, d(2027, 6, 2)), PermitStatus::Suspended);
        assert_eq!(status(&f, d(2029, 6, 2)), PermitStatus::Expired);
        let revoked = StatusFacts { revoked: true, ..f };
        assert_eq!(status(&revoked, d(2026, 1, 1)), PermitStatus::Revoked);
    }

    #[test]
    fn a_due_date_on_the_last_valid_day_never_suspends() {
        let f = StatusFacts {
            revoked: false,
            valid_until: d(2029, 6, 1),
            endorsement_due: d(2029, 6, 1),
        };
        assert_eq!(status(&f, d(2029, 6, 1)), PermitStatus::Valid);
        assert_eq!(status(&f, d(2029, 6, 2)), PermitStatus::Expired);
    }

    #[test]
    fn version_one_is_valid_three_years_with_the_endorsement_due_after_one() {
        let v = first_version(d(2024, 2, 29), d(2023, 1, 1), PERIODS);
        assert_eq!(v.valid_from, d(2024, 2, 29));
        assert_eq!(v.valid_until, d(2027, 2, 28));
        assert_eq!(v.endorsement_due, d(2025, 2, 28));
        assert_eq!(v.continuous_since, d(2023, 1, 1));
    }

    #[test]
    fn the_endorsement_is_refused_the_day_before_its_window_opens() {
        let f = StatusFacts {
            revoked: false,
            valid_until: d(2029, 6, 1),
            endorsement_due: d(2027, 6, 1),
        };
        let opens_on = d(2027, 5, 2);
        assert_eq!(
            endorse_or_renew(&f, d(2027, 5, 1), PERIODS),
            Err(NotNow::NotDue { opens_on })
        );
        assert_eq!(
            endorse_or_renew(&f, opens_on, PERIODS),
            Ok(Renewal::Endorsement)
        );
        assert_eq!(
            endorse_or_renew(&f, d(2029, 5, 2), PERIODS),
            Ok(Renewal::Renewal)
        );
    }

    #[test]
    fn the_smallest_reached_threshold_is_chosen() {
        let t = [30, 7, 1];
        assert_eq!(expiry_threshold(31, &t), None);
        assert_eq!(expiry_threshold(30, &t), Some(30));
        assert_eq!(expiry_threshold(8, &t), Some(30));
        assert_eq!(expiry_threshold(7, &t), Some(7));
        assert_eq!(expiry_threshold(2, &t), Some(7));
        assert_eq!(expiry_threshold(1, &t), Some(1));
        assert_eq!(expiry_threshold(0, &t), Some(1));
    }

    #[test]
    fn date_arithmetic_saturates_instead_of_panicking() {
        assert_eq!(years_after(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(years_after(d(2020, 1, 1), u32::MAX), NaiveDate::MAX);
        assert_eq!(days_before(NaiveDate::MIN, 1), NaiveDate::MIN);
        assert_eq!(days_after(NaiveDate::MAX, 1), NaiveDate::MAX);
    }

    proptest! {
        #[test]
        fn status_is_a_total_function_of_the_facts_and_today(
            revoked in any::<bool>(),
            until in any::<i32>(),
            due in any::<i32>(),
            today in any::<i32>(),
        ) {
            let day = |n: i32| NaiveDate::from_num_days_from_ce_opt(n % 3_000_000).unwrap_or(NaiveDate::MIN);
            let f = StatusFacts { revoked, valid_until: day(until), endorsement_due: day(due) };
            let s = status(&f, day(today));
            prop_assert_eq!(s, status(&f, day(today)));
        }

        #[test]
        fn revocation_dominates_everything(f in facts(), today in day()) {
            let revoked = StatusFacts { revoked: true, ..f };
            prop_assert_eq!(status(&revoked, today), PermitStatus::Revoked);
        }

        #[test]
        fn expiry_dominates_suspension(f in facts(), after in 1i64..5_000) {
            let f = StatusFacts { revoked: false, ..f };
            let today = f.valid_until + chrono::Duration::days(after);
            prop_assert_eq!(status(&f, today), PermitStatus::Expired);
        }

        #[test]
        fn a_permit_in_its_validity_is_valid_until_its_due_date_and_suspended_after(
            f in facts(), today in day(),
        ) {
            let f = StatusFacts { revoked: false, ..f };
            prop_assume!(today <= f.valid_until);
            let expected = if today > f.endorsement_due && f.endorsement_due < f.valid_until {
                PermitStatus::Suspended
            } else {
                PermitStatus::Valid
            };
            prop_assert_eq!(status(&f, today), expected);
        }

        #[test]
        fn the_list_entry_and_the_code_give_a_verifier_the_online_status(
            f in facts(), today in day(),
        ) {
            let online = status(&f, today);
            prop_assert_eq!(
                status_from_entry(list_entry(&f), f.valid_until, f.endorsement_due, today),
                online
            );
        }

        #[test]
        fn an_explicit_suspension_yields_only_to_revocation_and_expiry(
            f in facts(), today in day(),
        ) {
            let status = status_from_entry(ListEntry::Suspended, f.valid_until, f.endorsement_due, today);
            let expected = if is_expired(f.valid_until, today) { PermitStatus::Expired } else { PermitStatus::Suspended };
            prop_assert_eq!(status, expected);
        }

        #[test]
        fn the_first_version_is_valid_on_its_issue_day_with_its_due_date_inside_the_validity(
            (v, periods) in dates(),
        ) {
            prop_assert!(v.endorsement_due <= v.valid_until);
            prop_assert!(v.valid_from < v.valid_until);
            prop_assert_eq!(status(&v.facts(false), v.valid_from), PermitStatus::Valid);
            prop_assert_eq!(
                endorse_or_renew(&v.facts(false), v.valid_from, periods).is_ok(),
                v.valid_from >= endorsement_window_opens(v.endorsement_due, periods)
                    || v.valid_from >= renewal_window_opens(v.valid_until, periods)
            );
        }

        #[test]
        fn endorsing_or_renewing_never_shortens_validity_and_leaves_the_permit_valid(
            (v, periods) in dates(), offset in 0i64..1_200,
        ) {
            let today = v.valid_from + chrono::Duration::days(offset);
            let Ok(step) = endorse_or_renew(&v.facts(false), today, periods) else {
                return Ok(());
            };
            let next = next_dates(&v, step, today, periods);
            prop_assert!(next.valid_until >= v.valid_until);
            prop_assert!(next.endorsement_due <= next.valid_until);
            prop_assert_eq!(status(&next.facts(false), today), PermitStatus::Valid);
            if step == Renewal::Renewal {
                prop_assert!(next.valid_until > v.valid_until);
            }
        }

        #[test]
        fn an_endorsement_in_its_window_moves_the_due_date_a_year_on_and_keeps_the_count(
            (v, periods) in dates(), before in 0u32..=90,
        ) {
            let today = days_before(v.endorsement_due, before.min(periods.endorsement_window_days));
            prop_assume!(endorse_or_renew(&v.facts(false), today, periods) == Ok(Renewal::Endorsement));
            let next = next_dates(&v, Renewal::Endorsement, today, periods);
            prop_assert!(next.endorsement_due >= v.endorsement_due);
            prop_assert_eq!(next.endorsement_due, years_after(v.endorsement_due, 1).min(v.valid_until));
            prop_assert_eq!(next.continuous_since, v.continuous_since);
            prop_assert_eq!((next.valid_from, next.valid_until), (v.valid_from, v.valid_until));
        }

        #[test]
        fn a_late_endorsement_restarts_the_count_and_the_year_from_today(
            (v, periods) in dates(), late in 1i64..300,
        ) {
            let today = v.endorsement_due + chrono::Duration::days(late);
            prop_assume!(status(&v.facts(false), today) == PermitStatus::Suspended);
            let step = endorse_or_renew(&v.facts(false), today, periods);
            prop_assert!(step.is_ok());
            let next = next_dates(&v, step.unwrap_or(Renewal::Endorsement), today, periods);
            prop_assert_eq!(next.continuous_since, today);
            if step == Ok(Renewal::Endorsement) {
                prop_assert_eq!(next.endorsement_due, years_after(today, 1).min(v.valid_until));
            }
        }

        #[test]
        fn revoked_and_expired_permits_are_neither_endorsed_nor_renewed(
            f in facts(), today in day(), periods in periods(),
        ) {
            let refused = match status(&f, today) {
                PermitStatus::Revoked => Some(NotNow::Revoked),
                PermitStatus::Expired => Some(NotNow::Expired),
                PermitStatus::Valid | PermitStatus::Suspended => None,
            };
            if let Some(refused) = refused {
                prop_assert_eq!(endorse_or_renew(&f, today, periods), Err(refused));
            }
        }

        #[test]
        fn a_reminded_holder_can_act_that_day_and_the_sweep_selection_contains_every_reminder(
            f in facts(), as_of in day(), periods in periods(),
        ) {
            if let Some(due) = endorsement_reminder(&f, as_of, periods) {
                prop_assert!(endorse_or_renew(&f, as_of, periods).is_ok());
                let (first, last) = endorsement_reminder_dues(as_of, periods);
                prop_assert!(first <= due && due <= last);
            }
        }

        #[test]
        fn the_endorsement_reminder_selection_holds_exactly_the_windows_open(
            f in facts(), as_of in day(), periods in periods(),
        ) {
            let f = StatusFacts { revoked: false, ..f };
            prop_assume!(endorsement_pending(&f));
            let (first, last) = endorsement_reminder_dues(as_of, periods);
            let in_selection = first <= f.endorsement_due && f.endorsement_due <= last;
            prop_assert_eq!(endorsement_reminder(&f, as_of, periods).is_some(), in_selection);
        }

        #[test]
        fn expiry_reminders_fall_inside_the_selected_dates_and_never_for_revoked_or_expired(
            f in facts(), as_of in day(), thresholds in proptest::collection::vec(0u32..120, 0..4),
        ) {
            match expiry_reminder(&f, as_of, &thresholds) {
                Some(r) => {
                    prop_assert!(!f.revoked);
                    prop_assert!(status(&f, as_of) != PermitStatus::Expired);
                    prop_assert!(r.days_left <= i64::from(r.threshold));
                    let (first, last) = expiry_reminder_dates(as_of, &thresholds).unwrap_or((as_of, as_of));
                    prop_assert!(first <= f.valid_until && f.valid_until <= last);
                }
                None => {
                    let due = !f.revoked && as_of <= f.valid_until
                        && thresholds.iter().any(|t| f.valid_until <= days_after(as_of, *t));
                    prop_assert!(!due);
                }
            }
        }
    }
}
