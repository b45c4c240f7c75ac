use super::*;
use crate::domain::permit_rules::{Periods, Renewal, first_version, next_dates};

const PERIODS: Periods = Periods {
    validity_years: 3,
    endorsement_window_days: 30,
    renewal_window_days: 30,
};

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A permit's life as the service writes it: issued on a day with the registration's start,
/// then endorsed or renewed on the given days through the real date rules.
fn life(city: &str, issued: &str, since: &str, acts: &[&str]) -> PermitHistory {
    let mut dates = first_version(d(issued), d(since), PERIODS);
    let mut versions = vec![VersionFacts {
        made_on: d(issued),
        dates,
        address_change: false,
    }];
    for act in acts {
        let on = d(act);
        let step = if on >= permit_rules::renewal_window_opens(dates.valid_until, PERIODS) {
            Renewal::Renewal
        } else {
            Renewal::Endorsement
        };
        dates = next_dates(&dates, step, on, PERIODS);
        versions.push(VersionFacts {
            made_on: on,
            dates,
            address_change: false,
        });
    }
    PermitHistory {
        city: city.into(),
        versions,
        revoked_on: None,
        registration_ended_on: None,
    }
}

fn open(city: &str, from: &str) -> Period {
    Period {
        city: city.into(),
        from: d(from),
        to: None,
        ended_by: None,
    }
}

fn closed(city: &str, from: &str, to: &str, why: EndedBy) -> Period {
    Period {
        city: city.into(),
        from: d(from),
        to: Some(d(to)),
        ended_by: Some(why),
    }
}

#[test]
fn whole_years_count_anniversaries_with_29_february_falling_on_28_february() {
    let cases = [
        ("2020-01-01", "2019-12-31", 0),
        ("2020-01-01", "2020-01-01", 0),
        ("2020-01-01", "2020-12-31", 0),
        ("2020-01-01", "2021-01-01", 1),
        ("2020-02-29", "2021-02-27", 0),
        ("2020-02-29", "2021-02-28", 1),
        ("2020-02-29", "2024-02-28", 3),
        ("2020-02-29", "2024-02-29", 4),
        ("2019-03-01", "2024-02-29", 4),
        ("2019-03-01", "2024-03-01", 5),
        ("2021-06-15", "2026-06-14", 4),
        ("2021-06-15", "2026-06-15", 5),
    ];
    for (since, as_of, years) in cases {
        assert_eq!(whole_years(d(since), d(as_of)), years, "{since} to {as_of}");
    }
}

#[test]
fn the_counting_rules_hold_over_real_calendar_edges() {
    struct Case {
        name: &'static str,
        histories: Vec<PermitHistory>,
        as_of: &'static str,
        periods: Vec<Period>,
        years: Vec<(&'static str, u32)>,
    }
    let with_end = |mut h: PermitHistory, revoked: Option<&str>, ended: Option<&str>| {
        h.revoked_on = revoked.map(d);
        h.registration_ended_on = ended.map(d);
        h
    };
    let cases = vec![
        Case {
            name: "a count starts on the registration's first day",
            histories: vec![life("广州市", "2021-01-01", "2020-06-01", &[])],
            as_of: "2021-06-01",
            periods: vec![open("广州市", "2020-06-01")],
            years: vec![("广州市", 1)],
        },
        Case {
            name: "endorsements on time keep the count",
            histories: vec![life(
                "广州市",
                "2021-01-01",
                "2020-06-01",
                &["2021-12-20", "2022-12-31", "2023-12-02"],
            )],
            as_of: "2024-05-31",
            periods: vec![open("广州市", "2020-06-01")],
            years: vec![("广州市", 3)],
        },
        Case {
            name: "the endorsement made on the anniversary itself is on time",
            histories: vec![life("广州市", "2021-01-01", "2020-01-01", &["2022-01-01"])],
            as_of: "2023-01-01",
            periods: vec![open("广州市", "2020-01-01")],
            years: vec![("广州市", 3)],
        },
        Case {
            name: "an endorsement late by one day restarts the count on that day",
            histories: vec![life("广州市", "2021-01-01", "2020-01-01", &["2022-01-02"])],
            as_of: "2023-01-02",
            periods: vec![
                closed(
                    "广州市",
                    "2020-01-01",
                    "2022-01-01",
                    EndedBy::LateEndorsement,
                ),
                open("广州市", "2022-01-02"),
            ],
            years: vec![("广州市", 1)],
        },
        Case {
            name: "the issue's example: issued 2021-01-01, endorsed late on 2022-06-01",
            histories: vec![life(
                "广州市",
                "2021-01-01",
                "2021-01-01",
                &["2022-06-01", "2023-05-20", "2023-12-10"],
            )],
            as_of: "2024-06-01",
            periods: vec![
                closed(
                    "广州市",
                    "2021-01-01",
                    "2022-01-01",
                    EndedBy::LateEndorsement,
                ),
                open("广州市", "2022-06-01"),
            ],
            years: vec![("广州市", 2)],
        },
        Case {
            name: "while the endorsement is missing no count is open",
            histories: vec![life("广州市", "2021-01-01", "2020-01-01", &[])],
            as_of: "2022-01-02",
            periods: vec![closed(
                "广州市",
                "2020-01-01",
                "2022-01-01",
                EndedBy::LateEndorsement,
            )],
            years: vec![],
        },
        Case {
            name: "a late endorsement after the date asked about is not yet known",
            histories: vec![life("广州市", "2021-01-01", "2020-01-01", &["2022-06-01"])],
            as_of: "2021-12-31",
            periods: vec![open("广州市", "2020-01-01")],
            years: vec![("广州市", 1)],
        },
        Case {
            name: "a permit issued on 29 February is due on 28 February in common years",
            histories: vec![life("佛山市", "2024-02-29", "2024-02-29", &["2025-02-28"])],
            as_of: "2026-02-28",
            periods: vec![open("佛山市", "2024-02-29")],
            years: vec![("佛山市", 2)],
        },
        Case {
            name: "a move to another city ends the count there and starts a new one",
            histories: vec![
                life("广州市", "2020-01-01", "2019-01-01", &["2020-12-15"]),
                life("佛山市", "2021-09-01", "2021-03-01", &[]),
            ],
            as_of: "2022-03-01",
            periods: vec![
                closed("广州市", "2019-01-01", "2021-03-01", EndedBy::Moved),
                open("佛山市", "2021-03-01"),
            ],
            years: vec![("佛山市", 1)],
        },
        Case {
            name: "an ended registration ends the count on its last day",
            histories: vec![with_end(
                life("东莞市", "2021-01-01", "2020-01-01", &["2021-12-20"]),
                None,
                Some("2022-05-31"),
            )],
            as_of: "2022-07-01",
            periods: vec![closed(
                "东莞市",
                "2020-01-01",
                "2022-05-31",
                EndedBy::RegistrationEnded,
            )],
            years: vec![],
        },
        Case {
            name: "a revocation ends the count",
            histories: vec![with_end(
                life("珠海市", "2021-01-01", "2020-01-01", &[]),
                Some("2021-03-03"),
                None,
            )],
            as_of: "2021-04-01",
            periods: vec![closed(
                "珠海市",
                "2020-01-01",
                "2021-03-03",
                EndedBy::Revoked,
            )],
            years: vec![],
        },
        Case {
            name: "a renewal keeps the count",
            histories: vec![life(
                "广州市",
                "2021-01-01",
                "2020-01-01",
                &["2021-12-20", "2022-12-20", "2023-12-20"],
            )],
            as_of: "2024-01-05",
            periods: vec![open("广州市", "2020-01-01")],
            years: vec![("广州市", 4)],
        },
    ];
    for case in cases {
        let as_of = d(case.as_of);
        let periods = periods(&case.histories, as_of);
        assert_eq!(periods, case.periods, "{}", case.name);
        let years: Vec<(String, u32)> = continuous(&periods, as_of)
            .into_iter()
            .map(|c| (c.city, c.years))
            .collect();
        let expected: Vec<(String, u32)> =
            case.years.iter().map(|(c, y)| ((*c).into(), *y)).collect();
        assert_eq!(years, expected, "{}", case.name);
    }
}

#[test]
fn a_permit_expired_without_renewal_ends_the_count_on_its_last_valid_day() {
    let history = life(
        "江门市",
        "2021-01-01",
        "2020-01-01",
        &["2021-12-20", "2022-12-20"],
    );
    let last = history.versions.last().unwrap().dates.valid_until;
    let after = last.succ_opt().unwrap();
    let periods = periods(&[history], after);
    assert_eq!(
        periods,
        vec![Period {
            city: "江门市".into(),
            from: d("2020-01-01"),
            to: Some(last),
            ended_by: Some(EndedBy::Expired),
        }]
    );
}

#[test]
fn a_proof_holds_only_for_the_city_and_years_asked() {
    let histories = [life(
        "广州市",
        "2021-01-01",
        "2020-01-01",
        &["2021-12-20", "2022-12-20"],
    )];
    let as_of = d("2023-01-01");
    assert!(holds(&histories, "广州市", 3, as_of));
    assert!(!holds(&histories, "广州市", 4, as_of));
    assert!(!holds(&histories, "佛山市", 1, as_of));
    assert!(holds(&histories, "广州市", 0, as_of));
}

#[test]
fn a_new_address_registered_too_late_ends_the_count_by_the_ended_registration() {
    let mut history = life("广州市", "2021-01-01", "2020-01-01", &["2021-12-20"]);
    let last = history.versions.last().unwrap().dates;
    // Registered again on 2022-08-10, past the days allowed: the count restarts that day.
    history.versions.push(VersionFacts {
        made_on: d("2022-08-10"),
        dates: Dates {
            continuous_since: d("2022-08-10"),
            ..last
        },
        address_change: true,
    });
    let periods = periods(&[history], d("2022-09-01"));
    assert_eq!(
        periods,
        vec![
            closed(
                "广州市",
                "2020-01-01",
                "2022-08-09",
                EndedBy::RegistrationEnded
            ),
            open("广州市", "2022-08-10"),
        ]
    );
}
