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
