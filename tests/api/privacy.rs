//! Privacy by design, checked after a full flow: login, bind, apply, issue, verify, consent,
//! download. Neither the raw database nor the log holds personal data or secrets in clear.

use crate::helpers::*;

#[tokio::test]
async fn after_a_full_flow_the_raw_database_and_the_log_hold_no_personal_data_or_secret() {
    let app = spawn_app().await;
    // Login and binding of a fresh account, then applying and issuing.
    let zhang = app.zhang_with_permit("privacy-zhang").await;

    // An agency verifies the code, asks, the holder approves, the agency downloads.
    let agency = app
        .agency(
            21,
            "广州市白云区人社局",
            &["permit:verify", "permit:download"],
            &ALL_FIELDS,
        )
        .await;
    let code = app.code(&zhang.access).await;
    app.verify(&code, Some(&agency.token)).await;
    let r = app.ask_access(&agency, &code, "办理社保卡", 30).await;
    let id = r.body["id"].as_str().unwrap();
    let grant = app.decide(&zhang.access, id, "approve").await;
    let copy = app
        .get(
            &format!(
                "/api/v1/agency/authorizations/{}/annotated-copy",
                grant.body["id"].as_str().unwrap()
            ),
            Some(&agency.token),
        )
        .await;
    assert_eq!(
        copy.body["copy"]["permit"]["id_number"], ZHANG_ID,
        "{}",
        copy.text
    );

    let clear = [
        ZHANG_ID,
        ZHANG_NAME,
        "白云大道北1688号",
        "湖北省武汉市某路1号",
    ];
    let dump = app.raw_database_dump().await;
    for value in clear.iter().chain([&agency.secret.as_str()]) {
        assert!(
            !dump.contains(value),
            "{value} found in clear in the database"
        );
    }

    let log = captured_log();
    for value in clear.iter().chain(
        [
            agency.secret.as_str(),
            agency.token.as_str(),
            zhang.access.as_str(),
            zhang.refresh.as_str(),
            code.as_str(),
            copy.body["signature"].as_str().unwrap(),
        ]
        .iter(),
    ) {
        assert!(!log.contains(value), "the log holds {value}");
    }
}
