//! One table of permits on the boundaries of the date rules, and every path that reads a
//! permit's current version or its status, compared row by row: the Rust rules, the entry of
//! the permit's place in its status list as served, the reminder sweep's selection,
//! the holder's view, the code, `POST /verify` (anonymous and agency), an agency's access
//! request, and offline verification with the status list as served. They must all agree:
//! an offline verifier saying "valid" where `/verify` says "suspended" is a legal-force bug.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use service::domain::permit_rules::{self, PermitStatus, StatusFacts};
use service::keys::signing::PublishedKey;
use service::verify::offline::verify_offline;
use service::verify::verification::VerifyReason;

use crate::helpers::*;

/// How a row is made from a freshly issued permit. Days count from today.
#[derive(Clone, Copy)]
enum Setup {
    Issued,
    Dates {
        due: i64,
        until: Option<i64>,
    },
    Revocation {
        until: Option<i64>,
    },
    /// Due yesterday, then endorsed (late): version 2.
    EndorsedLate,
    /// Endorsed in the window (version 2), then renewed near expiry (version 3); versions 1
    /// and 2 are then given dates that would not be in force, were anything to read them.
    RenewedTwice,
}

struct Row {
    name: &'static str,
    setup: Setup,
    status: PermitStatus,
    /// The sweep reminds of the endorsement today.
    endorsement_reminder: bool,
    /// The sweep reminds of expiry today, at this threshold (defaults: 30, 7, 1 days).
    expiry_threshold: Option<u32>,
    /// The version that must be current.
    version: i32,
}

fn rows() -> Vec<Row> {
    use PermitStatus::*;
    use Setup::*;
    let row = |name, setup, status, endorsement_reminder, expiry_threshold| Row {
        name,
        setup,
        status,
        endorsement_reminder,
        expiry_threshold,
        version: 1,
    };
    vec![
        row("issued today", Issued, Valid, false, None),
        row(
            "endorsement due today",
            Dates {
                due: 0,
                until: None,
            },
            Valid,
            true,
            None,
        ),
        row(
            "endorsement due tomorrow",
            Dates {
                due: 1,
                until: None,
            },
            Valid,
            true,
            None,
        ),
        row(
            "endorsement due yesterday (late by one day)",
            Dates {
                due: -1,
                until: None,
            },
            Suspended,
            false,
            None,
        ),
        row(
            "endorsement window opens today",
            Dates {
                due: 30,
                until: None,
            },
            Valid,
            true,
            None,
        ),
        row(
            "endorsement window opens tomorrow",
            Dates {
                due: 31,
                until: None,
            },
            Valid,
            false,
            None,
        ),
        row(
            "valid until today",
            Dates {
                due: 0,
                until: Some(0),
            },
            Valid,
            false,
            Some(1),
        ),
        row(
            "valid until yesterday",
            Dates {
                due: -1,
                until: Some(-1),
            },
            Expired,
            false,
            None,
        ),
        row(
            "valid for a week more",
            Dates {
                due: 7,
                until: Some(7),
            },
            Valid,
            false,
            Some(7),
        ),
        row(
            "suspended the day before it expires",
            Dates {
                due: -10,
                until: Some(1),
            },
            Suspended,
            false,
            Some(1),
        ),
        row("revoked", Revocation { until: None }, Revoked, false, None),
        row(
            "revoked and past its validity",
            Revocation { until: Some(-1) },
            Revoked,
            false,
            None,
        ),
        Row {
            version: 2,
            ..row("endorsed one day late", EndorsedLate, Valid, false, None)
        },
        Row {
            version: 3,
            ..row(
                "endorsed, then renewed: three versions",
                RenewedTwice,
                Valid,
                false,
                None,
            )
        },
    ]
}

async fn endorse(app: &TestApp, resident: &str, kind: &str) {
    let r = app.endorse(resident).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["kind"], kind, "{}", r.text);
}

async fn build(app: &TestApp, resident: &str, permit_no: &str, setup: Setup) {
    match setup {
        Setup::Issued => {}
        Setup::Dates { due, until } => {
            app.set_permit_dates(permit_no, Some(days_ahead(due)), until.map(days_ahead))
                .await;
        }
        Setup::Revocation { until } => {
            if let Some(until) = until {
                app.set_permit_dates(permit_no, Some(days_ahead(until)), Some(days_ahead(until)))
                    .await;
            }
            app.revoke_permit(permit_no).await;
        }
        Setup::EndorsedLate => {
            app.set_permit_dates(permit_no, Some(days_ago(1)), None)
                .await;
            endorse(app, resident, "endorsement").await;
        }
        Setup::RenewedTwice => {
            app.set_permit_dates(permit_no, Some(days_ahead(10)), None)
                .await;
            endorse(app, resident, "endorsement").await;
            app.set_permit_dates(permit_no, Some(days_ahead(12)), Some(days_ahead(12)))
                .await;
            endorse(app, resident, "renewal").await;
            app.set_version_dates(permit_no, 1, days_ago(2), days_ago(1))
                .await;
            app.set_version_dates(permit_no, 2, days_ago(5), days_ahead(12))
                .await;
        }
    }
}

/// The current version's facts, read through the pointer, with its version number.
async fn facts(app: &TestApp, permit_no: &str) -> (StatusFacts, i32, NaiveDate) {
    let permit = app.permit_row(permit_no).await;
    let version = service::permit::permits::current_version(&app.app.db, &permit)
        .await
        .unwrap();
    (
        service::permit::permits::facts(&permit, &version),
        version.version,
        version.continuous_since,
    )
}

/// The permit's place (from the holder's view) and its list as served.
async fn served_entry(app: &TestApp, resident: &str) -> (String, u32) {
    let permit = app.get("/api/v1/me/permit", Some(resident)).await;
    let uri = permit.body["status_list"]["uri"]
        .as_str()
        .expect("status_list.uri")
        .to_owned();
    let idx = permit.body["status_list"]["idx"].as_u64().expect("idx") as u32;
    let served = app.get(&uri, None).await;
    assert_eq!(served.status, 200, "{}", served.text);
    (served.text, idx)
}

/// Compares one path's answer with the row's, noting a disagreement.
fn agree<T: PartialEq + std::fmt::Debug>(
    disagreements: &mut Vec<String>,
    row: &str,
    path: &str,
    got: T,
    expected: T,
) {
    if got != expected {
        disagreements.push(format!("{row}: {path} says {got:?}, expected {expected:?}"));
    }
}

#[tokio::test]
async fn every_path_that_reads_a_permits_status_agrees_with_the_rules_on_every_boundary() {
    let app = spawn_app().await;
    let today = app.clock().today();
    let periods = app.app.settings.permit.periods();
    let thresholds = app.app.settings.reminders.expiry_days.clone();
    let agency = app
        .agency(
            21,
            "广州市白云区人力资源和社会保障局",
            &["permit:verify", "permit:download"],
            &["name", "valid_until"],
        )
        .await;
    let table = rows();
    let mut built = Vec::new();
    for (i, row) in table.iter().enumerate() {
        let (tokens, permit_no) = app.resident_with_permit(i as u32 + 1).await;
        build(&app, &tokens.access, &permit_no, row.setup).await;
        built.push((tokens, permit_no));
    }

    let keys: Vec<PublishedKey> =
        serde_json::from_value(app.get("/api/v1/keys", None).await.body["keys"].clone()).unwrap();
    let reminders: BTreeSet<String> = service::notices::reminders::due_on(&app.app, today)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.key)
        .collect();

    let mut disagreements = Vec::new();
    for (row, (tokens, permit_no)) in table.iter().zip(&built) {
        let d = &mut disagreements;
        let name = row.name;
        let expected = row.status;
        let expected_reason = VerifyReason::of_status(expected).map(VerifyReason::code);
        let (facts, version, continuous_since) = facts(&app, permit_no).await;
        agree(d, name, "the current version", version, row.version);
        agree(
            d,
            name,
            "the rules",
            permit_rules::status(&facts, today),
            expected,
        );
        if matches!(row.setup, Setup::EndorsedLate) {
            agree(d, name, "the count of residence", continuous_since, today);
        }

        // The status list as served: the entry at the permit's place is what the rules say
        // an act set (dates are the code's to carry).
        let (served, idx) = served_entry(&app, &tokens.access).await;
        let list = service::verify::status_list::verify(&served, &keys, Utc::now()).unwrap();
        let entry = match list.status(idx as usize) {
            service::verify::status_list::Lookup::Known(
                service::verify::status_list::Status::Valid,
            ) => Some(permit_rules::ListEntry::InForce),
            service::verify::status_list::Lookup::Known(
                service::verify::status_list::Status::Revoked,
            ) => Some(permit_rules::ListEntry::Revoked),
            service::verify::status_list::Lookup::Known(
                service::verify::status_list::Status::Suspended,
            ) => Some(permit_rules::ListEntry::Suspended),
            _ => None,
        };
        agree(
            d,
            name,
            "the status list",
            entry,
            Some(permit_rules::list_entry(&facts)),
        );

        // The reminder sweep's selection, and the rules' answer for the same facts.
        let endorsement_key = format!("endorsement:{permit_no}:{}", facts.endorsement_due);
        agree(
            d,
            name,
            "the sweep (endorsement)",
            reminders.contains(&endorsement_key),
            row.endorsement_reminder,
        );
        agree(
            d,
            name,
            "the rules (endorsement reminder)",
            permit_rules::endorsement_reminder(&facts, today, periods).is_some(),
            row.endorsement_reminder,
        );
        let expiry: Vec<&String> = reminders
            .iter()
            .filter(|k| k.starts_with(&format!("expiry:{permit_no}:")))
            .collect();
        let expected_expiry = row
            .expiry_threshold
            .map(|t| format!("expiry:{permit_no}:{}:{t}", facts.valid_until));
        agree(
            d,
            name,
            "the sweep (expiry)",
            expiry.first().map(|k| k.to_string()),
            expected_expiry,
        );
        agree(
            d,
            name,
            "the rules (expiry reminder)",
            permit_rules::expiry_reminder(&facts, today, &thresholds).map(|r| r.threshold),
            row.expiry_threshold,
        );

        // The holder's view.
        let view = app.get("/api/v1/me/permit", Some(&tokens.access)).await;
        agree(
            d,
            name,
            "the holder's view",
            view.body["status"].as_str(),
            Some(expected.as_str()),
        );
        agree(
            d,
            name,
            "the holder's view (version)",
            view.body["version"].as_i64(),
            Some(i64::from(row.version)),
        );
        agree(
            d,
            name,
            "the holder's view (dates)",
            (
                view.body["valid_until"].as_str().map(str::to_owned),
                view.body["next_endorsement_due"]
                    .as_str()
                    .map(str::to_owned),
                view.body["endorsement_window_opens"]
                    .as_str()
                    .map(str::to_owned),
            ),
            (
                Some(facts.valid_until.to_string()),
                Some(facts.endorsement_due.to_string()),
                Some(
                    permit_rules::endorsement_window_opens(facts.endorsement_due, periods)
                        .to_string(),
                ),
            ),
        );

        // The code carries the current version's last valid day.
        let token = app.code(&tokens.access).await;
        let (claims, _, _) = service::verify::codes::decode(&token).unwrap();
        agree(
            d,
            name,
            "the code",
            (claims.permit_no.as_str(), claims.valid_until),
            (permit_no.as_str(), facts.valid_until),
        );

        // POST /verify, anonymous and as an agency.
        for (path, bearer) in [
            ("POST /verify", None),
            ("POST /verify (agency)", Some(agency.token.as_str())),
        ] {
            let r = app.verify(&token, bearer).await;
            agree(
                d,
                name,
                path,
                (
                    r.body["valid"].as_bool(),
                    r.body["status"].as_str(),
                    r.body["reason"].as_str(),
                    r.body["permit"]["valid_until"].as_str().map(str::to_owned),
                ),
                (
                    Some(expected == PermitStatus::Valid),
                    Some(expected.as_str()),
                    expected_reason,
                    Some(facts.valid_until.to_string()),
                ),
            );
        }

        // An agency's access request: only a permit in force, with the reason's wording.
        let r = app.ask_access(&agency, &token, "核验居住证", 7).await;
        let answered = match r.status {
            201 => None,
            _ => Some((r.status, r.code().to_owned(), r.message().to_owned())),
        };
        let expected_answer = VerifyReason::of_status(expected).map(|reason| {
            (
                422,
                "CODE_INVALID".to_owned(),
                service::wording::refusals::code_reason_message(reason).to_owned(),
            )
        });
        agree(d, name, "the access request", answered, expected_answer);

        // Offline, with the published keys and the status list as served.
        let offline = verify_offline(&keys, &token, std::slice::from_ref(&served), Utc::now());
        agree(
            d,
            name,
            "offline verification",
            (offline.valid, offline.status, offline.reason),
            (
                Some(expected == PermitStatus::Valid),
                expected.as_str(),
                expected_reason,
            ),
        );
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
